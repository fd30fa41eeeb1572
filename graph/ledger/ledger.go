// Package ledger is coffer's double-entry ledger. Every movement of money is a transaction from
// one account to another; posting it writes two entries that sum to zero and changes both
// balances in the same database transaction. A pending transaction first reserves the amount on
// the debit account, and is later posted or voided.
//
// Locking: a posting updates the two account rows in id order (so two transfers never wait on each
// other in a cycle), and the debit is a conditional UPDATE that only succeeds while the account
// stays within its limit. The database, not Go, decides whether the money is there, so no lost
// update is possible under any concurrency; CHECK constraints on the accounts table back this up.
// Account.version rises by one per entry, and the entry stores the version it produced.
package ledger

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/entry"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/money"
	"coffer/graph/store"
)

// MaxIdempotencyKeyLen bounds idempotency keys (API.md: at most 64 characters).
const MaxIdempotencyKeyLen = 64

// MaxCirculationMinor bounds the money in circulation (minus the issuer's balance): a creation
// beyond it is PRECONDITION_FAILED. Every balance then lies within ±(MaxCirculationMinor +
// money.MaxAmountMinor), so balance - reserved + debit limit stays far inside int64.
const MaxCirculationMinor int64 = 1_000_000_000_000_000_000

// MaxMemoLen bounds a transaction's memo, in characters (the column's size).
const MaxMemoLen = 500

// Ledger posts movements between accounts.
type Ledger struct {
	Client   *ent.Client
	Dialect  string
	Currency money.Currency
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// OnCommit, when set, is told the accounts a committed movement changed (the live-balance
	// fan-out listens here). It runs after the commit, never inside the transaction.
	OnCommit func(accountIDs []int)
	// OnTransactionsCommit, when set, is told the transactions a committed operation created or
	// settled (pending, posted, voided), after the commit like OnCommit.
	OnTransactionsCommit func(transactionIDs []int)
	// OnTransaction, when set, is told of every ledger transaction Run committed (metrics).
	OnTransaction func(*ent.Transaction)

	// Statements, when set (PostgreSQL), prepares the batch's statements on the pool under the
	// client, once per connection (store.TxStatements); without it they run unprepared.
	Statements *store.TxStatements

	// batcher, when started (StartBatching), posts what Submit is given in batches.
	batcher *Batcher

	issuerMu sync.Mutex
	issuerID int

	sqlOnce sync.Once
	sql     postingSQL
}

// New returns a ledger over client.
func New(client *ent.Client, dialect string, currency money.Currency) *Ledger {
	return &Ledger{Client: client, Dialect: dialect, Currency: currency, Now: time.Now}
}

// Move is a request to move money.
type Move struct {
	Kind        transaction.Kind
	DebitID     int
	CreditID    int
	AmountMinor int64
	Memo        string
	TargetDate  *time.Time
	InitiatorID int
	// Pending reserves the amount instead of posting it.
	Pending bool
	Key     *Key
}

// Key identifies a request for idempotency: the same key and the same fingerprint from the same
// initiator return the first result; the same key with another fingerprint is a conflict.
type Key struct {
	Value       string
	Fingerprint []byte
}

// NewKey validates an idempotency key and fingerprints the request it came with. A nil or empty
// value gives a nil key (no idempotency).
func NewKey(value *string, op string, parts ...string) (*Key, error) {
	if value == nil || *value == "" {
		return nil, nil
	}
	if len(*value) > MaxIdempotencyKeyLen {
		return nil, apperr.Field("idempotencyKey", fmt.Sprintf("at most %d characters", MaxIdempotencyKeyLen))
	}
	h := sha256.New()
	h.Write([]byte(op))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return &Key{Value: *value, Fingerprint: h.Sum(nil)}, nil
}

// Run executes one money-moving operation: fn runs in a database transaction and returns the
// ledger transaction it created. With a key, a retry returns the first result instead of running
// fn again (also when two retries race), and a different request under the same key is CONFLICT.
func (l *Ledger) Run(ctx context.Context, initiatorID int, key *Key, fn func(tx *Tx) (*ent.Transaction, error)) (*ent.Transaction, error) {
	return l.RunAfter(ctx, initiatorID, key, nil, fn)
}

