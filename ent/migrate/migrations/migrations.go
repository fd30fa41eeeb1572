// Package migrations holds coffer's versioned schema migrations: one Atlas migration directory per
// dialect (postgres/, sqlite/, each with its atlas.sum), written by `make migration` from
// ent/schema and applied at start-up by graph/store. The SQL files are committed and never edited
// by hand once released: a database records which of them it has run.
package migrations

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sync"
	"text/template"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	entmigrate "coffer/ent/migrate"
)

//go:embed postgres sqlite
var files embed.FS

// Initial is the name of the first migration: the whole schema as ent's auto-migration created it
// before migrations were versioned. A database made that way is baselined at it.
const Initial = "initial"

// Dialects are the stores coffer runs on, each with its own migration directory.
var Dialects = []string{dialect.Postgres, dialect.SQLite}

// Dir returns the embedded migration directory of dialectName (dialect.Postgres or
// dialect.SQLite), as an in-memory copy that the caller may not share with another goroutine.
func Dir(dialectName string) (*migrate.MemDir, error) {
	sub, err := subdir(dialectName)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(files, sub)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		b, err := fs.ReadFile(files, path.Join(sub, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
	}
	return dir, nil
}

// Subdir is the directory of dialectName's migrations, relative to this package.
func subdir(dialectName string) (string, error) {
	switch dialectName {
	case dialect.Postgres:
		return "postgres", nil
	case dialect.SQLite:
		return "sqlite", nil
	}
	return "", fmt.Errorf("migrations: no migrations for dialect %q", dialectName)
}

// Path returns the directory of dialectName's migrations relative to the repository root, where
// `make migration` writes them.
func Path(dialectName string) (string, error) {
	sub, err := subdir(dialectName)
	if err != nil {
		return "", err
	}
	return path.Join("ent", "migrate", "migrations", sub), nil
}

// diffMu serializes ent's diffs in this process: ent's migrate rewrites its package-level table
// descriptors (ent/migrate.Tables) while it plans, so two diffs at once race on them.
var diffMu sync.Mutex

// ErrNoChanges reports that the migration directory already equals the ent schema.
var ErrNoChanges = errors.New("migrations: the migration directory is up to date with ent/schema")

// Plan writes to dir the next migration, named version_name.sql, that brings a database migrated by
// dir's files up to the current ent schema, and updates dir's atlas.sum. It replays dir on dev, a
// clean throwaway database of dir's dialect (opened with foreign keys on), and diffs the result
// against ent/schema; it returns ErrNoChanges, writing nothing, when there is no difference.
// Dropped columns and indexes are part of the plan, so that the files equal the schema.
func Plan(ctx context.Context, dev *entsql.Driver, dir migrate.Dir, version, name string) error {
	if err := migrate.CheckVersion(version); err != nil {
		return fmt.Errorf("migrations: version %q: %w", version, err)
	}
	f, err := formatter(version)
	if err != nil {
		return err
	}
	diffMu.Lock()
	defer diffMu.Unlock()
	err = entmigrate.NewSchema(dev).NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithFormatter(f),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dev.Dialect()),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	if errors.Is(err, migrate.ErrNoPlan) {
		return ErrNoChanges
	}
	return err
}

// Check returns nil when dir's migrations, replayed on dev (as Plan), equal the ent schema, and
// otherwise an error that shows the SQL of the missing migration. dir is not changed.
func Check(ctx context.Context, dev *entsql.Driver, dir migrate.Dir) error {
	files, err := dir.Files()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	scratch := &migrate.MemDir{}
	if err := scratch.CopyFiles(files); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := migrate.Validate(dir); err != nil {
		return fmt.Errorf("migrations: %s: %w (atlas.sum does not match the files: regenerate with `make migration`, never edit a migration by hand)", dev.Dialect(), err)
	}
	switch err := Plan(ctx, dev, scratch, migrate.NewVersion(), "pending"); {
	case errors.Is(err, ErrNoChanges):
		return nil
	case err != nil:
		return err
	}
	var pending bytes.Buffer
	after, err := scratch.Files()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	for _, f := range after[len(files):] {
		pending.Write(f.Bytes())
	}
	return fmt.Errorf("migrations: %s: ent/schema has changes that no migration makes: run `make migration name=<what changed>` and commit the result; the missing SQL:\n%s", dev.Dialect(), pending.String())
}

// formatter names files version_name.sql, with one version for both dialects of a run, and writes
// Atlas's default file body.
func formatter(version string) (migrate.Formatter, error) {
	name, err := template.New("name").Parse(version + "{{ with .Name }}_{{ . }}{{ end }}.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return migrate.TemplateFormatter{{N: name, C: migrate.DefaultFormatter[0].C}}, nil
}

// CheckDatabase returns nil when the tables of the database behind drv (opened as the server opens
// it) equal the ent schema, and otherwise an error that shows the SQL that would make them equal.
// It inspects ent's tables only: the revision table and anything else are ignored.
func CheckDatabase(ctx context.Context, drv *entsql.Driver) error {
	dir := &migrate.MemDir{}
	diffMu.Lock()
	defer diffMu.Unlock()
	err := entmigrate.NewSchema(drv).NamedDiff(ctx, "drift",
		schema.WithDir(dir),
		schema.WithFormatter(migrate.DefaultFormatter),
		schema.WithMigrationMode(schema.ModeInspect),
		schema.WithDialect(drv.Dialect()),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	switch {
	case errors.Is(err, migrate.ErrNoPlan):
		return nil
	case err != nil:
		return err
	}
	var drift bytes.Buffer
	files, err := dir.Files()
	if err != nil {
		return err
	}
	for _, f := range files {
		drift.Write(f.Bytes())
	}
	return fmt.Errorf("migrations: %s: the database differs from ent/schema:\n%s", drv.Dialect(), drift.String())
}
