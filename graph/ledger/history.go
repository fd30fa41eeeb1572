package ledger

import (
	"context"
	"fmt"
	"time"

	"entgo.io/contrib/entgql"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/entry"
	"coffer/ent/transaction"
)

// CustomerTransactions is the query of a customer's own transactions, on either side, of any of
// their accounts (main, cards, savings), optionally only those in status. The accounts are read
// first (one statement), so that the page is an index look-up on each side (debit_account_id,
// status / credit_account_id, status) rather than a scan of the ledger with subqueries.
func CustomerTransactions(ctx context.Context, client *ent.Client, customerID int, status *transaction.Status) (*ent.TransactionQuery, error) {
	ids, err := client.Account.Query().Where(account.OwnerID(customerID)).IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: customer accounts: %w", err)
	}
	q := client.Transaction.Query().
		Where(transaction.Or(transaction.DebitAccountIDIn(ids...), transaction.CreditAccountIDIn(ids...)))
	if status != nil {
		q.Where(transaction.StatusEQ(*status))
	}
	return q, nil
}

// NewestFirst orders transaction pages by id, descending: ids grow with time, so newest first.
var NewestFirst = &ent.TransactionOrder{Direction: entgql.OrderDirectionDesc, Field: ent.DefaultTransactionOrder.Field}

// EntryFilter narrows an account's statement; nil fields do not narrow.
type EntryFilter struct {
	Type *entry.Type
	// Since and Until bound the booking time: Since included, Until excluded.
	Since, Until *time.Time
}

// Narrow applies f to a statement query (ent.WithEntryFilter(f.Narrow) pages the result).
func (f EntryFilter) Narrow(q *ent.EntryQuery) (*ent.EntryQuery, error) {
	if f.Type != nil {
		q.Where(entry.TypeEQ(*f.Type))
	}
	if f.Since != nil {
		q.Where(entry.BookedAtGTE(*f.Since))
	}
	if f.Until != nil {
		q.Where(entry.BookedAtLT(*f.Until))
	}
	return q, nil
}

// StatementOrder orders statement pages by the account's version: newest first unless dir (nil:
// descending) says otherwise.
func StatementOrder(dir *entgql.OrderDirection) *ent.EntryOrder {
	o := &ent.EntryOrder{Direction: entgql.OrderDirectionDesc, Field: ent.EntryOrderFieldVersion}
	if dir != nil {
		o.Direction = *dir
	}
	return o
}

// TransactionFilter narrows the administrators' list of transactions; nil fields do not narrow.
type TransactionFilter struct {
	Status *transaction.Status
	Kind   *transaction.Kind
}

// Narrow applies f to a transaction query (ent.WithTransactionFilter(f.Narrow) pages the result).
func (f TransactionFilter) Narrow(q *ent.TransactionQuery) (*ent.TransactionQuery, error) {
	if f.Status != nil {
		q.Where(transaction.StatusEQ(*f.Status))
	}
	if f.Kind != nil {
		q.Where(transaction.KindEQ(*f.Kind))
	}
	return q, nil
}
