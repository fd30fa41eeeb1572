package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"coffer/ent"
	"coffer/ent/account"
)

// Limits bound the hub. Zero values take the defaults below.
type Limits struct {
	// MaxSubscriptions caps the concurrent subscriptions of this instance.
	MaxSubscriptions int
	// MaxPerUser caps the concurrent subscriptions of one user on this instance.
	MaxPerUser int
	// Buffer is how many events a subscriber may have undelivered.
	Buffer int
	// SlowAfter is how long a full buffer may stay full before the subscription ends.
	SlowAfter time.Duration
	// RecheckEvery is the period of the safety re-read of every watched account.
	RecheckEvery time.Duration
}

const (
	defaultMaxSubscriptions = 10_000
	defaultMaxPerUser       = 20
	defaultBuffer           = 64
	defaultSlowAfter        = 10 * time.Second
	defaultRecheckEvery     = 5 * time.Second
	// recheckChunk bounds the ids of one safety re-read query (SQLite's variable limit).
	recheckChunk = 500
	// txnQueueLen bounds the transaction batches waiting for the hub's goroutine.
	txnQueueLen = 256
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSubscriptions, defaultMaxSubscriptions)
	def(&l.MaxPerUser, defaultMaxPerUser)
	def(&l.Buffer, defaultBuffer)
	if l.SlowAfter <= 0 {
		l.SlowAfter = defaultSlowAfter
	}
	if l.RecheckEvery <= 0 {
		l.RecheckEvery = defaultRecheckEvery
	}
	return l
}

// Hub knows this instance's subscribers and wakes those a batch concerns. It never reads the
// database on a subscriber's behalf except in the periodic safety re-read (one query for all) and
// to route transaction updates (one query per batch).
type Hub struct {
	client *ent.Client
	limits Limits

	mu         sync.Mutex
	total      int
	perUser    map[int]int
	byAccount  map[int]map[*waker]struct{}
	byOwner    map[int]map[*waker]struct{}
	txnByOwner map[int]map[*txnSub]struct{}
	// seen is each watched account's state at the last safety re-read.
	seen map[int]accountState

	txnQueue chan []int
}

type accountState struct{ version, reserved, debitLimit int64 }

// waker is one balance subscriber's doorbell: a full channel already means "look again".
type waker struct{ c chan struct{} }

func (w *waker) ring() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// NewHub returns a hub over client; Run must be running for transaction updates and re-reads.
func NewHub(client *ent.Client, limits Limits) *Hub {
	return &Hub{
		client: client, limits: limits.withDefaults(),
		perUser: map[int]int{}, byAccount: map[int]map[*waker]struct{}{}, byOwner: map[int]map[*waker]struct{}{},
		txnByOwner: map[int]map[*txnSub]struct{}{}, seen: map[int]accountState{},
		txnQueue: make(chan []int, txnQueueLen),
	}
}

// Publish delivers a batch to this hub directly: the in-process broker of a single instance
// (SQLite), with the same interface as NOTIFY.
func (h *Hub) Publish(_ context.Context, b Batch) error {
	h.Deliver(b)
	return nil
}

var _ Publisher = (*Hub)(nil)

// Deliver wakes the subscribers a batch concerns. It does not block on any subscriber.
func (h *Hub) Deliver(b Batch) {
	h.mu.Lock()
	for _, c := range b.Accounts {
		for w := range h.byAccount[c.ID] {
			w.ring()
		}
		if c.Owner != 0 {
			for w := range h.byOwner[c.Owner] {
				w.ring()
			}
		}
	}
	wantTxns := len(h.txnByOwner) > 0
	h.mu.Unlock()
	if wantTxns && len(b.Transactions) > 0 {
		select {
		case h.txnQueue <- b.Transactions:
		default:
			slog.Warn("live: transaction updates dropped: the hub is behind", "count", len(b.Transactions))
		}
	}
}

// WakeAll makes every balance subscriber re-read (after the listener reconnected: notifications
// may have been lost while it was away).
func (h *Hub) WakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.byAccount {
		for w := range set {
			w.ring()
		}
	}
	for _, set := range h.byOwner {
		for w := range set {
			w.ring()
		}
	}
}

// Run routes transaction updates and re-reads the watched accounts every RecheckEvery, until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(h.limits.RecheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := h.recheck(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("live: safety re-read", "error", err)
			}
		case ids := <-h.txnQueue:
			if err := h.deliverTransactions(ctx, ids); err != nil && ctx.Err() == nil {
				slog.Warn("live: transaction updates", "error", err)
			}
		}
	}
}

// Open is how many subscriptions are open on this instance (the metrics' gauge).
func (h *Hub) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// admit counts a new subscription of userID against the caps.
func (h *Hub) admit(userID int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.total >= h.limits.MaxSubscriptions || h.perUser[userID] >= h.limits.MaxPerUser {
		return ErrTooManySubscriptions
	}
	h.total++
	h.perUser[userID]++
	return nil
}

func (h *Hub) release(userID int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.total--
	if h.perUser[userID]--; h.perUser[userID] <= 0 {
		delete(h.perUser, userID)
	}
}

// Active returns the number of subscriptions open on this instance.
func (h *Hub) Active() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

func add[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	set := m[k]
	if set == nil {
		set = map[V]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}

func remove[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	if set := m[k]; set != nil {
		delete(set, v)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// recheck reads every watched account (a few queries for all subscribers) and wakes the
// subscribers of those that changed since the last re-read, or that it sees for the first time.
func (h *Hub) recheck(ctx context.Context) error {
	h.mu.Lock()
	ids := make([]int, 0, len(h.byAccount))
	for id := range h.byAccount {
		ids = append(ids, id)
	}
	owners := make([]int, 0, len(h.byOwner))
	for id := range h.byOwner {
		owners = append(owners, id)
	}
	h.mu.Unlock()
	fresh := make(map[int]accountState, len(ids)+len(owners))
	ownerOf := map[int]int{}
	read := func(q *ent.AccountQuery) error {
		accs, err := q.Select(account.FieldID, account.FieldOwnerID, account.FieldVersion,
			account.FieldReserved, account.FieldDebitLimit).All(ctx)
		for _, a := range accs {
			fresh[a.ID] = accountState{a.Version, a.Reserved, a.DebitLimit}
			if a.OwnerID != nil {
				ownerOf[a.ID] = *a.OwnerID
			}
		}
		return err
	}
	for chunk := range chunks(ids) {
		if err := read(h.client.Account.Query().Where(account.IDIn(chunk...))); err != nil {
			return err
		}
	}
	for chunk := range chunks(owners) {
		if err := read(h.client.Account.Query().Where(account.OwnerIDIn(chunk...))); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, st := range fresh {
		if old, ok := h.seen[id]; ok && old == st {
			continue
		}
		for w := range h.byAccount[id] {
			w.ring()
		}
		for w := range h.byOwner[ownerOf[id]] {
			w.ring()
		}
	}
	h.seen = fresh
	return nil
}

func chunks(ids []int) func(yield func([]int) bool) {
	return func(yield func([]int) bool) {
		for len(ids) > 0 {
			n := min(len(ids), recheckChunk)
			if !yield(ids[:n]) {
				return
			}
			ids = ids[n:]
		}
	}
}
