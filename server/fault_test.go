package main

// Fault tests: the server killed with SIGKILL mid-load, PostgreSQL crashed and restarted under
// load, and a row lock held while hundreds of transfers queue behind it. The first two run the
// built server binary as a child process (so that it can be killed, and so that its pool talks to
// a database that really goes away); the third runs in process to count goroutines.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"coffer/graph/pgtest"
)

// ftBuild builds the server binary into a temporary directory (with -race when the tests run
// with it, so that the child reports data races too). The build cache makes every build after
// the first a link.
func ftBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "coffer")
	args := []string{"build", "-o", bin}
	if ftRace {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ftProc is the server binary running as a child process.
type ftProc struct {
	*testServer
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// ftStart runs bin over databaseURL on 127.0.0.1:0 and waits for its "serving" log line. The
// child dies with the test process (parent-death signal); the test fails if its log reports a
// data race.
func ftStart(t *testing.T, bin, databaseURL, outbox string) *ftProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "DATABASE_URL="+databaseURL, "ADMIN_PASSWORD="+adminPassword,
		"DEV=1", "AUTH_RATE_LIMIT=0", "AUTH_ACCOUNT_RATE_LIMIT=0", "OUTBOX_FILE="+outbox)
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &ftProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	addrc := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		defer logf.Close()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving" {
				addrc <- l.Addr
			}
		}
	}()
	go func() { <-copied; cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if b, _ := os.ReadFile(logPath); bytes.Contains(b, []byte("WARNING: DATA RACE")) {
			t.Errorf("the server reported a data race; log %s:\n%s", logPath, b)
		}
	})
	select {
	case addr := <-addrc:
		p.testServer = &testServer{t: t, URL: "http://" + addr, Outbox: outbox}
		return p
	case <-p.done:
		b, _ := os.ReadFile(logPath)
		t.Fatalf("server exited during start-up:\n%s", b)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start within 60s")
	}
	return nil
}

