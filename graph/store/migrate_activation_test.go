package store_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"

	"coffer/ent/migrate/migrations"
)

// TestMigrations_userActivation_backfilledFromSessions: upgrading a database that has users, the
// migration that adds users.activated_at marks as activated those who ever had a session (they
// may no longer self-register) and leaves the others empty.
func TestMigrations_userActivation_backfilledFromSessions(t *testing.T) {
	for _, d := range migrations.Dialects {
		t.Run(d, func(t *testing.T) {
			url := freshURL(t, d)
			legacy := autoMigrated(t, url)
			ctx := context.Background()
			hash := `X'0102'`
			if d == dialect.Postgres {
				hash = `decode('0102', 'hex')`
			}
			// Raw SQL: the current client would write columns the initial schema lacks.
			for _, q := range []string{
				`INSERT INTO users (id, username, password_hash, role, status, two_factor, failed_logins, created_at)
					VALUES (21474836490, 'used', 'x', 'CUSTOMER', 'ACTIVE', 'NONE', 0, '2026-01-01 10:00:00+00:00'),
					       (21474836491, 'unused', 'x', 'CUSTOMER', 'ACTIVE', 'NONE', 0, '2026-01-01 10:00:00+00:00')`,
				`INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
					VALUES (` + hash + `, 21474836490, '2026-01-02 10:00:00+00:00', '2026-01-02 10:00:00+00:00', '2026-01-02 22:00:00+00:00')`,
			} {
				if _, err := legacy.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			legacy.Close()

			db := mustOpen(t, url)
			used, err := db.Client.User.Get(ctx, 21474836490)
			if err != nil {
				t.Fatal(err)
			}
			unused, err := db.Client.User.Get(ctx, 21474836491)
			if err != nil {
				t.Fatal(err)
			}
			if used.ActivatedAt == nil || used.ActivatedAt.UTC().Format("2006-01-02 15") != "2026-01-02 10" {
				t.Errorf("activated_at of the user with a session = %v, want its first session's start", used.ActivatedAt)
			}
			if unused.ActivatedAt != nil {
				t.Errorf("activated_at of the user without a session = %v, want none", unused.ActivatedAt)
			}
		})
	}
}
