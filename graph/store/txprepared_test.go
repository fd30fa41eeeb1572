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
