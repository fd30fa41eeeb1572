package main

// Coins over the wire, on both stores: createCoins (limits, four eyes, idempotency), sendCoins,
// confirmTransaction and cancelTransaction, setPublicKey and setDebitLimit. Each refusal has its
// exact extensions.code and fields, and changed nothing (balances, statements, pending counts).
// The rules themselves are tested in graph/coins.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateCoins_refused_mintsNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		mia := s.customer(admin, "mia")
		now := time.Now().UTC()
		at := func(tm time.Time) string { return tm.Format(time.RFC3339) }
		mint := func(over map[string]any) map[string]any {
			in := map[string]any{"recipient": map[string]any{"username": "mia"}, "amount": "10", "targetDate": at(now)}
			for k, v := range over {
				in[k] = v
			}
			return in
		}
		tests := []struct {
			name       string
			as         string
			give       map[string]any
			wantCode   string
			wantFields []string
		}{
			{"unauthenticated", "", mint(nil), "UNAUTHENTICATED", nil},
			{"by a customer", "mia", mint(nil), "FORBIDDEN", nil},
			{"target date three months ago", "admin",
				mint(map[string]any{"targetDate": at(time.Date(now.Year(), now.Month()-3, 15, 12, 0, 0, 0, time.UTC))}),
				"BAD_USER_INPUT", []string{"targetDate"}},
			{"target date just before the window", "admin",
				mint(map[string]any{"targetDate": at(time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second))}),
				"BAD_USER_INPUT", []string{"targetDate"}},
			{"target date next month", "admin",
				mint(map[string]any{"targetDate": at(time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC))}),
				"BAD_USER_INPUT", []string{"targetDate"}},
			{"unknown recipient", "admin", mint(map[string]any{"recipient": map[string]any{"username": "nobody"}}), "NOT_FOUND", nil},
			{"recipient in two forms", "admin",
				mint(map[string]any{"recipient": map[string]any{"username": "mia", "email": "mia@example.com"}}),
				"BAD_USER_INPUT", []string{"recipient"}},
			{"recipient in no form", "admin", mint(map[string]any{"recipient": map[string]any{}}), "BAD_USER_INPUT", []string{"recipient"}},
			{"amount zero", "admin", mint(map[string]any{"amount": "0"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount negative", "admin", mint(map[string]any{"amount": "-1"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount with too many decimals", "admin", mint(map[string]any{"amount": "1.234"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount with an exponent", "admin", mint(map[string]any{"amount": "1e3"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount as a JSON number", "admin", mint(map[string]any{"amount": 5}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount out of range", "admin", mint(map[string]any{"amount": "99999999999999999999"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount empty", "admin", mint(map[string]any{"amount": ""}), "BAD_USER_INPUT", []string{"amount"}},
			{"idempotency key of 65 characters", "admin", mint(map[string]any{"idempotencyKey": strings.Repeat("k", 65)}),
				"BAD_USER_INPUT", []string{"idempotencyKey"}},
		}
		tokens := map[string]string{"": "", "admin": admin, "mia": mia}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, mia)
				r := onT(t, s).do(tokens[tt.as], eaCreateCoinsMutation, map[string]any{"in": tt.give})
				wantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, mia))
			})
		}
		// The window's edges are inside it.
		for _, d := range []time.Time{time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, time.UTC), now} {
			s.mustDo(admin, eaCreateCoinsMutation, map[string]any{"in": mint(map[string]any{"targetDate": at(d)})}, nil)
		}
		if got := eaStateOf(t, s, mia); got.Balance != "20.00" || got.Entries != 2 {
			t.Errorf("mia after two valid creations = %+v, want 20.00 in 2 entries", got)
		}
	})
}

