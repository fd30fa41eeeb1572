package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	neturl "net/url"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"coffer/ent"
)

// withSessionSettings adds target_session_attrs (primary.go), the connect timeout and the session
// timeouts of opts to a PostgreSQL URL. lib/pq sends every parameter it does not know itself to
// the server as a run-time setting, so each new connection starts with them. A setting already in
// the URL wins: the operator wrote it on purpose.
func withSessionSettings(url string, opts Options) (string, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return "", fmt.Errorf("store: DATABASE_URL: %w", err)
	}
	q := u.Query()
	if err := requirePrimary(q); err != nil {
		return "", err
	}
	set := func(key, value string) {
		if q.Get(key) == "" {
			q.Set(key, value)
		}
	}
	if opts.ConnectTimeout > 0 {
		set("connect_timeout", strconv.Itoa(max(1, int(opts.ConnectTimeout/time.Second))))
	}
	for _, s := range []struct {
		key string
		d   time.Duration
	}{
		{"statement_timeout", opts.StatementTimeout},
		{"lock_timeout", opts.LockTimeout},
		{"idle_in_transaction_session_timeout", opts.IdleInTxTimeout},
	} {
		if s.d > 0 {
			set(s.key, strconv.FormatInt(max(1, s.d.Milliseconds()), 10)) // milliseconds, PostgreSQL's unit
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// boundPool keeps the pool under what the PostgreSQL server accepts: a pool larger than
// max_connections (less the superuser reserve) would have its extra connections refused under load,
// as errors instead of waits.
func boundPool(ctx context.Context, db *DB) error {
	if db.Dialect != dialect.Postgres {
		return nil
	}
	var available int
	err := db.SQL.QueryRowContext(ctx, `SELECT current_setting('max_connections')::int
		- current_setting('superuser_reserved_connections')::int`).Scan(&available)
	if err != nil {
		return fmt.Errorf("read max_connections: %w", err)
	}
	if open := db.SQL.Stats().MaxOpenConnections; available > 1 && open >= available {
		// Leave room for the LISTEN connection, migrations and an operator's psql.
		bounded := max(1, available-3)
		slog.Warn("DB_MAX_OPEN_CONNS is not under the server's max_connections: lowered",
			"configured", open, "available", available, "using", bounded)
		db.SQL.SetMaxOpenConns(bounded)
		db.SQL.SetMaxIdleConns(bounded)
	}
	return nil
}

// maxTxAttempts bounds how often InTx runs a transaction that PostgreSQL aborted for a
// serialization failure or a deadlock: such a transaction changed nothing and may simply run again,
// but a hot spot must not make a request retry forever.
const maxTxAttempts = 4

// IsRetryable reports whether err aborted a transaction that may run again unchanged: a
// serialization failure (40001) or a deadlock (40P01).
func IsRetryable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "40001" || pqErr.Code == "40P01"
	}
	return false
}

// InTx runs fn in a database transaction: committed when fn returns nil, rolled back otherwise
// (and on panic, which is re-raised). A transaction aborted by a serialization failure or a
// deadlock runs again, up to maxTxAttempts times in all, after a short random pause (so that the
// two sides of a deadlock do not meet again). fn must therefore have no effect outside the
// transaction before it returns. An ent entity that fn returns is detached from the closed
// transaction (inTxOnce), so that its edges can still be loaded through the client.
func InTx[T any](ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) (T, error)) (result T, err error) {
	for attempt := 1; ; attempt++ {
		result, err = inTxOnce(ctx, client, fn)
		if err == nil || attempt == maxTxAttempts || !IsRetryable(err) {
			return result, err
		}
		pause := time.Duration(attempt)*10*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return result, err
		case <-time.After(pause):
		}
	}
}
