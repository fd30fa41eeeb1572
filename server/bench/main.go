// Command bench measures coffer against the limit of its own SQL; `make bench` runs it after
// building the server:
//
//	go build -o bench-results/coffer ./server
//	go run ./server/bench -server bench-results/coffer
//
// It starts a throwaway PostgreSQL (graph/pgtest, with pg_stat_statements preloaded), the built
// server as a separate process (so that its memory is its own), and the plain read handler (this
// program again, with -serve-plain), seeds customers through the API, and runs every case at 1,
// 8, 32 and 64 closed-loop clients, three rounds each, quoting medians. It prints a table, writes
// bench-results/bench.json, and prints the summary as one JSON object on its last line.
//
// Everything shares the machine's cores: PostgreSQL, the server under test and this load
// generator; the report gives each one's CPU share per case, so it is visible where the time went.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"

	"coffer/graph/pgtest"
)

func main() {
	var o options
	flag.StringVar(&o.server, "server", "", "the built coffer server binary (required)")
	flag.StringVar(&o.out, "out", "bench-results/bench.json", "where the full results go")
	flag.StringVar(&o.clients, "clients", "1,8,32,64", "concurrent client counts")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds per case and client count (the report quotes medians)")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measured time of one run")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured time before each run")
	flag.IntVar(&o.recipients, "recipients", 512, "customers that receive transfers")
	flag.StringVar(&o.cases, "cases", "", "run only these cases, comma-separated keys (limit,limit_notify,transfer,plain_read,read,statement,search_sql,search,customers_search,customers_search_sql,batch_limit,transfer_unbatched,limit_hot,transfer_hot,sqlite); all when empty")
	flag.IntVar(&o.people, "people", 100_000, "people in the census for the search cases")
	flag.IntVar(&o.subscribers, "subscribers", 2000, "WebSocket subscribers of the subscription case (0 skips it)")
	flag.IntVar(&o.subClients, "sub-clients", 16, "clients sending coins to the subscribers")
	flag.IntVar(&o.subTransfers, "sub-transfers", 2, "measured transfers to each subscriber (after one warm-up transfer each)")
	flag.BoolVar(&o.pgProfile, "pg-profile", false, "print the statements PostgreSQL ran in each run, the costliest first (a diagnostic)")
	servePlainDSN := flag.String("serve-plain", "", "internal: serve the plain read handler over this database")
	flag.Parse()
	if *servePlainDSN != "" {
		if err := servePlain(*servePlainDSN); err != nil {
			fmt.Fprintln(os.Stderr, "plain handler:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := benchmark(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	server, out, clients, cases string
	rounds, recipients, people  int
	duration, warmup            time.Duration

	// The subscription case: subscribers, the clients sending to them, transfers per subscriber.
	subscribers, subClients, subTransfers int

	pgProfile bool
}

// report is bench.json.
type report struct {
	Started    time.Time `json:"started"`
	Machine    string    `json:"machine"`
	Clients    []int     `json:"clients"`
	Rounds     int       `json:"rounds"`
	DurationS  float64   `json:"duration_s"`
	Senders    int       `json:"senders"`
	Recipients int       `json:"recipients"`
	// Cases maps a case to its median result per client count.
	Cases map[string]map[int]result `json:"cases"`
	// Runs keeps every round, for whoever doubts a median.
	Runs map[string]map[int][]result `json:"runs"`
	// Statements are the SQL statements per request that pg_stat_statements saw.
	Statements map[string]statementCount `json:"statements"`
	// Subscriptions is the subscription case, nil when it was skipped.
	Subscriptions *subResult `json:"subscriptions"`
	Summary       summary    `json:"summary"`
}

type statementCount struct {
	PerRequest float64     `json:"per_request"`
	List       []stmtCalls `json:"list"`
}

// summary is the last line of the output, for scripts.
type summary struct {
	// TransferRatio is coffer's best transfer rate over the limit's best (without NOTIFY), each at
	// its own best client count.
	TransferRatio       float64 `json:"transfer_ratio"`
	TransferBestClients int     `json:"transfer_best_clients"`
	TransferTPS         float64 `json:"transfer_tps"`
	LimitTPS            float64 `json:"limit_tps"`
	LimitNotifyTPS      float64 `json:"limit_notify_tps"`
	TransferP50Ms32     float64 `json:"transfer_p50_ms_32"`
	TransferP99Ms32     float64 `json:"transfer_p99_ms_32"`
	// LimitP99Ms32 is the limit's p99 at 32 clients, beside coffer's.
	LimitP99Ms32 float64 `json:"limit_p99_ms_32"`
	// BatchLimitTPS is the best rate of the batched limit (coffer's batch statements in raw SQL
	// at the batch sizes its poster reaches), BatchRatio coffer's best over it.
	BatchLimitTPS float64 `json:"batch_limit_tps"`
	BatchRatio    float64 `json:"batch_ratio"`
	// TransferP50Ms1 and TransferUnbatchedP50Ms1 are sendCoins' p50 at 1 client with batching on
	// and off (LEDGER_BATCH_MAX=0, a second server on the same database); TransferUnbatchedTPS
	// the unbatched server's best rate.
	TransferP50Ms1          float64 `json:"transfer_p50_ms_1"`
	TransferUnbatchedP50Ms1 float64 `json:"transfer_unbatched_p50_ms_1"`
	TransferUnbatchedTPS    float64 `json:"transfer_unbatched_tps"`
	// The hot-account case: every client pays into the same 10 recipients; HotTPS is coffer's
	// rate at 64 clients, HotLimitTPS the limit's with the same pattern, HotRatio their ratio.
	HotTPS      float64 `json:"hot_tps_64"`
	HotLimitTPS float64 `json:"hot_limit_tps_64"`
	HotRatio    float64 `json:"hot_ratio_64"`
	// SQLite: sendCoins' best rate with batching and without.
	SQLiteTransferTPS          float64 `json:"sqlite_transfer_tps"`
	SQLiteTransferUnbatchedTPS float64 `json:"sqlite_transfer_unbatched_tps"`
	// ReadRatio is coffer's best balance-read rate over the plain handler's best.
	ReadRatio    float64 `json:"read_ratio"`
	ReadRPS      float64 `json:"read_rps"`
	PlainReadRPS float64 `json:"plain_read_rps"`
	// StatementQueries is what the statement page (50 entries with counterparties) adds to a
	// request that reaches the account, in SQL statements; StatementQueries10 the same for 10
	// entries: equal when the count does not grow with the page size.
	StatementQueries   float64 `json:"statement_queries"`
	StatementQueries10 float64 `json:"statement_queries_page10"`
	StatementRPS       float64 `json:"statement_rps"`
	// CustomersSearchP99Ms is customers(search:) over 100,000 customers at one client (API.md §7
	// wants at most 50 ms); CustomersSearchRatio its best rate over the plain SQL's best.
	CustomersSearchP99Ms *float64 `json:"customers_search_p99_ms"`
	CustomersSearchRatio float64  `json:"customers_search_ratio"`
	// Subscribers and the fields after it come from the subscription case (0 and null when it
	// is skipped). Delivery is from just before the sendCoins request left to the event's arrival
	// at its subscriber, an upper bound of commit-to-client; DeliveryAfterResponse* is from the
	// response's arrival instead, a lower bound (negative: the event came first).
	Subscribers   int      `json:"subscribers"`
	DeliveryP50Ms *float64 `json:"delivery_p50_ms"`
	DeliveryP99Ms *float64 `json:"delivery_p99_ms"`
	// SubscriberKiB is the server's VmRSS with every subscriber open and idle minus before they
	// opened, per subscriber.
	SubscriberKiB              *float64 `json:"subscriber_kib"`
	EventsLost                 *int     `json:"events_lost"`
	EventsDuplicated           *int     `json:"events_duplicated"`
	DeliveryAfterResponseP50Ms *float64 `json:"delivery_after_response_p50_ms"`
	DeliveryAfterResponseP99Ms *float64 `json:"delivery_after_response_p99_ms"`
	SubscriptionTPS            *float64 `json:"subscription_case_tps"`
	// PeakRSSMiB is the server's VmHWM over its whole life, seeding included (hundreds of
	// password hashes of 19 MiB each, two at a time); PeakRSSLoadMiB the peak during the cases
	// alone, or null where the kernel cannot reset the peak.
	PeakRSSMiB     float64  `json:"peak_rss_mb"`
	PeakRSSLoadMiB *float64 `json:"peak_rss_load_mb"`
	// SearchRatio is coffer's best people-search rate over its plain SQL's best (search_sql),
	// each at its own best client count, over SearchPeople people; SearchP99Ms its p99 per client
	// count (the target: 50 ms).
	SearchPeople int                `json:"search_people"`
	SearchRatio  float64            `json:"search_ratio"`
	SearchRPS    float64            `json:"search_rps"`
	SearchSQLRPS float64            `json:"search_sql_rps"`
	SearchP99Ms  map[string]float64 `json:"search_p99_ms"`
}

func benchmark(ctx context.Context, o options, stdout, log io.Writer) error {
	if o.server == "" {
		return fmt.Errorf("-server: the built coffer binary is required (make bench builds it)")
	}
	var clients []int
	for _, s := range strings.Split(o.clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-clients: %q is not a client count", s)
		}
		clients = append(clients, n)
	}
	maxClients := slices.Max(clients)
	if o.subscribers > 0 && (o.subClients < 1 || o.subClients > maxClients || o.subTransfers < 1) {
		return fmt.Errorf("-sub-clients must be 1 to %d (the senders) and -sub-transfers at least 1", maxClients)
	}
	// Before any child starts, so that the server inherits it: one socket per subscriber on each
	// side, plus the pools and HTTP clients.
	if err := raiseFileLimit(uint64(o.subscribers) + 4096); err != nil {
		return err
	}
	dir := filepath.Dir(o.out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}

	logf("starting PostgreSQL")
	cluster, err := pgtest.StartClusterWith("shared_preload_libraries=pg_stat_statements", "max_connections=300")
	if err != nil {
		return err
	}
	defer cluster.Stop()
	if err := cluster.CreateDatabase("coffer"); err != nil {
		return err
	}
	dbURL := cluster.URL("coffer")
	logf("starting coffer (%s) and the plain handler", o.server)
	srv, err := startCoffer(o.server, dbURL, filepath.Join(dir, "server.log"),
		// Every subscriber is its own user with one subscription: the per-user cap stays as it is.
		"LIVE_MAX_SUBSCRIPTIONS="+strconv.Itoa(max(10000, o.subscribers+100)))
	if err != nil {
		return err
	}
	defer srv.Stop()
	plain, err := startPlain(dbURL, filepath.Join(dir, "plain.log"))
	if err != nil {
		return err
	}
	defer plain.Stop()
	// The same server without batching, on the same database: the p50 at 1 client with and
	// without the poster, and the unbatched rate.
	unbatched, err := startCoffer(o.server, dbURL, filepath.Join(dir, "server-unbatched.log"), "LEDGER_BATCH_MAX=0")
	if err != nil {
		return err
	}
	defer unbatched.Stop()

	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(maxClients)
	db.SetMaxIdleConns(maxClients)
	if _, err := db.ExecContext(ctx, "CREATE EXTENSION pg_stat_statements"); err != nil {
		return err
	}
	// The NOTIFY case runs with a listener connected, as a live-balance fan-out would be.
	listener := pq.NewListener(dbURL, time.Second, time.Minute, nil)
	defer listener.Close()
	if err := listener.Listen(notifyChannel); err != nil {
		return err
	}
	go func() {
		for range listener.Notify {
		}
	}()

	httpc := newHTTPClient(maxClients)
	coffer := &gqlClient{url: "http://" + srv.Addr + "/query", http: httpc}
	plainc := &gqlClient{url: "http://" + plain.Addr + "/balance", http: httpc}
	// The measured loops post through wireClient (wire.go), the same for both servers.
	cofferWire, err := newWireClient(coffer.url, maxClients)
	if err != nil {
		return err
	}
	defer cofferWire.close()
	plainWire, err := newWireClient(plainc.url, maxClients)
	if err != nil {
		return err
	}
	defer plainWire.close()
	unbatchedWire, err := newWireClient("http://"+unbatched.Addr+"/query", maxClients)
	if err != nil {
		return err
	}
	defer unbatchedWire.close()
	logf("seeding %d senders and %d recipients through the API", maxClients, o.recipients)
	pop, err := seed(ctx, coffer, db, maxClients, o.recipients)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}

	var subs []customer
	var subAccounts []string
	if o.subscribers > 0 {
		logf("seeding %d subscribers (through the API; sessions written as login writes them)", o.subscribers)
		if subs, subAccounts, err = seedSubscribers(ctx, coffer, db, o.subscribers); err != nil {
			return fmt.Errorf("seed subscribers: %w", err)
		}
	}

	seededPeak, err := peakRSSMiB(srv.PID())
	if err != nil {
		return err
	}
	loadPeakKnown := resetPeakRSS(srv.PID()) == nil
	logf("seeded; server peak memory so far %.1f MiB", seededPeak)

	var clerkTokens []string
	if wantSearch := o.cases == "" || strings.Contains(o.cases, "search"); wantSearch && o.people > 0 {
		logf("seeding %d people (COPY, search keys by census.SearchKey) and %d clerk sessions", o.people, maxClients)
		if err := seedPeople(ctx, db, o.people); err != nil {
			return fmt.Errorf("seed people: %w", err)
		}
		if clerkTokens, err = staffTokens(ctx, coffer, maxClients); err != nil {
			return fmt.Errorf("clerk sessions: %w", err)
		}
	}
	// observedBatch is the mean batch size of coffer's poster in the latest transfer run at each
	// client count: the batched limit posts batches of that size.
	observedBatch := map[int]float64{}
	cases := []benchCase{
		{key: "limit", label: "limit: transfer SQL", op: rawTransfer(db, pop, false)},
		{key: "limit_notify", label: "limit + NOTIFY", op: rawTransfer(db, pop, true)},
		{key: "transfer", label: "coffer sendCoins", server: srv, op: cofferTransfer(cofferWire, pop)},
		// After the transfer case: it runs the batch size coffer's poster ran just before.
		{key: "batch_limit", label: "limit: batched SQL", sized: func(n int) (int, int, op) {
			size := batchSize(n, observedBatch[n])
			return batchWorkers, size, rawBatch(db, pop, size)
		}},
		{key: "transfer_unbatched", label: "sendCoins unbatched", server: unbatched, op: cofferTransfer(unbatchedWire, pop)},
		{key: "limit_hot", label: "limit: 10 hot accounts", op: rawTransfer(db, hotPopulation(pop), false)},
		{key: "transfer_hot", label: "sendCoins 10 hot acc.", server: srv, op: cofferTransfer(cofferWire, hotPopulation(pop))},
		{key: "plain_read", label: "plain balance read", server: plain, op: query(plainWire, pop, "")},
		{key: "read", label: "coffer balance read", server: srv, op: query(cofferWire, pop, balanceQuery)},
		{key: "statement", label: "coffer statement (50)", server: srv, op: query(cofferWire, pop, fmt.Sprintf(statementQuery, 50))},
	}
	if clerkTokens != nil {
		cases = append(cases,
			benchCase{key: "search_sql", label: "limit: search SQL", op: rawSearch(db)},
			benchCase{key: "search", label: "coffer people search", server: srv, op: cofferSearch(cofferWire, clerkTokens)})
	}
	selected := func(key string) bool { return o.cases == "" || slices.Contains(strings.Split(o.cases, ","), key) }
	searchCases, err := customerSearchCases(ctx, selected, db, coffer, cofferWire, srv, logf)
	if err != nil {
		return err
	}
	cases = append(cases, searchCases...)
	if o.cases != "" {
		keep := strings.Split(o.cases, ",")
		if slices.Contains(keep, "search") {
			keep = append(keep, "search_sql") // the search's ratio needs its limit
		}
		cases = slices.DeleteFunc(cases, func(c benchCase) bool { return !slices.Contains(keep, c.key) })
		if len(cases) == 0 {
			return fmt.Errorf("-cases: none of %q is a case", o.cases)
		}
	}
	rep := &report{
		Started: time.Now().UTC(), Machine: fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Clients: clients, Rounds: o.rounds, DurationS: o.duration.Seconds(), Senders: maxClients, Recipients: o.recipients,
		Cases: map[string]map[int]result{}, Runs: map[string]map[int][]result{},
	}
	if clerkTokens != nil {
		rep.Summary.SearchPeople = o.people
	}
	for _, c := range cases {
		rep.Runs[c.key] = map[int][]result{}
	}
	var prof *pgProfile
	if o.pgProfile {
		prof = &pgProfile{db: db, w: log}
	}
	// Rounds outermost: a slow minute on the shared machine then touches every case a little
	// instead of one case a lot.
	for round := 1; round <= o.rounds; round++ {
		for _, n := range clients {
			for _, c := range cases {
				if err := ctx.Err(); err != nil {
					return err
				}
				m := meter{postgresPID: cluster.PID(), benchPID: os.Getpid()}
				if c.server != nil {
					m.serverPID = c.server.PID()
					if c.server == srv || c.server == unbatched {
						m.metricsURL = "http://" + c.server.Addr + "/metrics"
					}
				}
				var r result
				if prof != nil {
					if err := prof.reset(ctx); err != nil {
						return err
					}
				}
				if c.sized != nil {
					workers, per, o2 := c.sized(n)
					r = run(ctx, workers, o.warmup, o.duration, m, o2)
					r.Ops, r.PerSecond, r.BatchMean = r.Ops*per, r.PerSecond*float64(per), float64(per)
				} else {
					r = run(ctx, n, o.warmup, o.duration, m, c.op)
				}
				rep.Runs[c.key][n] = append(rep.Runs[c.key][n], r)
				if c.key == "transfer" {
					observedBatch[n] = r.BatchMean
				}
				if prof != nil {
					if err := prof.print(ctx, fmt.Sprintf("%s at %d clients", c.label, n), r, o.warmup+o.duration); err != nil {
						return err
					}
				}
				logf("round %d/%d %-22s %2d clients: %7.0f/s p50 %6.2f ms p99 %7.2f ms errors %d batch %.1f (%.2f ms)",
					round, o.rounds, c.label, n, r.PerSecond, r.P50Ms, r.P99Ms, r.Errors, r.BatchMean, r.BatchMs)
			}
		}
	}
	if o.cases == "" || slices.Contains(strings.Split(o.cases, ","), "sqlite") {
		sqliteRuns, err := sqliteTransfers(ctx, o, clients, dir, logf)
		if err != nil {
			return fmt.Errorf("SQLite cases: %w", err)
		}
		for key, byClients := range sqliteRuns {
			rep.Runs[key] = byClients
		}
		cases = append(cases, benchCase{key: "sqlite_transfer", label: "SQLite sendCoins"},
			benchCase{key: "sqlite_transfer_unbatched", label: "SQLite unbatched"})
	}
	for key, byClients := range rep.Runs {
		rep.Cases[key] = map[int]result{}
		for n, rounds := range byClients {
			rep.Cases[key][n] = medianResult(rounds)
		}
	}

	// The subscription case, after the closed-loop ones: its subscribers would otherwise be part
	// of their server's memory and work.
	if o.subscribers > 0 {
		logf("subscription case: %d subscribers, %d clients sending", o.subscribers, o.subClients)
		m := meter{postgresPID: cluster.PID(), serverPID: srv.PID(), benchPID: os.Getpid()}
		if rep.Subscriptions, err = subscriptionCase(ctx, srv, cofferWire, pop, subs, subAccounts, o.subClients, o.subTransfers, m, logf); err != nil {
			return fmt.Errorf("subscription case: %w", err)
		}
		sr := rep.Subscriptions
		logf("subscription case: %.0f transfers/s, send→event p50 %.2f ms p99 %.2f ms, %.1f KiB per subscriber, lost %d duplicated %d",
			sr.TransfersPerSecond, sr.SendToEventP50Ms, sr.SendToEventP99Ms, sr.KiBPerSubscriber, sr.Lost, sr.Duplicated)
	}

	// The statement page is full only after the transfer case: without it there is nothing to count.
	if _, ok := rep.Runs["transfer"]; ok {
		logf("counting SQL statements per request")
		if rep.Statements, err = countAll(ctx, db, coffer, plainc, pop); err != nil {
			return err
		}
	} else {
		logf("not counting SQL statements: the transfer case did not run")
	}
	loadPeak, err := peakRSSMiB(srv.PID())
	if err != nil {
		return err
	}
	rep.Summary.PeakRSSMiB = round1(max(seededPeak, loadPeak))
	if loadPeakKnown {
		v := round1(loadPeak)
		rep.Summary.PeakRSSLoadMiB = &v
	}
	rep.summarize(clients)

	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, b, 0o644); err != nil {
		return err
	}
	rep.print(stdout, cases)
	fmt.Fprintf(stdout, "\nfull results: %s\n", o.out)
	line, err := json.Marshal(rep.Summary)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(line))
	return nil
}

