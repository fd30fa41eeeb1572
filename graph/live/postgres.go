package live

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Channel is the PostgreSQL NOTIFY channel of coffer's changes.
const Channel = "coffer_live"

// ListenerAppName is the application_name of the LISTEN connection (operators and tests find it
// in pg_stat_activity).
const ListenerAppName = "coffer-live-listener"

// maxPayloadBytes keeps a NOTIFY payload under PostgreSQL's 8000-byte limit.
const maxPayloadBytes = 7000

// PGPublisher publishes batches with NOTIFY, outside any ledger transaction.
type PGPublisher struct{ DB *sql.DB }

var _ Publisher = PGPublisher{}

// Publish sends b as one or more NOTIFYs, each payload under the size limit.
func (p PGPublisher) Publish(ctx context.Context, b Batch) error {
	for _, part := range split(b) {
		payload, err := json.Marshal(part)
		if err != nil {
			return fmt.Errorf("live: encode: %w", err)
		}
		if _, err := p.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, string(payload)); err != nil {
			return fmt.Errorf("live: notify: %w", err)
		}
	}
	return nil
}

// split cuts a batch into parts whose JSON stays under maxPayloadBytes (an account change takes
// at most about 60 bytes, a transaction id about 20).
func split(b Batch) []Batch {
	const perPart = maxPayloadBytes / 60
	var parts []Batch
	for len(b.Accounts) > 0 || len(b.Transactions) > 0 {
		var part Batch
		n := min(len(b.Accounts), perPart)
		part.Accounts, b.Accounts = b.Accounts[:n], b.Accounts[n:]
		m := min(len(b.Transactions), (perPart-n)*3)
		part.Transactions, b.Transactions = b.Transactions[:m], b.Transactions[m:]
		parts = append(parts, part)
	}
	return parts
}

// Listener is an instance's one LISTEN connection: it hands every batch to the hub, and after a
// reconnect (notifications may have been lost meanwhile) wakes every subscriber to re-read.
type Listener struct {
	URL string
	Hub *Hub
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) error {
	dsn, err := withAppName(l.URL, ListenerAppName)
	if err != nil {
		return err
	}
	events := func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			slog.Warn("live: listener disconnected", "error", err)
		case pq.ListenerEventReconnected:
			slog.Info("live: listener reconnected")
		case pq.ListenerEventConnectionAttemptFailed:
			slog.Warn("live: listener reconnect failed", "error", err)
		}
	}
	pl := pq.NewListener(dsn, 50*time.Millisecond, 5*time.Second, events)
	// Close also ends a Listen that waits for the first connection.
	stop := context.AfterFunc(ctx, func() { _ = pl.Close() })
	defer stop()
	defer pl.Close()
	if err := pl.Listen(Channel); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("live: listen: %w", err)
	}
	// A change committed before LISTEN took effect has no notification here: re-read once.
	l.Hub.WakeAll()
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ping.C:
			// Finds a dead connection that no notification would reveal.
			_ = pl.Ping()
		case n := <-pl.NotificationChannel():
			if n == nil && ctx.Err() != nil {
				return nil
			}
			if n == nil {
				// lib/pq sends nil after re-establishing the connection.
				l.Hub.WakeAll()
				continue
			}
			var b Batch
			if err := json.Unmarshal([]byte(n.Extra), &b); err != nil {
				slog.Warn("live: bad notification payload", "error", err)
				l.Hub.WakeAll()
				continue
			}
			l.Hub.Deliver(b)
		}
	}
}

// withAppName sets application_name on a postgres:// URL or a key=value DSN.
func withAppName(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("live: database URL: %w", err)
		}
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " application_name=" + name, nil
}
