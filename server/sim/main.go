// Command sim attacks the whole bank: it starts its own PostgreSQL (graph/pgtest) or a SQLite
// file, one or two built coffer servers on that database, and drives random weighted operations
// of customers, administrators, clerks and anonymous clients over HTTP and WebSocket from a seed,
// with faults by flag, checking invariants periodically and at the end (docs/simulator.md).
//
//	go build -o sim-results/coffer ./server
//	go run ./server/sim -server sim-results/coffer -seed 42 -steps 2000
//
// Its last line is a JSON summary; it exits 1 when anything was violated.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	server, store, dir, weights, faults string
	seed                                uint64
	seeds, steps, servers, workers      int
	customers, subscribers, checkEvery  int
	faultSteps                          int
	duration                            time.Duration
	faultList                           []string
	out                                 io.Writer
}

// logMu serializes log lines: workers, faults and checks log at once, and out may be a plain
// buffer (the test's).
var logMu sync.Mutex

func (o options) log(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(o.out, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// summary is the last line of the output.
type summary struct {
	Ops            int            `json:"ops"`
	Seeds          []uint64       `json:"seeds"`
	Stores         []string       `json:"stores"`
	Servers        int            `json:"servers"`
	Violations     int            `json:"violations"`
	InternalErrors int            `json:"internal_errors"`
	FaultAnswers   int            `json:"fault_answers"`
	Faults         map[string]int `json:"faults"`
	Checks         int            `json:"checks"`
	Subscribers    int            `json:"subscribers"`
	Resumes        int            `json:"subscriber_resumes"`
	Seconds        float64        `json:"seconds"`
	// Failed lists the violations (printed above the summary, not in it).
	Failed []violation `json:"-"`
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", "", "the built coffer server binary (required; make simulate builds it)")
	flag.StringVar(&o.store, "store", "postgres", "postgres, sqlite, or both: postgres,sqlite (each seed runs on each)")
	flag.StringVar(&o.dir, "dir", "sim-results", "where the servers' logs, the outbox and the database go")
	flag.Uint64Var(&o.seed, "seed", 0, "the first seed (0: one from the clock, printed)")
	flag.IntVar(&o.seeds, "seeds", 1, "how many seeds, seed, seed+1, ...")
	flag.IntVar(&o.steps, "steps", 1000, "operations per seed")
	flag.DurationVar(&o.duration, "duration", 0, "run seeds one after another for this long (steps still bounds each seed)")
	flag.IntVar(&o.servers, "servers", 2, "server processes on the one database")
	flag.IntVar(&o.workers, "workers", 4, "concurrent actors' workers")
	flag.IntVar(&o.customers, "customers", 12, "customers created at the start")
	flag.IntVar(&o.subscribers, "subscribers", 3, "customers followed by a balanceChanged subscription")
	flag.IntVar(&o.checkEvery, "check-every", 250, "steps between quiescent checks")
	flag.StringVar(&o.weights, "weights", "", "operation weights, name=n,... (regress.*=0 leaves out the regression operations)")
	flag.StringVar(&o.faults, "faults", "", "faults to inject: kill,pgstop,wsdrop,slowsub (or all)")
	flag.IntVar(&o.faultSteps, "fault-steps", 150, "steps between faults")
	flag.Parse()
	o.out = os.Stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := simulate(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(2)
	}
	if sum.Violations > 0 {
		os.Exit(1)
	}
}

// simulate runs the seeds and prints the report, the summary as its last line.
func simulate(ctx context.Context, o options) (*summary, error) {
	if o.server == "" {
		return nil, fmt.Errorf("-server: the built coffer binary is required (make simulate builds it)")
	}
	if o.faults == "all" {
		o.faults = "kill,pgstop,wsdrop,slowsub"
	}
	for _, f := range strings.Split(o.faults, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "kill", "pgstop", "wsdrop", "slowsub":
			o.faultList = append(o.faultList, f)
		default:
			return nil, fmt.Errorf("-faults: unknown fault %q (kill, pgstop, wsdrop, slowsub, all)", f)
		}
	}
	list, err := weighted(o.weights)
	if err != nil {
		return nil, err
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano()%1_000_000 + 1)
	}
	o.workers, o.checkEvery, o.servers, o.faultSteps = max(o.workers, 1), max(o.checkEvery, 1), max(o.servers, 1), max(o.faultSteps, 1)
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	var deadline time.Time
	if o.duration > 0 {
		deadline = start.Add(o.duration)
	}
	stores := strings.Split(o.store, ",")
	for _, st := range stores {
		if st != "postgres" && st != "sqlite" {
			return nil, fmt.Errorf("-store: %q is neither postgres nor sqlite", st)
		}
	}
	sum := &summary{Stores: stores, Servers: o.servers, Faults: map[string]int{}, Subscribers: o.subscribers}
	o.log("stores %s, %d servers, %d workers, %d steps a seed, faults [%s]", o.store, o.servers, o.workers, o.steps, strings.Join(o.faultList, " "))
	o.log("weights %s", weightsString(list))
	for i := 0; ; i++ {
		seed := o.seed + uint64(i)
		if o.duration == 0 && i >= o.seeds || o.duration > 0 && time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		seedDeadline := deadline
		if o.duration == 0 {
			seedDeadline = time.Now().Add(24 * time.Hour)
		}
		for _, st := range stores {
			so := o
			so.store = st
			if err := runSeed(ctx, so, list, seed, seedDeadline, sum); err != nil {
				return nil, fmt.Errorf("%s seed %d: %w", st, seed, err)
			}
		}
	}
	sum.Seconds = float64(time.Since(start).Milliseconds()) / 1000
	line, _ := json.Marshal(sum)
	fmt.Fprintln(o.out, string(line))
	return sum, nil
}

