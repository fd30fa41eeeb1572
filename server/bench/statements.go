package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"coffer/graph/live"
)

// stmtCalls is one normalised statement and how often it ran per request.
type stmtCalls struct {
	Query   string  `json:"query"`
	PerCall float64 `json:"per_request"`
}

// countStatements counts the SQL statements that op makes the server issue, with
// pg_stat_statements (preloaded in the benchmark's cluster; BEGIN and COMMIT count too, as
// track_utility is on by default): it resets the statistics, runs op n times one after another
// while nothing else uses the database, and divides the calls recorded in the database by n. Only
// the benchmark's own statements about pg_stat_statements and the live-balance notifier's (a
// batch's versions and its NOTIFY, run after commits on the notifier's own goroutine, coalesced
// over a few milliseconds, so not part of any request) are left out. This counts what
// PostgreSQL executed, so it cannot miss a query made by a library behind the resolvers' back.
func countStatements(ctx context.Context, db *sql.DB, n int, op func() error) (float64, []stmtCalls, error) {
	if _, err := db.ExecContext(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
		return 0, nil, fmt.Errorf("reset pg_stat_statements: %w", err)
	}
	for range n {
		if err := op(); err != nil {
			return 0, nil, err
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT query, calls FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND query NOT LIKE '%pg_stat_statements%'
		AND NOT (query LIKE ANY ($1)) ORDER BY calls DESC, query`, pq.Array(live.StatementPatterns))
	if err != nil {
		return 0, nil, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	defer rows.Close()
	var total int64
	var list []stmtCalls
	for rows.Next() {
		var q string
		var calls int64
		if err := rows.Scan(&q, &calls); err != nil {
			return 0, nil, err
		}
		total += calls
		list = append(list, stmtCalls{Query: strings.Join(strings.Fields(q), " "), PerCall: float64(calls) / float64(n)})
	}
	return float64(total) / float64(n), list, rows.Err()
}
