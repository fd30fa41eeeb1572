package main

// Fault tests: the server killed with SIGKILL mid-load, PostgreSQL crashed and restarted under
// load, and a row lock held while hundreds of transfers queue behind it. The first two run the
// built server binary as a child process (so that it can be killed, and so that its pool talks to
// a database that really goes away); the third runs in process to count goroutines.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/graph/pgtest"
)

// TestFault_serverKilled_retriesWithKeys_exactlyOnce kills the server with SIGKILL while 16
// clients send transfers with idempotency keys, restarts it, retries every request whose answer
// was lost with its key, and checks that every acknowledged transfer is there exactly once.
func TestFault_serverKilled_retriesWithKeys_exactlyOnce(t *testing.T) {
	bin := ftBuild(t)
	dbURL, outbox := pgtest.NewDatabase(t), filepath.Join(t.TempDir(), "outbox.jsonl")
	srv := ftStart(t, bin, dbURL, outbox)
	bank := ftSeed(srv.testServer, 8)

	const clients = 16
	var (
		mu        sync.Mutex
		transfers []*ftTransfer
		lost      []*ftTransfer
		acked     atomic.Int64
		answerErr error
	)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for seq := 0; ; seq++ {
				tr := bank.newTransfer(fmt.Sprintf("kill-%d-%d", c, seq), c%len(bank.users), rng)
				r, err := ftPost(context.Background(), httpc, srv.URL, bank, tr)
				mu.Lock()
				transfers = append(transfers, tr)
				if err != nil { // no answer: the server is gone
					lost = append(lost, tr)
					mu.Unlock()
					return
				}
				if err := tr.ack(r); err != nil && answerErr == nil {
					answerErr = fmt.Errorf("%s: %w", tr.key, err)
				}
				mu.Unlock()
				acked.Add(1)
			}
		})
	}
	for deadline := time.Now().Add(30 * time.Second); acked.Load() < 150; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d transfers acknowledged in 30s", acked.Load())
		}
	}
	srv.kill()
	wg.Wait()
	if answerErr != nil {
		t.Fatalf("a transfer answered before the kill failed: %v", answerErr)
	}
	if len(lost) == 0 {
		t.Fatal("no request was in flight at the kill: the test did not test anything")
	}
	t.Logf("killed after %d acknowledged transfers; %d requests lost their answer", acked.Load(), len(lost))

	t.Logf("%d of the %d lost answers belong to transfers that had committed", ftCommitted(t, dbURL, lost), len(lost))

	restarted := ftStart(t, bin, dbURL, outbox)
	// An acknowledged key answers with its transaction after the restart too.
	first := transfers[0]
	if first.id == "" {
		first = transfers[1]
	}
	replay := *first
	replay.id = ""
	ftRetry(t, restarted.testServer, bank, []*ftTransfer{&replay})
	if replay.id != first.id {
		t.Errorf("replayed key %s: transaction %s, first answer %s", first.key, replay.id, first.id)
	}
	ftRetry(t, restarted.testServer, bank, lost)
	ftVerify(t, restarted.testServer, bank, transfers)
}

// TestFault_postgresCrash_cleanErrorsThenServesWithoutRestart crashes PostgreSQL (immediate stop)
// under load: while it is down every request fails with a clean INTERNAL error and /readyz says
// unavailable; once it is back the same server process serves again within seconds; retries with
// the keys then leave every transfer there exactly once.
func TestFault_postgresCrash_cleanErrorsThenServesWithoutRestart(t *testing.T) {
	bin := ftBuild(t)
	cluster, err := pgtest.StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	if err := cluster.CreateDatabase("coffer"); err != nil {
		t.Fatal(err)
	}
	srv := ftStart(t, bin, cluster.URL("coffer"), filepath.Join(t.TempDir(), "outbox.jsonl"))
	bank := ftSeed(srv.testServer, 8)

	const clients = 8
	load := &ftCrashLoad{recovered: make([]time.Duration, clients), stop: make(chan struct{})}
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() { load.client(c, httpc, srv.URL, bank) })
	}
	load.waitAcked(t, 50)
	if err := cluster.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if code := ftReady(t, srv.URL); code != http.StatusServiceUnavailable {
		t.Errorf("readyz with PostgreSQL down: %d, want 503", code)
	}
	load.mu.Lock()
	errorsWhileDown := load.downErrors
	load.mu.Unlock()
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	// Every client must get a transfer through again, from the same server process.
	load.waitRecovered(t, 10*time.Second)
	close(load.stop)
	wg.Wait()
	if !srv.running() {
		t.Fatal("the server process exited")
	}
	if code := ftReady(t, srv.URL); code != http.StatusOK {
		t.Errorf("readyz after PostgreSQL's return: %d, want 200", code)
	}
	for _, b := range load.bad {
		t.Error(b)
	}
	if errorsWhileDown == 0 {
		t.Fatal("no request failed while PostgreSQL was down: the test did not test anything")
	}
	t.Logf("%d acknowledged, %d failed with INTERNAL (%d while down), slowest client back after %v",
		load.acked.Load(), len(load.failed), errorsWhileDown, maxDuration(load.recovered))
	t.Logf("%d of the failed requests had committed before the crash", ftCommitted(t, cluster.URL("coffer"), load.failed))
	ftRetry(t, srv.testServer, bank, load.failed)
	ftVerify(t, srv.testServer, bank, load.transfers)
}

