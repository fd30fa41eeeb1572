// Package access is the one rule for who may see an object reached by ID (node, nodes, a
// subscription's account): administrators see everything, a customer sees their own things and
// the transactions they are a party to, and anything else looks exactly like a missing object.
package access

import (
	"context"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/graph/identity"
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
