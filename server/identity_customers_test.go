package main

import (
	"slices"
	"strings"
	"testing"
)

// Tests of API.md §7's customer items through the wire, on both stores: look-up and search,
// updates, creating and deleting customers.

func TestCustomers_lookUpByUsernameAndSearch(t *testing.T) {
	onStoresWith(t, nil, func(t *testing.T, s *testServer) {
		s = onT(t, s)
		admin := s.admin()
		crCreate(s, admin, "alice", "Alice Martin", "alice@example.com", "+34600111222")
		crCreate(s, admin, "bob", "Bob Stone", "bob@mail.test", "+34699000111")
		crCreate(s, admin, "carol_x", "Carol 100% Real", "carol@example.com", "+49170000333")
		alice := crLookUp(t, s, admin, "ALICE")
		if alice.Name != "Alice Martin" || alice.Email != "alice@example.com" || alice.Account.Iban == "" {
			t.Errorf("customer(username: ALICE) = %+v", alice)
		}
		wantError(t, s.do(admin, `{ customer(username: "nobody") { name } }`, nil), "NOT_FOUND")
		wantError(t, s.do(s.login("bob", "bob-password"), `{ customer(username: "alice") { name } }`, nil), "FORBIDDEN")
		tests := []struct {
			give string
			want []string
		}{
			{"ALI", []string{"alice"}},                    // username, name, e-mail
			{"stone", []string{"bob"}},                    // name
			{"example.COM", []string{"alice", "carol_x"}}, // e-mail
			{"600111", []string{"alice"}},                 // phone
			{"+34", []string{"alice", "bob"}},             // phone
			{alice.Account.Iban[len(alice.Account.Iban)-8:], []string{"alice"}},
			{"100%", []string{"carol_x"}}, // % is the character, not a wildcard
			{"l_x", []string{"carol_x"}},  // _ too
			{"_", []string{"carol_x"}},
			{"zzz", nil},
			{"  ", []string{"alice", "bob", "carol_x"}},
		}
		for _, tt := range tests {
			n, got := crSearch(t, s, admin, tt.give)
			if n != len(tt.want) || !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %d %v, want %v", tt.give, n, got, tt.want)
			}
		}
		// A lower-cased IBAN with spaces finds its owner too.
		iban := alice.Account.Iban
		if n, got := crSearch(t, s, admin, " "+strings.ToLower(iban[:4]+" "+iban[4:8])); n != 1 || got[0] != "alice" {
			t.Errorf("search by a spaced IBAN = %d %v", n, got)
		}
		wantError(t, s.do(admin, `query($s: String) { customers(search: $s) { totalCount } }`,
			map[string]any{"s": strings.Repeat("a", 101)}), "BAD_USER_INPUT", "search")
	})
}

func TestUpdateCustomer_adminChangesAnyFieldAtOnce(t *testing.T) {
	onStoresWith(t, nil, func(t *testing.T, s *testServer) {
		s = onT(t, s)
		admin := s.admin()
		crCreate(s, admin, "alice", "Alice", "alice@example.com", "+34600111222")
		crCreate(s, admin, "bob", "Bob", "bob@example.com", "+34600333444")
		addr := "payto://iban/DE89370400440532013000?receiver-name=Alice+B"
		var out crUpdatePayload
		s.mustDo(admin, crUpdate, map[string]any{"in": map[string]any{"username": "alice", "name": "Alice B",
			"email": "Alice.B@Example.com", "phone": "+34600999888", "cashoutAddress": addr}}, &out)
		c := out.UpdateCustomer.Customer
		if out.UpdateCustomer.ChallengeID != nil || c == nil || c.Name != "Alice B" || c.Email != "alice.b@example.com" ||
			c.Phone != "+34600999888" || c.CashoutAddress != addr {
			t.Fatalf("updateCustomer = %+v %+v", out.UpdateCustomer.ChallengeID, c)
		}
		if got := crLookUp(t, s, admin, "alice"); got != *c {
			t.Errorf("read back %+v, want %+v", got, *c)
		}
		// The new e-mail logs in.
		s.login("alice.b@example.com", "alice-password")
		// Taken e-mail and phone: CONFLICT naming both, and nothing changes (not even the name).
		before := crLookUp(t, s, admin, "alice")
		r := s.do(admin, crUpdate, map[string]any{"in": map[string]any{"username": "alice", "name": "X",
			"email": "BOB@example.com", "phone": "+34600333444"}})
		wantError(t, r, "CONFLICT", "email", "phone")
		if got := crLookUp(t, s, admin, "alice"); got != before {
			t.Errorf("a refused update changed %+v into %+v", before, got)
		}
		wantError(t, s.do(admin, crUpdate, map[string]any{"in": map[string]any{"username": "nobody", "name": "X"}}), "NOT_FOUND")
		wantError(t, s.do(admin, crUpdate, map[string]any{"in": map[string]any{"name": "X"}}), "BAD_USER_INPUT", "username")
		wantError(t, s.do(admin, crUpdate, map[string]any{"in": map[string]any{"username": "alice", "email": "",
			"phone": "12", "cashoutAddress": "http://x"}}), "BAD_USER_INPUT", "email", "phone", "cashoutAddress")
		// Removing the phone and the address.
		var removed crUpdatePayload
		s.mustDo(admin, crUpdate, map[string]any{"in": map[string]any{"username": "alice", "phone": "", "cashoutAddress": ""}}, &removed)
		if c := removed.UpdateCustomer.Customer; c.Phone != "" || c.CashoutAddress != "" {
			t.Errorf("after removing: %+v", c)
		}
		if c := crLookUp(t, s, admin, "alice"); c.Phone != "" || c.CashoutAddress != "" {
			t.Errorf("read back after removing: %+v", c)
		}
	})
}

