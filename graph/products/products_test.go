package products

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"coffer/ent"
	"coffer/ent/bill"
	"coffer/ent/card"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/lookup"
	"coffer/graph/money"
	"coffer/graph/pgtest"
	"coffer/graph/store"
	"coffer/graph/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open returns a products service over a fresh database of the given store.
func open(t *testing.T, st string) *Service {
	t.Helper()
	s, _ := openDB(t, st)
	return s
}

// openDB is open with the store under the service.
func openDB(t *testing.T, st string) (*Service, *store.DB) {
	t.Helper()
	db := pgtest.OpenStore(t, st)
	key, err := lookup.NewKey([]byte("products-test-key-products-test-key"))
	if err != nil {
		t.Fatal(err)
	}
	return &Service{Ledger: testkit.Ledger(db), Key: key, CardPrefix: "400000"}, db
}

// newCustomer creates a customer with a main account holding mainMinor.
func newCustomer(t *testing.T, s *Service, username string, mainMinor int64) *identity.Viewer {
	t.Helper()
	c := testkit.NewCustomer(t, s.Ledger, username, testkit.CustomerOptions{})
	if mainMinor > 0 {
		testkit.Mint(t, s.Ledger, c.AccountID, mainMinor)
	}
	return &identity.Viewer{UserID: c.UserID, Role: user.RoleCUSTOMER, CustomerID: c.CustomerID}
}

// newCard issues a card to v and funds it with fundMinor from the main account.
func newCard(t *testing.T, s *Service, v *identity.Viewer, fundMinor int64) (*ent.Card, string) {
	t.Helper()
	c, number, err := s.CreateCard(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	if fundMinor > 0 {
		if _, err := s.FundCard(context.Background(), v, CardMove{CardID: c.ID, Amount: s.Ledger.Currency.Format(fundMinor)}); err != nil {
			t.Fatal(err)
		}
	}
	return c, number
}

func balance(t *testing.T, s *Service, accountID int) int64 {
	t.Helper()
	b, _ := testkit.Balance(t, s.Ledger, accountID)
	return b
}

// newAutopayBill enters a bill of v's due at due, with autopay from the card numbered number.
func newAutopayBill(t *testing.T, s *Service, v *identity.Viewer, name, amount string, due time.Time, number string) *ent.Bill {
	t.Helper()
	b, err := s.CreateBill(context.Background(), v, name, amount, due)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = s.SetBillAutopay(context.Background(), v, b.ID, number); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFreezeCard_idempotent_closedPreconditionFailed_anothersNotFound(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s := open(t, st)
			ctx := context.Background()
			ann, ben := newCustomer(t, s, "ann", 1000), newCustomer(t, s, "ben", 0)
			c, number := newCard(t, s, ann, 0)
			for range 2 {
				got, err := s.FreezeCard(ctx, ann, c.ID)
				if err != nil || got.Status != card.StatusFROZEN {
					t.Fatalf("FreezeCard = %v, %v; want FROZEN", got, err)
				}
			}
			_, err := s.FreezeCard(ctx, ben, c.ID)
			testkit.WantCode(t, err, apperr.NotFound)
			_, err = s.UnfreezeCard(ctx, ben, c.ID)
			testkit.WantCode(t, err, apperr.NotFound)
			for range 2 {
				got, err := s.UnfreezeCard(ctx, ann, c.ID)
				if err != nil || got.Status != card.StatusACTIVE {
					t.Fatalf("UnfreezeCard = %v, %v; want ACTIVE", got, err)
				}
			}
			if _, err := s.FreezeCard(ctx, ann, c.ID); err != nil {
				t.Fatal(err)
			}
			// A frozen, empty card can be deleted; a closed card stays closed.
			if err := s.DeleteCard(ctx, ann, number); err != nil {
				t.Fatalf("DeleteCard of a frozen card: %v", err)
			}
			_, err = s.FreezeCard(ctx, ann, c.ID)
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			_, err = s.UnfreezeCard(ctx, ann, c.ID)
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			if got, _ := s.client().Card.Get(ctx, c.ID); got.Status != card.StatusCLOSED {
				t.Errorf("status after refused calls = %s, want CLOSED", got.Status)
			}
		})
	}
}