// countAll counts the statements of each request kind, twenty requests each, one at a time.
func countAll(ctx context.Context, db *sql.DB, coffer, plain *gqlClient, p *population) (map[string]statementCount, error) {
	const n = 20
	token := p.senders[0].token
	to := p.recipients[0].username
	kinds := []struct {
		key string
		fn  func() error
	}{
		{"transfer", func() error {
			return coffer.do(ctx, token, sendCoinsQuery, map[string]any{"in": map[string]any{
				"recipient": map[string]any{"username": to}, "amount": "0.01", "autoSign": true}}, nil)
		}},
		{"read", func() error { return coffer.do(ctx, token, balanceQuery, nil, nil) }},
		{"plain_read", func() error { return plain.do(ctx, token, "", nil, nil) }},
		{"account", func() error { return coffer.do(ctx, token, accountQuery, nil, nil) }},
		{"statement_10", func() error { return coffer.do(ctx, token, fmt.Sprintf(statementQuery, 10), nil, nil) }},
		{"statement_50", func() error { return coffer.do(ctx, token, fmt.Sprintf(statementQuery, 50), nil, nil) }},
	}
	// The count means something only if the page is full: the senders have sent hundreds of
	// transfers by now.
	var page struct {
		Me struct {
			Customer struct {
				Account struct {
					Entries struct{ Edges []json.RawMessage }
				}
			}
		}
	}
	if err := coffer.do(ctx, token, fmt.Sprintf(statementQuery, 50), nil, &page); err != nil {
		return nil, err
	}
	if n := len(page.Me.Customer.Account.Entries.Edges); n != 50 {
		return nil, fmt.Errorf("the statement page has %d entries, want 50", n)
	}
	out := map[string]statementCount{}
	for _, k := range kinds {
		per, list, err := countStatements(ctx, db, n, k.fn)
		if err != nil {
			return nil, fmt.Errorf("count statements of %s: %w", k.key, err)
		}
		out[k.key] = statementCount{PerRequest: per, List: list}
	}
	return out, nil
}

