package ledger

import (
	"context"
	"database/sql"
	"fmt"

	"coffer/ent"
	"coffer/graph/apperr"
)

// Payee names the credited account of a plain posting by what the client gave (a username)
// instead of its id. The name is resolved in the posting's own database transaction: a batch
// resolves the names of all its postings with one statement per book (PayeeBook.Resolve) before
// it locks the accounts, so that concurrent transfers share that statement instead of each
// making its own look-up before the batch.
//
// A named posting is answered in the order a transfer must answer in (graph/coins' Send): the
// debit first (INSUFFICIENT_FUNDS, so an amount the sender cannot pay never tells whether the
// name exists), then Refused, then the name (Missing when the book finds no account), then
// Accept, then the credited account (PRECONDITION_FAILED when closed since).
type Payee struct {
	Book PayeeBook
	Name string
	// Refused, when set, is the posting's answer once its debit has passed (a spent look-up budget).
	Refused error
	// Missing is the answer when the book finds no account for Name.
	Missing error
	// Accept, when set, may refuse the account found (the debited account itself).
	Accept func(creditID int) error
}

// PayeeBook finds the accounts that names denote.
type PayeeBook interface {
	// Resolve returns the account id of each name it finds, with one statement on q.
	Resolve(ctx context.Context, q Querier, names []string) (map[string]int, error)
}

// Querier runs a statement: a database transaction, or the client.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// resolvePayees resolves the names of the batch's named postings, one statement per book, and
// returns the account found for each posting (0 when none; unnamed postings keep their CreditID).
func resolvePayees(ctx context.Context, q Querier, batch []*waiting) ([]int, error) {
	names := map[PayeeBook][]string{}
	seen := map[PayeeBook]map[string]bool{}
	for _, w := range batch {
		// A refused posting's name is not looked up: its answer is known.
		if p := w.p.Payee; p != nil && p.Refused == nil && w.p.Hook == nil {
			if seen[p.Book] == nil {
				seen[p.Book] = map[string]bool{}
			}
			if !seen[p.Book][p.Name] {
				seen[p.Book][p.Name] = true
				names[p.Book] = append(names[p.Book], p.Name)
			}
		}
	}
	found := make(map[PayeeBook]map[string]int, len(names))
	for book, list := range names {
		ids, err := book.Resolve(ctx, q, list)
		if err != nil {
			return nil, fmt.Errorf("ledger: resolve payees: %w", err)
		}
		found[book] = ids
	}
	credits := make([]int, len(batch))
	for i, w := range batch {
		credits[i] = w.p.CreditID
		if p := w.p.Payee; p != nil && w.p.Hook == nil {
			credits[i] = found[p.Book][p.Name]
		}
	}
	return credits, nil
}

// payeeAnswer is a named posting's refusal before its credit is checked (nil: post it to creditID).
func payeeAnswer(p *Payee, debit *lockedAccount, amountMinor int64, creditID int) error {
	if err := canDebit(debit, amountMinor); err != nil {
		return err
	}
	if p.Refused != nil {
		return p.Refused
	}
	if creditID == 0 {
		if p.Missing != nil {
			return p.Missing
		}
		return apperr.New(apperr.NotFound, "payee not found")
	}
	if p.Accept != nil {
		return p.Accept(creditID)
	}
	return nil
}

// canDebit is the debit's check, as the Debit statement makes it: a closed (or missing) account
// matches no row either.
func canDebit(debit *lockedAccount, amountMinor int64) error {
	if debit == nil || !debit.open ||
		!(debit.allowNegative || debit.balance-debit.reserved+debit.debitLimit >= amountMinor) {
		return apperr.New(apperr.InsufficientFunds, "insufficient funds")
	}
	return nil
}

// postNamedAlone posts a named posting in a transaction of its own: the debited account read,
// the name resolved, then the transfer, answered in a batch's order.
func (l *Ledger) postNamedAlone(ctx context.Context, p Posting) (*ent.Transaction, error) {
	return l.Run(ctx, p.InitiatorID, p.Key, func(tx *Tx) (*ent.Transaction, error) {
		credits, err := resolvePayees(ctx, tx, []*waiting{{p: p}})
		if err != nil {
			return nil, err
		}
		debit, err := tx.Account.Get(ctx, p.DebitID)
		if err != nil && !ent.IsNotFound(err) {
			return nil, fmt.Errorf("ledger: read debited account: %w", err)
		}
		var locked *lockedAccount
		if debit != nil {
			locked = &lockedAccount{id: debit.ID, balance: debit.Balance, reserved: debit.Reserved,
				debitLimit: debit.DebitLimit, allowNegative: debit.AllowNegative, open: debit.ClosedAt == nil}
		}
		if err := payeeAnswer(p.Payee, locked, p.AmountMinor, credits[0]); err != nil {
			return nil, err
		}
		m := p.Move
		m.CreditID = credits[0]
		// The Debit statement checks the funds again, under the row's lock.
		return l.Transfer(ctx, tx, m)
	})
}