// ftCrashLoad is the keyed transfers of clients running while PostgreSQL crashes and returns.
type ftCrashLoad struct {
	mu         sync.Mutex
	transfers  []*ftTransfer
	failed     []*ftTransfer
	downErrors int
	bad        []string
	acked      atomic.Int64
	upAt       time.Time // zero until PostgreSQL is back
	recovered  []time.Duration
	stop       chan struct{}
}

// client sends client c's transfers until stop, recording each answer.
func (l *ftCrashLoad) client(c int, httpc *http.Client, url string, bank *ftBank) {
	rng := rand.New(rand.NewPCG(uint64(c), 2))
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		tr := bank.newTransfer(fmt.Sprintf("pg-%d-%d", c, seq), c, rng)
		r, err := ftPost(context.Background(), httpc, url, bank, tr)
		answered := time.Now()
		l.mu.Lock()
		l.transfers = append(l.transfers, tr)
		switch {
		case err != nil:
			l.bad = append(l.bad, fmt.Sprintf("%s: no answer: %v", tr.key, err))
			l.failed = append(l.failed, tr)
		case tr.ack(r) == nil:
			l.acked.Add(1)
			if !l.upAt.IsZero() && l.recovered[c] == 0 {
				l.recovered[c] = answered.Sub(l.upAt)
			}
		default:
			if why := ftCleanInternal(r); why != "" {
				l.bad = append(l.bad, tr.key+": "+why)
			}
			l.downErrors++
			l.failed = append(l.failed, tr)
		}
		l.mu.Unlock()
		if err != nil || len(r.Errors) > 0 {
			time.Sleep(20 * time.Millisecond) // no busy loop against a dead database
		}
	}
}

// waitAcked waits until n transfers are acknowledged (30 s at most).
func (l *ftCrashLoad) waitAcked(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); l.acked.Load() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d transfers acknowledged in 30s", l.acked.Load())
		}
	}
}

