package main

// The failover test: a primary with a synchronous standby, the primary killed under keyed load,
// the standby promoted (docs/failover.md's runbook, step by step), and the same server process
// serving again on the new primary with every acknowledged transfer there exactly once.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"coffer/graph/live"
	"coffer/graph/pgtest"
)

// foPair starts a primary and a synchronous streaming standby holding the database "coffer", and
// returns them with the DATABASE_URL that names both (primary first).
func foPair(t *testing.T) (primary, standby *pgtest.Cluster, url string) {
	t.Helper()
	primary, err := pgtest.StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	if err := primary.CreateDatabase("coffer"); err != nil {
		t.Fatal(err)
	}
	// In postgresql.auto.conf, which pg_basebackup copies: the standby, once promoted, has the
	// same setting, as a standby built from the primary's configuration would.
	foExec(t, primary, `ALTER SYSTEM SET synchronous_standby_names = '*'`, `SELECT pg_reload_conf()`)
	standby, err = pgtest.StartStandby(primary)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Stop() })
	if err := primary.WaitSynchronous(); err != nil {
		t.Fatal(err)
	}
	url = fmt.Sprintf("postgres://postgres@/coffer?host=%s,%s&port=%d,%d&sslmode=disable",
		primary.SocketDir(), standby.SocketDir(), primary.Port(), standby.Port())
	return primary, standby, url
}

// foExec runs statements as the superuser on c's database "postgres".
func foExec(t *testing.T, c *pgtest.Cluster, stmts ...string) {
	t.Helper()
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// foLoad is clients sending keyed transfers, each retrying its current transfer with the same key
// until it is acknowledged, as a well-behaved client of the API does.
type foLoad struct {
	mu        sync.Mutex
	transfers []*ftTransfer
	acks      [][]time.Time // per client, when each acknowledgement arrived
	failures  int
	unclean   []string
	stop      chan struct{}
	wg        sync.WaitGroup
}

func foStart(s *testServer, b *ftBank, clients int) *foLoad {
	l := &foLoad{acks: make([][]time.Time, clients), stop: make(chan struct{})}
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for c := range clients {
		l.wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 3))
			for seq := 0; ; seq++ {
				select {
				case <-l.stop:
					return
				default:
				}
				tr := b.newTransfer(fmt.Sprintf("fo-%d-%d", c, seq), c%len(b.users), rng)
				l.mu.Lock()
				l.transfers = append(l.transfers, tr)
				l.mu.Unlock()
				l.untilAcknowledged(s, b, httpc, c, tr)
			}
		})
	}
	return l
}

// untilAcknowledged re-sends tr with its key until an answer carries its transaction (for at most
// a minute: the test's own bounds fail it much earlier).
func (l *foLoad) untilAcknowledged(s *testServer, b *ftBank, httpc *http.Client, c int, tr *ftTransfer) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, err := ftPost(context.Background(), httpc, s.URL, b, tr)
		answered := time.Now()
		l.mu.Lock()
		switch {
		case err != nil:
			l.unclean = append(l.unclean, fmt.Sprintf("%s: no answer: %v", tr.key, err))
		case tr.ack(r) == nil:
			l.acks[c] = append(l.acks[c], answered)
			l.mu.Unlock()
			return
		default:
			if why := ftCleanInternal(r); why != "" {
				l.unclean = append(l.unclean, tr.key+": "+why)
			}
			l.failures++
		}
		l.mu.Unlock()
	}
}

// acked counts the acknowledgements, and those that arrived after since.
func (l *foLoad) acked(since time.Time) (all, after int, first time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, acks := range l.acks {
		all += len(acks)
		for _, at := range acks {
			if at.After(since) {
				after++
				if first.IsZero() || at.Before(first) {
					first = at
				}
			}
		}
	}
	return all, after, first
}

// recovered reports whether every client has had an acknowledgement after since, and when the
// slowest one got its first.
func (l *foLoad) recovered(since time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var slowest time.Duration
	for _, acks := range l.acks {
		i := slices.IndexFunc(acks, func(at time.Time) bool { return at.After(since) })
		if i < 0 {
			return false, 0
		}
		slowest = max(slowest, acks[i].Sub(since))
	}
	return true, slowest
}

// foFollow reads the balanceChanged events of account acc on c (subscription id) until version
// last, as a client does: a stream that ends with an error (the database was unreachable) is
// subscribed again with afterVersion set to the last version seen. It fails unless the versions
// after `after` arrive each exactly once and in order, and returns the last event and how many
// times the stream was resumed.
func foFollow(t *testing.T, c *lvClient, id, acc string, after, last int) (lvEvent, int) {
	t.Helper()
	var ev lvEvent
	resumes := 0
	for seen := after; seen < last; {
		data, errs, ok := c.next(id, 10*time.Second)
		if !ok || len(errs) > 0 {
			if resumes++; resumes > 5 {
				t.Fatalf("stream ended %d times (last: ok=%v %+v) at version %d of %d", resumes, ok, errs, seen, last)
			}
			id = c.subscribe(lvBalanceSub, map[string]any{"acc": acc, "after": seen})
			continue
		}
		var out struct{ BalanceChanged lvEvent }
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		ev = out.BalanceChanged
		if ev.Version != seen+1 || ev.Entry == nil || ev.Entry.Version != seen+1 {
			t.Fatalf("event version %d (entry %+v) after %d: a gap or a repeat", ev.Version, ev.Entry, seen)
		}
		seen = ev.Version
	}
	c.quiet(id, 300*time.Millisecond)
	return ev, resumes
}

