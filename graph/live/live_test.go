package live_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/ledger"
	"coffer/graph/live"
	"coffer/graph/money"
	"coffer/graph/pgtest"
	"coffer/graph/store"
	"coffer/graph/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// lvEnv is a ledger over a fresh PostgreSQL database with a hub and a notifier wired to it.
type lvEnv struct {
	db     *store.DB
	ledger *ledger.Ledger
	hub    *live.Hub
}

// lvStart wires a hub over url; pub nil means the in-process broker (the hub itself).
func lvStart(t *testing.T, url string, limits live.Limits, pub live.Publisher) *lvEnv {
	t.Helper()
	db, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hub := live.NewHub(db.Client, limits)
	if pub == nil {
		pub = hub
	}
	l := ledger.New(db.Client, db.Dialect, money.Currency{Code: "EUR", Scale: 2})
	n := &live.Notifier{Client: db.Client, SQL: db.SQL, Publisher: pub, Window: 2 * time.Millisecond} // as the server wires it on PostgreSQL
	l.OnCommit, l.OnTransactionsCommit = n.AccountsChanged, n.TransactionsChanged
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(){func() { hub.Run(ctx) }, func() { n.Run(ctx) }} {
		wg.Add(1)
		go func() { defer wg.Done(); run() }()
	}
	t.Cleanup(func() { cancel(); wg.Wait(); db.Close() })
	return &lvEnv{db: db, ledger: l, hub: hub}
}

func (e *lvEnv) openAccount(t *testing.T) int {
	t.Helper()
	acc, err := store.InTx(context.Background(), e.db.Client, func(tx *ent.Tx) (*ent.Account, error) {
		return e.ledger.Open(context.Background(), tx, ledger.NewAccount{Kind: account.KindMAIN, HolderName: "test"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return acc.ID
}

// mint moves amountMinor from the issuer to accountID.
func (e *lvEnv) mint(t testing.TB, accountID int, amountMinor int64) {
	t.Helper()
	issuer, err := e.ledger.Issuer(context.Background())
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := e.move(issuer, accountID, amountMinor); err != nil {
		t.Error(err)
	}
}

func (e *lvEnv) move(from, to int, amountMinor int64) (*ent.Transaction, error) {
	m := ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: amountMinor}
	return e.ledger.Run(context.Background(), 0, nil, func(tx *ledger.Tx) (*ent.Transaction, error) {
		return e.ledger.Transfer(context.Background(), tx, m)
	})
}

// recorder is a Publisher that keeps every batch and passes it on.
type recorder struct {
	mu      sync.Mutex
	batches []live.Batch
}

func (r *recorder) Publish(_ context.Context, b live.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, b)
	return nil
}

func (r *recorder) all() []live.Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]live.Batch(nil), r.batches...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// next receives one event or fails after a few seconds.
func next(t *testing.T, events <-chan *live.BalanceEvent) *live.BalanceEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the subscription ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return nil
	}
}

func TestNotifier_publishesOnlyCommittedChanges_coalesced(t *testing.T) {
	rec := &recorder{}
	e := lvStart(t, pgtest.NewDatabase(t), live.Limits{}, rec)
	ana := testkit.NewCustomer(t, e.ledger, "ana", testkit.CustomerOptions{})
	a, owner := ana.AccountID, ana.CustomerID
	b := e.openAccount(t)
	e.mint(t, a, 100)
	eventually(t, "the mint's batch", func() bool { return len(rec.all()) == 1 })
	got := rec.all()[0]
	if len(got.Accounts) != 2 || len(got.Transactions) != 1 {
		t.Fatalf("batch %+v: want the issuer and the account, and one transaction", got)
	}
	for _, c := range got.Accounts {
		// The owner wakes the subscribers of all its accounts; the bank's issuer has none.
		if c.ID == a && (c.Version != 1 || c.Owner != owner) {
			t.Fatalf("account %d published as %+v, want version 1 and owner %d", a, c, owner)
		}
		if c.ID != a && c.Owner != 0 {
			t.Fatalf("the issuer published with owner %d", c.Owner)
		}
	}
	// A move that fails rolls back and publishes nothing.
	if _, err := e.move(a, b, 1000); err == nil {
		t.Fatal("an overdraft went through")
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(rec.all()); n != 1 {
		t.Fatalf("%d batches after a rolled-back move, want 1", n)
	}
	// Many commits in a burst share few notifications.
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() { defer wg.Done(); e.mint(t, b, 1) }()
	}
	wg.Wait()
	eventually(t, "b at version 40", func() bool {
		for _, batch := range rec.all() {
			for _, c := range batch.Accounts {
				if c.ID == b && c.Version == 40 {
					return true
				}
			}
		}
		return false
	})
	if n := len(rec.all()) - 1; n >= 40 {
		t.Fatalf("%d notifications for 40 commits: not coalesced", n)
	}
}