func TestCreateCoins_monthlyLimit_refusesBeyondPerRecipientAndMonth(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		max := s.customer(admin, "max")
		other := s.customer(admin, "other")
		now := time.Now().UTC()
		mint := func(amount string, target time.Time) gqlResponse {
			return s.do(admin, eaCreateCoinsMutation, map[string]any{"in": map[string]any{
				"recipient": map[string]any{"username": "max"}, "amount": amount, "targetDate": target.Format(time.RFC3339)}})
		}
		if r := mint("600", now); len(r.Errors) > 0 {
			t.Fatalf("mint 600: %+v", r.Errors)
		}
		before := eaSnapshot(t, s, admin, max, other)
		wantError(t, mint("500", now), "PRECONDITION_FAILED")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, max, other))

		if r := mint("400", now); len(r.Errors) > 0 {
			t.Fatalf("mint 400 up to exactly the limit: %+v", r.Errors)
		}
		before = eaSnapshot(t, s, admin, max, other)
		wantError(t, mint("0.01", now), "PRECONDITION_FAILED")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, max, other))
		if got := s.balance(max); got != "1000.00" {
			t.Errorf("max = %s, want 1000.00", got)
		}
		// The limit is per recipient and per calendar month.
		s.mint(admin, "other", "1000")
		lastMonth := time.Date(now.Year(), now.Month()-1, 15, 12, 0, 0, 0, time.UTC)
		if r := mint("500", lastMonth); len(r.Errors) > 0 {
			t.Errorf("mint 500 for last month: %+v", r.Errors)
		}
		if a, o := s.balance(max), s.balance(other); a != "1500.00" || o != "1000.00" {
			t.Errorf("balances max=%s other=%s, want 1500.00 and 1000.00", a, o)
		}
	})
}

func TestSendCoins_refused_changesNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		s.mint(admin, "ann", "100")
		annIBAN := eaAccountOf(t, s, ann).IBAN
		unknownKey := make([]byte, 32)
		if _, err := rand.Read(unknownKey); err != nil {
			t.Fatal(err)
		}
		send := func(recipient map[string]any, over map[string]any) map[string]any {
			in := map[string]any{"recipient": recipient, "amount": "10"}
			for k, v := range over {
				in[k] = v
			}
			return in
		}
		toBen := map[string]any{"username": "ben"}
		tests := []struct {
			name       string
			as         string
			give       map[string]any
			wantCode   string
			wantFields []string
		}{
			{"unauthenticated", "", send(toBen, nil), "UNAUTHENTICATED", nil},
			{"by the admin", "admin", send(toBen, nil), "FORBIDDEN", nil},
			{"to self by username", "ann", send(map[string]any{"username": "ann"}, nil), "BAD_USER_INPUT", []string{"recipient"}},
			{"to self by e-mail", "ann", send(map[string]any{"email": "ann@example.com"}, nil), "BAD_USER_INPUT", []string{"recipient"}},
			{"to self by iban", "ann", send(map[string]any{"iban": annIBAN}, nil), "BAD_USER_INPUT", []string{"recipient"}},
			{"to admin", "ann", send(map[string]any{"username": "admin"}, nil), "FORBIDDEN", nil},
			{"to bank", "ann", send(map[string]any{"username": "bank"}, nil), "FORBIDDEN", nil},
			{"to an unknown username", "ann", send(map[string]any{"username": "nobody"}, nil), "NOT_FOUND", nil},
			{"to an unknown e-mail", "ann", send(map[string]any{"email": "nobody@example.com"}, nil), "NOT_FOUND", nil},
			{"to an unknown iban", "ann", send(map[string]any{"iban": "DE89370400440532013000"}, nil), "NOT_FOUND", nil},
			{"to an unknown public key", "ann", send(map[string]any{"publicKey": hex.EncodeToString(unknownKey)}, nil), "NOT_FOUND", nil},
			{"recipient in two forms", "ann", send(map[string]any{"username": "ben", "email": "ben@example.com"}, nil),
				"BAD_USER_INPUT", []string{"recipient"}},
			{"recipient in no form", "ann", send(map[string]any{}, nil), "BAD_USER_INPUT", []string{"recipient"}},
			{"more than the balance", "ann", send(toBen, map[string]any{"amount": "100.01"}), "INSUFFICIENT_FUNDS", nil},
			{"more than the balance, pending", "ann", send(toBen, map[string]any{"amount": "100.01", "autoSign": false}), "INSUFFICIENT_FUNDS", nil},
			{"amount zero", "ann", send(toBen, map[string]any{"amount": "0"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount negative", "ann", send(toBen, map[string]any{"amount": "-1"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount with too many decimals", "ann", send(toBen, map[string]any{"amount": "1.234"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount with an exponent", "ann", send(toBen, map[string]any{"amount": "1e1"}), "BAD_USER_INPUT", []string{"amount"}},
			{"amount as a JSON number", "ann", send(toBen, map[string]any{"amount": 5}), "BAD_USER_INPUT", []string{"amount"}},
			{"idempotency key of 65 characters", "ann", send(toBen, map[string]any{"idempotencyKey": strings.Repeat("k", 65)}),
				"BAD_USER_INPUT", []string{"idempotencyKey"}},
			{"memo of 501 characters", "ann", send(toBen, map[string]any{"memo": strings.Repeat("é", 501)}),
				"BAD_USER_INPUT", []string{"memo"}},
		}
		tokens := map[string]string{"": "", "admin": admin, "ann": ann}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, ann, ben)
				r := onT(t, s).do(tokens[tt.as], eaSendCoinsMutation, map[string]any{"in": tt.give})
				wantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
			})
		}
		if a, b := eaStateOf(t, s, ann), eaStateOf(t, s, ben); a.Balance != "100.00" || a.Entries != 1 || b.Balance != "0.00" || b.Entries != 0 {
			t.Errorf("after the refused sends ann=%+v ben=%+v, want 100.00/1 entry and 0.00/0 entries", a, b)
		}
	})
}

