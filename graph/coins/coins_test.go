package coins

import (
	"context"
	"fmt"
	"testing"
	"time"

	"coffer/ent"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/pgtest"
	"coffer/graph/ratelimit"
	"coffer/graph/testkit"
)

// The minting and sending rules on both stores, without GraphQL.

// monthlyLimitMinor is the test service's creation limit per recipient and month.
const monthlyLimitMinor = 10_000

// open returns a coins service over a fresh database of the given store.
func open(t *testing.T, st string) *Service {
	t.Helper()
	db := pgtest.OpenStore(t, st)
	return &Service{Ledger: testkit.Ledger(db), SQL: db.SQL, MonthlyLimitMinor: monthlyLimitMinor}
}

// newUser creates a user of role; a customer also gets a customer row and a main account.
func newUser(t *testing.T, s *Service, username string, role user.Role) *identity.Viewer {
	t.Helper()
	if role == user.RoleCUSTOMER {
		c := testkit.NewCustomer(t, s.Ledger, username, testkit.CustomerOptions{Email: username + "@example.com"})
		return &identity.Viewer{UserID: c.UserID, Username: username, Role: role, CustomerID: c.CustomerID, MainAccountID: c.AccountID}
	}
	u, err := s.Ledger.Client.User.Create().SetUsername(username).SetPasswordHash("x").SetRole(role).
		SetEmail(username + "@example.com").Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &identity.Viewer{UserID: u.ID, Username: username, Role: role}
}

func mainBalance(t *testing.T, s *Service, v *identity.Viewer) (balanceMinor, reservedMinor int64) {
	t.Helper()
	return testkit.Balance(t, s.Ledger, v.MainAccountID)
}

func mintTo(t *testing.T, s *Service, admin, to *identity.Viewer, amountMinor int64) *ent.Transaction {
	t.Helper()
	txn, err := s.Create(context.Background(), admin, Mint{Recipient: Recipient{Username: to.Username}, Amount: minorText(amountMinor)})
	if err != nil {
		t.Fatal(err)
	}
	return txn
}

func TestCreate_monthlyLimitPerRecipientAndMonth_pendingCounts(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			admin := newUser(t, s, "root", user.RoleADMIN)
			ann, ben := newUser(t, s, "ann", user.RoleCUSTOMER), newUser(t, s, "ben", user.RoleCUSTOMER)
			mintTo(t, s, admin, ann, 6_000)
			pending, err := s.Create(ctx, admin, Mint{Recipient: Recipient{Username: "ann"}, Amount: minorText(4_000), AutoSign: ptr(false)})
			if err != nil || pending.Status != transaction.StatusPENDING {
				t.Fatalf("pending creation: %+v, %v", pending, err)
			}
			_, err = s.Create(ctx, admin, Mint{Recipient: Recipient{Username: "ann"}, Amount: minorText(1)})
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			lastMonth := s.Ledger.Now().AddDate(0, -1, 0)
			if _, err := s.Create(ctx, admin, Mint{Recipient: Recipient{Username: "ann"}, Amount: minorText(1), TargetDate: &lastMonth}); err != nil {
				t.Fatalf("last month has its own limit: %v", err)
			}
			mintTo(t, s, admin, ben, monthlyLimitMinor) // another recipient has their own limit
			if b, _ := mainBalance(t, s, ann); b != 6_001 {
				t.Fatalf("ann's balance = %d, want 6001 (the pending 4000 not posted, the refusal nothing)", b)
			}
		})
	}
}

func TestCreate_refusedInputs_mintNothing(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			admin := newUser(t, s, "root", user.RoleADMIN)
			ann := newUser(t, s, "ann", user.RoleCUSTOMER)
			newUser(t, s, "clerk", user.RoleSTAFF)
			tests := []struct {
				name string
				give Mint
				want apperr.Code
			}{
				{"zero amount", Mint{Recipient: Recipient{Username: "ann"}, AutoSign: ptr(false)}, apperr.BadUserInput},
				{"three months back", Mint{Recipient: Recipient{Username: "ann"}, Amount: minorText(1), TargetDate: ptr(s.Ledger.Now().AddDate(0, -3, 0)), AutoSign: ptr(false)}, apperr.BadUserInput},
				{"next month", Mint{Recipient: Recipient{Username: "ann"}, Amount: minorText(1), TargetDate: ptr(s.Ledger.Now().AddDate(0, 1, 0)), AutoSign: ptr(false)}, apperr.BadUserInput},
				{"nobody", Mint{Recipient: Recipient{Username: "nobody"}, Amount: minorText(1), AutoSign: ptr(false)}, apperr.NotFound},
				{"a staff member", Mint{Recipient: Recipient{Email: "clerk@example.com"}, Amount: minorText(1), AutoSign: ptr(false)}, apperr.NotFound},
				{"the bank", Mint{Recipient: Recipient{Username: "bank"}, Amount: minorText(1), AutoSign: ptr(false)}, apperr.Forbidden},
			}
			for _, tt := range tests {
				_, err := s.Create(ctx, admin, tt.give)
				if got := apperr.CodeOf(err); got != tt.want {
					t.Errorf("%s: %v (%s), want %s", tt.name, err, got, tt.want)
				}
			}
			if b, r := mainBalance(t, s, ann); b != 0 || r != 0 {
				t.Fatalf("ann's balance %d reserved %d after refusals", b, r)
			}
		})
	}
}

