package store_test

import (
	"context"
	"testing"

	"coffer/ent/migrate/migrations"
	"coffer/graph/census"
)

// TestMigrations_censusSearchVersions_backfillExistingRows: people and versions written before
// census_search_versions get their version numbers from the migration (each person's from 1, by
// valid_from) and their search keys from census.BackfillSearchKeys, which the server runs at start.
func TestMigrations_censusSearchVersions_backfillExistingRows(t *testing.T) {
	for _, d := range migrations.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			url := freshURL(t, d)
			legacy := autoMigrated(t, url)
			for _, q := range []string{
				`INSERT INTO persons (id, census_number, first_name, last_name1, document_type, document_id, document_scope_code,
					born_at, gender, address, address_scope_code, postal_code, email, scope_code, state, membership_level,
					verification, phone_verification, created_at, updated_at) VALUES
					(1, 1, 'Lucía', 'Núñez', 'DNI', '12345678Z', 'ES', '1990-05-17 00:00:00+00:00', 'FEMALE', 'Calle Mayor 1',
					 'ES-28079', '28013', 'LN@Example.org', 'ES-MD', 'ENABLED', 'FOLLOWER', 'NOT_VERIFIED', 'NOT_VERIFIED',
					 '2026-01-01 10:00:00+00:00', '2026-01-02 10:00:00+00:00'),
					(2, 2, 'Ana', 'García', 'DNI', '00000000T', 'ES', '1990-05-17 00:00:00+00:00', 'FEMALE', 'Calle Mayor 2',
					 'ES-28079', '28013', NULL, 'ES-MD', 'PENDING', 'FOLLOWER', 'NOT_VERIFIED', 'NOT_VERIFIED',
					 '2026-01-01 11:00:00+00:00', '2026-01-01 11:00:00+00:00')`,
				// Person 1's second version was inserted first: numbers follow valid_from, not ids.
				`INSERT INTO person_versions (id, person_id, valid_from, snapshot, created_at) VALUES
					(10, 1, '2026-01-02 10:00:00+00:00', '{}', '2026-01-02 10:00:00+00:00'),
					(11, 1, '2026-01-01 10:00:00+00:00', '{}', '2026-01-01 10:00:00+00:00'),
					(12, 2, '2026-01-01 11:00:00+00:00', '{}', '2026-01-01 11:00:00+00:00')`,
			} {
				if _, err := legacy.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			legacy.Close()

			db := mustOpen(t, url)
			versions, err := db.Client.PersonVersion.Query().All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]int{10: 2, 11: 1, 12: 1}
			for _, v := range versions {
				if v.Version != want[v.ID] {
					t.Errorf("version row %d numbered %d, want %d", v.ID, v.Version, want[v.ID])
				}
			}
			s := &census.Service{Client: db.Client, Dialect: db.Dialect}
			if n, err := s.BackfillSearchKeys(ctx); err != nil || n != 2 {
				t.Fatalf("backfilled %d (%v), want 2", n, err)
			}
			for id, key := range map[int]string{1: "lucia nunez 12345678z ln@example.org", 2: "ana garcia 00000000t"} {
				if p, err := db.Client.Person.Get(ctx, id); err != nil || p.SearchKey != key {
					t.Errorf("person %d: key %q (%v), want %q", id, p.SearchKey, err, key)
				}
			}
		})
	}
}
