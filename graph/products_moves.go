// Card and savings moves (graph/products.graphqls): client input turned into products requests.

package graph

import (
	"context"

	"coffer/ent"
	"coffer/graph/identity"
	"coffer/graph/model"
	"coffer/graph/products"
)

// cardMove applies fundCard or defundCard.
func (r *Resolver) cardMove(ctx context.Context, in model.CardMoveInput,
	move func(context.Context, *identity.Viewer, products.CardMove) (*ent.Transaction, error),
) (*ent.Transaction, error) {
	return move(ctx, identity.ViewerFrom(ctx), products.CardMove{CardID: in.CardID, Amount: in.Amount, IdempotencyKey: in.IdempotencyKey})
}

// savingsMove applies topUpSavings or withdrawSavings.
func (r *Resolver) savingsMove(ctx context.Context, in model.SavingsMoveInput,
	move func(context.Context, *identity.Viewer, products.SavingsMove) (*ent.Transaction, error),
) (*ent.Transaction, error) {
	return move(ctx, identity.ViewerFrom(ctx), products.SavingsMove{GoalID: in.SavingsGoalID, CardID: in.CardID, Amount: in.Amount, IdempotencyKey: in.IdempotencyKey})
}