// foListening waits until the instance's LISTEN connection is open on c (pq.Listener re-dials
// the hosts of DATABASE_URL and keeps the one that accepts writes).
func foListening(t *testing.T, c *pgtest.Cluster, bound time.Duration) time.Duration {
	t.Helper()
	db, err := sql.Open("postgres", c.URL("coffer"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	for {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, live.ListenerAppName).Scan(&n)
		if err == nil && n == 1 {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			t.Fatalf("no LISTEN connection on the new primary within %v (%d, %v)", bound, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFailover_primaryKilled_standbyPromoted_keyedTransfersExactlyOnce kills the primary
// (immediate mode) while 8 clients send keyed transfers, promotes the synchronous standby, and
// checks that the same server process serves again within a bound, that every acknowledged
// transfer is on the new primary exactly once, that the LISTEN connection moved there, and that
// balanceChanged subscribers, the one that stayed connected and the one that resumes with
// afterVersion, see every version without a gap.
func TestFailover_primaryKilled_standbyPromoted_keyedTransfersExactlyOnce(t *testing.T) {
	bin := ftBuild(t)
	primary, standby, dbURL := foPair(t)
	srv := ftStart(t, bin, dbURL, filepath.Join(t.TempDir(), "outbox.jsonl"))
	t.Cleanup(func() {
		if b, _ := os.ReadFile(srv.log); t.Failed() {
			t.Logf("server log (end):\n%s", b[max(0, len(b)-6000):])
			t.Logf("primary log (end):\n%s\nstandby log (end):\n%s", primary.LogTail(), standby.LogTail())
		}
	})
	s := srv.testServer
	bank := ftSeed(s, 8)
	watched := bank.tokens[0]
	mainID, lines := lvStatement(t, s, watched, 1)
	startVersion := lines[0].Version
	stay := lvConnect(t, s, lvTransportWS, watched)
	stayID := stay.subscribe(lvBalanceSub, map[string]any{"acc": mainID, "after": startVersion})
	drop := lvConnect(t, s, lvLegacyWS, watched)
	dropID := drop.subscribe(lvBalanceSub, map[string]any{"acc": mainID, "after": startVersion})

	load := foStart(s, bank, 8)
	load.waitAcked(t, 60)
	// The second subscriber sees one change, then its phone drops off before the failover.
	dropSeen := drop.event(dropID).Version
	drop.conn.Close()

	// The runbook: the primary is lost, the standby is promoted, and as it has no standby of its
	// own yet, synchronous replication is switched off on it (or every commit waits).
	if err := primary.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	ackedBefore, _, _ := load.acked(time.Time{})
	time.Sleep(time.Second) // requests fail meanwhile, with clean errors
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	foExec(t, standby, `ALTER SYSTEM SET synchronous_standby_names = ''`, `SELECT pg_reload_conf()`)

	const recoveryBound = 15 * time.Second
	var slowest time.Duration
	for ok := false; !ok; time.Sleep(20 * time.Millisecond) {
		if ok, slowest = load.recovered(promoted); !ok && time.Since(promoted) > recoveryBound {
			t.Fatalf("not every client got a transfer through within %v of the promotion", recoveryBound)
		}
	}
	listenerBack := foListening(t, standby, recoveryBound)
	close(load.stop)
	load.wg.Wait()
	_, _, first := load.acked(promoted)
	for _, u := range load.unclean {
		t.Error(u)
	}
	if load.failures == 0 {
		t.Fatal("no request failed during the failover: the test did not test anything")
	}
	t.Logf("primary killed after %d acknowledged transfers; promotion took %v; first success %v after the promotion, every client back within %v; LISTEN on the new primary %v after recovery; %d failed answers retried",
		ackedBefore, promoted.Sub(killed), first.Sub(promoted), slowest, listenerBack, load.failures)

	ftVerify(t, s, bank, load.transfers)
	if n := ftCommitted(t, standby.URL("coffer"), load.transfers); n != len(load.transfers) {
		t.Errorf("the new primary holds %d of the %d acknowledged transfers' keys", n, len(load.transfers))
	}
	t.Logf("%d transfers acknowledged, %d found on the new primary, each once", len(load.transfers), len(load.transfers))

	foWantSubscribersCaughtUp(t, s, watched, mainID, stay, stayID, startVersion, dropSeen)
}

// waitAcked waits until n transfers are acknowledged (30 s at most).
func (l *foLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got, _, _ := l.acked(time.Time{}); got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d transfers acknowledged in 30s", n)
		}
	}
}

// foWantSubscribersCaughtUp checks that the subscriber that stayed connected (stay) saw every
// version of the watched account after startVersion without a gap, and that one reconnecting
// after dropSeen sees every version after it.
func foWantSubscribersCaughtUp(t *testing.T, s *testServer, watched, mainID string, stay *lvClient, stayID string, startVersion, dropSeen int) {
	t.Helper()
	_, lines := lvStatement(t, s, watched, 1)
	last := lines[0].Version
	ev, resumes := foFollow(t, stay, stayID, mainID, startVersion, last)
	if got := s.balance(watched); ev.Balance.Amount != got {
		t.Errorf("the last event says %s, the balance is %s", ev.Balance.Amount, got)
	}
	resumed := lvConnect(t, s, lvTransportWS, watched)
	resumedID := resumed.subscribe(lvBalanceSub, map[string]any{"acc": mainID, "after": dropSeen})
	foFollow(t, resumed, resumedID, mainID, dropSeen, last)
	t.Logf("subscribers: versions %d..%d without a gap (the connected stream ended by the outage and resumed %d times); the reconnected one from %d",
		startVersion+1, last, resumes, dropSeen+1)
}