// kill ends the process with SIGKILL (nothing is flushed, no deferred code runs) and waits.
func (p *ftProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

func (p *ftProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// ftTransfer is one sendCoins request with its idempotency key, and its transaction id once a
// response carried one.
type ftTransfer struct {
	key         string
	from, to    int // indexes into ftBank.users
	amountMinor int64
	id          string
}

const ftSend = `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id status } }`

// ftBank is the customers of a fault test, each minted ftMintMinor.
type ftBank struct {
	admin  string
	users  []string
	tokens []string
}

const ftMintMinor = 100000 // 1000.00, the default monthly creation limit

func ftSeed(s *testServer, customers int) *ftBank {
	s.t.Helper()
	b := &ftBank{admin: s.admin()}
	for i := range customers {
		name := fmt.Sprintf("fault%02d", i)
		b.users = append(b.users, name)
		b.tokens = append(b.tokens, s.customer(b.admin, name))
		s.mint(b.admin, name, "1000.00")
	}
	return b
}

// newTransfer picks a random recipient other than from and an amount of 0.01 to 0.99.
func (b *ftBank) newTransfer(key string, from int, rng *rand.Rand) *ftTransfer {
	to := rng.IntN(len(b.users) - 1)
	if to >= from {
		to++
	}
	return &ftTransfer{key: key, from: from, to: to, amountMinor: 1 + rng.Int64N(99)}
}

// ftPost sends tr to url with its sender's token. A transport error (no answer) is err; an answer
// is the response, whatever its HTTP status.
func ftPost(ctx context.Context, c *http.Client, url string, b *ftBank, tr *ftTransfer) (gqlResponse, error) {
	vars := map[string]any{"in": map[string]any{
		"recipient": map[string]any{"username": b.users[tr.to]}, "idempotencyKey": tr.key,
		"amount": fmt.Sprintf("%d.%02d", tr.amountMinor/100, tr.amountMinor%100)}}
	body, _ := json.Marshal(map[string]any{"query": ftSend, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.tokens[tr.from])
	res, err := c.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	defer res.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return gqlResponse{}, fmt.Errorf("status %d: %w", res.StatusCode, err)
	}
	return out, nil
}

// ack stores the transaction id of a successful response.
func (tr *ftTransfer) ack(r gqlResponse) error {
	if len(r.Errors) > 0 {
		return fmt.Errorf("%s: %s", r.code(), r.Errors[0].Message)
	}
	var out struct{ SendCoins struct{ ID, Status string } }
	if err := json.Unmarshal(r.Data, &out); err != nil || out.SendCoins.ID == "" || out.SendCoins.Status != "POSTED" {
		return fmt.Errorf("unexpected sendCoins answer %s (%v)", r.Data, err)
	}
	tr.id = out.SendCoins.ID
	return nil
}

// ftRetry re-sends every transfer without an id with its own key until one answer carries the
// transaction; PostgreSQL may still be recovering, so INTERNAL answers are retried for a while.
func ftRetry(t *testing.T, s *testServer, b *ftBank, transfers []*ftTransfer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, tr := range transfers {
		for tr.id == "" {
			r, err := ftPost(context.Background(), http.DefaultClient, s.URL, b, tr)
			if err == nil {
				err = tr.ack(r)
			}
			if err != nil {
				if time.Now().After(deadline) {
					t.Fatalf("retry of %s: %v", tr.key, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

// ftVerify checks the ledger after a fault: every transfer acknowledged (first time or on retry)
// is there exactly once and no other transfer exists, each customer's balance is what the
// transfers say, and the ledger invariants hold.
func ftVerify(t *testing.T, s *testServer, b *ftBank, transfers []*ftTransfer) {
	t.Helper()
	want := map[string]string{} // transaction id → key
	balances := make([]int64, len(b.users))
	for i := range balances {
		balances[i] = ftMintMinor
	}
	for _, tr := range transfers {
		if other, dup := want[tr.id]; dup {
			t.Fatalf("keys %s and %s were answered with the same transaction %s", other, tr.key, tr.id)
		}
		want[tr.id] = tr.key
		balances[tr.from] -= tr.amountMinor
		balances[tr.to] += tr.amountMinor
	}
	got := map[string]bool{}
	var after any
	for {
		var out struct {
			Transactions struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct{ Node struct{ ID string } }
			}
		}
		s.mustDo(b.admin, `query($after: Cursor) { transactions(first: 100, after: $after, filter: {kind: TRANSFER}) {
			pageInfo { hasNextPage endCursor } edges { node { id } } } }`, map[string]any{"after": after}, &out)
		for _, e := range out.Transactions.Edges {
			if got[e.Node.ID] {
				t.Fatalf("transaction %s listed twice", e.Node.ID)
			}
			got[e.Node.ID] = true
			if _, ok := want[e.Node.ID]; !ok {
				t.Errorf("transaction %s exists but no request was answered with it (a duplicate)", e.Node.ID)
			}
		}
		if !out.Transactions.PageInfo.HasNextPage {
			break
		}
		after = out.Transactions.PageInfo.EndCursor
	}
	for id, key := range want {
		if !got[id] {
			t.Errorf("acknowledged transfer %s (key %s) is missing", id, key)
		}
	}
	for i, token := range b.tokens {
		if got, want := minor(t, s.balance(token)), balances[i]; got != want {
			t.Errorf("%s: balance %d, want %d from the acknowledged transfers", b.users[i], got, want)
		}
	}
	checkLedgerInvariants(t, s, b.admin, len(transfers))
}

// ftCleanInternal reports why an answer given while the database is unavailable is not the clean
// INTERNAL error the API promises ("" when it is): no SQL, driver or socket detail may leak.
func ftCleanInternal(r gqlResponse) string {
	if r.code() != "INTERNAL" {
		return fmt.Sprintf("code %q, want INTERNAL (%+v)", r.code(), r.Errors)
	}
	for _, e := range r.Errors {
		low := strings.ToLower(e.Message)
		for _, leak := range []string{"pq:", "sql", "select", "insert", "update", "dial", "connect", "socket", "postgres", "/tmp", "ledger:"} {
			if strings.Contains(low, leak) {
				return fmt.Sprintf("message %q leaks %q", e.Message, leak)
			}
		}
	}
	return ""
}

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
	var (
		mu         sync.Mutex
		transfers  []*ftTransfer
		failed     []*ftTransfer
		downErrors int
		bad        []string
		acked      atomic.Int64
		upAt       time.Time // zero until PostgreSQL is back
		recovered  = make([]time.Duration, clients)
		stop       = make(chan struct{})
	)
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 2))
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				tr := bank.newTransfer(fmt.Sprintf("pg-%d-%d", c, seq), c, rng)
				r, err := ftPost(context.Background(), httpc, srv.URL, bank, tr)
				answered := time.Now()
				mu.Lock()
				transfers = append(transfers, tr)
				switch {
				case err != nil:
					bad = append(bad, fmt.Sprintf("%s: no answer: %v", tr.key, err))
					failed = append(failed, tr)
				case tr.ack(r) == nil:
					acked.Add(1)
					if !upAt.IsZero() && recovered[c] == 0 {
						recovered[c] = answered.Sub(upAt)
					}
				default:
					if why := ftCleanInternal(r); why != "" {
						bad = append(bad, tr.key+": "+why)
					}
					downErrors++
					failed = append(failed, tr)
				}
				mu.Unlock()
				if err != nil || len(r.Errors) > 0 {
					time.Sleep(20 * time.Millisecond) // no busy loop against a dead database
				}
			}
		})
	}
	ready := func() int {
		res, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatalf("readyz: %v", err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for deadline := time.Now().Add(30 * time.Second); acked.Load() < 50; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d transfers acknowledged in 30s", acked.Load())
		}
	}
	if err := cluster.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("readyz with PostgreSQL down: %d, want 503", code)
	}
	mu.Lock()
	errorsWhileDown := downErrors
	mu.Unlock()
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	upAt = time.Now()
	mu.Unlock()
	// Every client must get a transfer through again, from the same server process.
	const recoveryBound = 10 * time.Second
	for {
		mu.Lock()
		waiting := 0
		for _, d := range recovered {
			if d == 0 {
				waiting++
			}
		}
		mu.Unlock()
		if waiting == 0 {
			break
		}
		if time.Since(upAt) > recoveryBound {
			t.Fatalf("%d of %d clients got no transfer through within %v of PostgreSQL's return", waiting, clients, recoveryBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if !srv.running() {
		t.Fatal("the server process exited")
	}
	if code := ready(); code != http.StatusOK {
		t.Errorf("readyz after PostgreSQL's return: %d, want 200", code)
	}
	for _, b := range bad {
		t.Error(b)
	}
	if errorsWhileDown == 0 {
		t.Fatal("no request failed while PostgreSQL was down: the test did not test anything")
	}
	t.Logf("%d acknowledged, %d failed with INTERNAL (%d while down), slowest client back after %v",
		acked.Load(), len(failed), errorsWhileDown, maxDuration(recovered))
	t.Logf("%d of the failed requests had committed before the crash", ftCommitted(t, cluster.URL("coffer"), failed))
	ftRetry(t, srv.testServer, bank, failed)
	ftVerify(t, srv.testServer, bank, transfers)
}

// ftCommitted counts the transfers of the list that the database holds, by idempotency key.
func ftCommitted(t *testing.T, dbURL string, transfers []*ftTransfer) int {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := make([]string, len(transfers))
	for i, tr := range transfers {
		keys[i] = tr.key
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM transactions WHERE idempotency_key = ANY($1)`, pq.Array(keys)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func maxDuration(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
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
	var hotAccount int
	if err := db.QueryRow(`SELECT a.id FROM accounts a JOIN customers c ON c.id = a.owner_id JOIN users u ON u.id = c.user_id
		WHERE u.username = $1 AND a.kind = 'MAIN'`, bank.users[hot]).Scan(&hotAccount); err != nil {
		t.Fatal(err)
	}

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
			ctx, cancel := context.WithTimeout(context.Background(), waitBound)
			if i < abandoned {
				ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
			}
			defer cancel()
			r, err := ftPost(ctx, httpc, s.URL, bank, transfers[i])
			latencies[i] = time.Since(start)
			if err == nil {
				if err = transfers[i].ack(r); err != nil {
					if why := ftCleanInternal(r); why != "" {
						err = fmt.Errorf("%w (and not clean: %s)", err, why)
					}
				}
			}
			outcomes[i] = err
		})
	}
	time.Sleep(hold)
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	var retry []*ftTransfer
	succeeded, failedClean := 0, 0
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
	t.Logf("lock held %v: %d of %d patient transfers succeeded, %d failed cleanly, slowest answer after %v",
		hold, succeeded, total-abandoned, failedClean, maxDuration(latencies[abandoned:]))
	if failedClean > (total-abandoned)/2 {
		t.Errorf("%d of %d patient transfers failed: errors must stay bounded", failedClean, total-abandoned)
	}

	// The abandoned requests' transactions were cancelled in the database, not left holding a
	// connection or a lock: a new transfer goes through at once, and nothing is idle in a transaction.
	fresh := &ftTransfer{key: "lock-fresh", from: 0, to: hot, amountMinor: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	r, err := ftPost(ctx, httpc, s.URL, bank, fresh)
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

	httpc.CloseIdleConnections()
	if n := ftSettledGoroutines(baseline + 5); n > baseline+5 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after the load, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}

	ftRetry(t, s, bank, retry)
	ftVerify(t, s, bank, append(transfers, fresh))
}

// ftSettledGoroutines waits up to five seconds for the goroutine count to fall to at most limit
// (0: to stop changing) and returns it: connections and pools wind down asynchronously.
func ftSettledGoroutines(limit int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if limit > 0 && m <= limit || limit == 0 && m == n {
			return m
		}
		n = m
	}
	return n
}