func TestUpdateCustomer_customerConfirmsWithTANSentToCurrentEmail(t *testing.T) {
	onStoresWith(t, nil, func(t *testing.T, s *testServer) {
		s = onT(t, s)
		admin := s.admin()
		alice, bob := s.customer(admin, "alice"), s.customer(admin, "bob")
		addr := "payto://iban/DE89370400440532013000?receiver-name=Alice"
		request := func(token string, in map[string]any) string {
			var out crUpdatePayload
			s.mustDo(token, crUpdate, map[string]any{"in": in}, &out)
			if out.UpdateCustomer.Customer != nil || out.UpdateCustomer.ChallengeID == nil {
				t.Fatalf("a customer's updateCustomer = %+v, want a challenge and no customer", out.UpdateCustomer)
			}
			return *out.UpdateCustomer.ChallengeID
		}
		confirm := func(token, id, code string) gqlResponse {
			return s.do(token, `mutation($id: String!, $c: String!) { confirmCustomerUpdate(challengeId: $id, code: $c) { `+
				crCustomerFields+` } }`, map[string]any{"id": id, "c": code})
		}
		before := crLookUp(t, s, admin, "alice")
		// Name and another's data are not a customer's to change.
		wantError(t, s.do(alice, crUpdate, map[string]any{"in": map[string]any{"name": "Queen"}}), "FORBIDDEN")
		wantError(t, s.do(alice, crUpdate, map[string]any{"in": map[string]any{"username": "bob", "email": "x@example.com"}}), "FORBIDDEN")
		wantError(t, s.do(alice, crUpdate, map[string]any{"in": map[string]any{"email": "bob@example.com"}}), "CONFLICT", "email")

		id := request(alice, map[string]any{"email": "new@example.com", "cashoutAddress": addr, "phone": "+34611222333"})
		code := crLastCode(t, s, "alice@example.com") // the current address, not the new one
		if got := crLookUp(t, s, admin, "alice"); got != before {
			t.Fatalf("the change applied before its TAN: %+v", got)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		wantError(t, confirm(alice, id, wrong), "INVALID_CODE")
		wantError(t, confirm(bob, id, code), "INVALID_CODE") // another user's challenge
		if got := crLookUp(t, s, admin, "alice"); got != before {
			t.Fatalf("a refused confirmation changed alice: %+v", got)
		}
		var out struct{ ConfirmCustomerUpdate crCustomer }
		eaDecode(t, confirm(alice, id, code), &out)
		if c := out.ConfirmCustomerUpdate; c.Email != "new@example.com" || c.CashoutAddress != addr || c.Phone != "+34611222333" || c.Name != before.Name {
			t.Errorf("confirmCustomerUpdate = %+v", c)
		}
		wantError(t, confirm(alice, id, code), "INVALID_CODE") // used
		// A phone taken between request and confirmation is CONFLICT at confirmation, and the TAN survives it.
		id = request(alice, map[string]any{"phone": "+34655000111"})
		code = crLastCode(t, s, "new@example.com")
		s.mustDo(admin, crUpdate, map[string]any{"in": map[string]any{"username": "bob", "phone": "+34655000111"}}, nil)
		wantError(t, confirm(alice, id, code), "CONFLICT", "phone")
		if got := crLookUp(t, s, admin, "alice"); got.Phone != "+34611222333" {
			t.Errorf("phone = %s after a conflicting confirmation", got.Phone)
		}
		s.mustDo(admin, crUpdate, map[string]any{"in": map[string]any{"username": "bob", "phone": ""}}, nil)
		eaDecode(t, confirm(alice, id, code), &out)
		if out.ConfirmCustomerUpdate.Phone != "+34655000111" {
			t.Errorf("phone = %s once free again", out.ConfirmCustomerUpdate.Phone)
		}
		// Five wrong tries kill the challenge.
		id = request(alice, map[string]any{"cashoutAddress": ""})
		code = crLastCode(t, s, "new@example.com")
		for range 5 {
			wantError(t, confirm(alice, id, wrong), "INVALID_CODE")
		}
		wantError(t, confirm(alice, id, code), "INVALID_CODE")
		if got := crLookUp(t, s, admin, "alice"); got.CashoutAddress != addr {
			t.Errorf("a dead challenge changed the address to %q", got.CashoutAddress)
		}
	})
}

func TestCreateCustomer_refused_createsNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		s.mustDo(admin, eaCreateCustomerMutation, map[string]any{"in": map[string]any{
			"username": "taken", "password": "taken-password", "name": "Taken", "email": "taken@example.com",
			"phone": "+34600111222", "iban": "DE89370400440532013000"}}, nil)
		annIBAN := eaAccountOf(t, s, ann).IBAN

		valid := func(over map[string]any) map[string]any {
			in := map[string]any{"username": "fresh", "password": "fresh-password", "name": "Fresh",
				"email": "fresh@example.com", "phone": "+34600999888"}
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
			{"unauthenticated", "", valid(nil), "UNAUTHENTICATED", nil},
			{"by a customer", "ann", valid(nil), "FORBIDDEN", nil},
			{"institutional admin", "admin", valid(map[string]any{"username": "admin"}), "FORBIDDEN", nil},
			{"institutional bank", "admin", valid(map[string]any{"username": "bank"}), "FORBIDDEN", nil},
			{"institutional in capitals", "admin", valid(map[string]any{"username": "Bank"}), "FORBIDDEN", nil},
			{"taken username", "admin", valid(map[string]any{"username": "taken"}), "CONFLICT", []string{"username"}},
			{"taken username in capitals", "admin", valid(map[string]any{"username": "TAKEN"}), "CONFLICT", []string{"username"}},
			{"taken e-mail", "admin", valid(map[string]any{"email": "taken@example.com"}), "CONFLICT", []string{"email"}},
			{"taken e-mail in capitals", "admin", valid(map[string]any{"email": "Taken@Example.com"}), "CONFLICT", []string{"email"}},
			{"taken phone", "admin", valid(map[string]any{"phone": "+34600111222"}), "CONFLICT", []string{"phone"}},
			{"taken iban", "admin", valid(map[string]any{"iban": "DE89370400440532013000"}), "CONFLICT", []string{"iban"}},
			{"taken iban with spaces", "admin", valid(map[string]any{"iban": "DE89 3704 0044 0532 0130 00"}), "CONFLICT", []string{"iban"}},
			{"taken generated iban", "admin", valid(map[string]any{"iban": annIBAN}), "CONFLICT", []string{"iban"}},
			{"bad e-mail", "admin", valid(map[string]any{"email": "not-an-email"}), "BAD_USER_INPUT", []string{"email"}},
			{"bad phone", "admin", valid(map[string]any{"phone": "0600 111 222"}), "BAD_USER_INPUT", []string{"phone"}},
			{"iban failing mod-97", "admin", valid(map[string]any{"iban": "DE89370400440532013001"}), "BAD_USER_INPUT", []string{"iban"}},
			{"password too short", "admin", valid(map[string]any{"password": "short"}), "BAD_USER_INPUT", []string{"password"}},
			{"all bad at once", "admin", valid(map[string]any{"email": "not-an-email", "phone": "12345",
				"iban": "DE89370400440532013001", "password": "short"}), "BAD_USER_INPUT", []string{"email", "phone", "iban", "password"}},
			{"bad username and password", "admin", valid(map[string]any{"username": "x!", "password": "short"}),
				"BAD_USER_INPUT", []string{"username", "password"}},
		}
		tokens := map[string]string{"": "", "admin": admin, "ann": ann}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, ann)
				r := onT(t, s).do(tokens[tt.as], eaCreateCustomerMutation, map[string]any{"in": tt.give})
				wantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann))
				login, _ := tt.give["username"].(string)
				pw, _ := tt.give["password"].(string)
				if login != "taken" && login != "TAKEN" {
					r := onT(t, s).do("", eaLoginMutation, map[string]any{"l": login, "p": pw})
					if r.code() == "" {
						t.Errorf("%s can log in after a refused createCustomer", login)
					}
				}
			})
		}
		// The taken customer's own login still works with its original password.
		s.login("taken", "taken-password")
	})
}

