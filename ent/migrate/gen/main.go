// Command gen writes the next versioned migration of both stores (PostgreSQL and SQLite) from the
// current ent schema, or checks that there is none to write. Run it from the repository root:
//
//	go run ./ent/migrate/gen -name add_card_limits   # make migration name=add_card_limits
//	go run ./ent/migrate/gen -check                  # part of make check-generated
//	go run ./ent/migrate/gen -hash                   # make migration-hash, after a hand edit
//
// Each dialect's directory is replayed on a clean throwaway database (a PostgreSQL cluster started
// by graph/pgtest, or a database on TEST_DATABASE_URL's server; an in-memory SQLite) and diffed
// against ent/schema; the difference becomes <version>_<name>.sql, one version for both dialects,
// and atlas.sum is updated. No difference writes nothing.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"regexp"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"coffer/ent/migrate/migrations"
	"coffer/graph/pgtest"
)

// namePattern keeps migration names to what reads well in a file name.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

func main() {
	name := flag.String("name", "", "what the migration does, in snake_case (e.g. add_card_limits)")
	check := flag.Bool("check", false, "write nothing; fail when ent/schema has changes that no migration makes")
	hash := flag.Bool("hash", false, "only rewrite each directory's atlas.sum (after a hand edit of an unreleased migration)")
	flag.Parse()
	if _, err := os.Stat("ent/schema"); err != nil {
		log.Fatalf("gen: run from the repository root (no ent/schema here): %v", err)
	}
	if *hash {
		if err := rehash(); err != nil {
			log.Fatalf("gen: %v", err)
		}
		return
	}
	if !*check && !namePattern.MatchString(*name) {
		log.Fatalf("gen: -name must match %s (got %q); e.g. make migration name=add_card_limits", namePattern, *name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, *name, *check); err != nil {
		log.Fatalf("gen: %v", err)
	}
}

func run(ctx context.Context, name string, check bool) error {
	pgURL, stop, err := devPostgres()
	if err != nil {
		return fmt.Errorf("dev PostgreSQL: %w", err)
	}
	defer stop()
	version := migrate.NewVersion()
	var failed error
	for _, d := range migrations.Dialects {
		path, err := migrations.Path(d)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
		dir, err := migrate.NewLocalDir(path)
		if err != nil {
			return err
		}
		dev, err := openDev(d, pgURL)
		if err != nil {
			return err
		}
		switch {
		case check:
			err = migrations.Check(ctx, dev, dir)
			if err == nil {
				fmt.Printf("%s: migrations are up to date with ent/schema\n", path)
			}
			failed = errors.Join(failed, err)
		default:
			err = migrations.Plan(ctx, dev, dir, version, name)
			switch {
			case errors.Is(err, migrations.ErrNoChanges):
				fmt.Printf("%s: no changes, nothing written\n", path)
			case err == nil:
				fmt.Printf("%s: wrote %s_%s.sql\n", path, version, name)
			default:
				failed = errors.Join(failed, fmt.Errorf("%s: %w", d, err))
			}
		}
		dev.Close()
	}
	return failed
}

// rehash rewrites the atlas.sum of each directory from its files.
func rehash() error {
	for _, d := range migrations.Dialects {
		path, err := migrations.Path(d)
		if err != nil {
			return err
		}
		dir, err := migrate.NewLocalDir(path)
		if err != nil {
			return err
		}
		sum, err := dir.Checksum()
		if err != nil {
			return err
		}
		if err := migrate.WriteSumFile(dir, sum); err != nil {
			return err
		}
		fmt.Printf("%s: atlas.sum rewritten\n", path)
	}
	return nil
}

// openDev opens a clean database of dialect d for replaying migrations: a fresh in-memory SQLite,
// or the PostgreSQL database at pgURL (cleaned by ent after each replay).
func openDev(d, pgURL string) (*entsql.Driver, error) {
	if d == dialect.Postgres {
		db, err := sql.Open("postgres", pgURL)
		if err != nil {
			return nil, err
		}
		return entsql.OpenDB(dialect.Postgres, db), nil
	}
	db, err := sql.Open("sqlite", "file:coffer-migrate-dev?mode=memory&cache=shared&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives as long as it does
	return entsql.OpenDB(dialect.SQLite, db), nil
}

// devPostgres returns an empty PostgreSQL database and a function that removes it: on the server of
// TEST_DATABASE_URL when set (as the tests do), otherwise in a throwaway cluster.
func devPostgres() (string, func(), error) {
	if admin := os.Getenv(pgtest.EnvURL); admin != "" {
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return "", nil, err
		}
		name := "coffer_migrate_dev_" + hex.EncodeToString(b)
		adminDB, err := sql.Open("postgres", admin)
		if err != nil {
			return "", nil, err
		}
		if _, err := adminDB.Exec("CREATE DATABASE " + pq.QuoteIdentifier(name)); err != nil {
			adminDB.Close()
			return "", nil, err
		}
		u, err := url.Parse(admin)
		if err != nil {
			adminDB.Close()
			return "", nil, err
		}
		u.Path = "/" + name
		return u.String(), func() {
			if _, err := adminDB.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)"); err != nil {
				log.Printf("gen: drop %s: %v", name, err)
			}
			adminDB.Close()
		}, nil
	}
	c, err := pgtest.StartCluster()
	if err != nil {
		return "", nil, err
	}
	if err := c.CreateDatabase("dev"); err != nil {
		c.Stop()
		return "", nil, err
	}
	return c.URL("dev"), func() { c.Stop() }, nil
}
