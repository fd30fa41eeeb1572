package main

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestSendCoins_everyWayOfNamingTheRecipient_reachesTheirMainAccount sends by username, e-mail,
// IBAN and public key (each resolved by its own prepared statement, outside the transaction)
// and checks where the money arrived; staff named by e-mail or username are NOT_FOUND, as nobody
// is (issue 15.1: the answer must not tell which addresses are the bank's staff).
func TestSendCoins_everyWayOfNamingTheRecipient_reachesTheirMainAccount(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		s.mint(admin, "ann", "100")
		pub, priv := pkNewKey(t)
		key := hex.EncodeToString(pub)
		pkMustRegister(s, ben, priv)
		s.mustDo(admin, `mutation { createUser(input: {username: "clerk", password: "clerk-password-1", email: "clerk@example.com", role: STAFF}) { id } }`, nil, nil)
		benIBAN := eaAccountOf(t, s, ben).IBAN

		ways := []map[string]any{
			{"username": "ben"}, {"username": "BEN"}, {"email": "ben@example.com"}, {"email": "Ben@Example.com"},
			{"iban": benIBAN}, {"publicKey": key},
		}
		for _, to := range ways {
			r := s.do(ann, eaSendCoinsMutation, map[string]any{"in": map[string]any{"recipient": to, "amount": "1.50"}})
			if len(r.Errors) > 0 {
				t.Fatalf("send to %v: %+v", to, r.Errors)
			}
		}
		if a, b := s.balance(ann), s.balance(ben); a != "91.00" || b != "9.00" {
			t.Errorf("after six sends of 1.50 ann = %s, ben = %s; want 91.00 and 9.00", a, b)
		}

		refused := []struct {
			to   map[string]any
			code string
		}{
			{map[string]any{"email": "clerk@example.com"}, "NOT_FOUND"},
			{map[string]any{"username": "clerk"}, "NOT_FOUND"},
		}
		for _, tt := range refused {
			before := eaSnapshot(t, s, admin, ann, ben)
			r := s.do(ann, eaSendCoinsMutation, map[string]any{"in": map[string]any{"recipient": tt.to, "amount": "1"}})
			wantError(t, r, tt.code)
			eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
		}
	})
}

// TestSendCoins_memoOf500Characters_isKept: the limit counts characters, not bytes (the column's
// size), so 500 two-byte characters pass and come back whole.
func TestSendCoins_memoOf500Characters_isKept(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		s.customer(admin, "ben")
		s.mint(admin, "ann", "10")
		memo := strings.Repeat("é", 500)
		var out struct{ SendCoins struct{ Memo string } }
		s.mustDo(ann, `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { memo } }`,
			map[string]any{"in": map[string]any{"recipient": map[string]any{"username": "ben"}, "amount": "1", "memo": memo}}, &out)
		if out.SendCoins.Memo != memo {
			t.Errorf("memo came back as %d characters, want the 500 sent", len([]rune(out.SendCoins.Memo)))
		}
	})
}