// RunAfter is Run with a first step: before, when not nil, runs after the idempotency check and
// before the database transaction. Reads that need no transaction (resolving the recipient) go
// there, so that the transaction does not wait on them, and a retry under a key still returns
// the first result when they would now fail.
func (l *Ledger) RunAfter(ctx context.Context, initiatorID int, key *Key, before func(context.Context) error,
	fn func(tx *Tx) (*ent.Transaction, error)) (*ent.Transaction, error) {
	// Keys are unique per initiator; without one the database could not tell two requests apart.
	if key != nil && initiatorID == 0 {
		return nil, errors.New("ledger: an idempotency key needs an initiator")
	}
	for attempt := 0; ; attempt++ {
		if prev, err := l.lookupKey(ctx, initiatorID, key); prev != nil || err != nil {
			return prev, err
		}
		if before != nil {
			if err := before(ctx); err != nil {
				return nil, err
			}
		}
		changed, settled := make([]int, 0, 2), make([]int, 0, 1)
		txn, err := store.InTx(ctx, l.Client, func(tx *ent.Tx) (*ent.Transaction, error) {
			// InTx may run this again after a deadlock: only the last run counts.
			changed, settled = changed[:0], settled[:0]
			return fn(withChanges(tx, &changed, &settled))
		})
		if err == nil {
			l.notify(changed, settled)
			if l.OnTransaction != nil && txn != nil {
				l.OnTransaction(txn)
			}
			return txn, nil
		}
		// A concurrent request with the same key won the insert: read its result.
		if key != nil && attempt == 0 && store.IsUniqueViolation(err) {
			continue
		}
		return nil, err
	}
}

// lookupKey returns the transaction an earlier request under key created (nil when none), or
// CONFLICT when that request was a different one.
func (l *Ledger) lookupKey(ctx context.Context, initiatorID int, key *Key) (*ent.Transaction, error) {
	if key == nil {
		return nil, nil
	}
	prev, err := l.Client.Transaction.Query().
		Where(transaction.InitiatorID(initiatorID), transaction.IdempotencyKey(key.Value)).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("ledger: idempotency lookup: %w", err)
	case string(prev.RequestHash) != string(key.Fingerprint):
		return nil, errKeyConflict()
	}
	return prev, nil
}

func errKeyConflict() error {
	return apperr.ConflictOn("idempotencyKey", "this idempotency key was used for a different request")
}

// Apply runs fn in a database transaction for operations that change accounts but are not covered
// by Run (posting or voiding an existing pending transaction), and notifies after the commit.
func (l *Ledger) Apply(ctx context.Context, fn func(tx *Tx) error) error {
	changed, settled := make([]int, 0, 2), make([]int, 0, 1)
	_, err := store.InTx(ctx, l.Client, func(tx *ent.Tx) (struct{}, error) {
		changed, settled = changed[:0], settled[:0] // as in Run: only the last run counts
		return struct{}{}, fn(withChanges(tx, &changed, &settled))
	})
	if err == nil {
		l.notify(changed, settled)
	}
	return err
}

func (l *Ledger) notify(accountIDs, transactionIDs []int) {
	if l.OnCommit != nil && len(accountIDs) > 0 {
		l.OnCommit(accountIDs)
	}
	if l.OnTransactionsCommit != nil && len(transactionIDs) > 0 {
		l.OnTransactionsCommit(transactionIDs)
	}
}

// Tx is a database transaction that remembers which accounts it changed, so that they are
// announced once it commits. It embeds *ent.Tx for the caller's own reads and writes.
type Tx struct {
	*ent.Tx
	changed *[]int
	settled *[]int
}

func withChanges(tx *ent.Tx, changed, settled *[]int) *Tx {
	return &Tx{Tx: tx, changed: changed, settled: settled}
}

func (tx *Tx) touch(accountIDs ...int) { *tx.changed = append(*tx.changed, accountIDs...) }

// statusChanged records a transaction that was created or changed status.
func (tx *Tx) statusChanged(transactionID int) { *tx.settled = append(*tx.settled, transactionID) }

