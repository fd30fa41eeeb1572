package access

import (
	"context"
	"os"
	"slices"
	"testing"

	"coffer/ent"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// party is a customer with a main account.
type party struct {
	viewer *identity.Viewer
	mainID int
}

// openLedger returns a ledger over a fresh database of the given store, with ann and ben as
// customers and one transfer from ann to ben.
func openLedger(t *testing.T, st string) (l *ledger.Ledger, ann, ben party, txn *ent.Transaction) {
	t.Helper()
	db := pgtest.OpenStore(t, st)
	l = testkit.Ledger(db)
	ann, ben = newParty(t, l, "ann"), newParty(t, l, "ben")
	ctx := context.Background()
	issuer, err := l.Issuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []ledger.Move{
		{Kind: transaction.KindCREATION, DebitID: issuer, CreditID: ann.mainID, AmountMinor: 10_00},
		{Kind: transaction.KindTRANSFER, DebitID: ann.mainID, CreditID: ben.mainID, AmountMinor: 3_00},
	} {
		txn, err = l.Run(ctx, 0, nil, func(tx *ledger.Tx) (*ent.Transaction, error) { return l.Transfer(ctx, tx, m) })
		if err != nil {
			t.Fatal(err)
		}
	}
	return l, ann, ben, txn
}

func newParty(t *testing.T, l *ledger.Ledger, name string) party {
	t.Helper()
	c := testkit.NewCustomer(t, l, name, testkit.CustomerOptions{})
	return party{viewer: &identity.Viewer{UserID: c.UserID, Role: user.RoleCUSTOMER, CustomerID: c.CustomerID}, mainID: c.AccountID}
}

var (
	admin = &identity.Viewer{UserID: 1000, Role: user.RoleADMIN}
	clerk = &identity.Viewer{UserID: 1001, Role: user.RoleSTAFF}
)

// TestEntries_adminAllLines_partyOwnLineOnly: of a transfer's two entries an administrator sees
// both, each party only the line of their own account (the other would show the other party's
// balance), and anyone else none; a transaction with nothing visible is an empty list.
func TestEntries_adminAllLines_partyOwnLineOnly(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			l, ann, ben, txn := openLedger(t, st)
			tests := []struct {
				name     string
				give     *identity.Viewer
				accounts []int
			}{
				{"admin", admin, []int{ann.mainID, ben.mainID}},
				{"sender", ann.viewer, []int{ann.mainID}},
				{"recipient", ben.viewer, []int{ben.mainID}},
				{"clerk", clerk, nil},
			}
			for _, tt := range tests {
				byTxn, err := Entries(context.Background(), l.Client, tt.give, []int{txn.ID})
				if err != nil {
					t.Fatal(err)
				}
				var got []int
				for _, e := range byTxn[txn.ID] {
					got = append(got, e.AccountID)
				}
				slices.Sort(got)
				if !slices.Equal(got, tt.accounts) || byTxn[txn.ID] == nil {
					t.Errorf("%s: entries on accounts %v (list %v), want %v", tt.name, got, byTxn[txn.ID], tt.accounts)
				}
			}
		})
	}
}

// TestCustomerTransactions_ownerAndBankOnly: a customer's transactions are theirs and the bank's
// to see; another customer or a clerk finds them missing.
func TestCustomerTransactions_ownerAndBankOnly(t *testing.T) {
	l, ann, ben, txn := openLedger(t, "sqlite")
	ctx := context.Background()
	tests := []struct {
		name string
		give *identity.Viewer
		want []int // nil: NOT_FOUND
	}{
		{"the customer", ben.viewer, []int{txn.ID}},
		{"admin", admin, []int{txn.ID}},
		{"another customer", ann.viewer, nil},
		{"clerk", clerk, nil},
	}
	for _, tt := range tests {
		q, err := CustomerTransactions(ctx, l.Client, tt.give, ben.viewer.CustomerID, nil)
		if tt.want == nil {
			if err == nil || apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s: %v, want NOT_FOUND", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got, err := q.IDs(ctx); err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: transactions %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