func TestSettleCreation_secondAdminPosts_creatorCannot(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			root, other := newUser(t, s, "root", user.RoleADMIN), newUser(t, s, "root2", user.RoleADMIN)
			ann := newUser(t, s, "ann", user.RoleCUSTOMER)
			txn, err := s.Create(ctx, root, Mint{Recipient: Recipient{Username: "ann"}, Amount: minorText(500), AutoSign: ptr(false)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Confirm(ctx, root, txn.ID, "")
			testkit.WantCode(t, err, apperr.Forbidden)
			if b, _ := mainBalance(t, s, ann); b != 0 {
				t.Fatalf("balance %d before the second admin", b)
			}
			posted, err := s.Confirm(ctx, other, txn.ID, "")
			if err != nil || posted.Status != transaction.StatusPOSTED {
				t.Fatalf("second admin: %+v, %v", posted, err)
			}
			if b, _ := mainBalance(t, s, ann); b != 500 {
				t.Fatalf("balance %d, want 500", b)
			}
		})
	}
}

// TestSend_everyWayOfNamingTheRecipient_andTheRefusals, with transfers posted alone and through
// the ledger's poster (which resolves usernames in its batch's transaction).
func TestSend_everyWayOfNamingTheRecipient_andTheRefusals(t *testing.T) {
	for _, st := range pgtest.Stores {
		for _, batching := range []bool{false, true} {
			t.Run(fmt.Sprint(st, "/batching=", batching), func(t *testing.T) {
				s, ctx := open(t, st), context.Background()
				if batching {
					startBatching(t, s)
				}
				admin := newUser(t, s, "root", user.RoleADMIN)
				ann, ben := newUser(t, s, "ann", user.RoleCUSTOMER), newUser(t, s, "ben", user.RoleCUSTOMER)
				mintTo(t, s, admin, ann, 1_000)
				benMain, err := s.Ledger.Client.Account.Get(ctx, ben.MainAccountID)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range []Recipient{{Username: "ben"}, {Username: " BEN "}, {Email: "ben@example.com"}, {IBAN: *benMain.Iban}} {
					if _, err := s.Send(ctx, ann, Send{Recipient: r, Amount: minorText(75)}); err != nil {
						t.Fatalf("send to %+v: %v", r, err)
					}
				}
				refusals := []struct {
					give Send
					want apperr.Code
				}{
					{Send{Recipient: Recipient{Username: "ben"}, Amount: minorText(701)}, apperr.InsufficientFunds},
					{Send{Recipient: Recipient{Username: "nobody"}, Amount: minorText(701)}, apperr.InsufficientFunds},
					{Send{Recipient: Recipient{Username: "admin"}, Amount: minorText(701)}, apperr.InsufficientFunds},
					{Send{Recipient: Recipient{Username: "nobody"}, Amount: minorText(1)}, apperr.NotFound},
					{Send{Recipient: Recipient{Username: "root"}, Amount: minorText(1)}, apperr.NotFound}, // staff
					{Send{Recipient: Recipient{Username: "admin"}, Amount: minorText(1)}, apperr.Forbidden},
					{Send{Recipient: Recipient{Username: "ann"}, Amount: minorText(1)}, apperr.BadUserInput},
					{Send{Recipient: Recipient{Username: "ben", Email: "ben@example.com"}, Amount: minorText(1)}, apperr.BadUserInput},
					{Send{Recipient: Recipient{Username: "ben"}, Amount: minorText(-1)}, apperr.BadUserInput},
				}
				for _, tt := range refusals {
					_, err := s.Send(ctx, ann, tt.give)
					if got := apperr.CodeOf(err); got != tt.want {
						t.Errorf("%+v: %v (%s), want %s", tt.give, err, got, tt.want)
					}
				}
				if a, b := balanceOnly(mainBalance(t, s, ann)), balanceOnly(mainBalance(t, s, ben)); a != 700 || b != 300 {
					t.Fatalf("balances ann %d ben %d, want 700 and 300", a, b)
				}
			})
		}
	}
}

