package ledger_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/ledger"
	"coffer/graph/pgtest"
	"coffer/graph/store"
	"coffer/graph/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var eur = testkit.EUR

// open returns a ledger over a fresh database of the given store (testkit.OpenLedger: on
// PostgreSQL with its batch statements prepared, as the server runs it).
func open(t *testing.T, st string) *ledger.Ledger { return testkit.OpenLedger(t, st) }

func openAccount(t *testing.T, l *ledger.Ledger, name string) int {
	t.Helper()
	acc, err := store.InTx(context.Background(), l.Client, func(tx *ent.Tx) (*ent.Account, error) {
		return l.Open(context.Background(), tx, ledger.NewAccount{Kind: account.KindMAIN, HolderName: name})
	})
	if err != nil {
		t.Fatal(err)
	}
	return acc.ID
}

func move(l *ledger.Ledger, m ledger.Move) (*ent.Transaction, error) {
	return l.Run(context.Background(), m.InitiatorID, m.Key, func(tx *ledger.Tx) (*ent.Transaction, error) {
		return l.Transfer(context.Background(), tx, m)
	})
}

func get(t *testing.T, l *ledger.Ledger, id int) *ent.Account {
	t.Helper()
	a, err := l.Client.Account.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestTransfer_parallelDebits_neverOverdraw: 25 parallel debits of 10 from 100 succeed exactly 10
// times, the rest are INSUFFICIENT_FUNDS, and versions have no gaps.
func TestTransfer_parallelDebits_neverOverdraw(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			from, to := openAccount(t, l, "from"), openAccount(t, l, "to")
			testkit.Mint(t, l, from, 100)
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[apperr.Code]int{}
			for range 25 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: 10})
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						codes["OK"]++
					} else {
						codes[apperr.CodeOf(err)]++
					}
				}()
			}
			wg.Wait()
			if codes["OK"] != 10 || codes[apperr.InsufficientFunds] != 15 {
				t.Fatalf("outcomes = %v, want 10 OK and 15 INSUFFICIENT_FUNDS", codes)
			}
			if a := get(t, l, from); a.Balance != 0 || a.Version != 11 {
				t.Errorf("from: balance %d version %d, want 0 and 11", a.Balance, a.Version)
			}
			if a := get(t, l, to); a.Balance != 100 || a.Version != 10 {
				t.Errorf("to: balance %d version %d, want 100 and 10", a.Balance, a.Version)
			}
		})
	}
}

// TestPending_reserveThenPostOrVoid covers the two-phase path: a reservation limits what else can
// be spent, posting moves the money once, voiding releases it, and a second settlement fails.
func TestPending_reserveThenPostOrVoid(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			l := open(t, st)
			from, to := openAccount(t, l, "from"), openAccount(t, l, "to")
			testkit.Mint(t, l, from, 100)
			p1, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: 70, Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: 31}); !apperr.Is(err, apperr.InsufficientFunds) {
				t.Fatalf("spending the reserved funds: %v, want INSUFFICIENT_FUNDS", err)
			}
			if a := get(t, l, from); a.Balance != 100 || a.Reserved != 70 || ledger.Available(a) != 30 {
				t.Fatalf("after reserve: %+v", a)
			}
			// Two racing confirmations: exactly one posts.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = l.Apply(ctx, func(tx *ledger.Tx) error { _, err := l.Post(ctx, tx, p1.ID, transaction.KindTRANSFER); return err })
				}()
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) || !(apperr.Is(errs[0], apperr.PreconditionFailed) || apperr.Is(errs[1], apperr.PreconditionFailed)) {
				t.Fatalf("racing posts: %v, %v; want one success and one PRECONDITION_FAILED", errs[0], errs[1])
			}
			if a := get(t, l, from); a.Balance != 30 || a.Reserved != 0 {
				t.Fatalf("after post: %+v", a)
			}
			p2, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: 30, Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Apply(ctx, func(tx *ledger.Tx) error { _, err := l.Void(ctx, tx, p2.ID, transaction.KindTRANSFER); return err }); err != nil {
				t.Fatal(err)
			}
			if err := l.Apply(ctx, func(tx *ledger.Tx) error { _, err := l.Post(ctx, tx, p2.ID, transaction.KindTRANSFER); return err }); !apperr.Is(err, apperr.PreconditionFailed) {
				t.Fatalf("posting a voided transaction: %v", err)
			}
			if a := get(t, l, from); a.Balance != 30 || a.Reserved != 0 || a.Version != 2 {
				t.Fatalf("after void: %+v", a)
			}
		})
	}
}

// TestSettle_otherKind_preconditionFailedChangesNothing: a flow that names the kinds it settles
// cannot post or void a pending transaction of another kind (a cash-out's, by confirmTransaction).
func TestSettle_otherKind_preconditionFailedChangesNothing(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			l := open(t, st)
			from, to := openAccount(t, l, "from"), openAccount(t, l, "to")
			testkit.Mint(t, l, from, 100)
			p, err := move(l, ledger.Move{Kind: transaction.KindCASHOUT, DebitID: from, CreditID: to, AmountMinor: 60, Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			for name, settle := range map[string]func(*ledger.Tx) error{
				"post": func(tx *ledger.Tx) error { _, err := l.Post(ctx, tx, p.ID, transaction.KindTRANSFER); return err },
				"void": func(tx *ledger.Tx) error { _, err := l.Void(ctx, tx, p.ID, transaction.KindTRANSFER); return err },
			} {
				if err := l.Apply(ctx, settle); !apperr.Is(err, apperr.PreconditionFailed) {
					t.Errorf("%s as a transfer: %v, want PRECONDITION_FAILED", name, err)
				}
			}
			if a := get(t, l, from); a.Balance != 100 || a.Reserved != 60 {
				t.Errorf("after the refused settlements: %+v, want balance 100 reserved 60", a)
			}
			if got, _ := l.Client.Transaction.Get(ctx, p.ID); got.Status != transaction.StatusPENDING {
				t.Errorf("status = %s, want PENDING", got.Status)
			}
			if err := l.Apply(ctx, func(tx *ledger.Tx) error { _, err := l.Post(ctx, tx, p.ID, transaction.KindCASHOUT); return err }); err != nil {
				t.Fatalf("post as a cash-out: %v", err)
			}
		})
	}
}

// TestRun_sameKeyRacing_movesMoneyOnce: ten concurrent requests with one idempotency key move the
// money once and all get the same transaction; another input under the key is CONFLICT.
func TestRun_sameKeyRacing_movesMoneyOnce(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			from, to := openAccount(t, l, "from"), openAccount(t, l, "to")
			testkit.Mint(t, l, from, 100)
			u, err := l.Client.User.Create().SetUsername("payer").SetPasswordHash("x").SetRole(user.RoleCUSTOMER).Save(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			value := "key-1"
			key, _ := ledger.NewKey(&value, "test", "5")
			ids := make([]int, 10)
			var wg sync.WaitGroup
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					txn, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: 5, InitiatorID: u.ID, Key: key})
					if err != nil {
						t.Error(err)
						return
					}
					ids[i] = txn.ID
				}()
			}
			wg.Wait()
			for _, id := range ids {
				if id != ids[0] {
					t.Fatalf("ids = %v, want one transaction", ids)
				}
			}
			if a := get(t, l, from); a.Balance != 95 {
				t.Fatalf("balance %d, want 95", a.Balance)
			}
			other, _ := ledger.NewKey(&value, "test", "6")
			if _, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: 6, InitiatorID: u.ID, Key: other}); !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("other input under the key: %v, want CONFLICT", err)
			}
		})
	}
}
