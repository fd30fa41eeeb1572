package products

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"coffer/ent"
	"coffer/ent/card"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/pgtest"
	"coffer/graph/store"
	"coffer/graph/testkit"
)

// wantField fails unless err is BAD_USER_INPUT naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields[field] == "" {
		t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, field)
	}
}

func keyOf(s string) *string { return &s }

// spaced writes a card number in groups of four, as a client may type it.
func spaced(number string) string {
	return number[:4] + " " + number[4:8] + " " + number[8:12] + " " + number[12:]
}

// moveCase is one move under an idempotency key: the first request, the same request written
// otherwise, and another request; balanceOf is the account it moves money on.
type moveCase struct {
	name                 string
	first, replay, other func(key *string) (int, error)
	balanceOf            int
}

// txnID is a move's transaction id.
func txnID(t *ent.Transaction, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return t.ID, nil
}

// moveCases gives ann a funded card, a second card, a goal holding 20.00 and two bills, and
// returns a case per move.
func moveCases(t *testing.T, s *Service, ann *identity.Viewer) []moveCase {
	ctx := context.Background()
	c, number := newCard(t, s, ann, 50_00)
	other, _ := newCard(t, s, ann, 0)
	g, err := s.CreateSavingsGoal(ctx, ann, "Bike", "100")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TopUpSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: "20"}); err != nil {
		t.Fatal(err)
	}
	card := func(move func(context.Context, *identity.Viewer, CardMove) (*ent.Transaction, error), amount string) func(*string) (int, error) {
		return func(k *string) (int, error) {
			return txnID(move(ctx, ann, CardMove{CardID: c.ID, Amount: amount, IdempotencyKey: k}))
		}
	}
	savings := func(move func(context.Context, *identity.Viewer, SavingsMove) (*ent.Transaction, error), cardID int, amount string) func(*string) (int, error) {
		return func(k *string) (int, error) {
			return txnID(move(ctx, ann, SavingsMove{GoalID: g.ID, CardID: cardID, Amount: amount, IdempotencyKey: k}))
		}
	}
	bill := func(billID int, number string) func(*string) (int, error) {
		return func(k *string) (int, error) {
			b, err := s.PayBill(ctx, ann, BillPayment{BillID: billID, CardNumber: number, IdempotencyKey: k})
			if err != nil {
				return 0, err
			}
			return *b.TransactionID, nil
		}
	}
	var bills []int
	for _, name := range []string{"power", "water"} {
		b, err := s.CreateBill(ctx, ann, name, "1", time.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		bills = append(bills, b.ID)
	}
	return []moveCase{
		{"fundCard", card(s.FundCard, "5"), card(s.FundCard, "5.00"), card(s.FundCard, "6"), c.AccountID},
		{"defundCard", card(s.DefundCard, "5"), card(s.DefundCard, "EUR:5"), card(s.DefundCard, "6"), c.AccountID},
		{"topUpSavings, another card", savings(s.TopUpSavings, c.ID, "5"), savings(s.TopUpSavings, c.ID, "5.00"),
			savings(s.TopUpSavings, other.ID, "5"), g.AccountID},
		{"withdrawSavings", savings(s.WithdrawSavings, c.ID, "5"), savings(s.WithdrawSavings, c.ID, "5.0"),
			savings(s.WithdrawSavings, c.ID, "6"), g.AccountID},
		{"payBill, another bill", bill(bills[0], number), bill(bills[0], spaced(number)), bill(bills[1], number), c.AccountID},
	}
}

// TestMoves_fingerprint_sameRequestReplays_otherRequestConflicts: every card, savings and bill
// move fingerprints the request as the client meant it. Under one key, the same request however
// written ("5" and "5.00", a card number with spaces) replays the first result and moves money
// once; another request is CONFLICT and moves nothing.
func TestMoves_fingerprint_sameRequestReplays_otherRequestConflicts(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s := open(t, st)
			for _, tt := range moveCases(t, s, newCustomer(t, s, "ann", 100_00)) {
				key := keyOf("key-" + tt.name)
				first, err := tt.first(key)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				after := balance(t, s, tt.balanceOf)
				if again, err := tt.replay(key); err != nil || again != first {
					t.Errorf("%s: the same request again = %d, %v; want transaction %d", tt.name, again, err, first)
				}
				if _, err := tt.other(key); apperr.CodeOf(err) != apperr.Conflict {
					t.Errorf("%s: another request under the same key: %v, want CONFLICT", tt.name, err)
				}
				if got := balance(t, s, tt.balanceOf); got != after {
					t.Errorf("%s: balance after the replay and the conflict = %d, want %d (moved once)", tt.name, got, after)
				}
			}
		})
	}
}

