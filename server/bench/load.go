package main

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// op is one request of a case, made by client (0 ≤ client < clients) with its own random source.
type op func(ctx context.Context, client int, rng *rand.Rand) error

// result is one measured run of a case at one client count.
type result struct {
	Ops       int     `json:"ops"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"per_second"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	// CPU used during the measured window, in percent of one core (200 = both cores busy).
	CPU cpuShare `json:"cpu_percent"`
	// BatchMean is the mean size of the batches coffer's poster ran during the window (coffer's
	// transfer cases only).
	BatchMean float64 `json:"batch_mean,omitempty"`
	// BatchMs is the mean time of those batches, from their start to every posting answered.
	BatchMs float64 `json:"batch_ms,omitempty"`
	// FirstError is the first failure's text, for the report when Errors > 0.
	FirstError string `json:"first_error,omitempty"`
}

// cpuShare splits the CPU time of a run between the processes of the benchmark.
type cpuShare struct {
	Postgres float64 `json:"postgres"`
	Server   float64 `json:"server"`
	Bench    float64 `json:"bench"`
}

// meter samples the CPU time of the processes that share the two cores.
type meter struct {
	postgresPID int // the postmaster: its children are the backends
	serverPID   int // coffer or the plain handler, 0 when the case has no server
	benchPID    int
	// metricsURL, for a coffer case, is its server's /metrics: the poster's batches are read there.
	metricsURL string
}

type cpuSample struct {
	postgres, server, bench int64
	batches                 batchCounts
}

func (m meter) sample() cpuSample {
	s := cpuSample{postgres: cpuTicks([]int{m.postgresPID}, true), bench: cpuTicks([]int{m.benchPID}, false)}
	if m.serverPID != 0 {
		s.server = cpuTicks([]int{m.serverPID}, false)
	}
	if m.metricsURL != "" {
		s.batches = readBatchCounts(m.metricsURL)
	}
	return s
}

// batchCounts are the poster's histogram totals: postings posted in batches, and batches.
type batchCounts struct{ postings, batches, seconds float64 }

// readBatchCounts reads coffer_ledger_batch_postings' sum and count (zero when unreadable: the
// report then shows no batch size).
func readBatchCounts(url string) batchCounts {
	resp, err := http.Get(url)
	if err != nil {
		return batchCounts{}
	}
	defer resp.Body.Close()
	var c batchCounts
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "coffer_ledger_batch_postings_sum":
			c.postings, _ = strconv.ParseFloat(value, 64)
		case "coffer_ledger_batch_postings_count":
			c.batches, _ = strconv.ParseFloat(value, 64)
		case "coffer_ledger_batch_seconds_sum":
			c.seconds, _ = strconv.ParseFloat(value, 64)
		}
	}
	return c
}

// meanBatch is the mean batch size and time (ms) between two samples (0 when no batch ran).
func meanBatch(a, b cpuSample) (size, ms float64) {
	if n := b.batches.batches - a.batches.batches; n > 0 {
		return (b.batches.postings - a.batches.postings) / n, 1000 * (b.batches.seconds - a.batches.seconds) / n
	}
	return 0, 0
}

func (m meter) share(a, b cpuSample, d time.Duration) cpuShare {
	pct := func(ticks int64) float64 { return float64(ticks) / clockTicks / d.Seconds() * 100 }
	return cpuShare{Postgres: pct(b.postgres - a.postgres), Server: pct(b.server - a.server), Bench: pct(b.bench - a.bench)}
}

// run drives op from clients closed-loop clients (each sends its next request when the previous
// one is answered) for warmup, then measures for d. A client stops at the end of the window; the
// requests in flight then are not counted.
func run(ctx context.Context, clients int, warmup, d time.Duration, m meter, fn op) result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  string
	)
	start := time.Now().Add(warmup)
	end := start.Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c)+1, uint64(time.Now().UnixNano())))
			local := make([]time.Duration, 0, 4096)
			localErrs := 0
			var localFirst string
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				err := fn(ctx, c, rng)
				t1 := time.Now()
				if t0.Before(start) || t1.After(end) {
					continue // warm-up, or answered after the window
				}
				if err != nil {
					if errors.Is(err, context.Canceled) {
						break
					}
					localErrs++
					if localFirst == "" {
						localFirst = err.Error()
					}
					continue
				}
				local = append(local, t1.Sub(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			if firstErr == "" {
				firstErr = localFirst
			}
			mu.Unlock()
		})
	}
	time.Sleep(time.Until(start))
	before := m.sample()
	time.Sleep(time.Until(end))
	after := m.sample()
	wg.Wait()
	slices.Sort(latencies)
	batchMean, batchMs := meanBatch(before, after)
	return result{
		Ops: len(latencies), Errors: errs, FirstError: firstErr,
		PerSecond: float64(len(latencies)) / d.Seconds(),
		P50Ms:     quantileMs(latencies, 0.50),
		P99Ms:     quantileMs(latencies, 0.99),
		CPU:       m.share(before, after, d),
		BatchMean: batchMean,
		BatchMs:   batchMs,
	}
}

// quantileMs is the q-quantile (nearest rank) of sorted latencies in milliseconds.
func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

// medianResult quotes each number as its median over the rounds (rate, p50 and p99 each on its
// own), so that one disturbed round (the machine is shared) does not move the report. Operations
// and errors are summed over all rounds.
func medianResult(rounds []result) result {
	med := func(get func(result) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = get(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	m := result{
		PerSecond: med(func(r result) float64 { return r.PerSecond }),
		P50Ms:     med(func(r result) float64 { return r.P50Ms }),
		P99Ms:     med(func(r result) float64 { return r.P99Ms }),
		BatchMean: med(func(r result) float64 { return r.BatchMean }),
		BatchMs:   med(func(r result) float64 { return r.BatchMs }),
		CPU: cpuShare{
			Postgres: med(func(r result) float64 { return r.CPU.Postgres }),
			Server:   med(func(r result) float64 { return r.CPU.Server }),
			Bench:    med(func(r result) float64 { return r.CPU.Bench }),
		},
	}
	for _, r := range rounds {
		m.Ops += r.Ops
		m.Errors += r.Errors
		if m.FirstError == "" {
			m.FirstError = r.FirstError
		}
	}
	return m
}