func TestSendCoins_idempotencyKey_retryMovesMoneyOnce(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		s.mint(admin, "ann", "100")
		send := func(token, to, amount, key string) gqlResponse {
			return s.send(token, to, amount, map[string]any{"idempotencyKey": key})
		}
		id := func(r gqlResponse) string {
			t.Helper()
			if len(r.Errors) > 0 {
				t.Fatalf("send: %+v", r.Errors)
			}
			var out struct{ SendCoins struct{ ID string } }
			eaDecode(t, r, &out)
			return out.SendCoins.ID
		}
		first := id(send(ann, "ben", "10", "k1"))
		if again := id(send(ann, "ben", "10", "k1")); again != first {
			t.Errorf("retry returned transaction %s, want the first one %s", again, first)
		}
		a, b := eaStateOf(t, s, ann), eaStateOf(t, s, ben)
		if a.Balance != "90.00" || a.Entries != 2 || b.Balance != "10.00" || b.Entries != 1 {
			t.Fatalf("after a send and its retry ann=%+v ben=%+v, want the money moved once", a, b)
		}

		before := eaSnapshot(t, s, admin, ann, ben)
		wantError(t, send(ann, "ben", "11", "k1"), "CONFLICT", "idempotencyKey")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
		wantError(t, s.send(ann, "ben", "10", map[string]any{"idempotencyKey": "k1", "memo": "other"}), "CONFLICT", "idempotencyKey")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))

		// A key belongs to its user: ben's "k1" is a new request.
		if other := id(send(ben, "ann", "1", "k1")); other == first {
			t.Error("ben's request under ann's key returned ann's transaction")
		}
		// 64 characters are allowed.
		id(send(ann, "ben", "1", strings.Repeat("k", 64)))

		// A refused request leaves its key unused: the retry after funding goes through.
		before = eaSnapshot(t, s, admin, ann, ben)
		wantError(t, send(ann, "ben", "500", "k-big"), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
		s.mint(admin, "ann", "500")
		id(send(ann, "ben", "500", "k-big"))
		if a, b := s.balance(ann), s.balance(ben); a != "90.00" || b != "510.00" {
			t.Errorf("final balances ann=%s ben=%s, want 90.00 and 510.00", a, b)
		}
	})
}

