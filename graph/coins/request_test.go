package coins

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/ledger"
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var eur = testkit.EUR

// openCoins returns a coins service over a fresh database of the given store, its clock fixed.
func openCoins(t *testing.T, st string, now time.Time) *Service {
	t.Helper()
	db := pgtest.OpenStore(t, st)
	l := ledger.New(db.Client, db.Dialect, eur)
	l.Now = func() time.Time { return now }
	return &Service{Ledger: l, SQL: db.SQL, MonthlyLimitMinor: 1_000_00}
}

func ptr[T any](v T) *T { return &v }

// variant is a request changed one way, and whether it is still the same request.
type variant[T any] struct {
	name   string
	change func(*T)
	same   bool
}

// checkFingerprints compares the fingerprint of each variant of base with base's own.
func checkFingerprints[T any](t *testing.T, base T, key func(T) (*ledger.Key, error), variants []variant[T]) {
	t.Helper()
	fingerprint := func(in T) []byte {
		k, err := key(in)
		if err != nil || k == nil {
			t.Fatalf("key = %v, %v", k, err)
		}
		return k.Fingerprint
	}
	first := fingerprint(base)
	for _, v := range variants {
		in := base
		v.change(&in)
		if same := bytes.Equal(fingerprint(in), first); same != v.same {
			t.Errorf("%s: same fingerprint = %v, want %v", v.name, same, v.same)
		}
	}
}

// TestMint_fingerprint_sameRequestSameKey: createCoins' fingerprint is the request as the client
// meant it: the amount however written, no target date as "now" (whenever retried), autoSign
// omitted as true, one instant in any zone; any other recipient, amount, target date, memo or
// autoSign is another request.
func TestMint_fingerprint_sameRequestSameKey(t *testing.T) {
	l := ledger.New(nil, "", eur)
	march := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	inMadrid := march.In(time.FixedZone("CET", 3600))
	key := func(m Mint) (*ledger.Key, error) { r, err := m.read(l); return r.key, err }
	base := Mint{Recipient: Recipient{Username: "ann"}, Amount: "10", Memo: "gift", IdempotencyKey: ptr("k")}
	checkFingerprints(t, base, key, []variant[Mint]{
		{"the amount with decimals", func(m *Mint) { m.Amount = "10.00" }, true},
		{"the amount with its currency", func(m *Mint) { m.Amount = "EUR:10" }, true},
		{"autoSign given as true", func(m *Mint) { m.AutoSign = ptr(true) }, true},
		{"another amount", func(m *Mint) { m.Amount = "10.01" }, false},
		{"another recipient", func(m *Mint) { m.Recipient = Recipient{Username: "ben"} }, false},
		{"the same name as an e-mail", func(m *Mint) { m.Recipient = Recipient{Email: "ann"} }, false},
		{"a target date", func(m *Mint) { m.TargetDate = &march }, false},
		{"another memo", func(m *Mint) { m.Memo = "gift!" }, false},
		{"autoSign false", func(m *Mint) { m.AutoSign = ptr(false) }, false},
	})
	base.TargetDate = &march
	checkFingerprints(t, base, key, []variant[Mint]{
		{"the target date in another zone", func(m *Mint) { m.TargetDate = &inMadrid }, true},
		{"no target date", func(m *Mint) { m.TargetDate = nil }, false},
	})
}

// TestSend_fingerprint_sameRequestSameKey: sendCoins' fingerprint, as createCoins', and never
// createCoins' for the same fields.
func TestSend_fingerprint_sameRequestSameKey(t *testing.T) {
	l := ledger.New(nil, "", eur)
	base := Send{Recipient: Recipient{IBAN: "DE89370400440532013000"}, Amount: "0.5", IdempotencyKey: ptr("k")}
	checkFingerprints(t, base, func(s Send) (*ledger.Key, error) { r, err := s.read(l); return r.key, err }, []variant[Send]{
		{"the amount written otherwise", func(s *Send) { s.Amount = "0.50" }, true},
		{"autoSign given as true", func(s *Send) { s.AutoSign = ptr(true) }, true},
		{"another amount", func(s *Send) { s.Amount = "0.51" }, false},
		{"another recipient", func(s *Send) { s.Recipient = Recipient{Username: "ben"} }, false},
		{"a memo", func(s *Send) { s.Memo = "rent" }, false},
		{"autoSign false", func(s *Send) { s.AutoSign = ptr(false) }, false},
	})
	send, _ := base.read(l)
	mint, _ := Mint{Recipient: base.Recipient, Amount: "0.5", IdempotencyKey: ptr("k")}.read(l)
	if bytes.Equal(mint.key.Fingerprint, send.key.Fingerprint) {
		t.Error("createCoins and sendCoins share a fingerprint")
	}
}

