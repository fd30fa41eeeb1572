// Statement lines' counterparties (graph/ledger.graphqls): loaded once per page.

package graph

import (
	"context"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/customer"
	"coffer/graph/model"
	"coffer/graph/products"
)

// loadCounterparties loads the other side's account, customer and user for a whole statement
// page at once: three queries, whatever the page size.
func (r *Resolver) loadCounterparties(ctx context.Context, conn *ent.EntryConnection) error {
	if len(conn.Edges) == 0 {
		return nil
	}
	ids := make([]int, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		ids = append(ids, e.Node.CounterpartyAccountID)
	}
	accs, err := r.Client.Account.Query().
		Where(account.IDIn(ids...)).
		WithOwner(func(q *ent.CustomerQuery) {
			q.Select(customer.FieldID, customer.FieldUserID, customer.FieldPublicKey).WithUser()
		}).
		All(ctx)
	if err != nil {
		return err
	}
	byID := make(map[int]*ent.Account, len(accs))
	for _, a := range accs {
		byID[a.ID] = a
	}
	for _, e := range conn.Edges {
		e.Node.Edges.CounterpartyAccount = byID[e.Node.CounterpartyAccountID]
	}
	return nil
}

// counterparty describes the other side of an entry (products.CounterpartyOf has the rule).
func (r *Resolver) counterparty(ctx context.Context, e *ent.Entry) (*model.Counterparty, error) {
	acc := e.Edges.CounterpartyAccount
	if acc == nil {
		var err error
		acc, err = r.counterpartyAccount(ctx, e.CounterpartyAccountID)
		if err != nil {
			return nil, err
		}
	}
	var c *ent.Card
	if acc.Kind == account.KindCARD {
		var err error
		if c, err = products.CardOfAccount(ctx, r.Client, acc.ID); err != nil {
			return nil, err
		}
	}
	cp := products.CounterpartyOf(acc, c)
	return &model.Counterparty{Name: cp.Name, Email: cp.Email, PublicKey: cp.PublicKey, Iban: cp.IBAN, CardNumber: cp.CardNumber}, nil
}