// TestMoves_rawInput_errorsNameTheField: a move reads the amount and the key itself; a bad amount
// is reported on "amount" before a bad key on "idempotencyKey", and nothing moves.
func TestMoves_rawInput_errorsNameTheField(t *testing.T) {
	s := open(t, "sqlite")
	ctx := context.Background()
	ann := newCustomer(t, s, "ann", 100_00)
	c, number := newCard(t, s, ann, 50_00)
	g, err := s.CreateSavingsGoal(ctx, ann, "Bike", "100")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateBill(ctx, ann, "power", "1", time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	long := keyOf(strings.Repeat("k", 65))
	tests := []struct {
		name   string
		give   func() error
		wantOn string
	}{
		{"fundCard, amount zero", func() error {
			_, err := s.FundCard(ctx, ann, CardMove{CardID: c.ID, Amount: "0", IdempotencyKey: long})
			return err
		}, "amount"},
		{"defundCard, amount beyond the bound", func() error {
			_, err := s.DefundCard(ctx, ann, CardMove{CardID: c.ID, Amount: "10000000000000.01"})
			return err
		}, "amount"},
		{"fundCard, key too long", func() error {
			_, err := s.FundCard(ctx, ann, CardMove{CardID: c.ID, Amount: "1", IdempotencyKey: long})
			return err
		}, "idempotencyKey"},
		{"topUpSavings, amount not a number", func() error {
			_, err := s.TopUpSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: "ten"})
			return err
		}, "amount"},
		{"withdrawSavings, key too long", func() error {
			_, err := s.WithdrawSavings(ctx, ann, SavingsMove{GoalID: g.ID, CardID: c.ID, Amount: "1", IdempotencyKey: long})
			return err
		}, "idempotencyKey"},
		{"payBill, key too long", func() error {
			_, err := s.PayBill(ctx, ann, BillPayment{BillID: b.ID, CardNumber: number, IdempotencyKey: long})
			return err
		}, "idempotencyKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantField(t, tt.give(), tt.wantOn) })
	}
	if got := balance(t, s, c.AccountID); got != 50_00 {
		t.Errorf("card = %d after the refusals, want 5000", got)
	}
	if got := balance(t, s, g.AccountID); got != 0 {
		t.Errorf("goal = %d after the refusals, want 0", got)
	}
}

// TestCards_activeAndFrozen_closedOnlyWhenAsked: a customer's cards are the active and frozen
// ones; closed ones come with includeClosed only, and another customer's never.
func TestCards_activeAndFrozen_closedOnlyWhenAsked(t *testing.T) {
	s := open(t, "sqlite")
	ctx := context.Background()
	ann, ben := newCustomer(t, s, "ann", 0), newCustomer(t, s, "ben", 0)
	active, _ := newCard(t, s, ann, 0)
	frozen, _ := newCard(t, s, ann, 0)
	closed, closedNumber := newCard(t, s, ann, 0)
	newCard(t, s, ben, 0)
	if _, err := s.FreezeCard(ctx, ann, frozen.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCard(ctx, ann, closedNumber); err != nil {
		t.Fatal(err)
	}
	ids := func(includeClosed *bool) []int {
		t.Helper()
		cards, err := Cards(ctx, s.client(), ann.CustomerID, includeClosed)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, c := range cards {
			out = append(out, c.ID)
		}
		return out
	}
	yes, no := true, false
	tests := []struct {
		name string
		give *bool
		want []int
	}{
		{"by default", nil, []int{active.ID, frozen.ID}},
		{"includeClosed false", &no, []int{active.ID, frozen.ID}},
		{"includeClosed true", &yes, []int{active.ID, frozen.ID, closed.ID}},
	}
	for _, tt := range tests {
		if got := ids(tt.give); !slices.Equal(got, tt.want) {
			t.Errorf("%s: cards %v, want %v", tt.name, got, tt.want)
		}
	}
	if c, err := s.client().Card.Get(ctx, closed.ID); err != nil || c.Status != card.StatusCLOSED {
		t.Fatalf("the deleted card = %+v, %v; want CLOSED", c, err)
	}
}

// countingClient is a client over db's pool that counts the statements reading accounts.
func countingClient(db *store.DB) (*ent.Client, *atomic.Int64) {
	var reads atomic.Int64
	counted := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(_ context.Context, v ...any) {
		for _, x := range v {
			if q, ok := x.(string); ok && (strings.Contains(q, `FROM "accounts"`) || strings.Contains(q, "FROM `accounts`")) {
				reads.Add(1)
			}
		}
	})
	return ent.NewClient(ent.Driver(counted)), &reads
}

