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
	return Goal(ctx, s.client(), g.ID)
}

// Goals lists a customer's savings goals, oldest first; deleted ones are gone. Each comes with
// its account, from which its progress is computed (GoalProgress): one statement for the
// accounts of the whole list.
func Goals(ctx context.Context, client *ent.Client, customerID int) ([]*ent.SavingsGoal, error) {
	return client.SavingsGoal.Query().Where(savingsgoal.CustomerID(customerID), savingsgoal.DeletedAtIsNil()).
		WithAccount().Order(ent.Asc(savingsgoal.FieldID)).All(ctx)
}

// Goal reads one savings goal with its account, whoever owns it (the caller decides who may see
// it: access.CanSee, OwnGoal).
func Goal(ctx context.Context, client *ent.Client, goalID int) (*ent.SavingsGoal, error) {
	g, err := client.SavingsGoal.Query().Where(savingsgoal.ID(goalID)).WithAccount().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errGoalNotFound
	}
	return g, err
}

// Progress is where a savings goal stands.
type Progress struct {
	BalanceMinor int64
	// RemainMinor is what is left to save: zero once reached, never negative.
	RemainMinor int64
	Reached     bool
}

// GoalProgress computes where g stands from its account: the one loaded with the goal (Goals,
// Goal), else read once. The three fields come from the same read, so they always agree.
func GoalProgress(ctx context.Context, client *ent.Client, g *ent.SavingsGoal) (Progress, error) {
	acc, err := g.Edges.AccountOrErr()
	if ent.IsNotLoaded(err) {
		acc, err = client.Account.Get(ctx, g.AccountID)
	}
	if err != nil {
		return Progress{}, fmt.Errorf("products: savings goal's account: %w", err)
	}
	return Progress{BalanceMinor: acc.Balance, RemainMinor: max(g.Goal-acc.Balance, 0), Reached: acc.Balance >= g.Goal}, nil
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

// SavingsMove moves money between one of the viewer's cards and one of their goals, as the client
// sent it.
type SavingsMove struct {
	GoalID, CardID int
	// Amount is as the client typed it; IdempotencyKey is the client's key, if any.
	Amount         string
	IdempotencyKey *string
}

// TopUpSavings moves money from the card to the goal.
func (s *Service) TopUpSavings(ctx context.Context, v *identity.Viewer, in SavingsMove) (*ent.Transaction, error) {
	return s.savingsMove(ctx, v, in, "topUpSavings", transaction.KindSAVINGS_TOP_UP)
}

// WithdrawSavings moves money from the goal to the card.
func (s *Service) WithdrawSavings(ctx context.Context, v *identity.Viewer, in SavingsMove) (*ent.Transaction, error) {
	return s.savingsMove(ctx, v, in, "withdrawSavings", transaction.KindSAVINGS_WITHDRAWAL)
}

// savingsMove applies topUpSavings or withdrawSavings (op, which the fingerprint names).
func (s *Service) savingsMove(ctx context.Context, v *identity.Viewer, in SavingsMove, op string, kind transaction.Kind) (*ent.Transaction, error) {
	amountMinor, err := s.Ledger.PositiveAmount("amount", in.Amount)
	if err != nil {
		return nil, err
	}
	key, err := ledger.NewKey(in.IdempotencyKey, op, ledger.IDPart(in.GoalID), ledger.IDPart(in.CardID), ledger.AmountPart(amountMinor))
	if err != nil {
		return nil, err
	}
	return s.Ledger.SubmitRun(ctx, v.UserID, key, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
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
			Kind: kind, DebitID: from, CreditID: to, AmountMinor: amountMinor, InitiatorID: v.UserID, Key: key,
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
		g, err := Goal(ctx, s.client(), goalID)
		if err == nil && (g.CustomerID != v.CustomerID || g.DeletedAt != nil || v.CustomerID == 0) {
			return nil, errGoalNotFound // another's or a deleted one, as OwnGoal
		}
		return g, err
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("products: update savings goal: %w", err)
	}
	if n == 0 || v.CustomerID == 0 {
		return nil, errGoalNotFound
	}
	return Goal(ctx, s.client(), goalID)
}
