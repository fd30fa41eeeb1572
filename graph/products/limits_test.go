package products

import (
	"coffer/graph/money"
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
	"context"
	"errors"
	"testing"
	"time"

	"coffer/graph/apperr"
)

// Card, savings and bill rules on both stores, without GraphQL: the limits, the refusals and
// that a refusal moves no money.

func TestCreateCard_atMostTenOpen_aClosedCardFreesItsPlace(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			ann := newCustomer(t, s, "ann", 0)
			var first string
			for i := range MaxActiveCards {
				_, number := newCard(t, s, ann, 0)
				if i == 0 {
					first = number
				}
			}
			_, _, err := s.CreateCard(ctx, ann)
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			if err := s.DeleteCard(ctx, ann, first); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.CreateCard(ctx, ann); err != nil {
				t.Fatalf("after closing one card: %v", err)
			}
		})
	}
}

func TestDeleteCard_holdingMoneyRefused_anothersNotFound_emptyCloses(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			ann, ben := newCustomer(t, s, "ann", 1000), newCustomer(t, s, "ben", 0)
			c, number := newCard(t, s, ann, 300)
			testkit.WantCode(t, s.DeleteCard(ctx, ann, number), apperr.PreconditionFailed)
			testkit.WantCode(t, s.DeleteCard(ctx, ben, number), apperr.NotFound)
			if got := balance(t, s, c.AccountID); got != 300 {
				t.Fatalf("card balance after refusals = %d, want 300", got)
			}
			if _, err := s.DefundCard(ctx, ann, CardMove{CardID: c.ID, Amount: minorText(300)}); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteCard(ctx, ann, number); err != nil {
				t.Fatal(err)
			}
			testkit.WantCode(t, s.DeleteCard(ctx, ann, number), apperr.NotFound)
		})
	}
}

func TestFundCard_beyondMainBalance_insufficientFundsMovesNothing(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			ann := newCustomer(t, s, "ann", 500)
			c, _ := newCard(t, s, ann, 200)
			_, err := s.FundCard(ctx, ann, CardMove{CardID: c.ID, Amount: minorText(301)})
			testkit.WantCode(t, err, apperr.InsufficientFunds)
			_, err = s.DefundCard(ctx, ann, CardMove{CardID: c.ID, Amount: minorText(201)})
			testkit.WantCode(t, err, apperr.InsufficientFunds)
			if got := balance(t, s, c.AccountID); got != 200 {
				t.Fatalf("card balance = %d, want 200", got)
			}
		})
	}
}

func TestSavings_createValidates_withdrawNeverBeyondTheBalance(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			ann := newCustomer(t, s, "ann", 1000)
			_, err := s.CreateSavingsGoal(ctx, ann, " ", "0")
			wantFields(t, err, "name", "goal")
			g, err := s.CreateSavingsGoal(ctx, ann, "Bike", "5.00")
			if err != nil {
				t.Fatal(err)
			}
			c, _ := newCard(t, s, ann, 400)
			if _, err := s.TopUpSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: minorText(150)}); err != nil {
				t.Fatal(err)
			}
			_, err = s.WithdrawSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: minorText(151)})
			testkit.WantCode(t, err, apperr.InsufficientFunds)
			testkit.WantCode(t, s.DeleteSavingsGoal(ctx, ann, g.ID), apperr.PreconditionFailed)
			if got, card := balance(t, s, g.AccountID), balance(t, s, c.AccountID); got != 150 || card != 250 {
				t.Fatalf("goal %d, card %d; want 150 and 250", got, card)
			}
		})
	}
}

func TestPayBill_paysOnce_unfundedCardRefusedAndTheBillStaysUnpaid(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			ann := newCustomer(t, s, "ann", 1000)
			c, number := newCard(t, s, ann, 100)
			b, err := s.CreateBill(ctx, ann, "Power", "2.50", time.Now().Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.PayBill(ctx, ann, BillPayment{BillID: b.ID, CardNumber: number})
			testkit.WantCode(t, err, apperr.InsufficientFunds)
			if b, _ = s.client().Bill.Get(ctx, b.ID); b.PaidAt != nil {
				t.Fatal("a refused payment marked the bill paid")
			}
			if _, err := s.FundCard(ctx, ann, CardMove{CardID: c.ID, Amount: minorText(200)}); err != nil {
				t.Fatal(err)
			}
			paid, err := s.PayBill(ctx, ann, BillPayment{BillID: b.ID, CardNumber: number})
			if err != nil || paid.PaidAt == nil {
				t.Fatalf("pay: %+v, %v", paid, err)
			}
			_, err = s.PayBill(ctx, ann, BillPayment{BillID: b.ID, CardNumber: number})
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			if got := balance(t, s, c.AccountID); got != 50 {
				t.Fatalf("card balance = %d, want 300-250 = 50", got)
			}
		})
	}
}

// wantFields fails unless err is BAD_USER_INPUT naming exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	testkit.WantCode(t, err, apperr.BadUserInput)
	var ae *apperr.Error
	errors.As(err, &ae)
	got := ae.Fields
	if len(got) != len(fields) {
		t.Fatalf("fields = %v, want %v", got, fields)
	}
	for _, f := range fields {
		if _, ok := got[f]; !ok {
			t.Fatalf("fields = %v, want %v", got, fields)
		}
	}
}

// minorText writes minor units as the client would type them (EUR, two decimals).
func minorText(amountMinor int64) string {
	return money.Currency{Code: "EUR", Scale: 2}.Format(amountMinor)
}
