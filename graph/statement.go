package graph

import (
	"context"
	"encoding/hex"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/customer"
	"coffer/graph/coins"
	"coffer/graph/model"
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

// counterparty describes the other side of an entry: its holder's name, the e-mail when it is a
// known user, the public key otherwise, and the IBAN.
func (r *Resolver) counterparty(ctx context.Context, e *ent.Entry) (*model.Counterparty, error) {
	acc := e.Edges.CounterpartyAccount
	if acc == nil {
		var err error
		acc, err = r.counterpartyAccount(ctx, e.CounterpartyAccountID)
		if err != nil {
			return nil, err
		}
	}
	name := acc.HolderName
	cp := &model.Counterparty{Name: &name, Iban: acc.Iban}
	if c := acc.Edges.Owner; c != nil {
		if u := c.Edges.User; u != nil && u.Email != nil {
			cp.Email = u.Email
		} else if key := coins.PublicKeyOf(c); key != nil {
			k := hex.EncodeToString(key)
			cp.PublicKey = &k
		}
	}
	return cp, nil
}