// waitRecovered marks PostgreSQL back now and waits until every client got a transfer through.
func (l *ftCrashLoad) waitRecovered(t *testing.T, bound time.Duration) {
	t.Helper()
	l.mu.Lock()
	l.upAt = time.Now()
	upAt := l.upAt
	l.mu.Unlock()
	for {
		l.mu.Lock()
		waiting := 0
		for _, d := range l.recovered {
			if d == 0 {
				waiting++
			}
		}
		l.mu.Unlock()
		if waiting == 0 {
			return
		}
		if time.Since(upAt) > bound {
			t.Fatalf("%d of %d clients got no transfer through within %v of PostgreSQL's return", waiting, len(l.recovered), bound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ftReady is the status of the server's /readyz.
func ftReady(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatalf("readyz: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestFault_heldRowLock_boundedWaitNoLeak holds a row lock on the recipient's account from
// another connection while 200 transfers to it arrive at once, a quarter of them from clients that
// give up after half a second. Once the lock is released every patient request completes (a
// success or a clean error) within a bound, the abandoned ones leave neither a database
// connection nor a goroutine behind, and retrying them with their keys makes the ledger exact.
func TestFault_heldRowLock_boundedWaitNoLeak(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	s := startServer(t, "postgres", "DATABASE_URL="+dbURL)
	bank := ftSeed(s, 11)
	hot := len(bank.users) - 1 // every transfer goes to the last customer

	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hotAccount := ftMainAccountOf(t, db, bank.users[hot])

	http.DefaultClient.CloseIdleConnections()
	baseline := ftSettledGoroutines(0)
	lock, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(`SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, hotAccount); err != nil {
		t.Fatal(err)
	}

	const total, abandoned, hold = 200, 50, 2 * time.Second
	const waitBound = hold + 15*time.Second
	transfers := make([]*ftTransfer, total)
	outcomes := make([]error, total)
	latencies := make([]time.Duration, total)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: total}}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range total {
		transfers[i] = &ftTransfer{key: fmt.Sprintf("lock-%d", i), from: i % hot, to: hot, amountMinor: 1 + int64(i%50)}
		wg.Go(func() {
			timeout := waitBound
			if i < abandoned {
				timeout = 500 * time.Millisecond
			}
			latencies[i], outcomes[i] = ftPostWithin(httpc, s.URL, bank, transfers[i], timeout, start)
		})
	}
	time.Sleep(hold)
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	retry, succeeded, failedClean := ftSortLockOutcomes(t, transfers, outcomes, latencies, abandoned, hold)
	t.Logf("lock held %v: %d of %d patient transfers succeeded, %d failed cleanly, slowest answer after %v",
		hold, succeeded, total-abandoned, failedClean, maxDuration(latencies[abandoned:]))
	if failedClean > (total-abandoned)/2 {
		t.Errorf("%d of %d patient transfers failed: errors must stay bounded", failedClean, total-abandoned)
	}

	// The abandoned requests' transactions were cancelled in the database, not left holding a
	// connection or a lock: a new transfer goes through at once, and nothing is idle in a transaction.
	fresh := ftWantLockReleased(t, db, httpc, s.URL, bank, hot)

	httpc.CloseIdleConnections()
	if n := ftSettledGoroutines(baseline + 5); n > baseline+5 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after the load, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}

	ftRetry(t, s, bank, retry)
	ftVerify(t, s, bank, append(transfers, fresh))
}

// ftPostWithin posts tr, giving up after timeout, and returns the time from start to the answer
// and its outcome (nil when acknowledged; "not clean" in the error when a refusal is not a clean
// one).
func ftPostWithin(httpc *http.Client, url string, bank *ftBank, tr *ftTransfer, timeout time.Duration, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, err := ftPost(ctx, httpc, url, bank, tr)
	latency := time.Since(start)
	if err == nil {
		if err = tr.ack(r); err != nil {
			if why := ftCleanInternal(r); why != "" {
				err = fmt.Errorf("%w (and not clean: %s)", err, why)
			}
		}
	}
	return latency, err
}

// ftMainAccountOf is the id of username's main account.
func ftMainAccountOf(t *testing.T, db *sql.DB, username string) int {
	t.Helper()
	var id int
	if err := db.QueryRow(`SELECT a.id FROM accounts a JOIN customers c ON c.id = a.owner_id JOIN users u ON u.id = c.user_id
		WHERE u.username = $1 AND a.kind = 'MAIN'`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// ftSortLockOutcomes checks the answers of the transfers behind a held lock: the first abandoned
// ones gave up on their own deadline, the others succeeded or failed cleanly. It returns the
// transfers to retry and the counts of successes and clean failures.
func ftSortLockOutcomes(t *testing.T, transfers []*ftTransfer, outcomes []error, latencies []time.Duration,
	abandoned int, hold time.Duration) (retry []*ftTransfer, succeeded, failedClean int) {
	t.Helper()
	for i, err := range outcomes {
		switch {
		case i < abandoned:
			if err == nil {
				t.Errorf("%s: answered within 500ms although the lock was held for %v", transfers[i].key, hold)
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %v, want the client's own deadline", transfers[i].key, err)
			}
			retry = append(retry, transfers[i])
		case err == nil:
			succeeded++
		case strings.Contains(err.Error(), "not clean"), errors.Is(err, context.DeadlineExceeded):
			t.Errorf("%s after %v: %v", transfers[i].key, latencies[i], err)
		default:
			failedClean++ // e.g. a lock or statement timeout answered as a clean error
			retry = append(retry, transfers[i])
		}
	}
	return retry, succeeded, failedClean
}

// ftWantLockReleased checks that the abandoned requests' transactions were cancelled in the
// database, not left holding a connection or a lock: a new transfer goes through at once, and
// nothing is idle in a transaction. It returns that transfer.
func ftWantLockReleased(t *testing.T, db *sql.DB, httpc *http.Client, url string, bank *ftBank, hot int) *ftTransfer {
	t.Helper()
	fresh := &ftTransfer{key: "lock-fresh", from: 0, to: hot, amountMinor: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	r, err := ftPost(ctx, httpc, url, bank, fresh)
	cancel()
	if err == nil {
		err = fresh.ack(r)
	}
	if err != nil {
		t.Fatalf("a transfer after the lock was released: %v", err)
	}
	var idleInTx int
	if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
	AND state LIKE 'idle in transaction%'`).Scan(&idleInTx); err != nil {
		t.Fatal(err)
	}
	if idleInTx != 0 {
		t.Errorf("%d connections idle in a transaction after the load", idleInTx)
	}
	return fresh
}
