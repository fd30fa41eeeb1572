// Package graph holds coffer's GraphQL resolvers. They stay thin: read the viewer, call the
// domain package that owns the rule, map the result.
package graph

import (
	"context"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"coffer/ent"
	"coffer/graph/access"
	"coffer/graph/apperr"
	"coffer/graph/cashout"
	"coffer/graph/census"
	"coffer/graph/coins"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/live"
	"coffer/graph/model"
	"coffer/graph/money"
	"coffer/graph/products"
)

// Resolver is the root of the resolvers: the services they apply.
type Resolver struct {
	Client   *ent.Client
	Currency money.Currency
	Ledger   *ledger.Ledger
	Identity *identity.Service
	Coins    *coins.Service
	Products *products.Service
	Cashouts *cashout.Service
	Census   *census.Service
	Limits   AuthLimits
	// Live is the subscription hub (balanceChanged, transactionUpdated).
	Live *live.Hub
}

// money renders minor units as the API's Money.
func (r *Resolver) money(amountMinor int64) *model.Money {
	return &model.Money{Amount: r.Currency.Format(amountMinor), Currency: r.Currency.Code}
}

// positiveAmount parses a positive input amount (Decimal or "CUR:value"), naming field on error.
func (r *Resolver) positiveAmount(field, s string) (int64, error) {
	v, err := r.Currency.ParsePositive(s)
	if err == nil {
		err = r.Currency.WithinBound(v)
	}
	if err != nil {
		return 0, apperr.Field(field, err.Error())
	}
	return v, nil
}

// minorKey renders an amount for an idempotency fingerprint: "10" and "10.00" are one request.
func minorKey(amountMinor int64) string { return strconv.FormatInt(amountMinor, 10) }

// maxPageSize bounds every connection page.
const maxPageSize = 100

// defaultPageSize applies when a client gives neither first nor last.
const defaultPageSize = 50

// pageArgs applies the page-size bounds to first/last.
func pageArgs(first, last *int) (*int, *int, error) {
	f := apperr.Fields{}
	if first != nil && (*first < 0 || *first > maxPageSize) {
		f.Add("first", "must be between 0 and 100")
	}
	if last != nil && (*last < 0 || *last > maxPageSize) {
		f.Add("last", "must be between 0 and 100")
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	if first == nil && last == nil {
		n := defaultPageSize
		first = &n
	}
	return first, last, nil
}

var errNotFound = apperr.New(apperr.NotFound, "not found")

// visibleNode loads a node by id and applies canSee.
func (r *Resolver) visibleNode(ctx context.Context, id int) (ent.Noder, error) {
	v, err := identity.Require(ctx)
	if err != nil {
		return nil, err
	}
	// Noder only tells the type (reading the id by primary key): with the field's own selection
	// it would also eager-load the selected edges (every transaction's entries, nested), which
	// fullNode then drops for the whole row that authorization needs.
	n, err := r.Client.Noder(graphql.WithFieldContext(ctx, &graphql.FieldContext{}), id)
	switch {
	case ent.IsNotFound(err), err != nil && strings.Contains(err.Error(), "cannot resolve table"):
		return nil, errNotFound
	case err != nil:
		return nil, err
	}
	if n, err = r.fullNode(ctx, n); err != nil {
		return nil, err
	}
	ok, err := access.CanSee(ctx, r.Client, v, n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound
	}
	return n, nil
}

// fullNode reloads a node with all its columns.
func (r *Resolver) fullNode(ctx context.Context, n ent.Noder) (ent.Noder, error) {
	switch n := n.(type) {
	case *ent.User:
		return r.Client.User.Get(ctx, n.ID)
	case *ent.Customer:
		return r.Client.Customer.Get(ctx, n.ID)
	case *ent.Account:
		return r.Client.Account.Get(ctx, n.ID)
	case *ent.Entry:
		return r.Client.Entry.Get(ctx, n.ID)
	case *ent.Transaction:
		return r.Client.Transaction.Get(ctx, n.ID)
	case *ent.Card:
		return r.Client.Card.Get(ctx, n.ID)
	case *ent.SavingsGoal:
		return r.Client.SavingsGoal.Get(ctx, n.ID)
	case *ent.Bill:
		return r.Client.Bill.Get(ctx, n.ID)
	case *ent.Cashout:
		return r.Client.Cashout.Get(ctx, n.ID)
	case *ent.Person:
		return r.Client.Person.Get(ctx, n.ID)
	case *ent.Procedure:
		return r.Client.Procedure.Get(ctx, n.ID)
	case *ent.Scope:
		return r.Client.Scope.Get(ctx, n.ID)
	}
	return nil, errNotFound
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