// Transfer records m in tx: posted at once, or reserved when m.Pending.
func (l *Ledger) Transfer(ctx context.Context, tx *Tx, m Move) (*ent.Transaction, error) {
	if err := l.checkMove(m); err != nil {
		return nil, err
	}
	now := l.Now()
	txn := &ent.Transaction{
		Kind: m.Kind, Status: transaction.StatusPOSTED, Amount: m.AmountMinor, Memo: m.Memo,
		DebitAccountID: m.DebitID, CreditAccountID: m.CreditID, CreatedAt: now, TargetDate: m.TargetDate,
	}
	if m.Pending {
		txn.Status = transaction.StatusPENDING
	} else {
		txn.PostedAt = &now
	}
	if m.InitiatorID != 0 {
		txn.InitiatorID = &m.InitiatorID
	}
	if m.Key != nil {
		txn.IdempotencyKey, txn.RequestHash = &m.Key.Value, m.Key.Fingerprint
	}
	found, err := l.queryRow(ctx, tx, l.statements().insertTransaction, []any{
		string(txn.Kind), string(txn.Status), txn.Amount, txn.Memo, txn.DebitAccountID, txn.CreditAccountID,
		txn.CreatedAt, txn.TargetDate, txn.PostedAt, txn.InitiatorID, txn.IdempotencyKey, txn.RequestHash,
	}, &txn.ID)
	if err != nil || !found {
		return nil, fmt.Errorf("ledger: insert transaction: %w (found %v)", err, found)
	}
	txn = tx.Client().Transaction.Bind(txn)
	tx.statusChanged(txn.ID)
	if m.Pending {
		if err := l.reserve(ctx, tx, m.DebitID, m.AmountMinor); err != nil {
			return nil, err
		}
		return txn, nil
	}
	if err := l.post(ctx, tx, txn, false); err != nil {
		return nil, err
	}
	return txn, nil
}

// checkMove is what a move must satisfy before it touches the database.
func (l *Ledger) checkMove(m Move) error {
	if m.AmountMinor <= 0 {
		return apperr.Field("amount", "must be positive")
	}
	if err := l.Currency.WithinBound(m.AmountMinor); err != nil {
		return apperr.Field("amount", err.Error())
	}
	if m.DebitID == m.CreditID {
		return apperr.Field("recipient", "cannot move money to the same account")
	}
	if utf8.RuneCountInString(m.Memo) > MaxMemoLen {
		return apperr.Field("memo", fmt.Sprintf("at most %d characters", MaxMemoLen))
	}
	return nil
}

// Post books a pending transaction of one of kinds. Anything else (not pending, or of another
// kind) is PRECONDITION_FAILED and changes nothing: each kind of pending transaction has its own
// flow (a cash-out moves only with its TAN), and naming the kinds here keeps one flow from
// settling another's transaction.
func (l *Ledger) Post(ctx context.Context, tx *Tx, txnID int, kinds ...transaction.Kind) (*ent.Transaction, error) {
	txn, err := l.settle(ctx, tx, txnID, transaction.StatusPOSTED, kinds)
	if err != nil {
		return nil, err
	}
	if err := l.post(ctx, tx, txn, true); err != nil {
		return nil, err
	}
	return txn, nil
}

// Void cancels a pending transaction of one of kinds and releases its reservation; as Post,
// anything else is PRECONDITION_FAILED.
func (l *Ledger) Void(ctx context.Context, tx *Tx, txnID int, kinds ...transaction.Kind) (*ent.Transaction, error) {
	txn, err := l.settle(ctx, tx, txnID, transaction.StatusVOIDED, kinds)
	if err != nil {
		return nil, err
	}
	n, err := l.exec(ctx, tx, l.statements().release, -txn.Amount, txn.DebitAccountID, txn.Amount)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, fmt.Errorf("ledger: transaction %d: reservation missing on account %d", txn.ID, txn.DebitAccountID)
	}
	tx.touch(txn.DebitAccountID)
	return txn, nil
}

// settle moves a pending transaction of one of kinds to its final status. The conditional update
// takes the transaction's row lock, so of two racing settlements exactly one proceeds, and the
// kind is part of the condition, so no flow settles another flow's transaction.
func (l *Ledger) settle(ctx context.Context, tx *Tx, txnID int, to transaction.Status, kinds []transaction.Kind) (*ent.Transaction, error) {
	if len(kinds) == 0 {
		return nil, fmt.Errorf("ledger: settle %d: no kinds named", txnID)
	}
	now := l.Now()
	upd := tx.Transaction.Update().
		Where(transaction.ID(txnID), transaction.StatusEQ(transaction.StatusPENDING), transaction.KindIn(kinds...)).
		SetStatus(to)
	if to == transaction.StatusPOSTED {
		upd.SetPostedAt(now)
	} else {
		upd.SetVoidedAt(now)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: settle %d: %w", txnID, err)
	}
	if n == 0 {
		return nil, l.unsettleable(ctx, tx, txnID, kinds)
	}
	tx.statusChanged(txnID)
	return tx.Transaction.Get(ctx, txnID)
}

