package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"

	"coffer/ent/migrate/migrations"
)

// migrationLockID is the PostgreSQL advisory lock that lets one server instance at a time migrate a
// shared database; the others wait for it and then find nothing left to do.
const migrationLockID = 0x636f66666572_00 // "coffer", job 0 (server/app.go numbers the others)

// RevisionsTable records which migration files a database has run (one row per file, with the
// columns of the Atlas CLI's own revision table).
const RevisionsTable = "atlas_schema_revisions"

// migrateSchema brings db up to the embedded migrations (ent/migrate/migrations): a fresh database
// gets every file, an up-to-date one is left alone. Each file runs in its own transaction with its
// revision row, so a failed file changes nothing and the next start retries it. A database that
// ent's auto-migration created before migrations were versioned holds every table of the initial
// migration and no revisions: it is baselined at that migration (recorded as run, not run).
func migrateSchema(ctx context.Context, db *DB) (err error) {
	dir, err := migrations.Dir(db.Dialect)
	if err != nil {
		return err
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.Dialect == dialect.SQLite {
		// SQLite ignores this pragma inside a transaction, and a file that rebuilds a table (Atlas
		// writes PRAGMA foreign_keys = off around it) must not cascade the drop of the old copy.
		// SQLite's documented way: keys off outside the transaction, foreign_key_check before
		// each commit (migrateStep), keys on again after.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return err
		}
		defer func() {
			// The connection goes back to the pool (SQLite's only one): it must enforce keys again.
			if _, onErr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); onErr != nil {
				err = errors.Join(err, fmt.Errorf("foreign keys back on: %w", onErr))
			}
		}()
	}
	for {
		applied, err := migrateStep(ctx, conn, db.Dialect, dir)
		if err != nil || applied == nil {
			return err
		}
		slog.Info("schema migration applied", "version", applied.Version(), "name", applied.Desc(), "dialect", db.Dialect)
	}
}

// migrateStep runs, in one transaction, the first pending migration file and returns it; nil when
// none is pending. On PostgreSQL the transaction first takes migrationLockID, so that of several
// instances starting together only one runs each file; the others then see its revision.
func migrateStep(ctx context.Context, conn *sql.Conn, dialectName string, dir migrate.Dir) (applied migrate.File, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var drv migrate.Driver
	switch dialectName {
	case dialect.Postgres:
		// A migration may wait for the lock or run longer than the request timeouts the URL sets.
		for _, q := range []string{"SET LOCAL lock_timeout = 0", "SET LOCAL statement_timeout = 0", "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(migrationLockID, 10) + ")"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("%s: %w", q, err)
			}
		}
		drv, err = postgres.Open(tx)
	default:
		drv, err = sqlite.Open(tx)
	}
	if err != nil {
		return nil, err
	}
	revs, err := openRevisions(ctx, tx, dialectName)
	if err != nil {
		return nil, err
	}
	var opts []migrate.ExecutorOption
	if first, err := revs.empty(ctx); err != nil {
		return nil, err
	} else if first {
		o, err := firstRun(ctx, drv, dir)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	ex, err := migrate.NewExecutor(drv, dir, revs, opts...)
	if err != nil {
		return nil, err
	}
	pending, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, tx.Commit() // keeps a baseline revision that Pending may have written
	}
	if err != nil {
		return nil, err
	}
	f := pending[0]
	if err := ex.Execute(ctx, f); err != nil {
		return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
	}
	if dialectName == dialect.SQLite {
		if err := sqliteForeignKeyCheck(ctx, tx); err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return f, nil
}

// firstRun decides where a database without revisions starts: at the first file when it holds none
// of the initial migration's tables (objects of other programs, such as extensions, are allowed), at
// the initial migration as baseline when it holds all of them (ent's auto-migration made it), and
// nowhere when it holds some: that is not a database this code knows how to bring up to date.
func firstRun(ctx context.Context, drv migrate.Driver, dir migrate.Dir) (migrate.ExecutorOption, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	if len(files) == 0 || files[0].Desc() != migrations.Initial {
		return nil, fmt.Errorf("the first migration must be %q", migrations.Initial)
	}
	want := createdTables(files[0])
	current, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Mode: schema.InspectTables})
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	var have []string
	for _, t := range want {
		if _, ok := current.Table(t); ok {
			have = append(have, t)
		}
	}
	switch len(have) {
	case 0:
		return migrate.WithAllowDirty(true), nil
	case len(want):
		slog.Warn("database made by ent's auto-migration: recording it at the initial migration", "version", files[0].Version())
		return migrate.WithBaselineVersion(files[0].Version()), nil
	}
	return nil, fmt.Errorf("the database has %d of the %d tables of migration %s (%s) and no %s: refusing to guess its schema",
		len(have), len(want), files[0].Name(), strings.Join(have, ", "), RevisionsTable)
}