func TestSendCoins_autoSignFalse_reservesUntilConfirmedOrCancelled(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		s.mint(admin, "ann", "100")

		pending := eaSendID(t, s, ann, "ben", "30", false)
		if got := eaTxnStatus(t, s, ann, pending); got != "PENDING" {
			t.Fatalf("status = %s, want PENDING", got)
		}
		wantAnn := eaMoneyState{Balance: "100.00", Available: "70.00", DebitLimit: "0.00", PendingCount: 1, Entries: 1}
		wantBen := eaMoneyState{Balance: "0.00", Available: "0.00", DebitLimit: "0.00", PendingCount: 1, Entries: 0}
		if a, b := eaStateOf(t, s, ann).eaMoneyState, eaStateOf(t, s, ben).eaMoneyState; a != wantAnn || b != wantBen {
			t.Fatalf("while pending ann=%+v ben=%+v, want %+v and %+v", a, b, wantAnn, wantBen)
		}
		// The reservation counts against what ann can still send.
		before := eaSnapshot(t, s, admin, ann, ben)
		wantError(t, s.send(ann, "ben", "70.01", nil), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))

		var out struct{ CancelTransaction struct{ ID, Status string } }
		s.mustDo(ann, eaCancelMutation, map[string]any{"id": pending}, &out)
		if out.CancelTransaction.Status != "VOIDED" || out.CancelTransaction.ID != pending {
			t.Errorf("cancel = %+v, want %s VOIDED", out.CancelTransaction, pending)
		}
		wantAnn = eaMoneyState{Balance: "100.00", Available: "100.00", DebitLimit: "0.00", PendingCount: 0, Entries: 1}
		wantBen.PendingCount = 0
		if a, b := eaStateOf(t, s, ann).eaMoneyState, eaStateOf(t, s, ben).eaMoneyState; a != wantAnn || b != wantBen {
			t.Fatalf("after cancel ann=%+v ben=%+v, want %+v and %+v", a, b, wantAnn, wantBen)
		}

		before = eaSnapshot(t, s, admin, ann, ben)
		wantError(t, s.do(ann, eaConfirmMutation, map[string]any{"id": pending}), "PRECONDITION_FAILED")
		wantError(t, s.do(ann, eaCancelMutation, map[string]any{"id": pending}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
		if got := eaTxnStatus(t, s, ann, pending); got != "VOIDED" {
			t.Errorf("status after the refused confirm = %s, want VOIDED", got)
		}

		// Confirming a pending one posts it; after that it can be neither confirmed nor cancelled.
		second := eaSendID(t, s, ann, "ben", "40", false)
		var conf struct{ ConfirmTransaction struct{ Status string } }
		s.mustDo(ann, eaConfirmMutation, map[string]any{"id": second}, &conf)
		if conf.ConfirmTransaction.Status != "POSTED" {
			t.Errorf("confirm = %+v, want POSTED", conf.ConfirmTransaction)
		}
		wantAnn = eaMoneyState{Balance: "60.00", Available: "60.00", DebitLimit: "0.00", PendingCount: 0, Entries: 2}
		wantBen = eaMoneyState{Balance: "40.00", Available: "40.00", DebitLimit: "0.00", PendingCount: 0, Entries: 1}
		if a, b := eaStateOf(t, s, ann).eaMoneyState, eaStateOf(t, s, ben).eaMoneyState; a != wantAnn || b != wantBen {
			t.Fatalf("after confirm ann=%+v ben=%+v, want %+v and %+v", a, b, wantAnn, wantBen)
		}
		before = eaSnapshot(t, s, admin, ann, ben)
		wantError(t, s.do(ann, eaConfirmMutation, map[string]any{"id": second}), "PRECONDITION_FAILED")
		wantError(t, s.do(ann, eaCancelMutation, map[string]any{"id": second}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
	})
}

func TestConfirmTransaction_withPublicKey_requiresValidSignature(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		s.mint(admin, "ann", "100")
		_, priv := pkNewKey(t)
		_, otherPriv := pkNewKey(t)
		pkMustRegister(s, ann, priv)

		id := eaSendID(t, s, ann, "ben", "25", false)
		var out struct {
			Transaction struct{ SigningPayload string }
		}
		s.mustDo(ann, `query($id: ID!) { transaction(id: $id) { signingPayload } }`, map[string]any{"id": id}, &out)
		payload := out.Transaction.SigningPayload
		if payload == "" {
			t.Fatal("empty signingPayload")
		}
		good := ed25519.Sign(priv, []byte(payload))
		tests := []struct {
			name string
			give any
		}{
			{"no signature", nil},
			{"empty signature", ""},
			{"not hex", "zz" + hex.EncodeToString(good)[2:]},
			{"signature of other bytes", hex.EncodeToString(ed25519.Sign(priv, []byte(payload+"x")))},
			{"signature by another key", hex.EncodeToString(ed25519.Sign(otherPriv, []byte(payload)))},
			{"truncated signature", hex.EncodeToString(good[:63])},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, ann, ben)
				r := onT(t, s).do(ann, eaConfirmMutation, map[string]any{"id": id, "sig": tt.give})
				wantError(t, r, "BAD_USER_INPUT", "signature")
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
				if got := eaTxnStatus(t, s, ann, id); got != "PENDING" {
					t.Errorf("status = %s, want PENDING", got)
				}
			})
		}
		var conf struct{ ConfirmTransaction struct{ Status string } }
		s.mustDo(ann, eaConfirmMutation, map[string]any{"id": id, "sig": hex.EncodeToString(good)}, &conf)
		if conf.ConfirmTransaction.Status != "POSTED" {
			t.Errorf("confirm with the right signature = %+v, want POSTED", conf.ConfirmTransaction)
		}
		if a, b := eaStateOf(t, s, ann), eaStateOf(t, s, ben); a.Balance != "75.00" || a.Available != "75.00" ||
			a.PendingCount != 0 || b.Balance != "25.00" {
			t.Errorf("after the signed confirm ann=%+v ben=%+v, want 75.00 and 25.00", a, b)
		}
	})
}