func TestDeleteCustomer_refused_changesNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		rich := s.customer(admin, "rich")
		owing := s.customer(admin, "owing")
		other := s.customer(admin, "other")
		s.mint(admin, "rich", "10")
		s.mustDo(admin, eaSetDebitLimitMutation, map[string]any{"id": eaAccountOf(t, s, owing).AccountID, "l": "20"}, nil)
		if r := s.send(owing, "other", "5", nil); len(r.Errors) > 0 {
			t.Fatalf("owing sends on credit: %+v", r.Errors)
		}
		tests := []struct {
			name     string
			as       string
			give     string
			wantCode string
		}{
			{"unknown", "admin", "nobody", "NOT_FOUND"},
			{"institutional admin", "admin", "admin", "FORBIDDEN"},
			{"institutional bank", "admin", "bank", "FORBIDDEN"},
			{"positive balance", "admin", "rich", "PRECONDITION_FAILED"},
			{"negative balance", "admin", "owing", "PRECONDITION_FAILED"},
			{"by a customer", "other", "rich", "FORBIDDEN"},
			{"unauthenticated", "", "rich", "UNAUTHENTICATED"},
		}
		tokens := map[string]string{"": "", "admin": admin, "other": other}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, rich, owing, other)
				r := onT(t, s).do(tokens[tt.as], eaDeleteCustomerMutation, map[string]any{"u": tt.give})
				wantError(t, r, tt.wantCode)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, rich, owing, other))
			})
		}
		// Everyone refused above still logs in, and money still reaches them.
		s.admin()
		s.login("rich", "rich-password")
		s.login("owing", "owing-password")
		if r := s.send(other, "rich", "1", nil); len(r.Errors) > 0 {
			t.Errorf("send to rich after the refused delete: %+v", r.Errors)
		}
		if got := s.balance(rich); got != "11.00" {
			t.Errorf("rich's balance = %s, want 11.00", got)
		}
	})
}

