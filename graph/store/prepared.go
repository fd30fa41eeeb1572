package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/lib/pq"
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
// is down) is tried again by the next call. A statement whose result changed type since it was
// prepared (PlanChanged: a migration of a rolling deploy altered a column it returns) is prepared
// anew and run again, once: it is a read on the pool, not part of any transaction.
func (p *Prepared) Query(ctx context.Context, db *sql.DB, args ...any) (*sql.Rows, error) {
	stmt, err := p.get(ctx, db)
	if err != nil {
		return nil, err
	}
	return p.queryWith(ctx, db, stmt, args)
}

// queryWith runs stmt, the statement Query got. When it fails because its plan changed, or
// because a concurrent call replaced it (and closed it) meanwhile, it runs the current one.
func (p *Prepared) queryWith(ctx context.Context, db *sql.DB, stmt *sql.Stmt, args []any) (*sql.Rows, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err == nil || !PlanChanged(err) && !p.replaced(stmt) {
		return rows, err
	}
	p.forget(stmt)
	if stmt, err = p.get(ctx, db); err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

// replaced reports whether stmt is no longer the statement's current preparation.
func (p *Prepared) replaced(stmt *sql.Stmt) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stmt != stmt
}

// forget drops stmt, so that the next use prepares the text again.
func (p *Prepared) forget(stmt *sql.Stmt) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmt == stmt {
		p.stmt = nil
		stmt.Close()
	}
}

// PlanChanged reports PostgreSQL's refusal to run a prepared statement whose result columns
// changed type since it was prepared ("cached plan must not change result type"): the statement
// has to be prepared again, and until it is, every run of it fails.
func PlanChanged(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "0A000" && strings.Contains(pqErr.Message, "cached plan must not change result type")
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