// runSeed starts a fresh environment, runs one seed on it, prints its report and adds it to sum.
func runSeed(ctx context.Context, o options, list []op, seed uint64, deadline time.Time, sum *summary) error {
	dir := filepath.Join(o.dir, fmt.Sprintf("%s-seed%d", o.store, seed))
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	o.log("seed %d: starting %s and %d server(s) in %s", seed, o.store, o.servers, dir)
	e, err := startEnv(o.store, o.server, dir, o.servers)
	if err != nil {
		return err
	}
	defer e.stop()
	s := newSim(ctx, e, o, seed)
	if err := s.run(list, deadline); err != nil {
		return err
	}
	lines, n := s.opsByKind()
	o.log("seed %d: %d operations", seed, n)
	for _, l := range lines {
		fmt.Fprintln(o.out, l)
	}
	checks := 0
	names := slices.Sorted(maps.Keys(s.checks))
	for _, name := range names {
		fmt.Fprintf(o.out, "  check %-60s %d\n", name, s.checks[name])
		checks += s.checks[name]
	}
	resumes := 0
	for _, sub := range s.subs {
		resumes += sub.resumes
	}
	o.log("seed %d: %d violations, %d INTERNAL outside faults, %d answers during faults, faults %v, subscriber resumes %d",
		seed, len(s.violations), s.internal, s.faultAns, s.faults, resumes)
	for _, v := range s.violations {
		fmt.Fprintln(o.out, v)
	}
	if len(s.violations) > 0 {
		fmt.Fprintf(o.out, "replay: make simulate STORE=%s SEED=%d STEPS=%d", o.store, seed, o.steps)
		if o.weights != "" {
			fmt.Fprintf(o.out, " WEIGHTS='%s'", o.weights)
		}
		if o.faults != "" {
			fmt.Fprintf(o.out, " FAULTS=%s", o.faults)
		}
		fmt.Fprintln(o.out)
	}
	sum.Ops += n
	sum.Seeds = append(sum.Seeds, seed)
	sum.Violations += len(s.violations)
	sum.InternalErrors += s.internal
	sum.FaultAnswers += s.faultAns
	sum.Checks += checks
	sum.Resumes += resumes
	for k, v := range s.faults {
		sum.Faults[k] += v
	}
	sum.Failed = append(sum.Failed, s.violations...)
	return nil
}
