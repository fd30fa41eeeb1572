// Card and savings moves (graph/products.graphqls): client input turned into products requests.

package graph

import (
	"context"
	"strconv"

	"coffer/ent"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/model"
	"coffer/graph/products"
)

// cardMove applies fundCard or defundCard.
func (r *Resolver) cardMove(ctx context.Context, op string, in model.CardMoveInput,

	move func(context.Context, *identity.Viewer, products.CardMove) (*ent.Transaction, error),

) (*ent.Transaction, error) {
	v, err := identity.RequireCustomer(ctx)
	if err != nil {
		return nil, err
	}
	amount, err := r.positiveAmount("amount", in.Amount)
	if err != nil {
		return nil, err
	}
	key, err := ledger.NewKey(in.IdempotencyKey, op, strconv.Itoa(in.CardID), minorKey(amount))
	if err != nil {
		return nil, err
	}
	return move(ctx, v, products.CardMove{CardID: in.CardID, AmountMinor: amount, Key: key})
}

// savingsMove applies topUpSavings or withdrawSavings.
func (r *Resolver) savingsMove(ctx context.Context, op string, in model.SavingsMoveInput,

	move func(context.Context, *identity.Viewer, products.SavingsMove) (*ent.Transaction, error),

) (*ent.Transaction, error) {
	v, err := identity.RequireCustomer(ctx)
	if err != nil {
		return nil, err
	}
	amount, err := r.positiveAmount("amount", in.Amount)
	if err != nil {
		return nil, err
	}
	key, err := ledger.NewKey(in.IdempotencyKey, op, strconv.Itoa(in.SavingsGoalID), strconv.Itoa(in.CardID), minorKey(amount))
	if err != nil {
		return nil, err
	}
	return move(ctx, v, products.SavingsMove{GoalID: in.SavingsGoalID, CardID: in.CardID, AmountMinor: amount, Key: key})
}

// withCustomerCard applies freezeCard or unfreezeCard to one of the viewer's cards.
func (r *Resolver) withCustomerCard(ctx context.Context, cardID int,

	apply func(context.Context, *identity.Viewer, int) (*ent.Card, error),

) (*ent.Card, error) {
	v, err := identity.RequireCustomer(ctx)
	if err != nil {
		return nil, err
	}
	return apply(ctx, v, cardID)
}