func TestFrozenCard_everyDebitRefused_defundAndCreditsWork(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s := open(t, st)
			ctx := context.Background()
			ann := newCustomer(t, s, "ann", 10000)
			c, number := newCard(t, s, ann, 5000)
			_, other := newCard(t, s, ann, 0)
			g, err := s.CreateSavingsGoal(ctx, ann, "Bike", "100")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.TopUpSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: "10.00"}); err != nil {
				t.Fatal(err)
			}
			b, err := s.CreateBill(ctx, ann, "Power", "5", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.FreezeCard(ctx, ann, c.ID); err != nil {
				t.Fatal(err)
			}
			_, err = s.TransferBetweenCards(ctx, ann, CardTransfer{FromNumber: number, ToNumber: other, Amount: "1"})
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			_, err = s.PayBill(ctx, ann, BillPayment{BillID: b.ID, CardNumber: number})
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			_, err = s.TopUpSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: "1.00"})
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			if got := balance(t, s, c.AccountID); got != 4000 {
				t.Fatalf("frozen card's balance after refused debits = %d, want 4000", got)
			}
			if got, _ := s.client().Bill.Get(ctx, b.ID); got.PaidAt != nil {
				t.Error("the bill was paid by a frozen card")
			}
			// Credits: fundCard and withdrawSavings; then defundCard empties it.
			if _, err := s.FundCard(ctx, ann, CardMove{CardID: c.ID, Amount: "5.00"}); err != nil {
				t.Fatalf("fundCard to a frozen card: %v", err)
			}
			if _, err := s.WithdrawSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: "10.00"}); err != nil {
				t.Fatalf("withdrawSavings to a frozen card: %v", err)
			}
			if _, err := s.DefundCard(ctx, ann, CardMove{CardID: c.ID, Amount: "55.00"}); err != nil {
				t.Fatalf("defundCard of a frozen card: %v", err)
			}
			if got := balance(t, s, c.AccountID); got != 0 {
				t.Errorf("frozen card's balance after defund = %d, want 0", got)
			}
		})
	}
}

// TestDebitCard_freezeCommittedAfterTheDebitsLookup_refused: a debit that found the card ACTIVE
// earlier in its transaction is still refused once a freeze has committed, because the rule is
// checked by the conditional update at the debit, not by the earlier read. PostgreSQL only: on
// SQLite the debit's transaction holds the one write lock, so the freeze could not commit between.
func TestDebitCard_freezeCommittedAfterTheDebitsLookup_refused(t *testing.T) {
	s := open(t, "postgres")
	ctx := context.Background()
	ann := newCustomer(t, s, "ann", 1000)
	c, _ := newCard(t, s, ann, 1000)
	tx, err := s.client().Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if seen, err := OwnCard(ctx, tx.Client(), ann, c.ID); err != nil || seen.Status != card.StatusACTIVE {
		t.Fatalf("OwnCard in the debit's transaction = %v, %v", seen, err)
	}
	if _, err := s.FreezeCard(ctx, ann, c.ID); err != nil {
		t.Fatal(err)
	}
	testkit.WantCode(t, debitCard(ctx, tx, c.ID), apperr.PreconditionFailed)
}