func (r *report) summarize(clients []int) {
	best := func(key string) (int, result) {
		bn, br := 0, result{}
		for _, n := range clients {
			if res := r.Cases[key][n]; res.PerSecond > br.PerSecond {
				bn, br = n, res
			}
		}
		return bn, br
	}
	s := &r.Summary
	var transfer, limit, notify, read, plain, stmt result
	s.TransferBestClients, transfer = best("transfer")
	_, limit = best("limit")
	_, notify = best("limit_notify")
	_, read = best("read")
	_, plain = best("plain_read")
	_, stmt = best("statement")
	s.TransferTPS, s.LimitTPS, s.LimitNotifyTPS = round1(transfer.PerSecond), round1(limit.PerSecond), round1(notify.PerSecond)
	s.TransferRatio = ratio(transfer.PerSecond, limit.PerSecond)
	if res, ok := r.Cases["transfer"][32]; ok {
		s.TransferP50Ms32, s.TransferP99Ms32 = res.P50Ms, res.P99Ms
	}
	s.LimitP99Ms32 = r.Cases["limit"][32].P99Ms
	_, batchLimit := best("batch_limit")
	s.BatchLimitTPS, s.BatchRatio = round1(batchLimit.PerSecond), ratio(transfer.PerSecond, batchLimit.PerSecond)
	_, unbatched := best("transfer_unbatched")
	s.TransferUnbatchedTPS = round1(unbatched.PerSecond)
	s.TransferP50Ms1, s.TransferUnbatchedP50Ms1 = r.Cases["transfer"][1].P50Ms, r.Cases["transfer_unbatched"][1].P50Ms
	hot, hotLimit := r.Cases["transfer_hot"][64], r.Cases["limit_hot"][64]
	s.HotTPS, s.HotLimitTPS, s.HotRatio = round1(hot.PerSecond), round1(hotLimit.PerSecond), ratio(hot.PerSecond, hotLimit.PerSecond)
	_, sqliteBatched := best("sqlite_transfer")
	_, sqliteAlone := best("sqlite_transfer_unbatched")
	s.SQLiteTransferTPS, s.SQLiteTransferUnbatchedTPS = round1(sqliteBatched.PerSecond), round1(sqliteAlone.PerSecond)
	s.ReadRPS, s.PlainReadRPS = round1(read.PerSecond), round1(plain.PerSecond)
	s.ReadRatio = ratio(read.PerSecond, plain.PerSecond)
	s.StatementRPS = round1(stmt.PerSecond)
	r.customersSearchSummary(clients)
	s.StatementQueries = r.Statements["statement_50"].PerRequest - r.Statements["account"].PerRequest
	s.StatementQueries10 = r.Statements["statement_10"].PerRequest - r.Statements["account"].PerRequest
	if _, ok := r.Cases["search"]; ok {
		_, search := best("search")
		_, searchSQL := best("search_sql")
		s.SearchRPS, s.SearchSQLRPS = round1(search.PerSecond), round1(searchSQL.PerSecond)
		s.SearchRatio = ratio(search.PerSecond, searchSQL.PerSecond)
		s.SearchP99Ms = map[string]float64{}
		for _, n := range clients {
			s.SearchP99Ms[fmt.Sprint(n)] = r.Cases["search"][n].P99Ms
		}
	}
	if sr := r.Subscriptions; sr != nil {
		s.Subscribers = sr.Subscribers
		p50, p99, kib, rp50, rp99, tps := sr.SendToEventP50Ms, sr.SendToEventP99Ms, sr.KiBPerSubscriber,
			sr.ResponseToEventP50Ms, sr.ResponseToEventP99Ms, sr.TransfersPerSecond
		lost, dup := sr.Lost, sr.Duplicated
		s.DeliveryP50Ms, s.DeliveryP99Ms, s.SubscriberKiB = &p50, &p99, &kib
		s.DeliveryAfterResponseP50Ms, s.DeliveryAfterResponseP99Ms, s.SubscriptionTPS = &rp50, &rp99, &tps
		s.EventsLost, s.EventsDuplicated = &lost, &dup
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return float64(int(a/b*1000+0.5)) / 1000
}

func round1(v float64) float64 { return float64(int(v*10+0.5)) / 10 }

func (r *report) print(w io.Writer, cases []benchCase) {
	fmt.Fprintf(w, "coffer benchmark, %s; %d rounds of %gs per cell, medians; %d senders, %d recipients\n",
		r.Machine, r.Rounds, r.DurationS, r.Senders, r.Recipients)
	fmt.Fprintln(w, "PostgreSQL, the server under test and the load generator share all cores; cpu = % of one core (postgres/server/bench)")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-22s %7s %9s %8s %8s %6s  %-16s %s\n", "case", "clients", "per sec", "p50 ms", "p99 ms", "errors", "cpu pg/srv/bench", "batch")
	for _, c := range cases {
		for _, n := range r.Clients {
			res := r.Cases[c.key][n]
			batch := ""
			if res.BatchMean > 0 {
				batch = fmt.Sprintf("%5.1f", res.BatchMean)
			}
			fmt.Fprintf(w, "%-22s %7d %9.0f %8.2f %8.2f %6d  %3.0f/%3.0f/%3.0f      %s\n", c.label, n, res.PerSecond, res.P50Ms, res.P99Ms,
				res.Errors, res.CPU.Postgres, res.CPU.Server, res.CPU.Bench, batch)
		}
	}
	if sr := r.Subscriptions; sr != nil {
		// One run (not rounds): the transfers to the subscribers, then the delivery of their events.
		fmt.Fprintf(w, "%-22s %7d %9.0f %8.2f %8.2f %6d  %3.0f/%3.0f/%3.0f\n", fmt.Sprintf("sendCoins, %d subs", sr.Subscribers), sr.Clients,
			sr.TransfersPerSecond, sr.TransferP50Ms, sr.TransferP99Ms, sr.TransferErrors, sr.CPU.Postgres, sr.CPU.Server, sr.CPU.Bench)
		fmt.Fprintf(w, "%-22s %7s %9s %8.2f %8.2f %6d\n", "  sent → event", "", "", sr.SendToEventP50Ms, sr.SendToEventP99Ms, sr.Lost+sr.Duplicated)
		fmt.Fprintf(w, "%-22s %7s %9s %8.2f %8.2f\n", "  response → event", "", "", sr.ResponseToEventP50Ms, sr.ResponseToEventP99Ms)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-22s %7s %9s\n", "ratio coffer ÷ limit", "clients", "ratio")
	for _, n := range r.Clients {
		fmt.Fprintf(w, "%-22s %7d %9.3f\n", "transfers", n, ratio(r.Cases["transfer"][n].PerSecond, r.Cases["limit"][n].PerSecond))
	}
	for _, n := range r.Clients {
		fmt.Fprintf(w, "%-22s %7d %9.3f\n", "balance reads", n, ratio(r.Cases["read"][n].PerSecond, r.Cases["plain_read"][n].PerSecond))
	}
	if _, ok := r.Cases["search"]; ok {
		for _, n := range r.Clients {
			fmt.Fprintf(w, "%-22s %7d %9.3f\n", "people search", n, ratio(r.Cases["search"][n].PerSecond, r.Cases["search_sql"][n].PerSecond))
		}
	}
	r.printCustomersSearch(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "SQL statements per request (pg_stat_statements, BEGIN/COMMIT included):")
	for _, k := range []string{"transfer", "read", "plain_read", "account", "statement_10", "statement_50"} {
		fmt.Fprintf(w, "  %-14s %5.1f\n", k, r.Statements[k].PerRequest)
	}
	s := r.Summary
	fmt.Fprintf(w, "  the statement page itself (statement − account): %.1f for 50 entries, %.1f for 10\n", s.StatementQueries, s.StatementQueries10)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "transfers: coffer %.0f/s (best, %d clients) ÷ limit %.0f/s (best) = %.3f; limit with NOTIFY %.0f/s\n",
		s.TransferTPS, s.TransferBestClients, s.LimitTPS, s.TransferRatio, s.LimitNotifyTPS)
	fmt.Fprintf(w, "transfers at 32 clients: p50 %.2f ms, p99 %.2f ms (limit p99 %.2f ms)\n", s.TransferP50Ms32, s.TransferP99Ms32, s.LimitP99Ms32)
	fmt.Fprintf(w, "batched limit %.0f/s (best): coffer ÷ it = %.3f; unbatched coffer %.0f/s; p50 at 1 client %.2f ms batched, %.2f ms unbatched\n",
		s.BatchLimitTPS, s.BatchRatio, s.TransferUnbatchedTPS, s.TransferP50Ms1, s.TransferUnbatchedP50Ms1)
	fmt.Fprintf(w, "hot accounts (64 clients into %d): coffer %.0f/s ÷ limit %.0f/s = %.3f; SQLite sendCoins %.0f/s batched, %.0f/s unbatched\n",
		hotAccounts, s.HotTPS, s.HotLimitTPS, s.HotRatio, s.SQLiteTransferTPS, s.SQLiteTransferUnbatchedTPS)
	fmt.Fprintf(w, "balance reads: coffer %.0f/s ÷ plain %.0f/s = %.3f (each at its best client count)\n", s.ReadRPS, s.PlainReadRPS, s.ReadRatio)
	if sr := r.Subscriptions; sr != nil {
		fmt.Fprintf(w, "subscriptions: %d open (in %.1fs), %.1f KiB of server memory each (VmRSS %.1f → %.1f MiB)",
			sr.Subscribers, sr.OpenSeconds, sr.KiBPerSubscriber, sr.RSSBeforeMiB, sr.RSSOpenMiB)
		if sr.HeapKiBPerSub != nil && sr.GoroutinesPerSub != nil {
			fmt.Fprintf(w, "; Go heap %.1f KiB and %.2f goroutines each", *sr.HeapKiBPerSub, *sr.GoroutinesPerSub)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  events: %d expected, %d received, %d lost, %d duplicated, %d unexpected, %d out of order, %d streams ended early\n",
			sr.Expected, sr.Received, sr.Lost, sr.Duplicated, sr.Unexpected, sr.OutOfOrder, sr.StreamErrors)
	} else {
		fmt.Fprintln(w, "subscriptions: skipped (-subscribers 0)")
	}
	fmt.Fprintf(w, "server peak memory (VmHWM): %.1f MiB over its life", s.PeakRSSMiB)
	if s.PeakRSSLoadMiB != nil {
		fmt.Fprintf(w, ", %.1f MiB during the cases (after seeding)", *s.PeakRSSLoadMiB)
	}
	fmt.Fprintln(w)
}