// TestGoalProgress_oneAccountReadPerGoal: a goal's balance, remain and reached come from one read
// of its account. A list of goals reads all their accounts in one statement, a goal read alone
// reads its account once, and computing the three fields again reads nothing; a goal loaded
// without its account costs one read. Remain never goes negative; reached is balance >= goal.
func TestGoalProgress_oneAccountReadPerGoal(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, db := openDB(t, st)
			ctx := context.Background()
			ann := newCustomer(t, s, "ann", 100_00)
			c, _ := newCard(t, s, ann, 100_00)
			want := map[string]Progress{}
			for _, g := range []struct {
				name, goal, saved string
				want              Progress
			}{
				{"Bike", "100", "30", Progress{BalanceMinor: 30_00, RemainMinor: 70_00}},
				{"Hat", "15", "20", Progress{BalanceMinor: 20_00, RemainMinor: 0, Reached: true}},
				{"Trip", "50", "", Progress{BalanceMinor: 0, RemainMinor: 50_00}},
			} {
				want[g.name] = g.want
				created, err := s.CreateSavingsGoal(ctx, ann, g.name, g.goal)
				if err == nil && g.saved != "" {
					_, err = s.TopUpSavings(ctx, ann, SavingsMove{GoalID: created.ID, CardID: c.ID, Amount: g.saved})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			client, reads := countingClient(db)
			list, err := Goals(ctx, client, ann.CustomerID)
			if err != nil || len(list) != 3 {
				t.Fatalf("Goals = %d goals, %v", len(list), err)
			}
			progressOf := func(g *ent.SavingsGoal) {
				t.Helper()
				for range 3 { // balance, remain, reached
					p, err := GoalProgress(ctx, client, g)
					if err != nil {
						t.Fatal(err)
					}
					if p != want[g.Name] {
						t.Errorf("%s: progress %+v, want %+v", g.Name, p, want[g.Name])
					}
				}
			}
			for _, g := range list {
				progressOf(g)
			}
			if got := reads.Load(); got != 1 {
				t.Errorf("the 3 goals' balance, remain and reached read accounts %d times in all, want once", got)
			}
			reads.Store(0)
			one, err := Goal(ctx, client, list[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			progressOf(one)
			if got := reads.Load(); got != 1 {
				t.Errorf("one goal with its progress read accounts %d times, want once", got)
			}
			reads.Store(0)
			bare, err := client.SavingsGoal.Get(ctx, list[1].ID)
			if err != nil {
				t.Fatal(err)
			}
			p, err := GoalProgress(ctx, client, bare)
			if err != nil || p != want[bare.Name] {
				t.Errorf("progress of a goal loaded alone = %+v, %v; want %+v", p, err, want[bare.Name])
			}
			if got := reads.Load(); got != 1 {
				t.Errorf("a goal loaded without its account: %d account reads, want 1", got)
			}
		})
	}
}

// TestUpdateSavingsGoal_answersWithTheAccount: the goal a mutation answers carries its account,
// so its progress costs no further read; no change at all still checks ownership.
func TestUpdateSavingsGoal_answersWithTheAccount(t *testing.T) {
	s := open(t, "sqlite")
	ctx := context.Background()
	ann, ben := newCustomer(t, s, "ann", 0), newCustomer(t, s, "ben", 0)
	g, err := s.CreateSavingsGoal(ctx, ann, "Bike", "100")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Edges.AccountOrErr(); err != nil {
		t.Errorf("createSavingsGoal's goal has no account loaded: %v", err)
	}
	name := "Car"
	for _, give := range []GoalChange{{Name: &name}, {}} {
		got, err := s.UpdateSavingsGoal(ctx, ann, g.ID, give)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := got.Edges.AccountOrErr(); err != nil || got.Name != "Car" {
			t.Errorf("UpdateSavingsGoal(%+v) = %+v, account %v", give, got, err)
		}
	}
	_, err = s.UpdateSavingsGoal(ctx, ben, g.ID, GoalChange{})
	testkit.WantCode(t, err, apperr.NotFound)
	if err := s.DeleteSavingsGoal(ctx, ann, g.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateSavingsGoal(ctx, ann, g.ID, GoalChange{})
	testkit.WantCode(t, err, apperr.NotFound)
}

// TestBills_allPaidOrUnpaid_byDueDate: a customer's bills, all or only the paid or unpaid ones,
// soonest due first; another customer's never.
func TestBills_allPaidOrUnpaid_byDueDate(t *testing.T) {
	s := open(t, "sqlite")
	ctx := context.Background()
	ann, ben := newCustomer(t, s, "ann", 100_00), newCustomer(t, s, "ben", 0)
	_, number := newCard(t, s, ann, 50_00)
	day := time.Now().Add(24 * time.Hour)
	later, err := s.CreateBill(ctx, ann, "later", "1", day.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	sooner, err := s.CreateBill(ctx, ann, "sooner", "1", day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBill(ctx, ben, "ben's", "1", day); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PayBill(ctx, ann, BillPayment{BillID: later.ID, CardNumber: number}); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	tests := []struct {
		name string
		give *bool
		want []int
	}{
		{"all", nil, []int{sooner.ID, later.ID}},
		{"paid", &yes, []int{later.ID}},
		{"unpaid", &no, []int{sooner.ID}},
	}
	for _, tt := range tests {
		conn, err := Bills(s.client(), ann.CustomerID, tt.give).Paginate(ctx, nil, nil, nil, nil, ent.WithBillOrder(ByDueDate))
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, e := range conn.Edges {
			got = append(got, e.Node.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: bills %v, want %v", tt.name, got, tt.want)
		}
	}
}
