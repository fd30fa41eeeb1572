package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"coffer/ent"
	entmigrate "coffer/ent/migrate"
	"coffer/ent/migrate/migrations"
	"coffer/graph/pgtest"
	"coffer/graph/store"
)

// freshURL returns a new, empty database of dialect d: a PostgreSQL database in the test cluster or
// a SQLite file path.
func freshURL(t *testing.T, d string) string {
	t.Helper()
	if d == dialect.Postgres {
		return pgtest.NewDatabase(t)
	}
	return filepath.Join(t.TempDir(), "coffer.db")
}

func mustOpen(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func entDriver(db *store.DB) *entsql.Driver { return entsql.OpenDB(db.Dialect, db.SQL) }

type revisionRow struct {
	version          string
	typ              int
	applied, total   int
	executedAtMicros int64
}

// revisionRows reads the revision table, in version order.
func revisionRows(t *testing.T, db *store.DB) []revisionRow {
	t.Helper()
	rows, err := db.SQL.Query(`SELECT version, type, applied, total, executed_at FROM ` + store.RevisionsTable + ` ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []revisionRow
	for rows.Next() {
		var r revisionRow
		var at time.Time
		if err := rows.Scan(&r.version, &r.typ, &r.applied, &r.total, &at); err != nil {
			t.Fatal(err)
		}
		r.executedAtMicros = at.UnixMicro()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func migrationFiles(t *testing.T, d string) []migrate.File {
	t.Helper()
	dir, err := migrations.Dir(d)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || files[0].Desc() != migrations.Initial {
		t.Fatalf("%s: the first migration is not %q", d, migrations.Initial)
	}
	return files
}

// assertAllExecuted checks that db recorded every migration file as run, completely, once.
func assertAllExecuted(t *testing.T, db *store.DB) {
	t.Helper()
	files := migrationFiles(t, db.Dialect)
	revs := revisionRows(t, db)
	if len(revs) != len(files) {
		t.Fatalf("%d revisions, want one per file (%d)", len(revs), len(files))
	}
	for i, r := range revs {
		if r.version != files[i].Version() || r.typ != int(migrate.RevisionTypeExecute) || r.applied != r.total || r.total == 0 {
			t.Errorf("revision %+v, want file %s executed completely", r, files[i].Name())
		}
	}
}

// assertIDRanges checks what Node IDs rest on (entgql's global IDs): every table's id sequence
// starts at its type's range, as ent/migrate's IncrementStart annotations say.
func assertIDRanges(t *testing.T, db *store.DB) {
	t.Helper()
	for _, tbl := range entmigrate.Tables {
		if tbl.Annotation == nil || tbl.Annotation.IncrementStart == nil {
			t.Fatalf("table %s has no IncrementStart: is the global-ID feature off?", tbl.Name)
		}
		want := int64(*tbl.Annotation.IncrementStart)
		var got int64
		var err error
		if db.Dialect == dialect.Postgres {
			want = max(want, 1) // a PostgreSQL sequence starts at 1 at least
			err = db.SQL.QueryRow(`SELECT seqstart FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence($1, 'id')::regclass`, tbl.Name).Scan(&got)
		} else {
			err = db.SQL.QueryRow(`SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)`, tbl.Name).Scan(&got)
		}
		if err != nil || got != want {
			t.Errorf("%s: id sequence starts at %d (%v), want %d", tbl.Name, got, err, want)
		}
	}
}

// assertForeignKeysEnforced checks that the store rejects a row whose parent is missing: on SQLite
// the migration switches foreign keys off and must switch them on again.
func assertForeignKeysEnforced(t *testing.T, db *store.DB) {
	t.Helper()
	_, err := db.Client.Session.Create().SetTokenHash([]byte("orphan")).SetUserID(12345).
		SetExpiresAt(time.Now().Add(time.Hour)).Save(context.Background())
	if err == nil {
		t.Error("a session of a user that does not exist was saved: foreign keys are not enforced")
	}
	if n, err := db.Client.Session.Query().Count(context.Background()); err != nil || n != 0 {
		t.Errorf("%d sessions (%v), want none", n, err)
	}
}

// TestMigrations_freshDatabase_equalsEntSchema applies the migrations to an empty database and
// diffs what they built against ent/schema: no difference, ID ranges as the global IDs need, and
// every file recorded as run.
func TestMigrations_freshDatabase_equalsEntSchema(t *testing.T) {
	for _, d := range migrations.Dialects {
		t.Run(d, func(t *testing.T) {
			db := mustOpen(t, freshURL(t, d))
			if err := migrations.CheckDatabase(context.Background(), entDriver(db)); err != nil {
				t.Error(err)
			}
			assertIDRanges(t, db)
			assertAllExecuted(t, db)
			assertForeignKeysEnforced(t, db)
		})
	}
}

// TestMigrations_secondOpen_changesNothing opens an up-to-date database again: no file runs, the
// revisions are as they were, and the data is still there.
func TestMigrations_secondOpen_changesNothing(t *testing.T) {
	for _, d := range migrations.Dialects {
		t.Run(d, func(t *testing.T) {
			url := freshURL(t, d)
			first := mustOpen(t, url)
			before := revisionRows(t, first)
			if _, err := first.Client.Setting.Create().SetName("probe").SetValue([]byte("kept")).Save(context.Background()); err != nil {
				t.Fatal(err)
			}
			first.Close()
			second := mustOpen(t, url)
			if after := revisionRows(t, second); !equalRevisions(before, after) {
				t.Errorf("revisions changed on the second open:\nbefore %+v\nafter  %+v", before, after)
			}
			if n, err := second.Client.Setting.Query().Count(context.Background()); err != nil || n != 1 {
				t.Errorf("%d settings (%v), want the one written before", n, err)
			}
		})
	}
}

func equalRevisions(a, b []revisionRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMigrations_concurrentOpens_applyOnce starts two stores at once on one empty PostgreSQL
// database, as two server instances would: both open, and each file ran once (a second run of the
// initial migration would fail on its CREATE TABLEs, and would leave a second revision time).
func TestMigrations_concurrentOpens_applyOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const instances = 3
	dbs := make([]*store.DB, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range instances {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = store.Open(context.Background(), url, store.Options{})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	assertAllExecuted(t, dbs[0])
	if err := migrations.CheckDatabase(context.Background(), entDriver(dbs[1])); err != nil {
		t.Error(err)
	}
}

// TestMigrations_autoMigratedDatabase_isBaselined opens a database that ent's auto-migration
// (Schema.Create, what Open did before migrations were versioned) created and filled: the initial
// migration is recorded as a baseline instead of run, later files run, and the data stays.
func TestMigrations_autoMigratedDatabase_isBaselined(t *testing.T) {
	for _, d := range migrations.Dialects {
		t.Run(d, func(t *testing.T) {
			url := freshURL(t, d)
			legacy := autoMigrated(t, url)
			if _, err := legacy.Setting.Create().SetName("probe").SetValue([]byte("kept")).Save(context.Background()); err != nil {
				t.Fatal(err)
			}
			legacy.Close()

			db := mustOpen(t, url)
			files := migrationFiles(t, d)
			revs := revisionRows(t, db)
			if len(revs) != len(files) || revs[0].version != files[0].Version() || revs[0].typ != int(migrate.RevisionTypeBaseline) {
				t.Fatalf("revisions %+v, want %s as baseline and the %d later files run", revs, files[0].Name(), len(files)-1)
			}
			if err := migrations.CheckDatabase(context.Background(), entDriver(db)); err != nil {
				t.Error(err)
			}
			if n, err := db.Client.Setting.Query().Count(context.Background()); err != nil || n != 1 {
				t.Errorf("%d settings (%v), want the one written before", n, err)
			}
		})
	}
}

// autoMigrated builds the database at url as ent's auto-migration did before migrations were
// versioned: the initial migration's statements, without a revision table (that the initial
// migration equals what Schema.Create made was checked when it was written, by
// TestMigrations_freshDatabase_equalsEntSchema). It returns a client over it.
func autoMigrated(t *testing.T, url string) *ent.Client {
	t.Helper()
	d, dsn := dialect.SQLite, url+"?_pragma=foreign_keys(1)"
	if store.IsPostgres(url) {
		d, dsn = dialect.Postgres, url
	}
	db := rawOpen(t, dsn)
	stmts, err := migrationFiles(t, d)[0].Stmts()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return ent.NewClient(ent.Driver(entsql.OpenDB(d, db)))
}

// TestMigrations_partialSchema_refused: a database with some of coffer's tables but no revisions is
// not one Open can reason about; it fails and changes nothing.
func TestMigrations_partialSchema_refused(t *testing.T) {
	for _, d := range migrations.Dialects {
		t.Run(d, func(t *testing.T) {
			url := freshURL(t, d)
			raw := rawOpen(t, url)
			if _, err := raw.Exec(`CREATE TABLE users (id integer PRIMARY KEY)`); err != nil {
				t.Fatal(err)
			}
			_, err := store.Open(context.Background(), url, store.Options{})
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("Open = %v, want a refusal", err)
			}
			var tables int
			q := `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`
			if d == dialect.SQLite {
				q = `SELECT count(*) FROM sqlite_master WHERE type = 'table'`
			}
			if err := raw.QueryRow(q).Scan(&tables); err != nil || tables != 1 {
				t.Errorf("%d tables (%v) after the refusal, want only the one there before", tables, err)
			}
		})
	}
}

func rawOpen(t *testing.T, url string) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+url
	if store.IsPostgres(url) {
		driver, dsn = "postgres", url
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // SQLite: one writer
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrations_directory_upToDate is `make check-generated`'s migration check as a test: each
// directory's atlas.sum matches its files, and the files, replayed on a clean database, leave
// nothing for `make migration` to write.
func TestMigrations_directory_upToDate(t *testing.T) {
	for _, d := range migrations.Dialects {
		t.Run(d, func(t *testing.T) {
			dir, err := migrations.Dir(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := migrate.Validate(dir); err != nil {
				t.Fatalf("atlas.sum: %v", err)
			}
			url := freshURL(t, d)
			if d == dialect.SQLite {
				url += "?_pragma=foreign_keys(1)"
			}
			dev := rawOpen(t, url)
			dev.SetMaxOpenConns(1)
			if err := migrations.Check(context.Background(), entsql.OpenDB(d, dev), dir); err != nil {
				t.Error(err)
			}
		})
	}
}