func TestRunAutopay_paysDueBillsOnce_recordsRefusals_retriesNextRun(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s := open(t, st)
			ctx := context.Background()
			now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
			s.Ledger.Now = func() time.Time { return now }
			ann := newCustomer(t, s, "ann", 100000)
			c, number := newCard(t, s, ann, 3000)
			poor, poorNumber := newCard(t, s, ann, 0)
			frozen, frozenNumber := newCard(t, s, ann, 5000)
			if _, err := s.FreezeCard(ctx, ann, frozen.ID); err != nil {
				t.Fatal(err)
			}
			past := newAutopayBill(t, s, ann, "Rent", "10", now.AddDate(0, 0, -3), number)
			laterToday := newAutopayBill(t, s, ann, "Power", "5", time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC), number)
			tomorrow := newAutopayBill(t, s, ann, "Water", "5", time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), number)
			noFunds := newAutopayBill(t, s, ann, "Gas", "7", now, poorNumber)
			onFrozen := newAutopayBill(t, s, ann, "Phone", "2", now, frozenNumber)
			cancelled := newAutopayBill(t, s, ann, "Tax", "1", now, number)
			if _, err := s.CancelBillAutopay(ctx, ann, cancelled.ID); err != nil {
				t.Fatal(err)
			}
			run, err := s.RunAutopay(ctx)
			if err != nil || run != (AutopayRun{Paid: 2, Failed: 2}) {
				t.Fatalf("first run = %+v, %v; want 2 paid, 2 failed", run, err)
			}
			wantBill := func(b *ent.Bill, paid bool, autopayError string) {
				t.Helper()
				got, err := s.client().Bill.Get(ctx, b.ID)
				if err != nil {
					t.Fatal(err)
				}
				gotErr := ""
				if got.AutopayError != nil {
					gotErr = *got.AutopayError
				}
				if (got.PaidAt != nil) != paid || gotErr != autopayError {
					t.Errorf("%s: paid %v autopayError %q, want %v %q", got.Name, got.PaidAt != nil, gotErr, paid, autopayError)
				}
			}
			wantBill(past, true, "")
			wantBill(laterToday, true, "")
			wantBill(tomorrow, false, "")
			wantBill(noFunds, false, "insufficient funds")
			wantBill(onFrozen, false, "the card is frozen")
			wantBill(cancelled, false, "")
			if got := balance(t, s, c.AccountID); got != 1500 {
				t.Errorf("card after the first run = %d, want 1500", got)
			}
			// The next run pays nothing twice and retries the refusals; funding fixes one.
			if _, err := s.FundCard(ctx, ann, CardMove{CardID: poor.ID, Amount: "7.00"}); err != nil {
				t.Fatal(err)
			}
			run, err = s.RunAutopay(ctx)
			if err != nil || run != (AutopayRun{Paid: 1, Failed: 1}) {
				t.Fatalf("second run = %+v, %v; want 1 paid, 1 failed", run, err)
			}
			wantBill(noFunds, true, "")
			wantBill(onFrozen, false, "the card is frozen")
			if got := balance(t, s, c.AccountID); got != 1500 {
				t.Errorf("card after the second run = %d, want 1500 (nothing paid twice)", got)
			}
			n, err := s.client().Transaction.Query().Where(transaction.KindEQ(transaction.KindBILL_PAYMENT)).Count(ctx)
			if err != nil || n != 3 {
				t.Errorf("bill payments = %d, %v; want 3", n, err)
			}
		})
	}
}

// TestRunAutopay_concurrentRuns_payEachBillOnce: without the job's advisory lock, two runs at once
// still pay each bill once (the conditional claim); the card had money for every bill twice.
func TestRunAutopay_concurrentRuns_payEachBillOnce(t *testing.T) {
	s := open(t, "postgres")
	ctx := context.Background()
	ann := newCustomer(t, s, "ann", 100000)
	c, number := newCard(t, s, ann, 4000)
	for i := range 20 {
		newAutopayBill(t, s, ann, "Bill", "1", time.Now().AddDate(0, 0, -1-i), number)
	}
	var wg sync.WaitGroup
	runs := make([]AutopayRun, 4)
	for i := range runs {
		wg.Go(func() {
			var err error
			if runs[i], err = s.RunAutopay(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	paid := 0
	for _, r := range runs {
		paid += r.Paid
	}
	n, err := s.client().Bill.Query().Where(bill.PaidAtNotNil()).Count(ctx)
	if err != nil || n != 20 || paid != 20 {
		t.Errorf("paid bills = %d (runs counted %d), want 20", n, paid)
	}
	if got := balance(t, s, c.AccountID); got != 2000 {
		t.Errorf("card = %d, want 2000", got)
	}
}

func TestUpdateSavingsGoal_boundsAndOwnership(t *testing.T) {
	s := open(t, "sqlite")
	ctx := context.Background()
	ann, ben := newCustomer(t, s, "ann", 0), newCustomer(t, s, "ben", 0)
	g, err := s.CreateSavingsGoal(ctx, ann, "Bike", "100")
	if err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	tests := []struct {
		name string
		give GoalChange
		want apperr.Code
	}{
		{"goal zero", GoalChange{Goal: str("0")}, apperr.BadUserInput},
		{"goal negative", GoalChange{Goal: str("-1")}, apperr.BadUserInput},
		{"goal beyond the bound", GoalChange{Goal: str("10000000000000.01")}, apperr.BadUserInput},
		{"blank name", GoalChange{Name: str(" ")}, apperr.BadUserInput},
	}
	for _, tt := range tests {
		_, err := s.UpdateSavingsGoal(ctx, ann, g.ID, tt.give)
		testkit.WantCode(t, err, tt.want)
	}
	_, err = s.UpdateSavingsGoal(ctx, ben, g.ID, GoalChange{Name: str("Mine")})
	testkit.WantCode(t, err, apperr.NotFound)
	got, err := s.UpdateSavingsGoal(ctx, ann, g.ID, GoalChange{Name: str(" Car "), Goal: str("10000000000000.00")})
	if err != nil || got.Name != "Car" || got.Goal != money.MaxAmountMinor {
		t.Fatalf("UpdateSavingsGoal = %+v, %v", got, err)
	}
}
