package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"coffer/ent/account"
)

// TestOpen_sqliteTimesOfEarlierVersions_rewrittenAsUTC: times an earlier version wrote (Go's
// Time.String, with a client's offset or a monotonic-clock suffix) are rewritten once as UTC in
// one layout, so that comparisons and ordering on them follow the instants.
func TestOpen_sqliteTimesOfEarlierVersions_rewrittenAsUTC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	old := mustOpen(t, path)
	for _, row := range [][2]string{
		{"1", "2026-12-06 12:00:00.5 +0500 +0500"},               // 07:00:00.5 UTC, written at +05:00
		{"2", "2026-12-06 07:00:00.25 +0000 UTC m=+1.000000001"}, // 07:00:00.25 UTC, with the monotonic clock
		{"3", "2026-12-06 02:00:00.75 -0500 -0500"},              // 07:00:00.75 UTC
		{"4", "2026-12-06 07:00:01+00:00"},                       // already in the new layout
	} {
		if _, err := old.SQL.Exec(`INSERT INTO accounts (kind, number, currency, holder_name, created_at, balance, reserved,
			debit_limit, allow_negative, version) VALUES ('SYSTEM', ?, 'EUR', 'x', ?, 0, 0, 0, false, 0)`, row[0], row[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.SQL.Exec("PRAGMA user_version = 0"); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db := mustOpen(t, path)
	want := map[string]string{
		"1": "2026-12-06 07:00:00.5+00:00", "2": "2026-12-06 07:00:00.25+00:00",
		"3": "2026-12-06 07:00:00.75+00:00", "4": "2026-12-06 07:00:01+00:00",
	}
	for number, text := range want {
		var got string
		if err := db.SQL.QueryRow("SELECT CAST(created_at AS TEXT) FROM accounts WHERE number = ?", number).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != text {
			t.Errorf("account %s: created_at = %q, want %q", number, got, text)
		}
	}
	// Ordered and compared as instants, with the argument at another offset.
	at := time.Date(2026, 12, 6, 2, 0, 0, 600_000_000, time.FixedZone("", -5*3600)) // 07:00:00.6 UTC
	got, err := db.Client.Account.Query().Where(account.CreatedAtLTE(at)).Order(account.ByCreatedAt()).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Number != "2" || got[1].Number != "1" {
		t.Errorf("accounts created at or before %v = %v, want 2 then 1", at, got)
	}
}
