package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"coffer/graph/coins"
	"coffer/graph/ledger"
	"coffer/graph/store"
)

// batchWorkers is how many batches the batched limit keeps in flight: as many as coffer's
// poster does (graph/ledger's batchesInFlight).
const batchWorkers = 2

// hotAccounts is how many recipients the hot-account cases pay into.
const hotAccounts = 10

// batchSize is the batch the batched limit runs at n clients: the mean batch coffer's poster ran
// at n clients in the transfer run just before (observed, rounded), so that the limit runs the
// same statements at the same batch sizes; without one (the transfer case not selected), n/2,
// the most the poster can hold per batch with n closed-loop clients and two batches in flight.
func batchSize(clients int, observed float64) int {
	if observed > 0 {
		return min(max(1, int(math.Round(observed))), ledger.DefaultBatchMax)
	}
	return min(max(1, (clients+batchWorkers-1)/batchWorkers), ledger.DefaultBatchMax)
}

// rawBatch is the batched limit: the statements of coffer's batch on PostgreSQL (the names of
// the recipients resolved with coins.UsernameBook, then ledger.LockAccountsSQL and
// ledger.WriteBatchSQL: the very texts its poster runs, with their arguments built as the poster
// builds them, ledger.BatchRows, prepared as it prepares them), one transaction per batch of size
// transfers, straight through database/sql + lib/pq. Worker w's batch debits size senders of its
// own and credits random recipients named by username, as size clients of the GraphQL case would.
func rawBatch(db *sql.DB, p *population, size int) op {
	// Prepared once per connection inside each transaction, as coffer's ledger runs them
	// (ledger.Ledger.Statements).
	stmts := &store.TxStatements{DB: db}
	book := coins.UsernameBook(dialect.Postgres)
	return func(ctx context.Context, worker int, rng *rand.Rand) error {
		type posting struct {
			from, to, fromUser int
			name               string
		}
		postings := make([]posting, size)
		names := make([]string, 0, size)
		for k := range postings {
			from := p.senders[(worker*size+k)%len(p.senders)]
			to := p.recipients[rng.IntN(len(p.recipients))]
			postings[k] = posting{from: from.accountID, fromUser: from.userID, name: to.username}
			names = append(names, to.username)
		}
		slices.Sort(names)
		names = slices.Compact(names)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		q := stmts.In(tx)
		found, err := book.Resolve(ctx, q, names)
		if err != nil {
			return err
		}
		ids := make([]int, 0, 2*size)
		for k := range postings {
			to, ok := found[postings[k].name]
			if !ok {
				return fmt.Errorf("recipient %q not found", postings[k].name)
			}
			postings[k].to = to
			ids = append(ids, postings[k].from, to)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		type state struct{ balance, version, delta, increment int64 }
		accounts := make(map[int]*state, len(ids))
		lock := ledger.NewBatchRows(dialect.Postgres, 1)
		for _, id := range ids {
			lock.Add(id)
		}
		rows, err := q.QueryContext(ctx, ledger.LockAccountsSQL(dialect.Postgres, len(ids)), lock.Args()...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int
			var s state
			var reserved, limit int64
			var allowNegative, open bool
			if err := rows.Scan(&id, &s.balance, &reserved, &limit, &allowNegative, &open, &s.version); err != nil {
				rows.Close()
				return err
			}
			accounts[id] = &s
		}
		if err := rows.Close(); err != nil {
			return err
		}
		now := time.Now().UTC()
		txns := ledger.NewBatchRows(dialect.Postgres, 12)
		for _, t := range postings {
			txns.Add("TRANSFER", "POSTED", transferAmountMinor, "", t.from, t.to, now, (*time.Time)(nil), &now,
				t.fromUser, (*string)(nil), []byte(nil))
		}
		entries := ledger.NewBatchRows(dialect.Postgres, 9)
		for k, t := range postings {
			from, to := accounts[t.from], accounts[t.to]
			from.balance, from.version, from.delta, from.increment = from.balance-transferAmountMinor, from.version+1, from.delta-transferAmountMinor, from.increment+1
			to.balance, to.version, to.delta, to.increment = to.balance+transferAmountMinor, to.version+1, to.delta+transferAmountMinor, to.increment+1
			// The posting's position: the statement takes the transaction id from it.
			entries.Add(t.from, k+1, t.to, "SEND", -transferAmountMinor, "", from.balance, from.version, now)
			entries.Add(t.to, k+1, t.from, "RECEIVE", transferAmountMinor, "", to.balance, to.version, now)
		}
		changes := ledger.NewBatchRows(dialect.Postgres, 3)
		for _, id := range ids {
			s := accounts[id]
			changes.Add(id, s.delta, s.increment)
		}
		args := append(append(txns.Args(), changes.Args()...), entries.Args()...)
		rows, err = q.QueryContext(ctx, ledger.WriteBatchSQL(), args...)
		if err != nil {
			return err
		}
		written := 0
		for rows.Next() {
			written++
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if written != size+len(ids) {
			return fmt.Errorf("batch wrote %d rows, want %d", written, size+len(ids))
		}
		return tx.Commit()
	}
}

// hotPopulation is p with every transfer paying into its first hotAccounts recipients.
func hotPopulation(p *population) *population {
	return &population{senders: p.senders, recipients: p.recipients[:min(hotAccounts, len(p.recipients))]}
}

// sqliteTransfers runs sendCoins against coffer on SQLite (one file, seeded once through the
// API), first with batching, then restarted on the same file without (LEDGER_BATCH_MAX=0), every
// client count and round each. It returns the runs by case key.
func sqliteTransfers(ctx context.Context, o options, clients []int, dir string, logf func(string, ...any)) (map[string]map[int][]result, error) {
	file := filepath.Join(dir, "sqlite-bench.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(file + suffix)
	}
	maxClients := slices.Max(clients)
	runs := map[string]map[int][]result{}
	var pop *population
	for _, v := range []struct {
		key string
		env []string
	}{{"sqlite_transfer", nil}, {"sqlite_transfer_unbatched", []string{"LEDGER_BATCH_MAX=0"}}} {
		srv, err := startCoffer(o.server, file, filepath.Join(dir, v.key+".log"), v.env...)
		if err != nil {
			return nil, err
		}
		url := "http://" + srv.Addr + "/query"
		if pop == nil {
			logf("SQLite: seeding %d senders and %d recipients through the API", maxClients, hotAccounts*4)
			if pop, err = seed(ctx, &gqlClient{url: url, http: newHTTPClient(maxClients)}, nil, maxClients, hotAccounts*4); err != nil {
				srv.Stop()
				return nil, fmt.Errorf("seed SQLite: %w", err)
			}
		}
		wire, err := newWireClient(url, maxClients)
		if err != nil {
			srv.Stop()
			return nil, err
		}
		runs[v.key] = map[int][]result{}
		for round := 1; round <= o.rounds; round++ {
			for _, n := range clients {
				m := meter{postgresPID: -1, serverPID: srv.PID(), benchPID: os.Getpid()}
				r := run(ctx, n, o.warmup, o.duration, m, cofferTransfer(wire, pop))
				runs[v.key][n] = append(runs[v.key][n], r)
				logf("round %d/%d %-26s %2d clients: %7.0f/s p50 %6.2f ms p99 %7.2f ms errors %d",
					round, o.rounds, v.key, n, r.PerSecond, r.P50Ms, r.P99Ms, r.Errors)
			}
		}
		wire.close()
		srv.Stop()
	}
	return runs, nil
}
