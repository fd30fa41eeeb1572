package ledger

import (
	"context"
	"fmt"
	"time"

	"coffer/ent"
	"coffer/graph/apperr"
	"coffer/graph/store"
)

// Hooked postings (docs/ledger.md): every movement that is more than a Move between two accounts
// (a reservation, a settlement, a card, savings or bill move, a creation, a cash-out) goes
// through the poster as a Hook: the function that Run or Apply would run in a transaction of its
// own. In a batch it runs in the batch's transaction under a SAVEPOINT of its own, so its checks,
// its posting and its side rows (a bill marked paid, a card's spend, a cash-out's row) commit or
// roll back together, without touching the other postings of the batch.

// Hook checks, posts (Transfer, Post or Void on tx) and writes a posting's own rows, as the body
// of Run. It must use the ctx it is given (the batch's: the request's values, not its
// cancellation, since the transaction serves many requests), and may run more than once (a batch
// retried after a deadlock, or its posting then run alone): only the last run counts.
type Hook func(ctx context.Context, tx *Tx) (*ent.Transaction, error)

// SubmitRun is Run through the poster: fn runs in a batch's transaction (or, alone, in its own).
func (l *Ledger) SubmitRun(ctx context.Context, initiatorID int, key *Key, fn Hook) (*ent.Transaction, error) {
	return l.SubmitRunAfter(ctx, initiatorID, key, nil, fn)
}

// SubmitRunAfter is RunAfter through the poster: the key is looked up, before runs, then fn is
// submitted as a hooked posting.
func (l *Ledger) SubmitRunAfter(ctx context.Context, initiatorID int, key *Key, before func(context.Context) error,
	fn Hook) (*ent.Transaction, error) {
	if l.batcher == nil {
		return l.RunAfter(ctx, initiatorID, key, before, func(tx *Tx) (*ent.Transaction, error) { return fn(ctx, tx) })
	}
	return l.SubmitAfter(ctx, initiatorID, key, func(ctx context.Context) (Posting, error) {
		if before != nil {
			if err := before(ctx); err != nil {
				return Posting{}, err
			}
		}
		return Posting{Move: Move{InitiatorID: initiatorID, Key: key}, Hook: fn}, nil
	})
}

// SubmitApply is Apply through the poster, for a movement that creates no transaction (a pending
// one posted or voided): fn runs as a hooked posting and returns the transaction it settled.
func (l *Ledger) SubmitApply(ctx context.Context, fn Hook) (*ent.Transaction, error) {
	r, err := l.Submit(ctx, Posting{Hook: fn, settles: true})
	return store.Detach(r.Transaction), err
}

// applyAlone runs a hooked posting in a transaction of its own, as Run (or Apply) would.
func (l *Ledger) applyAlone(ctx context.Context, p Posting) (*ent.Transaction, error) {
	if !p.settles {
		return l.Run(ctx, p.InitiatorID, p.Key, func(tx *Tx) (*ent.Transaction, error) { return p.Hook(ctx, tx) })
	}
	var txn *ent.Transaction
	err := l.Apply(ctx, func(tx *Tx) (err error) {
		txn, err = p.Hook(ctx, tx)
		return err
	})
	return store.Detach(txn), err
}

// runHooks runs the batch's hooked postings in order, each under a savepoint. A posting whose
// hook refuses it (a client's error) is rolled back to its savepoint and gets that error; one
// that fails otherwise (a database error, its key committed meanwhile) is rolled back too and
// marked to run alone after the batch, so that it gets the answer it would have had alone.
func (l *Ledger) runHooks(ctx context.Context, tx *ent.Tx, batch []*waiting, out *batchOutcome) error {
	deadline, _ := ctx.Deadline()
	lt := withChanges(tx, &out.changed, &out.settled)
	for i, w := range batch {
		if w.p.Hook == nil {
			continue
		}
		changed, settled := len(out.changed), len(out.settled)
		if _, err := tx.ExecContext(ctx, "SAVEPOINT posting"); err != nil {
			return fmt.Errorf("ledger: savepoint: %w", err)
		}
		txn, err := runHook(w.ctx, deadline, w.p.Hook, lt)
		if err == nil {
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT posting"); err != nil {
				return fmt.Errorf("ledger: release savepoint: %w", err)
			}
			out.answers[i] = answer{txn: txn}
			out.created[i] = txn != nil && !w.p.settles
			continue
		}
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT posting"); rerr != nil {
			return fmt.Errorf("ledger: rollback to savepoint: %w (after %v)", rerr, err)
		}
		out.changed, out.settled = out.changed[:changed], out.settled[:settled]
		if apperr.CodeOf(err) == apperr.Internal {
			out.alone[i] = true
			continue
		}
		out.answers[i] = answer{err: err}
	}
	return nil
}

// runHook runs h with the request's values but the batch's deadline, and turns a panic into an
// error of its posting (it would otherwise end the poster, and with it every request).
func runHook(reqCtx context.Context, deadline time.Time, h Hook, tx *Tx) (txn *ent.Transaction, err error) {
	ctx, cancel := context.WithDeadline(context.WithoutCancel(reqCtx), deadline)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			txn, err = nil, fmt.Errorf("ledger: posting hook panicked: %v", r)
		}
	}()
	return h(ctx, tx)
}
