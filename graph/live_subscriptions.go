// The subscriptions of graph/live.graphqls: authorized here, served by the live hub.

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"coffer/ent"
	"coffer/graph/access"
	"coffer/graph/identity"
	"coffer/graph/live"
)

// balanceChanged authorizes the accounts and hands the subscription to the live hub.
func (r *Resolver) balanceChanged(ctx context.Context, accountID, afterVersion *int) (<-chan *live.BalanceEvent, error) {
	v, err := identity.Require(ctx)
	if err != nil {
		return nil, err
	}
	f := live.BalanceFilter{UserID: v.UserID, OwnerID: v.CustomerID, OnError: r.subscriptionError(ctx)}
	if accountID != nil {
		acc, err := r.Client.Account.Get(ctx, *accountID)
		switch {
		case ent.IsNotFound(err):
			return nil, errNotFound
		case err != nil:
			return nil, err
		}
		// Another customer's account is NOT_FOUND, exactly as a missing one.
		if ok, err := access.CanSee(ctx, r.Client, v, acc); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			return nil, errNotFound
		}
		f.AccountIDs = []int{acc.ID}
	}
	if afterVersion != nil {
		after := int64(*afterVersion)
		f.AfterVersion = &after
	}
	return r.Live.Balances(ctx, f)
}

// transactionUpdated follows the viewer's (a customer's) transactions.
func (r *Resolver) transactionUpdated(ctx context.Context) (<-chan *ent.Transaction, error) {
	v, err := identity.RequireCustomer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Live.Transactions(ctx, live.TransactionFilter{
		UserID: v.UserID, OwnerID: v.CustomerID, OnError: r.subscriptionError(ctx)})
}

// subscriptionError sends an error that ends a running subscription to its client, with the same
// codes as every other error.
func (r *Resolver) subscriptionError(ctx context.Context) func(error) {
	return func(err error) {
		transport.AddSubscriptionError(ctx, ErrorPresenter(ctx, err))
	}
}