// TestDeleteCustomer_emptyAccounts_endsLoginKeepsHistory: deleting a customer whose accounts are
// empty ends their login and sessions, frees nothing that moves money, and leaves the other party's
// statement (with the deleted customer as counterparty) untouched.
func TestDeleteCustomer_emptyAccounts_endsLoginKeepsHistory(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		gone := s.customer(admin, "gone")
		stay := s.customer(admin, "stay")
		s.mint(admin, "gone", "10")
		if r := s.send(gone, "stay", "10", nil); len(r.Errors) > 0 {
			t.Fatalf("send: %+v", r.Errors)
		}
		var del struct{ DeleteCustomer bool }
		s.mustDo(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}, &del)
		if !del.DeleteCustomer {
			t.Fatal("deleteCustomer = false, want true")
		}
		wantError(t, s.do("", eaLoginMutation, map[string]any{"l": "gone", "p": "gone-password"}), "UNAUTHENTICATED")
		wantError(t, s.do(gone, eaMeQuery, nil), "UNAUTHENTICATED")
		wantError(t, s.do(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}), "NOT_FOUND")
		wantError(t, s.send(stay, "gone", "1", nil), "NOT_FOUND")

		var out struct {
			Customers struct{ TotalCount int }
		}
		s.mustDo(admin, `{ customers(first: 1) { totalCount } }`, nil, &out)
		if out.Customers.TotalCount != 1 {
			t.Errorf("customers after the delete = %d, want 1", out.Customers.TotalCount)
		}
		if got := s.balance(stay); got != "10.00" {
			t.Errorf("stay's balance = %s, want 10.00", got)
		}
		var st struct {
			Me struct {
				Customer struct {
					Account struct {
						Entries struct {
							Edges []struct {
								Node struct {
									Type         string
									Counterparty struct{ Name string }
								}
							}
						}
					}
				}
			}
		}
		s.mustDo(stay, `{ me { customer { account { entries(first: 5) { edges { node { type counterparty { name } } } } } } } }`, nil, &st)
		edges := st.Me.Customer.Account.Entries.Edges
		if len(edges) != 1 || edges[0].Node.Type != "RECEIVE" || edges[0].Node.Counterparty.Name != "Gone" {
			t.Errorf("stay's statement after the delete = %+v, want one RECEIVE from Gone", edges)
		}
	})
}