// unsettleable says why settle matched no row: the transaction is of another flow, or no longer
// pending. Both are PRECONDITION_FAILED.
func (l *Ledger) unsettleable(ctx context.Context, tx *Tx, txnID int, kinds []transaction.Kind) error {
	txn, err := tx.Transaction.Get(ctx, txnID)
	if err != nil {
		return fmt.Errorf("ledger: settle %d: %w", txnID, err)
	}
	if !slices.Contains(kinds, txn.Kind) {
		return ErrOtherFlow(txn.Kind)
	}
	return apperr.New(apperr.PreconditionFailed, "the transaction is no longer pending")
}

// ErrOtherFlow is the error for settling a transaction of kind outside its own flow.
func ErrOtherFlow(kind transaction.Kind) error {
	if kind == transaction.KindCASHOUT {
		return apperr.New(apperr.PreconditionFailed, "a cash-out's transaction moves only through confirmCashout (with its TAN) and abortCashout")
	}
	return apperr.New(apperr.PreconditionFailed, "a %s transaction cannot be settled here", kind)
}

func (l *Ledger) reserve(ctx context.Context, tx *Tx, accountID int, amountMinor int64) error {
	n, err := l.exec(ctx, tx, l.statements().reserve, amountMinor, accountID, amountMinor)
	if err != nil {
		return err
	}
	if n != 1 {
		return apperr.New(apperr.InsufficientFunds, "insufficient funds")
	}
	tx.touch(accountID)
	return nil
}

type leg struct {
	accountID      int
	counterpartyID int
	amountMinor    int64 // signed
	balanceAfter   int64
	version        int64
}

// post writes both entries of txn and changes both balances. fromReserve says the debit was
// reserved when the transaction was created.
func (l *Ledger) post(ctx context.Context, tx *Tx, txn *ent.Transaction, fromReserve bool) error {
	legs := []*leg{
		{accountID: txn.DebitAccountID, counterpartyID: txn.CreditAccountID, amountMinor: -txn.Amount},
		{accountID: txn.CreditAccountID, counterpartyID: txn.DebitAccountID, amountMinor: txn.Amount},
	}
	// Id order: two postings that touch the same two accounts lock them in the same order.
	ordered := []*leg{legs[0], legs[1]}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].accountID < ordered[j].accountID })
	q := l.statements()
	for _, lg := range ordered {
		var query string
		var args []any
		switch {
		case lg.amountMinor < 0 && fromReserve:
			query, args = q.debitReserved, []any{lg.amountMinor, lg.amountMinor, lg.accountID, -lg.amountMinor}
		case lg.amountMinor < 0:
			query, args = q.debit, []any{lg.amountMinor, lg.accountID, -lg.amountMinor}
		default:
			query, args = q.credit, []any{lg.amountMinor, lg.accountID}
		}
		found, err := l.queryRow(ctx, tx, query, args, &lg.balanceAfter, &lg.version)
		if err != nil {
			return err
		}
		if !found {
			if lg.amountMinor < 0 && !fromReserve {
				return apperr.New(apperr.InsufficientFunds, "insufficient funds")
			}
			return apperr.New(apperr.PreconditionFailed, "the account is closed")
		}
	}
	// Booked after the row locks are held, so booking times follow version order per account.
	bookedAt := l.Now()
	args := make([]any, 0, 18)
	for _, lg := range legs {
		args = append(args, lg.accountID, txn.ID, lg.counterpartyID, string(entryType(txn.Kind, lg.amountMinor)),
			lg.amountMinor, txn.Memo, lg.balanceAfter, lg.version, bookedAt)
	}
	if _, err := tx.ExecContext(ctx, q.insertEntries, args...); err != nil {
		return fmt.Errorf("ledger: insert entries: %w", err)
	}
	tx.touch(legs[0].accountID, legs[1].accountID)
	return nil
}

func entryType(kind transaction.Kind, amountMinor int64) entry.Type {
	switch {
	case amountMinor < 0:
		return entry.TypeSEND
	case kind == transaction.KindCREATION:
		return entry.TypeCREATION
	default:
		return entry.TypeRECEIVE
	}
}

func (l *Ledger) exec(ctx context.Context, tx *Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	return res.RowsAffected()
}

func (l *Ledger) queryRow(ctx context.Context, tx *Tx, query string, args []any, dest ...any) (bool, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dest...); err != nil {
		return false, fmt.Errorf("ledger: scan: %w", err)
	}
	return true, rows.Close()
}

// statements are PostingSQL in the ledger's dialect, rewritten once.
func (l *Ledger) statements() *postingSQL {
	l.sqlOnce.Do(func() { l.sql = postingSQLFor(l.Dialect) })
	return &l.sql
}