func TestSetPublicKey_refused_keepsKeys(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		bensKey, bensPriv := pkNewKey(t)
		pkMustRegister(s, ben, bensPriv)
		tests := []struct {
			name       string
			as         string
			give       string
			wantCode   string
			wantFields []string
		}{
			{"unauthenticated", "", strings.Repeat("ab", 32), "UNAUTHENTICATED", nil},
			{"by the admin", "admin", strings.Repeat("ab", 32), "FORBIDDEN", nil},
			// Without a challenge and a signature (ledger_publickey_test.go proves them) every field is named.
			{"not hex", "ann", strings.Repeat("zz", 32), "BAD_USER_INPUT", []string{"publicKey", "challengeId", "signature"}},
			{"empty", "ann", "", "BAD_USER_INPUT", []string{"publicKey", "challengeId", "signature"}},
			{"too short", "ann", strings.Repeat("ab", 31), "BAD_USER_INPUT", []string{"publicKey", "challengeId", "signature"}},
			{"too long", "ann", strings.Repeat("ab", 33), "BAD_USER_INPUT", []string{"publicKey", "challengeId", "signature"}},
			{"odd length", "ann", strings.Repeat("ab", 32) + "a", "BAD_USER_INPUT", []string{"publicKey", "challengeId", "signature"}},
			{"another customer's key, no proof", "ann", hex.EncodeToString(bensKey), "BAD_USER_INPUT", []string{"challengeId", "signature"}},
		}
		tokens := map[string]string{"": "", "admin": admin, "ann": ann}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, ann, ben)
				r := onT(t, s).do(tokens[tt.as], eaSetPublicKeyMutation, map[string]any{"k": tt.give})
				wantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
			})
		}
		if a, b := eaStateOf(t, s, ann), eaStateOf(t, s, ben); a.PublicKey != "<null>" || b.PublicKey != hex.EncodeToString(bensKey) {
			t.Errorf("keys after the refusals ann=%q ben=%q, want <null> (none registered) and ben's", a.PublicKey, b.PublicKey)
		}
	})
}

