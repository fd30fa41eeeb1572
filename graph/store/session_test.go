package store_test

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"coffer/ent"
	"coffer/graph/pgtest"
	"coffer/graph/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// ssOpen opens a fresh PostgreSQL store with a two-row counter table.
func ssOpen(t *testing.T, url string, opts store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.SQL.Exec(`CREATE TABLE ss_counters (id int PRIMARY KEY, n int NOT NULL);
		INSERT INTO ss_counters VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func ssCounts(t *testing.T, db *store.DB) (a, b int) {
	t.Helper()
	if err := db.SQL.QueryRow(`SELECT (SELECT n FROM ss_counters WHERE id = 1), (SELECT n FROM ss_counters WHERE id = 2)`).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func ssExec(ctx context.Context, tx *ent.Tx, q string, args ...any) error {
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

// ssMeet lets two transactions wait for each other once, with a bound.
func ssMeet(mine, theirs chan struct{}) {
	close(mine)
	select {
	case <-theirs:
	case <-time.After(5 * time.Second):
	}
}

// TestInTx_deadlock_retriedUntilBothCommit runs two transactions that lock the same two rows in
// opposite orders: PostgreSQL aborts one with 40P01, InTx runs it again, and both increments land.
func TestInTx_deadlock_retriedUntilBothCommit(t *testing.T) {
	db := ssOpen(t, pgtest.NewDatabase(t), store.Options{LockTimeout: 10 * time.Second})
	ctx := context.Background()
	var calls atomic.Int32
	readyA, readyB := make(chan struct{}), make(chan struct{})
	update := func(first, second int, mine, theirs chan struct{}) func(tx *ent.Tx) (int, error) {
		attempt := 0
		return func(tx *ent.Tx) (int, error) {
			calls.Add(1)
			attempt++
			if err := ssExec(ctx, tx, `UPDATE ss_counters SET n = n + 1 WHERE id = $1`, first); err != nil {
				return 0, err
			}
			if attempt == 1 {
				ssMeet(mine, theirs)
			}
			return attempt, ssExec(ctx, tx, `UPDATE ss_counters SET n = n + 1 WHERE id = $1`, second)
		}
	}
	errs := make(chan error, 2)
	go func() { _, err := store.InTx(ctx, db.Client, update(1, 2, readyA, readyB)); errs <- err }()
	go func() { _, err := store.InTx(ctx, db.Client, update(2, 1, readyB, readyA)); errs <- err }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("InTx: %v", err)
		}
	}
	if a, b := ssCounts(t, db); a != 2 || b != 2 {
		t.Errorf("counters %d and %d, want 2 and 2", a, b)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d attempts, want 3 (the deadlock victim once more)", n)
	}
}

// TestInTx_serializationFailure_retried makes a REPEATABLE READ transaction update a row another
// transaction changed after its snapshot: PostgreSQL aborts it with 40001, and the second run
// reads the new value.
func TestInTx_serializationFailure_retried(t *testing.T) {
	db := ssOpen(t, pgtest.NewDatabase(t), store.Options{})
	ctx := context.Background()
	attempts := 0
	got, err := store.InTx(ctx, db.Client, func(tx *ent.Tx) (int, error) {
		attempts++
		if err := ssExec(ctx, tx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
			return 0, err
		}
		rows, err := tx.QueryContext(ctx, `SELECT n FROM ss_counters WHERE id = 1`)
		if err != nil {
			return 0, err
		}
		var n int
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return 0, err
			}
		}
		rows.Close()
		if attempts == 1 { // another writer commits after this snapshot
			if _, err := db.SQL.ExecContext(ctx, `UPDATE ss_counters SET n = n + 10 WHERE id = 1`); err != nil {
				return 0, err
			}
		}
		return n, ssExec(ctx, tx, `UPDATE ss_counters SET n = $1 WHERE id = 1`, n+1)
	})
	if err != nil || attempts != 2 || got != 10 {
		t.Errorf("InTx = %d, %v after %d attempts; want 10, nil after 2", got, err, attempts)
	}
	if a, _ := ssCounts(t, db); a != 11 {
		t.Errorf("counter %d, want 11: the retry must not lose the other writer's update", a)
	}
}

// TestInTx_retriesAreBoundedAndOnlyForTransientFailures checks what is not retried.
func TestInTx_retriesAreBoundedAndOnlyForTransientFailures(t *testing.T) {
	db := ssOpen(t, pgtest.NewDatabase(t), store.Options{})
	ctx := context.Background()
	tests := []struct {
		name      string
		giveErr   error
		wantCalls int
	}{
		{"a serialization failure every time", &pq.Error{Code: "40001"}, 4},
		{"a deadlock every time", &pq.Error{Code: "40P01"}, 4},
		{"a unique violation", &pq.Error{Code: "23505"}, 1},
		{"a lock timeout", &pq.Error{Code: "55P03"}, 1},
		{"a domain error", errors.New("insufficient funds"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			_, err := store.InTx(ctx, db.Client, func(tx *ent.Tx) (int, error) {
				calls++
				if err := ssExec(ctx, tx, `UPDATE ss_counters SET n = n + 1 WHERE id = 2`); err != nil {
					return 0, err
				}
				return 0, tt.giveErr
			})
			if !errors.Is(err, tt.giveErr) || calls != tt.wantCalls {
				t.Errorf("InTx = %v after %d calls, want the error after %d", err, calls, tt.wantCalls)
			}
		})
	}
	if _, b := ssCounts(t, db); b != 0 {
		t.Errorf("counter %d, want 0: every failed attempt rolls back", b)
	}
}

// TestOpen_sessionSettings checks that the timeouts reach every PostgreSQL session, that one in
// the URL wins, and that the pool stays under max_connections.
func TestOpen_sessionSettings(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := ssOpen(t, url, store.Options{
		MaxOpenConns: 100000, ConnectTimeout: 2 * time.Second,
		StatementTimeout: 700 * time.Millisecond, LockTimeout: 300 * time.Millisecond, IdleInTxTimeout: 3 * time.Second,
	})
	for setting, want := range map[string]string{
		"statement_timeout": "700ms", "lock_timeout": "300ms", "idle_in_transaction_session_timeout": "3s",
	} {
		var got string
		if err := db.SQL.QueryRow("SHOW " + setting).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", setting, got, err, want)
		}
	}
	start := time.Now()
	_, err := db.SQL.Exec(`SELECT pg_sleep(5)`)
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "57014" || time.Since(start) > 3*time.Second {
		t.Errorf("a 5 s statement: %v after %v, want query_canceled (57014) after 700 ms", err, time.Since(start))
	}
	var limit int
	if err := db.SQL.QueryRow(`SELECT current_setting('max_connections')::int`).Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if open := db.SQL.Stats().MaxOpenConnections; open <= 0 || open >= limit {
		t.Errorf("pool of %d connections, want under max_connections %d", open, limit)
	}

	own, err := store.Open(context.Background(), url+"&statement_timeout=2000", store.Options{StatementTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	var got string
	if err := own.SQL.QueryRow("SHOW statement_timeout").Scan(&got); err != nil || got != "2s" {
		t.Errorf("statement_timeout = %q, %v; want the URL's 2s", got, err)
	}
}