// TestSend_lookUpBudget_spentByMissesOnly_refusesBeforeTheName: recipients that name nobody
// spend the sender's budget; once spent, a send is TOO_MANY_REQUESTS whoever it names, unless
// the sender cannot pay it (INSUFFICIENT_FUNDS first: the answer never depends on the name).
func TestSend_lookUpBudget_spentByMissesOnly_refusesBeforeTheName(t *testing.T) {
	for _, st := range pgtest.Stores {
		for _, batching := range []bool{false, true} {
			t.Run(fmt.Sprint(st, "/batching=", batching), func(t *testing.T) {
				s, ctx := open(t, st), context.Background()
				s.FailedLookups = ratelimit.New(2, time.Hour)
				if batching {
					startBatching(t, s)
				}
				admin := newUser(t, s, "root", user.RoleADMIN)
				ann, _ := newUser(t, s, "ann", user.RoleCUSTOMER), newUser(t, s, "ben", user.RoleCUSTOMER)
				mintTo(t, s, admin, ann, 1_000)
				steps := []struct {
					to     string
					amount int64
					want   apperr.Code
				}{
					{"ben", 1, ""}, {"nobody", 1, apperr.NotFound}, {"ann", 1, apperr.BadUserInput},
					{"admin", 1, apperr.Forbidden}, // the budget's second miss
					{"ben", 1, apperr.TooManyRequests}, {"nobody", 1, apperr.TooManyRequests},
					{"ben", 5_000, apperr.InsufficientFunds},
				}
				for i, st := range steps {
					_, err := s.Send(ctx, ann, Send{Recipient: Recipient{Username: st.to}, Amount: minorText(st.amount)})
					if st.want == "" && err != nil {
						t.Errorf("step %d (%s): %v", i, st.to, err)
					} else if got := apperr.CodeOf(err); st.want != "" && got != st.want {
						t.Errorf("step %d (%s): %v (%s), want %s", i, st.to, err, got, st.want)
					}
				}
			})
		}
	}
}

// startBatching routes s's postings through the ledger's poster until the test ends.
func startBatching(t *testing.T, s *Service) {
	t.Helper()
	b, err := s.Ledger.StartBatching(ledger.BatchConfig{Window: time.Millisecond, Max: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
}

func balanceOnly(balanceMinor, _ int64) int64 { return balanceMinor }

func TestSend_pendingReservesUntilConfirmedOrCancelled(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			admin := newUser(t, s, "root", user.RoleADMIN)
			ann, ben := newUser(t, s, "ann", user.RoleCUSTOMER), newUser(t, s, "ben", user.RoleCUSTOMER)
			mintTo(t, s, admin, ann, 1_000)
			first, err := s.Send(ctx, ann, Send{Recipient: Recipient{Username: "ben"}, Amount: minorText(600), AutoSign: ptr(false)})
			if err != nil {
				t.Fatal(err)
			}
			if b, r := mainBalance(t, s, ann); b != 1_000 || r != 600 {
				t.Fatalf("after a pending send: balance %d reserved %d", b, r)
			}
			_, err = s.Send(ctx, ann, Send{Recipient: Recipient{Username: "ben"}, Amount: minorText(401)})
			testkit.WantCode(t, err, apperr.InsufficientFunds)
			_, err = s.Confirm(ctx, ben, first.ID, "")
			testkit.WantCode(t, err, apperr.NotFound) // the recipient cannot confirm the sender's transfer
			if _, err := s.Cancel(ctx, ann, first.ID); err != nil {
				t.Fatal(err)
			}
			_, err = s.Confirm(ctx, ann, first.ID, "")
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			if b, r := mainBalance(t, s, ann); b != 1_000 || r != 0 {
				t.Fatalf("after cancel: balance %d reserved %d", b, r)
			}
		})
	}
}

func TestSend_debitLimitAllowsAnOverdraftUpToTheLimitOnly(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, ctx := open(t, st), context.Background()
			admin := newUser(t, s, "root", user.RoleADMIN)
			ann := newUser(t, s, "ann", user.RoleCUSTOMER)
			newUser(t, s, "ben", user.RoleCUSTOMER)
			mintTo(t, s, admin, ann, 100)
			if _, err := s.Ledger.SetDebitLimit(ctx, ann.MainAccountID, minorText(250)); err != nil {
				t.Fatal(err)
			}
			to := Recipient{Username: "ben"}
			_, err := s.Send(ctx, ann, Send{Recipient: to, Amount: minorText(351)})
			testkit.WantCode(t, err, apperr.InsufficientFunds)
			if _, err := s.Send(ctx, ann, Send{Recipient: to, Amount: minorText(350)}); err != nil {
				t.Fatalf("within the debit limit: %v", err)
			}
			if b, _ := mainBalance(t, s, ann); b != -250 {
				t.Fatalf("balance %d, want -250", b)
			}
			_, err = s.Send(ctx, ann, Send{Recipient: to, Amount: minorText(1)})
			testkit.WantCode(t, err, apperr.InsufficientFunds)
		})
	}
}

// A creation's target date defaults to now and must lie in the current or two previous months.
func TestCheckTargetDate_window(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		give time.Time
		ok   bool
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if err := CheckTargetDate(tt.give, now); (err == nil) != tt.ok {
			t.Errorf("CheckTargetDate(%s) = %v, want ok %v", tt.give, err, tt.ok)
		}
	}
}

// minorText writes minor units as the client would type them (EUR, two decimals).
func minorText(amountMinor int64) string { return eur.Format(amountMinor) }