func TestSetDebitLimit_allowsOverdraftUpToTheLimitOnly(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		zoe := s.customer(admin, "zoe")
		ben := s.customer(admin, "ben")
		ids := eaAccountOf(t, s, zoe)
		tests := []struct {
			name       string
			as         string
			giveID     string
			giveLimit  any
			wantCode   string
			wantFields []string
		}{
			{"unauthenticated", "", ids.AccountID, "50", "UNAUTHENTICATED", nil},
			{"by a customer", "zoe", ids.AccountID, "50", "FORBIDDEN", nil},
			{"negative limit", "admin", ids.AccountID, "-1", "BAD_USER_INPUT", []string{"limit"}},
			{"limit with too many decimals", "admin", ids.AccountID, "1.234", "BAD_USER_INPUT", []string{"limit"}},
			{"limit as a JSON number", "admin", ids.AccountID, 50, "BAD_USER_INPUT", []string{"limit"}},
			{"unknown account", "admin", eaMadeUpID(), "50", "NOT_FOUND", nil},
			{"a customer's ID, not an account's", "admin", ids.CustomerID, "50", "NOT_FOUND", nil},
		}
		tokens := map[string]string{"": "", "admin": admin, "zoe": zoe}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, zoe, ben)
				r := onT(t, s).do(tokens[tt.as], eaSetDebitLimitMutation, map[string]any{"id": tt.giveID, "l": tt.giveLimit})
				wantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, zoe, ben))
			})
		}
		before := eaSnapshot(t, s, admin, zoe, ben)
		wantError(t, s.send(zoe, "ben", "0.01", nil), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, zoe, ben))

		var out struct {
			SetDebitLimit struct{ DebitLimit struct{ Amount string } }
		}
		s.mustDo(admin, eaSetDebitLimitMutation, map[string]any{"id": ids.AccountID, "l": "50"}, &out)
		if out.SetDebitLimit.DebitLimit.Amount != "50.00" {
			t.Errorf("debitLimit = %s, want 50.00", out.SetDebitLimit.DebitLimit.Amount)
		}
		before = eaSnapshot(t, s, admin, zoe, ben)
		wantError(t, s.send(zoe, "ben", "50.01", nil), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, zoe, ben))

		if r := s.send(zoe, "ben", "50", nil); len(r.Errors) > 0 {
			t.Fatalf("send 50 within the limit: %+v", r.Errors)
		}
		wantZoe := eaMoneyState{Balance: "-50.00", Available: "0.00", DebitLimit: "50.00", PendingCount: 0, Entries: 1}
		if got := eaStateOf(t, s, zoe).eaMoneyState; got != wantZoe {
			t.Errorf("zoe after sending 50 on credit = %+v, want %+v", got, wantZoe)
		}
		if got := s.balance(ben); got != "50.00" {
			t.Errorf("ben = %s, want 50.00", got)
		}
		before = eaSnapshot(t, s, admin, zoe, ben)
		wantError(t, s.send(zoe, "ben", "0.01", nil), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, zoe, ben))
	})
}

