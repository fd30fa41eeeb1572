package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Prepared is a statement that requests run so often that it is worth preparing: database/sql
// prepares it once on each pooled connection, so PostgreSQL parses and plans it once per
// connection instead of on every request (for a join, planning costs several times the
// execution), and lib/pq runs it in one round trip instead of two (an unprepared statement with
// arguments is first described, then executed).
//
// It runs on the pool, never inside a transaction: a transaction's own connection would have to
// prepare it again, and borrowing a second connection from inside one can exhaust the pool.
type Prepared struct {
	// Text is the SQL, in the dialect of the pool it runs on.
	Text string

	mu   sync.Mutex
	stmt *sql.Stmt
}

// Query runs the statement on db, preparing it on first use; a failed preparation (the database
// is down) is tried again by the next call.
func (p *Prepared) Query(ctx context.Context, db *sql.DB, args ...any) (*sql.Rows, error) {
	stmt, err := p.get(ctx, db)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

func (p *Prepared) get(ctx context.Context, db *sql.DB) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmt == nil {
		stmt, err := db.PrepareContext(ctx, p.Text)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		p.stmt = stmt
	}
	return p.stmt, nil
}
