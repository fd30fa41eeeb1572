package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"coffer/ent"
	"coffer/graph/pgtest"
	"coffer/graph/store"
)

var errRollback = errors.New("roll back")

// TestTxStatements_runInsideTheCapturedTransaction_preparedOncePerConnection: a transaction begun
// with a capture in its context hands its *sql.Tx over; a statement run through TxStatements runs
// inside it (it sees the transaction's own uncommitted row). With a pool of one connection, held
// by the transaction, the first runs go unprepared instead of waiting for the pool; once the
// pool is free the statement is prepared, and a later transaction runs it prepared, once on the
// connection however often it runs.
func TestTxStatements_runInsideTheCapturedTransaction_preparedOncePerConnection(t *testing.T) {
	db := ssOpen(t, pgtest.NewDatabase(t), store.Options{MaxOpenConns: 1})
	stmts := &store.TxStatements{DB: db.SQL}
	const count = `SELECT count(*) FROM ss_counters WHERE id = ANY($1::int[])`
	countIn := func(ctx context.Context, tx *sql.Tx) int {
		t.Helper()
		var n int
		rows, err := stmts.In(tx).QueryContext(ctx, count, "{1,2,3}")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	ctx, capture := store.WithTxCapture(context.Background())
	if store.CapturedTx(ctx) != nil {
		t.Fatal("a transaction captured before any began")
	}
	_, err := store.InTx(ctx, db.Client, func(tx *ent.Tx) (struct{}, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ss_counters VALUES (3, 0)`); err != nil {
			return struct{}{}, err
		}
		sqlTx := capture.Tx()
		if sqlTx == nil || store.CapturedTx(ctx) != sqlTx {
			t.Fatal("the transaction was not captured")
		}
		for range 3 {
			if n := countIn(ctx, sqlTx); n != 3 {
				t.Errorf("the statement saw %d rows, want 3 (the transaction's own insert included)", n)
			}
		}
		return struct{}{}, errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !stmts.Prepared(count); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the statement was never prepared once the pool was free")
		}
	}
	ctx, capture = store.WithTxCapture(context.Background())
	_, err = store.InTx(ctx, db.Client, func(tx *ent.Tx) (struct{}, error) {
		sqlTx := capture.Tx()
		for range 3 {
			if n := countIn(ctx, sqlTx); n != 2 {
				t.Errorf("the statement saw %d rows, want 2 (the insert was rolled back)", n)
			}
		}
		var prepared int
		err := sqlTx.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement = $1`, count).Scan(&prepared)
		if prepared != 1 {
			t.Errorf("prepared %d times on the connection, want 1", prepared)
		}
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPrepared_resultTypeChangedByAMigration_preparedAgain: a migration that changes the type of
// a column a prepared statement returns (a rolling deploy: the old instances keep running) makes
// PostgreSQL refuse the statement as prepared. On the pool (Prepared) it is prepared again and
// the call answers; inside a transaction (TxStatements) that transaction fails, and the next one
// runs the statement prepared anew.
func TestPrepared_resultTypeChangedByAMigration_preparedAgain(t *testing.T) {
	db := ssOpen(t, pgtest.NewDatabase(t), store.Options{MaxOpenConns: 1}) // one connection: the one the statements are prepared on
	ctx := context.Background()
	read := func(rows *sql.Rows, err error) (int64, error) {
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		var sum int64
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				return 0, err
			}
			sum += n
		}
		return sum, rows.Err()
	}
	const text = `SELECT n FROM ss_counters WHERE id = ANY($1::int[])`
	pool := &store.Prepared{Text: text}
	inTx := &store.TxStatements{DB: db.SQL}
	runInTx := func() (int64, error) {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		return read(inTx.In(tx).QueryContext(ctx, text, "{1,2}"))
	}
	if _, err := read(pool.Query(ctx, db.SQL, "{1,2}")); err != nil {
		t.Fatal(err)
	}
	if _, err := runInTx(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !inTx.Prepared(text); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never prepared")
		}
	}
	if _, err := runInTx(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE ss_counters ALTER COLUMN n TYPE bigint; UPDATE ss_counters SET n = 5`); err != nil {
		t.Fatal(err)
	}
	if got, err := read(pool.Query(ctx, db.SQL, "{1,2}")); err != nil || got != 10 {
		t.Fatalf("on the pool after the migration: %d, %v; want 10", got, err)
	}
	if _, err := runInTx(); !store.PlanChanged(err) {
		t.Fatalf("in a transaction after the migration: %v, want the plan-changed refusal", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := runInTx()
		if err == nil && got == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the statement was not prepared again: %d, %v", got, err)
		}
	}
}

// TestPrepared_statementReplacedByAConcurrentCall_runsTheCurrentOne: a call that took the
// statement just before another call forgot (and closed) it runs the current preparation instead
// of failing with "statement is closed".
func TestPrepared_statementReplacedByAConcurrentCall_runsTheCurrentOne(t *testing.T) {
	db := ssOpen(t, pgtest.NewDatabase(t), store.Options{})
	p := &store.Prepared{Text: `SELECT 41 + $1::int`}
	rows, err := p.TakeAndForget(context.Background(), db.SQL, 1)
	if err != nil {
		t.Fatalf("the call with the closed statement: %v", err)
	}
	defer rows.Close()
	var got int
	for rows.Next() {
		if err := rows.Scan(&got); err != nil {
			t.Fatal(err)
		}
	}
	if got != 42 {
		t.Fatalf("got %d, want 42", got)
	}
}
