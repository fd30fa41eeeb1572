package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/store"
)

// Batching (docs/ledger.md): a Batcher collects the postings that arrive together and applies
// them in one database transaction, with the accounts locked once in id order, each posting
// checked in arrival order against the balances as the batch has changed them, and the rows
// written with set-based statements. Each posting gets its own answer.

// Bounds of the batch settings.
const (
	DefaultBatchWindow = time.Millisecond
	DefaultBatchMax    = 64
	// MaxBatchMax keeps a batch's statements far under both stores' bind-parameter limits
	// (entries: 18 parameters a posting; SQLite allows 32,766, PostgreSQL 65,535).
	MaxBatchMax = 1000
	// MaxBatchWindow bounds the window: it is a latency every posting under load may pay.
	MaxBatchWindow = 100 * time.Millisecond
	// batchesInFlight lets the next batch collect and start while one waits on the database; two
	// batches over the same accounts wait on each other's row locks, taken in id order by both.
	batchesInFlight = 2
	// batchTimeout bounds a batch's transaction: it serves many requests, so no one request's
	// context may cancel it.
	batchTimeout = 30 * time.Second
)

// Posting is a movement a Poster may batch with others: a plain Move posted at once (checked in
// Go and written with the batch's set-based statements), or, with Hook, any other movement
// (hooks.go), whose Move then only names the initiator and the idempotency key.
type Posting struct {
	Move
	// Payee, on a plain posting, names the credited account instead of Move.CreditID (payee.go).
	Payee *Payee
	Hook  Hook
	// settles marks a hooked posting that creates no transaction (SubmitApply): its answer is
	// not counted as a new ledger transaction.
	settles bool
}

// Result is a posting's answer: the transaction it created, or the one an earlier request
// under the same idempotency key created.
type Result struct{ Transaction *ent.Transaction }

// Poster posts movements; each call gets its own answer whatever else is posted with it.
type Poster interface {
	Submit(ctx context.Context, p Posting) (Result, error)
}

var (
	_ Poster = (*Ledger)(nil)
	_ Poster = (*Batcher)(nil)
)

// Submit posts p: through the batcher once StartBatching ran, else in a transaction of its own.
func (l *Ledger) Submit(ctx context.Context, p Posting) (Result, error) {
	if b := l.batcher; b != nil {
		return b.Submit(ctx, p)
	}
	if err := checkPosting(l, p); err != nil {
		return Result{}, err
	}
	return l.postAlone(ctx, p)
}

// SubmitAfter is RunAfter for a posting: the key is looked up first (a retry gets the first
// result, another request under it is CONFLICT), then before runs and returns the posting,
// which Submit posts.
func (l *Ledger) SubmitAfter(ctx context.Context, initiatorID int, key *Key,
	before func(context.Context) (Posting, error)) (*ent.Transaction, error) {
	if key != nil && initiatorID == 0 {
		return nil, errors.New("ledger: an idempotency key needs an initiator")
	}
	if prev, err := l.lookupKey(ctx, initiatorID, key); prev != nil || err != nil {
		return prev, err
	}
	p, err := before(ctx)
	if err != nil {
		return nil, err
	}
	r, err := l.Submit(ctx, p)
	return r.Transaction, err
}

func checkPosting(l *Ledger, p Posting) error {
	if p.Key != nil && p.InitiatorID == 0 {
		return errors.New("ledger: an idempotency key needs an initiator")
	}
	if p.Hook != nil {
		if p.Payee != nil {
			return errors.New("ledger: a hooked posting names no payee")
		}
		return nil
	}
	if p.Pending {
		return errors.New("ledger: a pending move is not a plain posting: submit it with a hook")
	}
	return l.checkMove(p.Move)
}

// postAlone posts p in a transaction of its own, as Transfer (or its hook) inside Run.
func (l *Ledger) postAlone(ctx context.Context, p Posting) (Result, error) {
	if p.Hook != nil {
		txn, err := l.applyAlone(ctx, p)
		return Result{Transaction: txn}, err
	}
	if p.Payee != nil {
		txn, err := l.postNamedAlone(ctx, p)
		return Result{Transaction: txn}, err
	}
	txn, err := l.Run(ctx, p.InitiatorID, p.Key, func(tx *Tx) (*ent.Transaction, error) {
		return l.Transfer(ctx, tx, p.Move)
	})
	return Result{Transaction: txn}, err
}

// BatchConfig sets how postings are collected: a batch starts with what is waiting, at once when
// no batch is in flight (a quiet system pays no delay); while one is, the next collects for up to
// Window, or until Max are waiting.
type BatchConfig struct {
	Window time.Duration
	Max    int
	// Observe, when set, is told each batch's size and how long its transaction took (metrics).
	Observe func(postings int, took time.Duration)
}

