// Package store opens coffer's database: PostgreSQL when the URL says so, otherwise an embedded
// SQLite file, and brings its schema up to date.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"coffer/ent"
)

// DB is an open store.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
	// URL is the PostgreSQL URL, for LISTEN connections; empty on SQLite.
	URL string
}

// Options bound the connection pool and, on PostgreSQL, each session (see session.go).
type Options struct {
	MaxOpenConns int
	// ConnectTimeout bounds opening a connection (whole seconds; lib/pq's connect_timeout).
	ConnectTimeout time.Duration
	// StatementTimeout, LockTimeout and IdleInTxTimeout become the sessions' statement_timeout,
	// lock_timeout and idle_in_transaction_session_timeout. Zero leaves the server's default.
	StatementTimeout time.Duration
	LockTimeout      time.Duration
	IdleInTxTimeout  time.Duration
	// OpenSQL opens the pool (sql.Open when nil): the server passes one that wraps the driver to
	// trace every statement when tracing is on.
	OpenSQL func(driverName, dataSourceName string) (*sql.DB, error)
}

func (o Options) openSQL(driverName, dataSourceName string) (*sql.DB, error) {
	if o.OpenSQL != nil {
		return o.OpenSQL(driverName, dataSourceName)
	}
	return sql.Open(driverName, dataSourceName)
}

// IsPostgres reports whether url names a PostgreSQL server.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// DefaultSQLitePath is where the embedded store lives when no DATABASE_URL is given.
const DefaultSQLitePath = "data/coffer.db"

// Open opens url (a postgres:// URL, or a SQLite file path; empty means DefaultSQLitePath) and
// applies the pending versioned migrations (migrate.go).
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	db, err := open(url, opts)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.SQL.PingContext(pingCtx); err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := boundPool(ctx, db); err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := migrateSchema(ctx, db); err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	if err := normalizeSQLiteTimes(ctx, db); err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	return db, nil
}

func open(url string, opts Options) (*DB, error) {
	if IsPostgres(url) {
		url, err := withSessionSettings(url, opts)
		if err != nil {
			return nil, err
		}
		sqlDB, err := opts.openSQL("postgres", url)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		maxOpen := opts.MaxOpenConns
		if maxOpen <= 0 {
			maxOpen = 32
		}
		sqlDB.SetMaxOpenConns(maxOpen)
		sqlDB.SetMaxIdleConns(maxOpen)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		drv := captureDriver{entsql.OpenDB(dialect.Postgres, sqlDB)}
		return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: sqlDB, Dialect: dialect.Postgres, URL: url}, nil
	}
	path := url
	if path == "" {
		path = DefaultSQLitePath
	}
	path = strings.TrimPrefix(strings.TrimPrefix(path, "sqlite://"), "file:")
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate" +
		sqliteDSNTimes
	sqlDB, err := opts.openSQL("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// One connection: SQLite has one writer, and immediate transactions queue on it instead of
	// failing with SQLITE_BUSY.
	sqlDB.SetMaxOpenConns(1)
	drv := entsql.OpenDB(dialect.SQLite, sqlDB)
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: sqlDB, Dialect: dialect.SQLite}, nil
}

// Close closes the client and its pool.
func (db *DB) Close() error { return db.Client.Close() }

// inTxOnce is one attempt of InTx (session.go).
func inTxOnce[T any](ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) (T, error)) (result T, err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return result, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	result, err = fn(tx)
	if err != nil {
		_ = tx.Rollback()
		return result, err
	}
	if err := tx.Commit(); err != nil {
		return result, fmt.Errorf("commit: %w", err)
	}
	return Detach(result), nil
}

// Detach rebinds an entity created or read in a transaction to the client's driver (ent's
// Unwrap), without a query. Anything else, or an entity that is not transactional (read through
// the client inside fn), or nil, is returned as it is.
func Detach[T any](v T) (out T) {
	u, ok := any(v).(interface{ Unwrap() T })
	if !ok {
		return v
	}
	defer func() {
		// ent's Unwrap panics for an entity that does not belong to a transaction, and a nil
		// pointer panics too: both are fine as they are.
		if recover() != nil {
			out = v
		}
	}()
	return u.Unwrap()
}

// IsUniqueViolation reports whether err is a unique-constraint violation (on either store).
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if ent.IsConstraintError(err) && strings.Contains(strings.ToLower(err.Error()), "unique") {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsCheckViolation reports whether err is a CHECK-constraint violation (on either store).
func IsCheckViolation(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23514"
	}
	return strings.Contains(err.Error(), "CHECK constraint failed")
}

// Exclusive runs fn in a transaction unless another holder of lockID (on any server instance
// sharing the database) is running it now, and reports whether it ran. On PostgreSQL the lock is
// a transaction-scoped advisory lock, released by the commit; SQLite has one process, and its one
// connection already serializes.
func Exclusive(ctx context.Context, db *DB, lockID int64, fn func(client *ent.Client) error) (bool, error) {
	return InTx(ctx, db.Client, func(tx *ent.Tx) (bool, error) {
		if db.Dialect == dialect.Postgres {
			rows, err := tx.QueryContext(ctx, "SELECT pg_try_advisory_xact_lock($1)", lockID)
			if err != nil {
				return false, fmt.Errorf("advisory lock: %w", err)
			}
			var got bool
			for rows.Next() {
				if err := rows.Scan(&got); err != nil {
					rows.Close()
					return false, err
				}
			}
			if err := rows.Close(); err != nil {
				return false, err
			}
			if !got {
				return false, nil
			}
		}
		return true, fn(tx.Client())
	})
}
