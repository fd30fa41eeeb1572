package main

// Helpers of the fault tests (prefix "ft"): the server built and run as a process, a seeded bank
// of customers, keyed transfers, their retries and the verification that each moved money once.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
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

// newTransfer picks a random recipient other than from and an amount of 0.01 to 0.99.
func (b *ftBank) newTransfer(key string, from int, rng *rand.Rand) *ftTransfer {
	to := rng.IntN(len(b.users) - 1)
	if to >= from {
		to++
	}
	return &ftTransfer{key: key, from: from, to: to, amountMinor: 1 + rng.Int64N(99)}
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
