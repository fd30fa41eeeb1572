package products

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/savingsgoal"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/store"
)

// MaxSavingsGoals bounds the goals one customer keeps.
const MaxSavingsGoals = 20

var errGoalNotFound = apperr.New(apperr.NotFound, "savings goal not found")

// CreateSavingsGoal opens a SAVINGS account for a goal of goalMinor (> 0).
func (s *Service) CreateSavingsGoal(ctx context.Context, v *identity.Viewer, name, goal string) (*ent.SavingsGoal, error) {
	f := apperr.Fields{}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		f.Add("name", "required, at most 100 characters")
	}
	goalMinor := s.positive(f, "goal", goal)
	if err := f.Err(); err != nil {
		return nil, err
	}
	g, err := store.InTx(ctx, s.client(), func(tx *ent.Tx) (*ent.SavingsGoal, error) {
		// Counted under the owner's row lock: concurrent creations count one after another.
		owner, err := s.Ledger.LockCustomer(ctx, tx, v.CustomerID)
		if err != nil {
			return nil, err
		}
		n, err := tx.SavingsGoal.Query().Where(savingsgoal.CustomerID(v.CustomerID), savingsgoal.DeletedAtIsNil()).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n >= MaxSavingsGoals {
			return nil, apperr.New(apperr.PreconditionFailed, "at most %d savings goals", MaxSavingsGoals)
		}
		acc, err := s.Ledger.Open(ctx, tx, ledger.NewAccount{Kind: account.KindSAVINGS, OwnerID: v.CustomerID, HolderName: owner.Name})
		if err != nil {
			return nil, err
		}
		return tx.SavingsGoal.Create().SetCustomerID(v.CustomerID).SetAccountID(acc.ID).
			SetName(name).SetGoal(goalMinor).SetCreatedAt(s.Ledger.Now()).Save(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("products: create savings goal: %w", err)
	}
	// Read back through the client: g belongs to the closed transaction, so its edges
	// (SavingsGoal.account) could not be loaded.
	return s.client().SavingsGoal.Get(ctx, g.ID)
}

// OwnGoal returns one of the viewer's savings goals; another's or a deleted one is NOT_FOUND.
func OwnGoal(ctx context.Context, client *ent.Client, v *identity.Viewer, goalID int) (*ent.SavingsGoal, error) {
	g, err := client.SavingsGoal.Query().
		Where(savingsgoal.ID(goalID), savingsgoal.CustomerID(v.CustomerID), savingsgoal.DeletedAtIsNil()).Only(ctx)
	if ent.IsNotFound(err) || v.CustomerID == 0 {
		return nil, errGoalNotFound
	}
	return g, err
}

// SavingsMove moves money between one of the viewer's cards and one of their goals.
type SavingsMove struct {
	GoalID, CardID int
	AmountMinor    int64
	Key            *ledger.Key
}

// TopUpSavings moves money from the card to the goal.
func (s *Service) TopUpSavings(ctx context.Context, v *identity.Viewer, in SavingsMove) (*ent.Transaction, error) {
	return s.savingsMove(ctx, v, in, transaction.KindSAVINGS_TOP_UP)
}

// WithdrawSavings moves money from the goal to the card.
func (s *Service) WithdrawSavings(ctx context.Context, v *identity.Viewer, in SavingsMove) (*ent.Transaction, error) {
	return s.savingsMove(ctx, v, in, transaction.KindSAVINGS_WITHDRAWAL)
}

func (s *Service) savingsMove(ctx context.Context, v *identity.Viewer, in SavingsMove, kind transaction.Kind) (*ent.Transaction, error) {
	return s.Ledger.SubmitRun(ctx, v.UserID, in.Key, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		if in.AmountMinor <= 0 {
			return nil, apperr.Field("amount", "must be positive")
		}
		g, err := OwnGoal(ctx, tx.Client(), v, in.GoalID)
		if err != nil {
			return nil, err
		}
		c, err := OwnCard(ctx, tx.Client(), v, in.CardID)
		if err != nil {
			return nil, err
		}
		from, to := c.AccountID, g.AccountID
		if kind == transaction.KindSAVINGS_WITHDRAWAL {
			from, to = to, from
		} else if err := debitCard(ctx, tx.Tx, c.ID); err != nil {
			return nil, err
		}
		return s.Ledger.Transfer(ctx, tx, ledger.Move{
			Kind: kind, DebitID: from, CreditID: to, AmountMinor: in.AmountMinor, InitiatorID: v.UserID, Key: in.Key,
		})
	})
}

// DeleteSavingsGoal removes one of the viewer's goals and closes its account; refused while it
// holds money.
func (s *Service) DeleteSavingsGoal(ctx context.Context, v *identity.Viewer, goalID int) error {
	_, err := store.InTx(ctx, s.client(), func(tx *ent.Tx) (struct{}, error) {
		g, err := OwnGoal(ctx, tx.Client(), v, goalID)
		if err != nil {
			return struct{}{}, err
		}
		if err := closeEmpty(ctx, tx, g.AccountID, s.Ledger.Now()); err != nil {
			return struct{}{}, err
		}
		n, err := tx.SavingsGoal.Update().Where(savingsgoal.ID(g.ID), savingsgoal.DeletedAtIsNil()).
			SetDeletedAt(s.Ledger.Now()).Save(ctx)
		if err != nil {
			return struct{}{}, err
		}
		if n == 0 {
			return struct{}{}, errGoalNotFound
		}
		return struct{}{}, nil
	})
	return err
}

// GoalChange is an edit of a savings goal; nil fields stay as they are.
type GoalChange struct {
	Name, Goal *string
}

// UpdateSavingsGoal renames one of the viewer's goals or changes its target (> 0, within
// money.MaxAmountMinor like every amount). The goal's money is untouched: a new target below the
// balance makes it reached.
func (s *Service) UpdateSavingsGoal(ctx context.Context, v *identity.Viewer, goalID int, in GoalChange) (*ent.SavingsGoal, error) {
	f := apperr.Fields{}
	upd := s.client().SavingsGoal.Update().
		Where(savingsgoal.ID(goalID), savingsgoal.CustomerID(v.CustomerID), savingsgoal.DeletedAtIsNil())
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || utf8.RuneCountInString(name) > 100 {
			f.Add("name", "required, at most 100 characters")
		}
		upd.SetName(name)
	}
	if in.Goal != nil {
		upd.SetGoal(s.positive(f, "goal", *in.Goal))
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if in.Name == nil && in.Goal == nil {
		return OwnGoal(ctx, s.client(), v, goalID)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("products: update savings goal: %w", err)
	}
	if n == 0 || v.CustomerID == 0 {
		return nil, errGoalNotFound
	}
	return s.client().SavingsGoal.Get(ctx, goalID)
}