// TestRequests_rawInput_errorsNameTheField: the amount is read before the key, each error on its
// field as the API names it; without a key there is no idempotency.
func TestRequests_rawInput_errorsNameTheField(t *testing.T) {
	l := ledger.New(nil, "", eur)
	long := ptr(strings.Repeat("k", ledger.MaxIdempotencyKeyLen+1))
	tests := []struct {
		name string
		give func() error
		want string
	}{
		{"mint, amount zero and key too long", func() error { _, err := Mint{Amount: "0", IdempotencyKey: long}.read(l); return err }, "amount"},
		{"mint, amount beyond the bound", func() error { _, err := Mint{Amount: "10000000000000.01"}.read(l); return err }, "amount"},
		{"mint, key too long", func() error { _, err := Mint{Amount: "1", IdempotencyKey: long}.read(l); return err }, "idempotencyKey"},
		{"send, amount in another currency", func() error { _, err := Send{Amount: "USD:1"}.read(l); return err }, "amount"},
		{"send, key too long", func() error { _, err := Send{Amount: "1", IdempotencyKey: long}.read(l); return err }, "idempotencyKey"},
	}
	for _, tt := range tests {
		var ae *apperr.Error
		if err := tt.give(); !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields[tt.want] == "" {
			t.Errorf("%s: %v, want BAD_USER_INPUT on %s", tt.name, err, tt.want)
		}
	}
	for _, key := range []*string{nil, ptr("")} {
		if m, err := (Mint{Amount: "1", IdempotencyKey: key}).read(l); err != nil || m.key != nil {
			t.Errorf("no key (%v): key %v, %v; want none", key, m.key, err)
		}
	}
}

// TestCreate_noTargetDate_meansNowAtEveryAttempt: without a target date the coins are created for
// now, and a retry under the same key, later, is the same request (it replays, even once the
// first attempt's month has left the window); a different one under the key is CONFLICT, and the
// recipient is credited once.
func TestCreate_noTargetDate_meansNowAtEveryAttempt(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
			s := openCoins(t, st, now)
			ctx := context.Background()
			admin := newUser(t, s, "root", user.RoleADMIN)
			annMain := newUser(t, s, "ann", user.RoleCUSTOMER).MainAccountID
			mint := Mint{Recipient: Recipient{Username: "ann"}, Amount: "10", IdempotencyKey: ptr("may")}
			first, err := s.Create(ctx, admin, mint)
			if err != nil {
				t.Fatal(err)
			}
			if first.TargetDate == nil || !first.TargetDate.Equal(now) {
				t.Errorf("target date = %v, want now (%v)", first.TargetDate, now)
			}
			later := now.AddDate(0, 4, 0) // May is out of September's window
			s.Ledger.Now = func() time.Time { return later }
			mint.Amount = "10.00"
			again, err := s.Create(ctx, admin, mint)
			if err != nil || again.ID != first.ID {
				t.Errorf("the retry = %v, %v; want transaction %d", again, err, first.ID)
			}
			mint.Memo = "another"
			if _, err := s.Create(ctx, admin, mint); apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("another request under the key: %v, want CONFLICT", err)
			}
			acc, err := s.Ledger.Client.Account.Get(ctx, annMain)
			if err != nil || acc.Balance != 10_00 {
				t.Errorf("ann's balance = %v, %v; want 1000", acc, err)
			}
		})
	}
}
