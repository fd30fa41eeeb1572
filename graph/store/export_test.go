package store

import (
	"context"
	"database/sql"
)

// TakeAndForget is what a call to p.Query and a concurrent call that replaces the statement do in
// the worst order: the first takes the statement, the second forgets (and closes) it, then the
// first runs the statement it took.
func (p *Prepared) TakeAndForget(ctx context.Context, db *sql.DB, args ...any) (*sql.Rows, error) {
	taken, err := p.get(ctx, db)
	if err != nil {
		return nil, err
	}
	p.forget(taken)
	return p.queryWith(ctx, db, taken, args)
}