func TestCustomerTransactions_ownNewestFirst_pendingIsTheReviewPage(t *testing.T) {
	onStoresWith(t, nil, func(t *testing.T, s *testServer) {
		s = onT(t, s)
		admin := s.admin()
		alice, bob := s.customer(admin, "alice"), s.customer(admin, "bob")
		s.customer(admin, "carol")
		s.mint(admin, "alice", "100")
		eaSendID(t, s, alice, "bob", "1", true)
		eaSendID(t, s, alice, "bob", "2", false)
		eaSendID(t, s, alice, "carol", "3", false)
		eaSendID(t, s, bob, "alice", "0.5", true)

		all := crMyTransactions(t, s, alice, nil)
		want := []string{"0.50 POSTED", "3.00 PENDING", "2.00 PENDING", "1.00 POSTED", "100.00 POSTED"}
		if all.TotalCount != 5 || !slices.Equal(all.amounts(), want) {
			t.Errorf("alice's transactions = %d %v, want 5 %v", all.TotalCount, all.amounts(), want)
		}
		pending := crMyTransactions(t, s, alice, map[string]any{"status": "PENDING"})
		if pending.TotalCount != 2 || !slices.Equal(pending.amounts(), []string{"3.00 PENDING", "2.00 PENDING"}) {
			t.Errorf("alice's review page = %d %v, want the two pending transfers", pending.TotalCount, pending.amounts())
		}
		// Pages follow each other without gap or repeat.
		first := crMyTransactions(t, s, alice, map[string]any{"first": 2})
		next := crMyTransactions(t, s, alice, map[string]any{"first": 3, "after": first.PageInfo.EndCursor})
		if got := append(first.amounts(), next.amounts()...); !first.PageInfo.HasNextPage || !slices.Equal(got, want) {
			t.Errorf("two pages = %v (hasNextPage %v), want %v", got, first.PageInfo.HasNextPage, want)
		}
		// What waits for alice's signature is marked; bob sees the one to him, not signable by him.
		for _, e := range pending.Edges {
			if !e.Node.Signable {
				t.Errorf("alice's pending %s is not signable by her", e.Node.Amount.Amount)
			}
		}
		for _, e := range crMyTransactions(t, s, bob, map[string]any{"status": "PENDING"}).Edges {
			if e.Node.Signable {
				t.Errorf("bob may sign alice's pending %s", e.Node.Amount.Amount)
			}
		}
		// Bob sees the pending transfer to him (as creditor) and his own, not carol's.
		if got := crMyTransactions(t, s, bob, nil).amounts(); !slices.Equal(got, []string{"0.50 POSTED", "2.00 PENDING", "1.00 POSTED"}) {
			t.Errorf("bob's transactions = %v", got)
		}
		// An administrator reads anyone's; a customer cannot reach another's customer at all.
		var out struct {
			Customer struct {
				ID           string
				Transactions crTxnPage
			}
		}
		s.mustDo(admin, `{ customer(username: "alice") { id transactions(status: PENDING) { `+crTxnFields+` } } }`, nil, &out)
		if out.Customer.Transactions.TotalCount != 2 {
			t.Errorf("admin sees %d pending of alice's, want 2", out.Customer.Transactions.TotalCount)
		}
		r := s.do(bob, `query($id: ID!) { node(id: $id) { ... on Customer { transactions { totalCount } } } }`, map[string]any{"id": out.Customer.ID})
		wantError(t, r, "NOT_FOUND")
		wantError(t, s.do(bob, `{ customer(username: "alice") { transactions { totalCount } } }`, nil), "FORBIDDEN")
	})
}

