package pgtest

import (
	"context"
	"path/filepath"
	"testing"

	"coffer/graph/store"
)

// Stores are the two stores a package test runs its rules on.
var Stores = []string{"postgres", "sqlite"}

// OpenStore opens a brand-new, migrated database of the given store ("postgres": NewDatabase;
// "sqlite": a file in the test's temporary directory) and closes it in t.Cleanup.
func OpenStore(t testing.TB, st string) *store.DB {
	t.Helper()
	url := filepath.Join(t.TempDir(), "test.db")
	if st == "postgres" {
		url = NewDatabase(t)
	}
	db, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
