package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"
)

// pgProfile (-pg-profile) is a diagnostic: it prints, after a run, the statements PostgreSQL
// executed during it (pg_stat_statements, reset before the run), each with its calls per measured
// operation and its mean execution time, the statements that cost the most first. Calls are
// divided by the operations the whole run made (warm-up included, estimated from the measured
// rate), so the figures are approximate; they say where a case's database time goes.
type pgProfile struct {
	db *sql.DB
	w  io.Writer
}

func (p *pgProfile) reset(ctx context.Context) error {
	_, err := p.db.ExecContext(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

func (p *pgProfile) print(ctx context.Context, label string, r result, runTime time.Duration) error {
	rows, err := p.db.QueryContext(ctx, `SELECT query, calls, total_exec_time, rows FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 25`)
	if err != nil {
		return err
	}
	defer rows.Close()
	ops := r.PerSecond * runTime.Seconds()
	fmt.Fprintf(p.w, "  pg profile of %s (about %.0f operations):\n", label, ops)
	for rows.Next() {
		var q string
		var calls, nrows int64
		var totalMs float64
		if err := rows.Scan(&q, &calls, &totalMs, &nrows); err != nil {
			return err
		}
		q = strings.Join(strings.Fields(q), " ")
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Fprintf(p.w, "    %6.3f calls/op %7.1f µs/call %6.1f µs/op %5.1f rows/call  %s\n",
			float64(calls)/ops, 1000*totalMs/float64(calls), 1000*totalMs/ops, float64(nrows)/float64(calls), q)
	}
	return rows.Err()
}
