package cashout

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"coffer/ent"
	entcashout "coffer/ent/cashout"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/pgtest"
	"coffer/graph/store"
	"coffer/graph/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var eur = testkit.EUR

func ptr[T any](v T) *T { return &v }

// TestRequest_fingerprint_sameRequestSameKey: createCashout's fingerprint is the amount as minor
// units and the channel.
func TestRequest_fingerprint_sameRequestSameKey(t *testing.T) {
	l := ledger.New(nil, "", eur)
	base := Request{Amount: "25", Channel: entcashout.ChannelEMAIL, IdempotencyKey: ptr("k")}
	tests := []struct {
		name string
		give Request
		same bool
	}{
		{"the amount with decimals", Request{Amount: "25.00", Channel: entcashout.ChannelEMAIL, IdempotencyKey: ptr("k")}, true},
		{"the amount with its currency", Request{Amount: "EUR:25.0", Channel: entcashout.ChannelEMAIL, IdempotencyKey: ptr("k")}, true},
		{"another amount", Request{Amount: "25.01", Channel: entcashout.ChannelEMAIL, IdempotencyKey: ptr("k")}, false},
		{"another channel", Request{Amount: "25", Channel: entcashout.ChannelSMS, IdempotencyKey: ptr("k")}, false},
	}
	want, err := base.read(l)
	if err != nil || want.key == nil {
		t.Fatalf("read = %+v, %v", want, err)
	}
	for _, tt := range tests {
		got, err := tt.give.read(l)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if same := bytes.Equal(got.key.Fingerprint, want.key.Fingerprint); same != tt.same {
			t.Errorf("%s: same fingerprint = %v, want %v", tt.name, same, tt.same)
		}
	}
	long := ptr(strings.Repeat("k", ledger.MaxIdempotencyKeyLen+1))
	for _, tt := range []struct {
		give Request
		want string
	}{
		{Request{Amount: "-1", IdempotencyKey: long}, "amount"}, // the amount first
		{Request{Amount: "1", IdempotencyKey: long}, "idempotencyKey"},
	} {
		_, err := tt.give.read(l)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields[tt.want] == "" {
			t.Errorf("%+v: %v, want BAD_USER_INPUT on %s", tt.give, err, tt.want)
		}
	}
}

// TestList_adminAll_customerOwn_staffForbidden: an administrator lists every cash-out, a
// customer their own only, and a clerk (no customer) is FORBIDDEN.
func TestList_adminAll_customerOwn_staffForbidden(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			db := pgtest.OpenStore(t, st)
			ctx := context.Background()
			l := ledger.New(db.Client, db.Dialect, eur)
			ann, annCashouts := customerWithCashouts(t, l, "ann", 2)
			_, benCashouts := customerWithCashouts(t, l, "ben", 1)
			tests := []struct {
				name string
				give *identity.Viewer
				want []int
				code apperr.Code
			}{
				{"admin", &identity.Viewer{UserID: 1, Role: user.RoleADMIN}, append(slices.Clone(annCashouts), benCashouts...), ""},
				{"customer", ann, annCashouts, ""},
				{"staff", &identity.Viewer{UserID: 2, Role: user.RoleSTAFF}, nil, apperr.Forbidden},
			}
			for _, tt := range tests {
				q, err := List(db.Client, tt.give)
				if err != nil && apperr.CodeOf(err) != tt.code || err == nil && tt.code != "" {
					t.Fatalf("%s: %v, want %q", tt.name, err, tt.code)
				}
				if err != nil {
					continue
				}
				got, err := q.Order(ent.Asc(entcashout.FieldID)).IDs(ctx)
				if err != nil || !slices.Equal(got, tt.want) {
					t.Errorf("%s: cash-outs %v, %v; want %v", tt.name, got, err, tt.want)
				}
			}
		})
	}
}

// customerWithCashouts creates a customer with n cash-out rows (each on a transaction of its
// own) and returns the customer's viewer and the cash-outs' ids.
func customerWithCashouts(t *testing.T, l *ledger.Ledger, name string, n int) (*identity.Viewer, []int) {
	t.Helper()
	client := l.Client
	ctx := context.Background()
	clearing, err := l.EnsureSystemAccount(ctx, AccountCode, "Cash-outs", false)
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewCustomer(t, l, name, testkit.CustomerOptions{})
	ids, err := store.InTx(ctx, client, func(tx *ent.Tx) ([]int, error) {
		var ids []int
		for range n {
			txn, err := tx.Transaction.Create().SetKind(transaction.KindCASHOUT).SetStatus(transaction.StatusPENDING).
				SetDebitAccountID(c.AccountID).SetCreditAccountID(clearing).SetAmount(1).SetCreatedAt(time.Now()).Save(ctx)
			if err != nil {
				return nil, err
			}
			co, err := tx.Cashout.Create().SetCustomerID(c.CustomerID).SetAmount(1).SetChannel(entcashout.ChannelEMAIL).
				SetCashoutAddress("payto://iban/X").SetTransactionID(txn.ID).SetCreatedAt(time.Now()).Save(ctx)
			if err != nil {
				return nil, err
			}
			ids = append(ids, co.ID)
		}
		return ids, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &identity.Viewer{UserID: c.UserID, Role: user.RoleCUSTOMER, CustomerID: c.CustomerID}, ids
}