func TestCreateCoins_pendingCreationNeedsASecondAdmin(t *testing.T) {
	onStoresWith(t, []string{"CREATION_MONTHLY_LIMIT=150"}, func(t *testing.T, s *testServer) {
		s = onT(t, s)
		admin := s.admin()
		s.mustDo(admin, `mutation { createUser(input: {username: "second", password: "second-password-1", role: ADMIN}) { id } }`, nil, nil)
		second := s.login("second", "second-password-1")
		alice := s.customer(admin, "alice")
		id := ccPendingID(t, ccCreateForAlice(s, admin, "100", false, "mint-1"))
		// A retry returns it; the same key with another input is a conflict.
		if again := ccPendingID(t, ccCreateForAlice(s, admin, "100", false, "mint-1")); again != id {
			t.Errorf("retry returned %s, want %s", again, id)
		}
		wantError(t, ccCreateForAlice(s, admin, "100", true, "mint-1"), "CONFLICT", "idempotencyKey")
		if s.balance(alice) != "0.00" {
			t.Fatalf("a pending creation credited alice")
		}
		// Pending, it counts against the month's limit of 150.
		wantError(t, ccCreateForAlice(s, second, "60", true, ""), "PRECONDITION_FAILED")
		// Four eyes: not the creator; the recipient cannot sign it either.
		confirm := `mutation($id: ID!) { confirmTransaction(id: $id) { status } }`
		cancel := `mutation($id: ID!) { cancelTransaction(id: $id) { status } }`
		if ccSignable(s, admin, id) || !ccSignable(s, second, id) || ccSignable(s, alice, id) {
			t.Errorf("signable: creator %v, second admin %v, recipient %v; want false, true, false",
				ccSignable(s, admin, id), ccSignable(s, second, id), ccSignable(s, alice, id))
		}
		wantError(t, s.do(admin, confirm, map[string]any{"id": id}), "FORBIDDEN")
		wantError(t, s.do(alice, confirm, map[string]any{"id": id}), "NOT_FOUND")
		wantError(t, s.do(alice, cancel, map[string]any{"id": id}), "NOT_FOUND")
		if got := eaTxnStatus(t, s, admin, id); got != "PENDING" || s.balance(alice) != "0.00" {
			t.Fatalf("after refused settlements: %s, balance %s; want PENDING, 0.00", got, s.balance(alice))
		}
		s.mustDo(second, confirm, map[string]any{"id": id}, nil)
		if got := eaTxnStatus(t, s, admin, id); got != "POSTED" || s.balance(alice) != "100.00" {
			t.Errorf("after the second admin's confirmation: %s, balance %s; want POSTED, 100.00", got, s.balance(alice))
		}
		wantError(t, s.do(second, confirm, map[string]any{"id": id}), "PRECONDITION_FAILED")
		// Any admin, the creator too, voids one; the limit's room comes back.
		voided := ccPendingID(t, ccCreateForAlice(s, admin, "50", false, ""))
		s.mustDo(admin, cancel, map[string]any{"id": voided}, nil)
		if got := eaTxnStatus(t, s, admin, voided); got != "VOIDED" || s.balance(alice) != "100.00" {
			t.Errorf("after cancelling: %s, balance %s; want VOIDED, 100.00", got, s.balance(alice))
		}
		s.mustDo(second, `mutation { createCoins(input: {recipient: {username: "alice"}, amount: "50"}) { id } }`, nil, nil)
		if s.balance(alice) != "150.00" {
			t.Errorf("balance %s, want 150.00", s.balance(alice))
		}
		// An admin cannot sign a customer's transfer: only its sender does.
		s.customer(admin, "bob")
		transfer := eaSendID(t, s, alice, "bob", "1", false)
		wantError(t, s.do(second, confirm, map[string]any{"id": transfer}), "FORBIDDEN")
		if got := eaTxnStatus(t, s, admin, transfer); got != "PENDING" {
			t.Errorf("the transfer is %s after an admin's confirmTransaction, want PENDING", got)
		}
	})
}

// ccCreateForAlice calls createCoins for alice.
func ccCreateForAlice(s *testServer, token, amount string, autoSign bool, key string) gqlResponse {
	in := map[string]any{"recipient": map[string]any{"username": "alice"}, "amount": amount, "autoSign": autoSign}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return s.do(token, `mutation($in: CreateCoinsInput!) { createCoins(input: $in) { id status } }`, map[string]any{"in": in})
}

// ccPendingID is the id of the pending creation r returned.
func ccPendingID(t *testing.T, r gqlResponse) string {
	t.Helper()
	var out struct{ CreateCoins struct{ ID, Status string } }
	eaDecode(t, r, &out)
	if len(r.Errors) > 0 || out.CreateCoins.Status != "PENDING" {
		t.Fatalf("createCoins(autoSign: false) = %s %+v, want PENDING", r.Data, r.Errors)
	}
	return out.CreateCoins.ID
}

// ccSignable is transaction(id).signable as token sees it.
func ccSignable(s *testServer, token, id string) bool {
	var out struct{ Transaction struct{ Signable bool } }
	s.mustDo(token, `query($id: ID!) { transaction(id: $id) { signable } }`, map[string]any{"id": id}, &out)
	return out.Transaction.Signable
}
