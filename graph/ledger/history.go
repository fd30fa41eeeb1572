package ledger

import (
	"context"
	"fmt"

	"entgo.io/contrib/entgql"

	"coffer/ent"
	"coffer/ent/account"
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