var createTable = regexp.MustCompile("(?m)^CREATE TABLE [\"`]([a-z0-9_]+)[\"`]")

// createdTables lists the tables that f creates.
func createdTables(f migrate.File) []string {
	var names []string
	for _, m := range createTable.FindAllSubmatch(f.Bytes(), -1) {
		names = append(names, string(m[1]))
	}
	return names
}

func sqliteForeignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("foreign key violated: table %s row %d references a missing %s row", table, rowid.Int64, parent)
	}
	return rows.Err()
}

// revisions is Atlas's revision storage over the migration's transaction.
type revisions struct {
	tx      *sql.Tx
	dialect string
	schema  string
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

// openRevisions creates the revisions table when it is missing.
func openRevisions(ctx context.Context, tx *sql.Tx, dialectName string) (*revisions, error) {
	r := &revisions{tx: tx, dialect: dialectName, schema: "main"}
	ddl := `CREATE TABLE IF NOT EXISTS ` + RevisionsTable + ` (
		version text NOT NULL PRIMARY KEY, description text NOT NULL,
		type integer NOT NULL DEFAULT 2, applied integer NOT NULL DEFAULT 0, total integer NOT NULL DEFAULT 0,
		executed_at datetime NOT NULL, execution_time integer NOT NULL,
		error text NULL, error_stmt text NULL, hash text NOT NULL, partial_hashes json NULL,
		operator_version text NOT NULL)`
	if dialectName == dialect.Postgres {
		if err := tx.QueryRowContext(ctx, "SELECT current_schema()").Scan(&r.schema); err != nil {
			return nil, err
		}
		ddl = `CREATE TABLE IF NOT EXISTS ` + RevisionsTable + ` (
		version character varying NOT NULL PRIMARY KEY, description character varying NOT NULL,
		type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0,
		executed_at timestamptz NOT NULL, execution_time bigint NOT NULL,
		error text NULL, error_stmt text NULL, hash character varying NOT NULL, partial_hashes jsonb NULL,
		operator_version character varying NOT NULL)`
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return nil, fmt.Errorf("create %s: %w", RevisionsTable, err)
	}
	return r, nil
}

// q writes the placeholders of query (?) as the dialect wants them.
func (r *revisions) q(query string) string {
	if r.dialect != dialect.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: RevisionsTable, Schema: r.schema}
}

func (r *revisions) empty(ctx context.Context) (bool, error) {
	var n int
	err := r.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+RevisionsTable).Scan(&n)
	return n == 0, err
}

const revisionColumns = `version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version`

func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	rows, err := r.tx.QueryContext(ctx, "SELECT "+revisionColumns+" FROM "+RevisionsTable+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	return revs, rows.Err()
}

func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	rows, err := r.tx.QueryContext(ctx, r.q("SELECT "+revisionColumns+" FROM "+RevisionsTable+" WHERE version = ?"), version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev           migrate.Revision
		typ           uint
		executionNs   int64
		errText, stmt sql.NullString
		partial       []byte
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &rev.ExecutedAt,
		&executionNs, &errText, &stmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
	}
	rev.Type = migrate.RevisionType(typ)
	rev.ExecutionTime = time.Duration(executionNs)
	rev.Error, rev.ErrorStmt = errText.String, stmt.String
	if len(partial) > 0 {
		if err := json.Unmarshal(partial, &rev.PartialHashes); err != nil {
			return nil, fmt.Errorf("read %s: partial_hashes: %w", RevisionsTable, err)
		}
	}
	return &rev, nil
}

func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	var partial any // NULL when there are none, as the Atlas CLI writes it
	if len(rev.PartialHashes) > 0 {
		b, err := json.Marshal(rev.PartialHashes)
		if err != nil {
			return err
		}
		partial = string(b)
	}
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	_, err := r.tx.ExecContext(ctx, r.q(`INSERT INTO `+RevisionsTable+` (`+revisionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (version) DO UPDATE SET description = excluded.description, type = excluded.type,
			applied = excluded.applied, total = excluded.total, executed_at = excluded.executed_at,
			execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt,
			hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`),
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, rev.ExecutedAt.UTC(),
		int64(rev.ExecutionTime), nullable(rev.Error), nullable(rev.ErrorStmt), rev.Hash, partial, rev.OperatorVersion)
	return err
}

func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	_, err := r.tx.ExecContext(ctx, r.q("DELETE FROM "+RevisionsTable+" WHERE version = ?"), version)
	return err
}
