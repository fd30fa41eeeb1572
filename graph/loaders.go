package graph

import (
	"coffer/graph/access"
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/identity"
)

// loaderWait is how long a loader gathers keys before its one query: the resolvers of a list's
// items start together, so a short wait collects all of them.
const loaderWait = time.Millisecond

// loaders batch what a query reads per object into one statement per batch: a page of transactions
// or nodes(ids:) asking for entries read them with one query, not one per transaction.
type loaders struct {
	entries      *dataloadgen.Loader[int, []*ent.Entry]
	transactions *dataloadgen.Loader[int, *ent.Transaction]
	accounts     *dataloadgen.Loader[int, *ent.Account] // counterparties, with owner and user
}

type loadersKey struct{}

// WithLoaders gives a query operation its own loaders (their cache lives as long as the
// operation). Mutations and subscriptions get none and read directly: a mutation may change what
// a cache holds, and a subscription lives for hours.
func (r *Resolver) WithLoaders(ctx context.Context) context.Context {
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Query {
		return ctx
	}
	wait := dataloadgen.WithWait(loaderWait)
	l := &loaders{
		entries:      dataloadgen.NewMappedLoader(r.loadEntries, wait),
		transactions: dataloadgen.NewMappedLoader(r.loadTransactions, wait),
		accounts:     dataloadgen.NewMappedLoader(r.loadCounterpartyAccounts, wait),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// entriesOf returns the entries of a transaction that the viewer may see, oldest first: all of
// them for an administrator, only the lines of the viewer's own accounts otherwise (another
// party's line would show their balance).
func (r *Resolver) entriesOf(ctx context.Context, transactionID int) ([]*ent.Entry, error) {
	if l := loadersFrom(ctx); l != nil {
		return l.entries.Load(ctx, transactionID)
	}
	byTransaction, err := r.loadEntries(ctx, []int{transactionID})
	return byTransaction[transactionID], err
}

// transactionOf returns an entry's transaction: eager-loaded, batched, or read alone.
func (r *Resolver) transactionOf(ctx context.Context, e *ent.Entry) (*ent.Transaction, error) {
	if t, err := e.Edges.TransactionOrErr(); err == nil {
		return t, nil
	}
	if l := loadersFrom(ctx); l != nil {
		return l.transactions.Load(ctx, e.TransactionID)
	}
	return e.Transaction(ctx)
}

// counterpartyAccount returns an account with its owner and the owner's user, batched when the
// operation has loaders.
func (r *Resolver) counterpartyAccount(ctx context.Context, id int) (*ent.Account, error) {
	if l := loadersFrom(ctx); l != nil {
		return l.accounts.Load(ctx, id)
	}
	accs, err := r.loadCounterpartyAccounts(ctx, []int{id})
	if err != nil {
		return nil, err
	}
	if a := accs[id]; a != nil {
		return a, nil
	}
	return nil, &ent.NotFoundError{}
}

func (r *Resolver) loadTransactions(ctx context.Context, ids []int) (map[int]*ent.Transaction, error) {
	rows, err := r.Client.Transaction.Query().Where(transaction.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*ent.Transaction, len(rows))
	for _, t := range rows {
		byID[t.ID] = t
	}
	return byID, nil
}

func (r *Resolver) loadCounterpartyAccounts(ctx context.Context, ids []int) (map[int]*ent.Account, error) {
	rows, err := r.Client.Account.Query().Where(account.IDIn(ids...)).
		WithOwner(func(q *ent.CustomerQuery) { q.WithUser() }).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*ent.Account, len(rows))
	for _, a := range rows {
		byID[a.ID] = a
	}
	return byID, nil
}

// primeEntries loads the entries of many transactions in one batch, ahead of their resolvers.
func (r *Resolver) primeEntries(ctx context.Context, transactionIDs []int) error {
	l := loadersFrom(ctx)
	if l == nil || len(transactionIDs) == 0 {
		return nil
	}
	_, err := l.entries.LoadAll(ctx, transactionIDs)
	return err
}

// loadEntries reads the visible entries of the given transactions with one query (access.Entries).
func (r *Resolver) loadEntries(ctx context.Context, transactionIDs []int) (map[int][]*ent.Entry, error) {
	v, err := identity.Require(ctx)
	if err != nil {
		return nil, err
	}
	return access.Entries(ctx, r.Client, v, transactionIDs)
}

// visibleNodes loads each distinct id once (duplicates are allowed and share the node) and the
// entries of every visible transaction in one batch. A node the viewer may not see is null with a
// NOT_FOUND error, like a missing one.
func (r *Resolver) visibleNodes(ctx context.Context, ids []int) ([]ent.Noder, error) {
	loaded := make(map[int]ent.Noder, len(ids))
	var transactions []int
	for _, id := range ids {
		if _, done := loaded[id]; done {
			continue
		}
		n, err := r.visibleNode(ctx, id)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
		loaded[id] = n
		if t, ok := n.(*ent.Transaction); ok {
			transactions = append(transactions, t.ID)
		}
	}
	if selectsEntries(ctx) {
		if err := r.primeEntries(ctx, transactions); err != nil {
			return nil, err
		}
	}
	nodes := make([]ent.Noder, len(ids))
	for i, id := range ids {
		if nodes[i] = loaded[id]; nodes[i] == nil {
			graphql.AddError(ctx, errNotFound)
		}
	}
	return nodes, nil
}

// selectsEntries reports whether the current field's selection asks transactions for entries.
func selectsEntries(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, []string{"Transaction", "Node"}) {
		if f.Name == "entries" {
			return true
		}
	}
	return false
}