// Batcher is the one poster of a server instance. Instances batch on their own: correctness
// rests on the row locks and the unique indexes, never on there being one poster.
type Batcher struct {
	l   *Ledger
	cfg BatchConfig

	// wholeFailures counts the batches that failed as a whole before their commit (their postings
	// then ran alone): a database error, or a bug in the batch's statements.
	wholeFailures atomic.Int64

	mu     sync.RWMutex // closed and the sends on queue
	closed bool
	queue  chan *waiting
	exited chan struct{}
}

type waiting struct {
	ctx    context.Context
	p      Posting
	answer chan answer // buffered: the batch never waits on a request
}

type answer struct {
	txn *ent.Transaction
	err error
}

// StartBatching routes Submit through a new Batcher; Close it before closing the database.
func (l *Ledger) StartBatching(cfg BatchConfig) (*Batcher, error) {
	if cfg.Max < 1 || cfg.Max > MaxBatchMax {
		return nil, fmt.Errorf("ledger: batch size %d outside 1..%d", cfg.Max, MaxBatchMax)
	}
	if cfg.Window < 0 || cfg.Window > MaxBatchWindow {
		return nil, fmt.Errorf("ledger: batch window %s outside 0..%s", cfg.Window, MaxBatchWindow)
	}
	b := &Batcher{l: l, cfg: cfg, queue: make(chan *waiting, 4*cfg.Max), exited: make(chan struct{})}
	l.batcher = b
	go b.loop()
	return b, nil
}

// Submit queues p for the next batch and waits for its answer. It waits for the answer even
// when ctx ends once the batch has it: the batch may already have committed it.
func (b *Batcher) Submit(ctx context.Context, p Posting) (Result, error) {
	if err := checkPosting(b.l, p); err != nil {
		return Result{}, err
	}
	w := &waiting{ctx: ctx, p: p, answer: make(chan answer, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return b.l.postAlone(ctx, p)
	}
	select {
	case b.queue <- w:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return Result{}, ctx.Err()
	}
	a := <-w.answer
	return Result{Transaction: a.txn}, a.err
}

// Close posts what is queued, waits for the batches in flight, and sends later postings alone.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.exited
}

func (b *Batcher) loop() {
	defer close(b.exited)
	slots := make(chan struct{}, batchesInFlight)
	var inFlight sync.WaitGroup
	for first := range b.queue {
		batch := b.collect([]*waiting{first}, len(slots) > 0)
		slots <- struct{}{}
		batch = b.drain(batch) // what arrived while every slot was taken
		inFlight.Add(1)
		go func() {
			defer inFlight.Done()
			start := time.Now()
			b.apply(batch)
			if b.cfg.Observe != nil {
				b.cfg.Observe(len(batch), time.Since(start))
			}
			<-slots
		}()
	}
	inFlight.Wait()
}

// drain adds what is already waiting, up to Max, without waiting.
func (b *Batcher) drain(batch []*waiting) []*waiting {
	for len(batch) < b.cfg.Max {
		select {
		case w, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, w)
		default:
			return batch
		}
	}
	return batch
}