func TestHub_replayThenLive_noGapNoDuplicate_underConcurrentWrites(t *testing.T) {
	e := lvStart(t, pgtest.NewDatabase(t), live.Limits{Buffer: 16}, nil)
	acc := e.openAccount(t)
	const total = 300
	done := make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			if i == 50 {
				close(started)
			}
			e.mint(t, acc, 1)
		}
	}()
	<-started
	// Subscribe mid-stream from the beginning: the replay and the live events meet without a seam.
	zero := int64(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := e.hub.Balances(ctx, live.BalanceFilter{UserID: 1, AccountIDs: []int{acc}, AfterVersion: &zero})
	if err != nil {
		t.Fatal(err)
	}
	for v := int64(1); v <= total; v++ {
		ev := next(t, events)
		if ev.Version != v || ev.Entry == nil || ev.Entry.Version != v || ev.BalanceMinor != v {
			t.Fatalf("event %+v, want version and balance %d", ev, v)
		}
	}
	<-done
	select {
	case ev := <-events:
		t.Fatalf("an event after the last version: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestHub_slowSubscriberIsEnded_othersGetEverything(t *testing.T) {
	e := lvStart(t, pgtest.NewDatabase(t), live.Limits{Buffer: 2, SlowAfter: 200 * time.Millisecond}, nil)
	acc := e.openAccount(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var slowErr error
	var mu sync.Mutex
	slow, err := e.hub.Balances(ctx, live.BalanceFilter{UserID: 1, AccountIDs: []int{acc},
		OnError: func(err error) { mu.Lock(); slowErr = err; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := e.hub.Balances(ctx, live.BalanceFilter{UserID: 2, AccountIDs: []int{acc}})
	if err != nil {
		t.Fatal(err)
	}
	// The fast subscriber reads each change as it comes; the slow one never reads.
	const moves = 20
	for v := int64(1); v <= moves; v++ {
		e.mint(t, acc, 1)
		if ev := next(t, fast); ev.Version != v {
			t.Fatalf("fast subscriber: version %d, want %d", ev.Version, v)
		}
	}
	// The slow one kept its full buffer, then was ended with a clear error.
	eventually(t, "the slow subscriber's end", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slowErr != nil
	})
	if !errors.Is(slowErr, live.ErrFellBehind) {
		t.Fatalf("slow subscriber ended with %v", slowErr)
	}
	n := 0
	for range slow {
		n++
	}
	if n != 2 {
		t.Fatalf("the slow subscriber had %d buffered events, want its buffer of 2", n)
	}
	eventually(t, "the slow subscription's release", func() bool { return e.hub.Active() == 1 })
}

func TestHub_capsPerUserAndGlobal(t *testing.T) {
	e := lvStart(t, pgtest.NewDatabase(t), live.Limits{MaxPerUser: 1, MaxSubscriptions: 2}, nil)
	acc := e.openAccount(t)
	sub := func(ctx context.Context, user int) error {
		_, err := e.hub.Balances(ctx, live.BalanceFilter{UserID: user, AccountIDs: []int{acc}})
		return err
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	if err := sub(ctx1, 1); err != nil {
		t.Fatal(err)
	}
	if err := sub(context.Background(), 1); !errors.Is(err, live.ErrTooManySubscriptions) {
		t.Fatalf("second subscription of user 1: %v", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if err := sub(ctx2, 2); err != nil {
		t.Fatal(err)
	}
	if err := sub(context.Background(), 3); !errors.Is(err, live.ErrTooManySubscriptions) {
		t.Fatalf("third subscription overall: %v", err)
	}
	cancel1()
	eventually(t, "a free slot", func() bool { return e.hub.Active() == 1 })
	ctx3, cancel3 := context.WithCancel(context.Background())
	defer cancel3()
	if err := sub(ctx3, 3); err != nil {
		t.Fatalf("after a subscription ended: %v", err)
	}
}

func TestListener_otherInstance_andLostNotificationOnlyDelays(t *testing.T) {
	url := pgtest.NewDatabase(t)
	writer := lvStart(t, url, live.Limits{}, nil)
	writer.ledger.OnCommit = nil // set below, with NOTIFY
	pgDB, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgDB.Close() })
	n := &live.Notifier{Client: pgDB.Client, SQL: pgDB.SQL, Publisher: live.PGPublisher{DB: pgDB.SQL}, Window: 2 * time.Millisecond}
	nctx, ncancel := context.WithCancel(context.Background())
	ndone := make(chan struct{})
	go func() { defer close(ndone); n.Run(nctx) }()
	t.Cleanup(func() { ncancel(); <-ndone })
	writer.ledger.OnCommit = n.AccountsChanged

	// The reader is another instance: its own hub, fed only by its LISTEN connection.
	reader := lvStart(t, url, live.Limits{RecheckEvery: 300 * time.Millisecond}, &recorder{})
	lctx, lcancel := context.WithCancel(context.Background())
	ldone := make(chan error, 1)
	go func() { ldone <- (&live.Listener{URL: url, Hub: reader.hub}).Run(lctx) }()
	t.Cleanup(func() {
		lcancel()
		if err := <-ldone; err != nil {
			t.Errorf("listener: %v", err)
		}
	})

	acc := writer.openAccount(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	zero := int64(0)
	events, err := reader.hub.Balances(ctx, live.BalanceFilter{UserID: 1, AccountIDs: []int{acc}, AfterVersion: &zero})
	if err != nil {
		t.Fatal(err)
	}
	writer.mint(t, acc, 5)
	if ev := next(t, events); ev.Version != 1 || ev.BalanceMinor != 5 {
		t.Fatalf("got %+v", ev)
	}
	// A commit whose notification is lost (the process died between commit and NOTIFY): the
	// safety re-read delivers it, a little later.
	writer.ledger.OnCommit = nil
	start := time.Now()
	writer.mint(t, acc, 7)
	if ev := next(t, events); ev.Version != 2 || ev.BalanceMinor != 12 {
		t.Fatalf("got %+v", ev)
	}
	t.Logf("the change without a notification arrived after %v", time.Since(start))
}

// TestHub_idleSubscribersCostNoQueries: 2,000 subscribers that wait cost no database work; a
// change costs queries for its own subscribers only, not for everyone.
func TestHub_idleSubscribersCostNoQueries(t *testing.T) {
	e := lvStart(t, pgtest.NewDatabase(t), live.Limits{}, nil)
	var queries atomic.Int64
	counted := ent.NewClient(ent.Driver(dialect.Debug(entsql.OpenDB(dialect.Postgres, e.db.SQL),
		func(...any) { queries.Add(1) })))
	hub := live.NewHub(counted, live.Limits{MaxPerUser: 100, RecheckEvery: time.Hour})
	const accounts, perAccount = 100, 20
	ids := make([]int, accounts)
	for i := range ids {
		ids[i] = e.openAccount(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := map[int][]<-chan *live.BalanceEvent{}
	for _, id := range ids {
		for u := range perAccount {
			ch, err := hub.Balances(ctx, live.BalanceFilter{UserID: u, AccountIDs: []int{id}})
			if err != nil {
				t.Fatal(err)
			}
			streams[id] = append(streams[id], ch)
		}
	}
	// Every subscriber makes its first read, then sleeps: wait for the count to settle.
	for last, deadline := int64(-1), time.Now().Add(20*time.Second); queries.Load() != last; {
		if time.Now().After(deadline) {
			t.Fatal("the subscribers never went idle")
		}
		last = queries.Load()
		time.Sleep(300 * time.Millisecond)
	}
	before := queries.Load()
	time.Sleep(time.Second)
	if idle := queries.Load() - before; idle != 0 {
		t.Fatalf("%d queries while %d subscribers were idle", idle, accounts*perAccount)
	}
	// One change, delivered to the hub as a notification would: only its 20 subscribers read.
	e.mint(t, ids[7], 3)
	hub.Deliver(live.Batch{Accounts: []live.AccountChange{{ID: ids[7], Version: 1}}})
	for _, ch := range streams[ids[7]] {
		if ev := next(t, ch); ev.Version != 1 || ev.BalanceMinor != 3 {
			t.Fatalf("got %+v", ev)
		}
	}
	time.Sleep(200 * time.Millisecond)
	used := queries.Load() - before
	t.Logf("one change with %d subscribers on its account: %d queries", perAccount, used)
	if used > 3*perAccount {
		t.Fatalf("%d queries for one change with %d subscribers on its account", used, perAccount)
	}
}

// TestErrors_tooManyRequests_sayWhenToRetry: the hub's TOO_MANY_REQUESTS errors carry
// extensions.retryAfter like every other (docs/client-kit.md).
func TestErrors_tooManyRequests_sayWhenToRetry(t *testing.T) {
	for _, err := range []*apperr.Error{live.ErrFellBehind, live.ErrTooManySubscriptions} {
		if err.Code != apperr.TooManyRequests || err.RetryAfterSeconds <= 0 {
			t.Errorf("%q: code %s, retryAfter %d s; want TOO_MANY_REQUESTS with a positive retryAfter", err.Message, err.Code, err.RetryAfterSeconds)
		}
	}
}
