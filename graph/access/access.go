// Package access is the one rule for who may see an object reached by ID (node, nodes, a
// subscription's account): administrators see everything, a customer sees their own things and
// the transactions they are a party to, and anything else looks exactly like a missing object.
package access

import (
	"context"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/entry"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
)

// CanSee reports whether v may see node.
func CanSee(ctx context.Context, client *ent.Client, v *identity.Viewer, node any) (bool, error) {
	if v.IsAdmin() {
		return true, nil
	}
	switch n := node.(type) {
	case *ent.User:
		return n.ID == v.UserID, nil
	case *ent.Customer:
		return v.CustomerID != 0 && n.ID == v.CustomerID, nil
	case *ent.Account:
		return OwnsAccount(v, n), nil
	case *ent.Entry:
		acc, err := client.Account.Get(ctx, n.AccountID)
		if err != nil {
			return false, err
		}
		return OwnsAccount(v, acc), nil
	case *ent.Transaction:
		return IsParty(ctx, client, v, n)
	case *ent.Card:
		return owns(v, n.CustomerID), nil
	case *ent.SavingsGoal:
		return owns(v, n.CustomerID) && n.DeletedAt == nil, nil
	case *ent.Bill:
		return owns(v, n.CustomerID), nil
	case *ent.Cashout:
		return owns(v, n.CustomerID), nil
	case *ent.Person, *ent.Procedure, *ent.Scope:
		// The people registry is for clerks and administrators only.
		return v.IsStaff(), nil
	}
	return false, nil
}

func owns(v *identity.Viewer, customerID int) bool {
	return v.CustomerID != 0 && customerID == v.CustomerID
}

// OwnsAccount reports whether a is one of v's accounts (system accounts belong to nobody).
func OwnsAccount(v *identity.Viewer, a *ent.Account) bool {
	return a.OwnerID != nil && owns(v, *a.OwnerID)
}

// IsParty reports whether one of the transaction's accounts belongs to v.
func IsParty(ctx context.Context, client *ent.Client, v *identity.Viewer, t *ent.Transaction) (bool, error) {
	if v.CustomerID == 0 {
		return false, nil
	}
	n, err := client.Account.Query().
		Where(account.IDIn(t.DebitAccountID, t.CreditAccountID), account.OwnerID(v.CustomerID)).
		Count(ctx)
	return n > 0, err
}

// Entries returns the entries of the given transactions that v may see, oldest first, with one
// query: all of them for an administrator, only the lines of v's own accounts otherwise (another
// party's line would show their balance). A transaction without visible entries maps to an empty
// list.
func Entries(ctx context.Context, client *ent.Client, v *identity.Viewer, transactionIDs []int) (map[int][]*ent.Entry, error) {
	q := client.Entry.Query().Where(entry.TransactionIDIn(transactionIDs...)).Order(ent.Asc(entry.FieldID))
	if !v.IsAdmin() {
		q.Where(entry.HasAccountWith(account.OwnerID(v.CustomerID)))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	byTransaction := make(map[int][]*ent.Entry, len(transactionIDs))
	for _, id := range transactionIDs {
		byTransaction[id] = []*ent.Entry{}
	}
	for _, e := range rows {
		byTransaction[e.TransactionID] = append(byTransaction[e.TransactionID], e)
	}
	return byTransaction, nil
}

var errNotFound = apperr.New(apperr.NotFound, "not found")

// CustomerTransactions is the query of customerID's transactions (ledger.CustomerTransactions) for
// v: a customer's transactions are theirs and the bank's to see; anyone else's look missing.
func CustomerTransactions(ctx context.Context, client *ent.Client, v *identity.Viewer, customerID int, status *transaction.Status) (*ent.TransactionQuery, error) {
	if !v.IsAdmin() && !owns(v, customerID) {
		return nil, errNotFound
	}
	return ledger.CustomerTransactions(ctx, client, customerID, status)
}