// collect is drain, and while another batch is in flight (busy) also what arrives within the
// window: with no batch in flight a lone posting starts at once.
func (b *Batcher) collect(batch []*waiting, busy bool) []*waiting {
	batch = b.drain(batch)
	if !busy || b.cfg.Window == 0 || len(batch) >= b.cfg.Max {
		return batch
	}
	timer := time.NewTimer(b.cfg.Window)
	defer timer.Stop()
	for len(batch) < b.cfg.Max {
		select {
		case w, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, w)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// apply posts a batch and answers each of its postings. When the batch fails as a whole before
// its commit (rolled back: nothing of it is visible), each posting runs again alone and gets the
// answer it would have had alone; when the commit itself fails, its outcome is unknown, and each
// gets that error, as a lone posting would.
func (b *Batcher) apply(batch []*waiting) {
	live := make([]*waiting, 0, len(batch))
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.answer <- answer{err: err}
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 && live[0].p.Hook != nil {
		// Nothing to share a transaction with: no savepoint, the statements of a lone request.
		r, err := b.l.postAlone(live[0].ctx, live[0].p)
		live[0].answer <- answer{txn: r.Transaction, err: err}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	// The batch's statements run prepared when the store lets them (batchQuerier).
	ctx, _ = store.WithTxCapture(ctx)
	var out batchOutcome
	statementsDone := false
	_, err := store.InTx(ctx, b.l.Client, func(tx *ent.Tx) (struct{}, error) {
		var err error
		out, err = b.l.postBatch(ctx, tx, live)
		statementsDone = err == nil
		return struct{}{}, err
	})
	switch {
	case err == nil:
		b.l.notify(out.changed, out.settled)
		for i, w := range live {
			if out.alone[i] {
				r, err := b.l.postAlone(w.ctx, w.p)
				w.answer <- answer{txn: r.Transaction, err: err}
				continue
			}
			if out.created[i] && b.l.OnTransaction != nil {
				b.l.OnTransaction(out.answers[i].txn)
			}
			w.answer <- answer{txn: store.Detach(out.answers[i].txn), err: out.answers[i].err}
		}
	case statementsDone:
		for _, w := range live {
			w.answer <- answer{err: fmt.Errorf("ledger: batch commit: %w", err)}
		}
	default:
		b.wholeFailures.Add(1)
		for _, w := range live {
			r, err := b.l.postAlone(w.ctx, w.p)
			w.answer <- answer{txn: r.Transaction, err: err}
		}
	}
}

// batchOutcome is a batch's answers, in the batch's order; created marks the postings that made
// a transaction (not a repeat of one earlier in the batch, not a failure); alone marks the hooked
// postings to run alone after the batch.
type batchOutcome struct {
	answers          []answer
	created, alone   []bool
	changed, settled []int
}

// batchQuerier is where a batch's own statements run: on PostgreSQL, with the ledger's
// Statements, prepared once per pooled connection inside tx (each has one text whatever the
// batch's size: one round trip instead of two, and planned once); else, or without them, in tx
// as they are.
func (l *Ledger) batchQuerier(ctx context.Context, tx *ent.Tx) Querier {
	if l.Statements == nil || l.Dialect != dialect.Postgres {
		return tx
	}
	if sqlTx := store.CapturedTx(ctx); sqlTx != nil {
		return l.Statements.In(sqlTx)
	}
	return tx
}

// lockedAccount is an account row as the batch has changed it so far.
type lockedAccount struct {
	id                    int
	balance, reserved     int64
	debitLimit, version   int64
	allowNegative, open   bool
	deltaMinor, increment int64 // what the batch adds to balance and version
}

type batchKey struct {
	initiatorID int
	value       string
}

// postBatch posts the plain postings (postPlain), then runs the hooked ones in order, each under
// a savepoint (runHooks): they see the plain postings' changes, and take their row locks after
// the plain postings' accounts, which are locked first in id order.
func (l *Ledger) postBatch(ctx context.Context, tx *ent.Tx, batch []*waiting) (batchOutcome, error) {
	out := batchOutcome{answers: make([]answer, len(batch)), created: make([]bool, len(batch)), alone: make([]bool, len(batch))}
	if err := l.postPlain(ctx, tx, batch, &out); err != nil {
		return out, err
	}
	return out, l.runHooks(ctx, tx, batch, &out)
}

// postPlain checks and applies each plain posting in order against the locked accounts, then
// writes what passed: the transaction rows, the account changes and the entries, one statement
// each.
func (l *Ledger) postPlain(ctx context.Context, tx *ent.Tx, batch []*waiting, out *batchOutcome) error {
	// The named credits first: their accounts are locked with the others.
	q := l.batchQuerier(ctx, tx)
	credits, err := resolvePayees(ctx, q, batch)
	if err != nil {
		return err
	}
	accounts, err := l.lockAccounts(ctx, q, batch, credits)
	if err != nil {
		return err
	}
	// Booked after the row locks are held, so booking times follow version order per account.
	now := l.Now()
	firstUnder := map[batchKey]int{}
	repeats := map[int]int{} // posting -> the earlier posting under the same key
	var posted []int
	var legs []leg // two per posted posting: debit, credit
	for i, w := range batch {
		if w.p.Hook != nil {
			continue
		}
		m := w.p.Move
		if m.Key != nil {
			k := batchKey{m.InitiatorID, m.Key.Value}
			if j, ok := firstUnder[k]; ok {
				if string(batch[j].p.Key.Fingerprint) != string(m.Key.Fingerprint) {
					out.answers[i].err = errKeyConflict()
				} else {
					repeats[i] = j
				}
				continue
			}
		}
		if p := w.p.Payee; p != nil {
			if err := payeeAnswer(p, accounts[m.DebitID], m.AmountMinor, credits[i]); err != nil {
				out.answers[i].err = err
				continue
			}
			// Kept on the posting for the statements below; resolved again should it run alone.
			m.CreditID = credits[i]
			w.p.CreditID = credits[i]
		}
		debit, credit, err := take(accounts, m)
		if err != nil {
			out.answers[i].err = err
			continue
		}
		if m.Key != nil {
			firstUnder[batchKey{m.InitiatorID, m.Key.Value}] = i
		}
		posted = append(posted, i)
		legs = append(legs, debit, credit)
	}
	if len(posted) == 0 {
		return nil
	}
	ids, err := l.writeBatch(ctx, tx, q, batch, posted, legs, accounts, now)
	if err != nil {
		return err
	}
	for n, i := range posted {
		out.answers[i].txn = l.boundTransaction(batch[i].p.Move, ids[n], now)
		out.created[i] = true
		out.changed = append(out.changed, legs[2*n].accountID, legs[2*n+1].accountID)
		out.settled = append(out.settled, ids[n])
	}
	for i, j := range repeats {
		out.answers[i] = out.answers[j]
	}
	return nil
}

// take checks m against the accounts as the batch left them and applies it there: the debit and
// the credit are checked in id order, as a lone posting's UPDATEs run, so that a posting failing
// on both sides fails alike. It returns the two legs with the balance and version after them.
func take(accounts map[int]*lockedAccount, m Move) (leg, leg, error) {
	debit, credit := accounts[m.DebitID], accounts[m.CreditID]
	checkDebit := func() error { return canDebit(debit, m.AmountMinor) }
	checkCredit := func() error {
		if credit == nil || !credit.open {
			return apperr.New(apperr.PreconditionFailed, "the account is closed")
		}
		return nil
	}
	checks := []func() error{checkDebit, checkCredit}
	if m.CreditID < m.DebitID {
		checks[0], checks[1] = checks[1], checks[0]
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return leg{}, leg{}, err
		}
	}
	debit.balance, debit.deltaMinor = debit.balance-m.AmountMinor, debit.deltaMinor-m.AmountMinor
	credit.balance, credit.deltaMinor = credit.balance+m.AmountMinor, credit.deltaMinor+m.AmountMinor
	debit.version, debit.increment = debit.version+1, debit.increment+1
	credit.version, credit.increment = credit.version+1, credit.increment+1
	return leg{accountID: m.DebitID, counterpartyID: m.CreditID, amountMinor: -m.AmountMinor, balanceAfter: debit.balance, version: debit.version},
		leg{accountID: m.CreditID, counterpartyID: m.DebitID, amountMinor: m.AmountMinor, balanceAfter: credit.balance, version: credit.version},
		nil
}

// boundTransaction is the row insertTransactions wrote for m, bound to the client.
func (l *Ledger) boundTransaction(m Move, id int, now time.Time) *ent.Transaction {
	posted := now
	txn := &ent.Transaction{ID: id, Kind: m.Kind, Status: transaction.StatusPOSTED, Amount: m.AmountMinor, Memo: m.Memo,
		DebitAccountID: m.DebitID, CreditAccountID: m.CreditID, CreatedAt: now, TargetDate: m.TargetDate, PostedAt: &posted}
	if m.InitiatorID != 0 {
		initiator := m.InitiatorID
		txn.InitiatorID = &initiator
	}
	if m.Key != nil {
		value := m.Key.Value
		txn.IdempotencyKey, txn.RequestHash = &value, m.Key.Fingerprint
	}
	return l.Client.Transaction.Bind(txn)
}

// lockAccounts reads the accounts of the batch's plain postings, locked (FOR UPDATE on PostgreSQL; SQLite's one
// writer holds its immediate transaction) in id order, so batches and lone postings, which
// also lock in id order, never wait on each other in a cycle.
func (l *Ledger) lockAccounts(ctx context.Context, tx Querier, batch []*waiting, credits []int) (map[int]*lockedAccount, error) {
	ids := make([]int, 0, 2*len(batch))
	for i, w := range batch {
		if w.p.Hook == nil {
			ids = append(ids, w.p.DebitID)
			if credits[i] != 0 {
				ids = append(ids, credits[i])
			}
		}
	}
	if len(ids) == 0 {
		return map[int]*lockedAccount{}, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	args := NewBatchRows(l.Dialect, 1)
	for _, id := range ids {
		args.Add(id)
	}
	rows, err := tx.QueryContext(ctx, LockAccountsSQL(l.Dialect, len(ids)), args.Args()...)
	if err != nil {
		return nil, fmt.Errorf("ledger: lock accounts: %w", err)
	}
	defer rows.Close()
	accounts := make(map[int]*lockedAccount, len(ids))
	for rows.Next() {
		a := &lockedAccount{}
		if err := rows.Scan(&a.id, &a.balance, &a.reserved, &a.debitLimit, &a.allowNegative, &a.open, &a.version); err != nil {
			return nil, fmt.Errorf("ledger: lock accounts: %w", err)
		}
		accounts[a.id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: lock accounts: %w", err)
	}
	return accounts, rows.Close()
}
