package cashout_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	entcashout "coffer/ent/cashout"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/cashout"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/identity"
	"coffer/graph/lookup"
	"coffer/graph/money"
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
)

// The cash-out rules on both stores, without GraphQL: a cash-out reserves its amount, its TAN
// (read from the outbox) posts it, aborting releases it, and a wrong TAN or a settled cash-out
// changes nothing.

// bank is a cash-out service over a fresh database and the outbox its TANs go to.
type bank struct {
	*cashout.Service
	outbox string
}

func open(t *testing.T, st string) *bank {
	t.Helper()
	db := pgtest.OpenStore(t, st)
	outbox := filepath.Join(t.TempDir(), "outbox.jsonl")
	sender, err := delivery.New(delivery.Config{OutboxFile: outbox})
	if err != nil {
		t.Fatal(err)
	}
	key, err := lookup.NewKey(make([]byte, lookup.MinKeyBytes))
	if err != nil {
		t.Fatal(err)
	}
	l := testkit.Ledger(db)
	c := &codes.Service{Client: db.Client, Sender: sender, Key: key, TTL: 10 * time.Minute, Now: time.Now}
	return &bank{Service: &cashout.Service{Ledger: l, Codes: c}, outbox: outbox}
}

// customer creates a customer with an e-mail, a cashout address (unless empty) and a main
// account holding mainMinor.
func (b *bank) customer(t *testing.T, username, address string, mainMinor int64) *identity.Viewer {
	t.Helper()
	c := testkit.NewCustomer(t, b.Ledger, username, testkit.CustomerOptions{Email: username + "@example.com", CashoutAddress: address})
	if mainMinor > 0 {
		testkit.Mint(t, b.Ledger, c.AccountID, mainMinor)
	}
	return &identity.Viewer{UserID: c.UserID, Username: username, Role: user.RoleCUSTOMER, CustomerID: c.CustomerID, MainAccountID: c.AccountID}
}

// lastTAN is the code of the last message in the outbox.
func (b *bank) lastTAN(t *testing.T) string {
	t.Helper()
	return testkit.LastCode(t, b.outbox)
}

// main is v's main balance and reservation.
func (b *bank) main(t *testing.T, v *identity.Viewer) (balanceMinor, reservedMinor int64) {
	t.Helper()
	return testkit.Balance(t, b.Ledger, v.MainAccountID)
}

func wrong(tan string) string {
	if tan == "000000" {
		return "000001"
	}
	return "000000"
}

func TestConfirm_rightTANPostsOnce_wrongTANChangesNothing(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			b, ctx := open(t, st), context.Background()
			ann := b.customer(t, "ann", "payto://iban/DE89370400440532013000", 1_000)
			co, err := b.Create(ctx, ann, cashout.Request{Amount: minorText(400), Channel: entcashout.ChannelEMAIL})
			if err != nil || co.Status != entcashout.StatusPENDING {
				t.Fatalf("create: %+v, %v", co, err)
			}
			if bal, res := b.main(t, ann); bal != 1_000 || res != 400 {
				t.Fatalf("after create: balance %d reserved %d, want 1000 and 400", bal, res)
			}
			tan := b.lastTAN(t)
			_, err = b.Confirm(ctx, ann, co.ID, wrong(tan))
			testkit.WantCode(t, err, apperr.InvalidCode)
			if bal, res := b.main(t, ann); bal != 1_000 || res != 400 {
				t.Fatalf("after a wrong TAN: balance %d reserved %d", bal, res)
			}
			done, err := b.Confirm(ctx, ann, co.ID, tan)
			if err != nil || done.Status != entcashout.StatusCONFIRMED || done.ConfirmedAt == nil {
				t.Fatalf("confirm: %+v, %v", done, err)
			}
			if bal, res := b.main(t, ann); bal != 600 || res != 0 {
				t.Fatalf("after confirm: balance %d reserved %d, want 600 and 0", bal, res)
			}
			_, err = b.Confirm(ctx, ann, co.ID, tan)
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			_, err = b.Abort(ctx, ann, co.ID)
			testkit.WantCode(t, err, apperr.PreconditionFailed)
		})
	}
}

func TestAbort_releasesTheReservation_andKillsTheTAN(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			b, ctx := open(t, st), context.Background()
			ann := b.customer(t, "ann", "payto://iban/DE89370400440532013000", 1_000)
			ben := b.customer(t, "ben", "payto://iban/DE89370400440532013000", 0)
			co, err := b.Create(ctx, ann, cashout.Request{Amount: minorText(400), Channel: entcashout.ChannelEMAIL})
			if err != nil {
				t.Fatal(err)
			}
			tan := b.lastTAN(t)
			_, err = b.Abort(ctx, ben, co.ID)
			testkit.WantCode(t, err, apperr.NotFound) // another's cash-out is not there for ben
			aborted, err := b.Abort(ctx, ann, co.ID)
			if err != nil || aborted.Status != entcashout.StatusABORTED {
				t.Fatalf("abort: %+v, %v", aborted, err)
			}
			_, err = b.Confirm(ctx, ann, co.ID, tan)
			testkit.WantCode(t, err, apperr.PreconditionFailed)
			if bal, res := b.main(t, ann); bal != 1_000 || res != 0 {
				t.Fatalf("after abort: balance %d reserved %d, want 1000 and 0", bal, res)
			}
		})
	}
}

func TestCreate_refusals_reserveNothing(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			b, ctx := open(t, st), context.Background()
			ann := b.customer(t, "ann", "payto://iban/DE89370400440532013000", 100)
			noAddress := b.customer(t, "ned", "", 100)
			tests := []struct {
				name string
				v    *identity.Viewer
				give cashout.Request
				want apperr.Code
			}{
				{"zero amount", ann, cashout.Request{Channel: entcashout.ChannelEMAIL}, apperr.BadUserInput},
				{"more than the balance", ann, cashout.Request{Amount: minorText(101), Channel: entcashout.ChannelEMAIL}, apperr.InsufficientFunds},
				{"no phone for SMS", ann, cashout.Request{Amount: minorText(1), Channel: entcashout.ChannelSMS}, apperr.PreconditionFailed},
				{"no cashout address", noAddress, cashout.Request{Amount: minorText(1), Channel: entcashout.ChannelEMAIL}, apperr.PreconditionFailed},
				{"staff", &identity.Viewer{UserID: ann.UserID, Username: "clerk", Role: user.RoleSTAFF}, cashout.Request{Amount: minorText(1), Channel: entcashout.ChannelEMAIL}, apperr.Forbidden},
				{"the bank", &identity.Viewer{UserID: ann.UserID, Username: "bank", CustomerID: ann.CustomerID}, cashout.Request{Amount: minorText(1), Channel: entcashout.ChannelEMAIL}, apperr.Conflict},
			}
			for _, tt := range tests {
				_, err := b.Create(ctx, tt.v, tt.give)
				if got := apperr.CodeOf(err); got != tt.want {
					t.Errorf("%s: %v (%s), want %s", tt.name, err, got, tt.want)
				}
			}
			if bal, res := b.main(t, ann); bal != 100 || res != 0 {
				t.Fatalf("after refusals: balance %d reserved %d", bal, res)
			}
			if n := b.Ledger.Client.Cashout.Query().CountX(ctx); n != 0 {
				t.Fatalf("%d cash-outs stored by refusals", n)
			}
		})
	}
}

// minorText writes minor units as the client would type them (EUR, two decimals).
func minorText(amountMinor int64) string {
	return money.Currency{Code: "EUR", Scale: 2}.Format(amountMinor)
}