// TestDeleteCustomer_afterCardsGoalsBillsCashouts_deletesAndKeepsCounterparty: a customer at zero
// who had cards (one still active, one deleted), a deleted savings goal, paid and unpaid bills and
// cash-outs is deleted; the other party's statement still renders them as counterparty; the
// username is free for a new customer, who starts with nothing of the old one's.
func TestDeleteCustomer_afterCardsGoalsBillsCashouts_deletesAndKeepsCounterparty(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		gone := ptCustomerWithAddress(t, s, admin, "gone", "")
		stay := s.customer(admin, "stay")
		lrHistory(t, s, admin, gone)

		var del struct{ DeleteCustomer bool }
		s.mustDo(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}, &del)
		if !del.DeleteCustomer {
			t.Fatal("deleteCustomer = false, want true")
		}
		wantError(t, s.do(gone, eaMeQuery, nil), "UNAUTHENTICATED")
		lines := lrStatement(t, s, stay)
		if len(lines) != 1 || lines[0].Type != "RECEIVE" || lines[0].Amount.Amount != "87.00" ||
			lines[0].Counterparty == nil || lines[0].Counterparty.Name != "Gone" ||
			lines[0].Counterparty.Iban == nil || lines[0].Counterparty.Email != nil {
			t.Errorf("stay's statement after the delete = %+v, want one RECEIVE of 87.00 from Gone with an IBAN, no e-mail", lines)
		}
		var all struct {
			Transactions struct{ TotalCount int }
		}
		s.mustDo(admin, `{ transactions(first: 1) { totalCount } }`, nil, &all)
		// mint, fund, top-up, withdraw, bill, defund, two cash-outs, send: the ledger keeps all nine.
		if all.Transactions.TotalCount != 9 {
			t.Errorf("transactions after the delete = %d, want 9 (the ledger keeps its history)", all.Transactions.TotalCount)
		}

		// The username is free again; the new customer has nothing of the old one's.
		onT(t, s).mustDo(admin, eaCreateCustomerMutation, map[string]any{"in": map[string]any{
			"username": "gone", "password": "gone-password", "name": "Gone Again", "email": "gone@example.com"}}, nil)
		again := s.login("gone", "gone-password")
		var me struct {
			Me struct {
				Customer struct {
					Cards, SavingsGoals []struct{ ID string }
					Bills               struct{ TotalCount int }
				}
			}
		}
		s.mustDo(again, `{ me { customer { cards { id } savingsGoals { id } bills(first: 1) { totalCount } } } }`, nil, &me)
		if c := me.Me.Customer; len(c.Cards) != 0 || len(c.SavingsGoals) != 0 || c.Bills.TotalCount != 0 {
			t.Errorf("the new customer gone = %+v, want no cards, goals or bills", c)
		}
		if n, _ := ptCashoutIDs(t, s, again); n != 0 || s.balance(again) != "0.00" || len(lrStatement(t, s, again)) != 0 {
			t.Errorf("the new customer gone has %d cash-outs, balance %s: want none and 0.00", n, s.balance(again))
		}
		if lines := lrStatement(t, s, stay); len(lines) != 1 || lines[0].Counterparty.Name != "Gone" {
			t.Errorf("stay's statement after the username's reuse = %+v, want the old name Gone", lines)
		}
	})
}

// TestDeleteCustomer_pendingCashoutOrTransfer_preconditionFailed: a pending cash-out (money
// reserved) or a pending transfer to the customer refuses the delete and changes nothing; once
// settled, the delete goes through.
func TestDeleteCustomer_pendingCashoutOrTransfer_preconditionFailed(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		gone := ptCustomerWithAddress(t, s, admin, "gone", "")
		stay := s.customer(admin, "stay")
		s.mint(admin, "gone", "10")
		s.mint(admin, "stay", "10")
		co := ptNewCashout(t, s, gone, "10", "EMAIL")
		before := ptSnapshot(t, s, admin, gone, stay)
		wantError(t, s.do(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, ptSnapshot(t, s, admin, gone, stay))
		ptOne(t, s.do(gone, ptAbortCashoutMutation, map[string]any{"id": co.ID}), &struct{}{})
		if r := s.send(gone, "stay", "10", nil); len(r.Errors) > 0 {
			t.Fatalf("send: %+v", r.Errors)
		}

		var pending struct{ SendCoins struct{ ID string } }
		ptOne(t, s.send(stay, "gone", "1", map[string]any{"autoSign": false}), &pending.SendCoins)
		before = ptSnapshot(t, s, admin, gone, stay)
		wantError(t, s.do(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, ptSnapshot(t, s, admin, gone, stay))
		onT(t, s).mustDo(stay, eaCancelMutation, map[string]any{"id": pending.SendCoins.ID}, nil)
		s.mustDo(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}, nil)
		wantError(t, s.do(gone, eaMeQuery, nil), "UNAUTHENTICATED")
	})
}
