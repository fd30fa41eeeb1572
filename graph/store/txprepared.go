package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Statements inside a transaction, prepared once per pooled connection.
//
// Prepared (prepared.go) runs on the pool, never in a transaction. A transaction whose statements
// have one text and run very often (the ledger's batch) wants them prepared too: PostgreSQL then
// plans them once per connection, and lib/pq runs each in one round trip instead of two. ent's
// transaction does not expose the *sql.Tx under it, so the client's driver (captureDriver)
// hands it to whoever asked for it in the context (WithTxCapture), and TxStatements runs a text
// through database/sql's Tx.StmtContext, which reuses the statement prepared on the pool once
// it exists on the transaction's connection.

// TxCapture receives the *sql.Tx of the transactions begun with its context (the last one: InTx
// begins a new one on each attempt).
type TxCapture struct {
	mu sync.Mutex
	tx *sql.Tx
}

type captureKey struct{}

// WithTxCapture returns ctx carrying a new capture.
func WithTxCapture(ctx context.Context) (context.Context, *TxCapture) {
	c := &TxCapture{}
	return context.WithValue(ctx, captureKey{}, c), c
}

// Tx is the captured transaction, nil when none was begun (or the client is not the store's).
func (c *TxCapture) Tx() *sql.Tx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tx
}

// captureDriver is ent's driver, and records each transaction's *sql.Tx in the context's capture.
type captureDriver struct{ *entsql.Driver }

func (d captureDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d captureDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if c, ok := ctx.Value(captureKey{}).(*TxCapture); ok {
		if t, ok := tx.(*entsql.Tx); ok {
			if sqlTx, ok := t.Tx.(*sql.Tx); ok {
				c.mu.Lock()
				c.tx = sqlTx
				c.mu.Unlock()
			}
		}
	}
	return tx, nil
}

// TxStatements prepares statements on a pool, once per text, for use inside its transactions.
// Only for texts that do not vary (a handful): each stays prepared on every connection.
//
// A statement is prepared on the pool in the background the first time it is asked for, and runs
// unprepared in its transaction until then: preparing on the pool needs a connection of its own,
// and a transaction waiting for one while it holds its own could wait on a pool that
// transactions have filled (with a pool of one, for ever). Once prepared on the pool,
// database/sql's Tx.StmtContext prepares it on the transaction's own connection the first time
// it runs there, and reuses it after.
type TxStatements struct {
	DB *sql.DB

	mu        sync.Mutex
	stmts     map[string]*sql.Stmt
	preparing map[string]bool
}

// prepareTimeout bounds a background preparation.
const prepareTimeout = 30 * time.Second

// In runs statements in tx, each prepared through s.
func (s *TxStatements) In(tx *sql.Tx) TxQuerier { return TxQuerier{tx: tx, s: s} }

// get is text's statement, nil while it is not prepared yet (it then starts preparing).
func (s *TxStatements) get(text string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stmt := s.stmts[text]; stmt != nil {
		return stmt
	}
	if !s.preparing[text] {
		if s.preparing == nil {
			s.preparing = map[string]bool{}
		}
		s.preparing[text] = true
		go s.prepare(text)
	}
	return nil
}

func (s *TxStatements) prepare(text string) {
	ctx, cancel := context.WithTimeout(context.Background(), prepareTimeout)
	defer cancel()
	stmt, err := s.DB.PrepareContext(ctx, text)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.preparing, text) // after a failure (the database is down), the next use tries again
	if err != nil {
		return
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[text] = stmt
}

// Prepared reports whether text is prepared on the pool (for tests).
func (s *TxStatements) Prepared(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stmts[text] != nil
}

// TxQuerier runs prepared statements in one transaction.
type TxQuerier struct {
	tx *sql.Tx
	s  *TxStatements
}

// QueryContext runs text in the transaction: prepared once it is, as it is until then. A
// statement whose result changed type since it was prepared (PlanChanged) fails the transaction,
// which cannot run it again; it is forgotten, so the next transaction prepares it anew.
func (q TxQuerier) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if stmt := q.s.get(text); stmt != nil {
		rows, err := q.tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
		if PlanChanged(err) {
			q.s.forget(text, stmt)
		}
		return rows, err
	}
	return q.tx.QueryContext(ctx, text, args...)
}

// forget drops text's statement stmt, so that its next use prepares it again.
func (s *TxStatements) forget(text string, stmt *sql.Stmt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stmts[text] == stmt {
		delete(s.stmts, text)
		stmt.Close()
	}
}

// CapturedTx is the transaction last begun with ctx's capture (WithTxCapture), nil when none.
func CapturedTx(ctx context.Context) *sql.Tx {
	if c, ok := ctx.Value(captureKey{}).(*TxCapture); ok {
		return c.Tx()
	}
	return nil
}
