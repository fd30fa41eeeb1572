package store

import (
	"context"
	"database/sql/driver"
	"fmt"

	"entgo.io/ent/dialect"
)

// ExclusiveRun runs fn unless another holder of lockID (on any server instance sharing the
// database) is running it now, and reports whether it ran. Unlike Exclusive, fn is not inside one
// transaction: it opens its own, one per item of work, so that one item's failure does not undo
// the others. On PostgreSQL the lock is a session-level advisory lock held on one pooled
// connection while fn runs, released afterwards (or with the session, when the connection cannot
// be used again); SQLite has one process, whose jobs the caller runs one at a time.
func ExclusiveRun(ctx context.Context, db *DB, lockID int64, fn func(ctx context.Context) error) (bool, error) {
	if db.Dialect != dialect.Postgres {
		return true, fn(ctx)
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("advisory lock: %w", err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", lockID).Scan(&got); err != nil {
		return false, fmt.Errorf("advisory lock: %w", err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		// Unlocked even when ctx has ended; a connection that cannot unlock is discarded, which
		// ends its session and so releases the lock.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return true, fn(ctx)
}
