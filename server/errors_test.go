package main

// Every error path API.md names for the operations the schema (schema.graphqls, graph/*.graphqls) implements: the exact
// extensions.code, the extensions.fields keys where the contract names them, and that a refused
// operation changed nothing (balances, statements, pending counts, lists).
//
// Helpers here and in authz_test.go carry the prefix "ea" so that they cannot clash with helpers
// of the other test files of this package.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"coffer/graph/gid"
)

// eaOnStores runs body once per store, the stores in parallel, each on its own fresh server.
func eaOnStores(t *testing.T, body func(t *testing.T, s *testServer)) {
	t.Helper()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			body(t, startServer(t, st))
		})
	}
}

// eaOn returns s bound to t, so that a failing helper call stops the subtest t, not its parent.
func eaOn(t *testing.T, s *testServer) *testServer { return &testServer{t: t, URL: s.URL} }

// eaWantError asserts that r failed with code and, when fields are given, that
// extensions.fields names exactly those input fields.
func eaWantError(t *testing.T, r gqlResponse, code string, fields ...string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Errorf("no error, want %s; data = %s", code, r.Data)
		return
	}
	if got := r.code(); got != code {
		t.Errorf("extensions.code = %q (%q), want %s", got, r.Errors[0].Message, code)
	}
	if len(fields) == 0 {
		return
	}
	got := make([]string, 0, len(r.Errors[0].Extensions.Fields))
	for k := range r.Errors[0].Extensions.Fields {
		got = append(got, k)
	}
	sort.Strings(got)
	want := slices.Clone(fields)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("extensions.fields = %v, want exactly the keys %v", r.Errors[0].Extensions.Fields, want)
	}
}

// eaMoneyState is what a customer sees of their own money.
type eaMoneyState struct {
	Balance, Available, DebitLimit string
	PendingCount, Entries          int
}

// eaCustomerState is eaMoneyState and the registered public key ("<null>" when there is none).
type eaCustomerState struct {
	eaMoneyState
	PublicKey string
}

func eaStateOf(t *testing.T, s *testServer, token string) eaCustomerState {
	t.Helper()
	var out struct {
		Me struct {
			Customer struct {
				PublicKey *string
				Account   struct {
					Balance, Available, DebitLimit struct{ Amount string }
					PendingCount                   int
					Entries                        struct{ TotalCount int }
				}
			}
		}
	}
	eaOn(t, s).mustDo(token, `{ me { customer { publicKey account { balance { amount } available { amount }
		debitLimit { amount } pendingCount entries(first: 1) { totalCount } } } } }`, nil, &out)
	a := out.Me.Customer.Account
	st := eaCustomerState{eaMoneyState: eaMoneyState{Balance: a.Balance.Amount, Available: a.Available.Amount,
		DebitLimit: a.DebitLimit.Amount, PendingCount: a.PendingCount, Entries: a.Entries.TotalCount}, PublicKey: "<null>"}
	if out.Me.Customer.PublicKey != nil {
		st.PublicKey = *out.Me.Customer.PublicKey
	}
	return st
}

// eaSnapshot renders the bank's counts (as the admin sees them) and the state of each customer
// token, to compare before and after a refused operation.
func eaSnapshot(t *testing.T, s *testServer, admin string, tokens ...string) string {
	t.Helper()
	var out struct {
		Customers, Transactions struct{ TotalCount int }
		Pending                 struct{ TotalCount int }
	}
	eaOn(t, s).mustDo(admin, `{ customers(first: 1) { totalCount } transactions(first: 1) { totalCount }
		pending: transactions(first: 1, filter: {status: PENDING}) { totalCount } }`, nil, &out)
	var b strings.Builder
	fmt.Fprintf(&b, "customers=%d transactions=%d pending=%d", out.Customers.TotalCount,
		out.Transactions.TotalCount, out.Pending.TotalCount)
	for i, tok := range tokens {
		fmt.Fprintf(&b, "\ncustomer %d: %+v", i, eaStateOf(t, s, tok))
	}
	return b.String()
}

// eaUnchanged fails t when the snapshot differs from before.
func eaUnchanged(t *testing.T, before, after string) {
	t.Helper()
	if before != after {
		t.Errorf("a refused operation changed the state:\nbefore: %s\nafter:  %s", before, after)
	}
}

// eaAccount is a customer's main account as they see it.
type eaAccount struct{ UserID, CustomerID, AccountID, IBAN string }

func eaAccountOf(t *testing.T, s *testServer, token string) eaAccount {
	t.Helper()
	var out struct {
		Me struct {
			ID       string
			Customer struct {
				ID      string
				Account struct{ ID, IBAN string }
			}
		}
	}
	eaOn(t, s).mustDo(token, `{ me { id customer { id account { id iban } } } }`, nil, &out)
	return eaAccount{UserID: out.Me.ID, CustomerID: out.Me.Customer.ID, AccountID: out.Me.Customer.Account.ID,
		IBAN: out.Me.Customer.Account.IBAN}
}

// eaMadeUpID is a well-formed global ID that names nothing.
func eaMadeUpID() string { return gid.Encode(1<<40 + 7) }

// eaTxnStatus is the status of a transaction as viewer sees it. It also selects signingPayload:
// with only stored fields selected the server hides a customer's own transaction (see
// TestNode_ownObjects_visibleWhateverTheSelection), which this file does not test.
func eaTxnStatus(t *testing.T, s *testServer, viewer, id string) string {
	t.Helper()
	var out struct{ Transaction struct{ Status string } }
	eaOn(t, s).mustDo(viewer, `query($id: ID!) { transaction(id: $id) { status signingPayload } }`, map[string]any{"id": id}, &out)
	return out.Transaction.Status
}

// eaSendID sends coins (pending unless autoSign) and returns the transaction's ID.
func eaSendID(t *testing.T, s *testServer, token, to, amount string, autoSign bool) string {
	t.Helper()
	r := eaOn(t, s).send(token, to, amount, map[string]any{"autoSign": autoSign})
	if len(r.Errors) > 0 {
		t.Fatalf("send %s to %s: %+v", amount, to, r.Errors)
	}
	var out struct{ SendCoins struct{ ID string } }
	eaDecode(t, r, &out)
	return out.SendCoins.ID
}

func eaDecode(t *testing.T, r gqlResponse, out any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

const (
	eaLoginMutation          = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status auth { token } } }`
	eaCreateCustomerMutation = `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`
	eaDeleteCustomerMutation = `mutation($u: String!) { deleteCustomer(username: $u) }`
	eaChangePasswordMutation = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	eaCreateCoinsMutation    = `mutation($in: CreateCoinsInput!) { createCoins(input: $in) { id status amount { amount } } }`
	eaSendCoinsMutation      = `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id status amount { amount } } }`
	eaConfirmMutation        = `mutation($id: ID!, $sig: String) { confirmTransaction(id: $id, signature: $sig) { id status } }`
	eaCancelMutation         = `mutation($id: ID!) { cancelTransaction(id: $id) { id status } }`
	eaSetDebitLimitMutation  = `mutation($id: ID!, $l: Decimal!) { setDebitLimit(accountId: $id, limit: $l) { debitLimit { amount } } }`
	eaSetPublicKeyMutation   = `mutation($k: String!) { setPublicKey(publicKey: $k) { publicKey } }`
	eaMeQuery                = `{ me { username } }`
)

func TestLogin_wrongPasswordAndUnknownUser_sameUnauthenticatedAnswer(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		s.customer(admin, "ann")
		tests := []struct {
			name         string
			give, givePw string
		}{
			{"wrong password by username", "ann", "not-anns-password"},
			{"wrong password by e-mail", "ann@example.com", "not-anns-password"},
			{"unknown username", "nobody", "not-anns-password"},
			{"unknown e-mail", "nobody@example.com", "not-anns-password"},
			{"empty login", "", "not-anns-password"},
		}
		var messages []string
		for _, tt := range tests {
			r := s.do("", eaLoginMutation, map[string]any{"l": tt.give, "p": tt.givePw})
			eaWantError(t, r, "UNAUTHENTICATED")
			if len(r.Errors) > 0 {
				messages = append(messages, r.Errors[0].Message)
			}
		}
		for i := 1; i < len(messages); i++ {
			if messages[i] != messages[0] {
				t.Errorf("login %q answered %q, login %q answered %q: unknown users must get the same answer",
					tests[i].give, messages[i], tests[0].give, messages[0])
			}
		}
		// The failures above (fewer than the lockout threshold) did not lock ann out.
		s.login("ann", "ann-password")
	})
}

func TestLogin_fiveWrongPasswords_lockAccountEvenForRightPassword(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		s.customer(admin, "ann")
		s.customer(admin, "ben")
		for i := 1; i <= 5; i++ {
			r := s.do("", eaLoginMutation, map[string]any{"l": "ann", "p": "wrong-password"})
			if i < 5 {
				eaWantError(t, r, "UNAUTHENTICATED")
			} else if c := r.code(); c != "UNAUTHENTICATED" && c != "ACCOUNT_LOCKED" {
				t.Errorf("5th wrong password: code %q, want UNAUTHENTICATED or ACCOUNT_LOCKED", c)
			}
		}
		for _, pw := range []string{"ann-password", "wrong-password"} {
			r := s.do("", eaLoginMutation, map[string]any{"l": "ann", "p": pw})
			eaWantError(t, r, "ACCOUNT_LOCKED")
			if strings.Contains(string(r.Data), "token") {
				t.Errorf("a locked login returned a session: %s", r.Data)
			}
		}
		r := s.do("", eaLoginMutation, map[string]any{"l": "ann@example.com", "p": "ann-password"})
		eaWantError(t, r, "ACCOUNT_LOCKED")

		var out struct {
			Customers struct {
				Edges []struct {
					Node struct {
						User struct{ Username, Status string }
					}
				}
			}
		}
		s.mustDo(admin, `{ customers(first: 100) { edges { node { user { username status } } } } }`, nil, &out)
		got := map[string]string{}
		for _, e := range out.Customers.Edges {
			got[e.Node.User.Username] = e.Node.User.Status
		}
		if got["ann"] != "LOCKED" || got["ben"] != "ACTIVE" {
			t.Errorf("statuses = %v, want ann LOCKED and ben ACTIVE", got)
		}
		// Another account is not affected.
		s.login("ben", "ben-password")
	})
}

func TestCreateCustomer_refused_createsNothing(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
				r := eaOn(t, s).do(tokens[tt.as], eaCreateCustomerMutation, map[string]any{"in": tt.give})
				eaWantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann))
				login, _ := tt.give["username"].(string)
				pw, _ := tt.give["password"].(string)
				if login != "taken" && login != "TAKEN" {
					r := eaOn(t, s).do("", eaLoginMutation, map[string]any{"l": login, "p": pw})
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
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
				r := eaOn(t, s).do(tokens[tt.as], eaDeleteCustomerMutation, map[string]any{"u": tt.give})
				eaWantError(t, r, tt.wantCode)
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

func TestChangePassword_refused_keepsPassword(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		s.customer(admin, "ben")
		change := func(over map[string]any) map[string]any {
			in := map[string]any{"newPassword": "brand-new-password", "confirmPassword": "brand-new-password",
				"currentPassword": "ann-password"}
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
			{"unauthenticated", "", change(nil), "UNAUTHENTICATED", nil},
			{"customer naming another user", "ann", change(map[string]any{"username": "ben"}), "FORBIDDEN", nil},
			{"customer naming an unknown user", "ann", change(map[string]any{"username": "nobody"}), "FORBIDDEN", nil},
			{"customer naming the admin", "ann", change(map[string]any{"username": "admin"}), "FORBIDDEN", nil},
			{"admin naming an unknown user", "admin", change(map[string]any{"username": "nobody"}), "NOT_FOUND", nil},
			{"confirmation differs", "ann", change(map[string]any{"confirmPassword": "brand-new-passwort"}), "BAD_USER_INPUT", []string{"confirmPassword"}},
			{"wrong current password", "ann", change(map[string]any{"currentPassword": "not-anns-password"}), "BAD_USER_INPUT", []string{"currentPassword"}},
			{"no current password", "ann", change(map[string]any{"currentPassword": nil}), "BAD_USER_INPUT", []string{"currentPassword"}},
			{"new password too short", "ann", change(map[string]any{"newPassword": "short", "confirmPassword": "short"}), "BAD_USER_INPUT", []string{"newPassword"}},
		}
		tokens := map[string]string{"": "", "admin": admin, "ann": ann}
		var forbidden []string
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := eaOn(t, s).do(tokens[tt.as], eaChangePasswordMutation, map[string]any{"in": tt.give})
				eaWantError(t, r, tt.wantCode, tt.wantFields...)
				if tt.wantCode == "FORBIDDEN" && len(r.Errors) > 0 {
					forbidden = append(forbidden, r.Errors[0].Message)
				}
				// ann's password is as before, and her session survived.
				eaOn(t, s).login("ann", "ann-password")
				eaOn(t, s).mustDo(ann, eaMeQuery, nil, nil)
			})
		}
		// No password changed: the old ones log in, the refused new one does not.
		s.login("ben", "ben-password")
		s.admin()
		for _, u := range []string{"ann", "ben", "admin"} {
			eaWantError(t, s.do("", eaLoginMutation, map[string]any{"l": u, "p": "brand-new-password"}), "UNAUTHENTICATED")
		}
		for _, m := range forbidden[1:] {
			if m != forbidden[0] {
				t.Errorf("FORBIDDEN messages differ (%q vs %q): they tell whether a username exists", m, forbidden[0])
			}
		}
	})
}

func TestChangePassword_succeeds_revokesOtherSessionsKeepsCurrent(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		current := s.customer(admin, "ann")
		other := s.login("ann", "ann-password")
		var out struct{ ChangePassword bool }
		s.mustDo(current, eaChangePasswordMutation, map[string]any{"in": map[string]any{
			"newPassword": "ann-second-password", "confirmPassword": "ann-second-password",
			"currentPassword": "ann-password"}}, &out)
		if !out.ChangePassword {
			t.Fatal("changePassword = false, want true")
		}
		eaWantError(t, s.do(other, eaMeQuery, nil), "UNAUTHENTICATED")
		s.mustDo(current, eaMeQuery, nil, nil)
		eaWantError(t, s.do("", eaLoginMutation, map[string]any{"l": "ann", "p": "ann-password"}), "UNAUTHENTICATED")
		fresh := s.login("ann", "ann-second-password")

		// An administrator's change ends all of the user's sessions, and none of the admin's.
		s.mustDo(admin, eaChangePasswordMutation, map[string]any{"in": map[string]any{
			"username": "ann", "newPassword": "ann-third-password", "confirmPassword": "ann-third-password"}}, &out)
		for _, tok := range []string{current, fresh} {
			eaWantError(t, s.do(tok, eaMeQuery, nil), "UNAUTHENTICATED")
		}
		s.mustDo(admin, eaMeQuery, nil, nil)
		s.login("ann", "ann-third-password")
	})
}

func TestCreateCoins_refused_mintsNothing(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
				r := eaOn(t, s).do(tokens[tt.as], eaCreateCoinsMutation, map[string]any{"in": tt.give})
				eaWantError(t, r, tt.wantCode, tt.wantFields...)
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
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
		eaWantError(t, mint("500", now), "PRECONDITION_FAILED")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, max, other))

		if r := mint("400", now); len(r.Errors) > 0 {
			t.Fatalf("mint 400 up to exactly the limit: %+v", r.Errors)
		}
		before = eaSnapshot(t, s, admin, max, other)
		eaWantError(t, mint("0.01", now), "PRECONDITION_FAILED")
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
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
				r := eaOn(t, s).do(tokens[tt.as], eaSendCoinsMutation, map[string]any{"in": tt.give})
				eaWantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
			})
		}
		if a, b := eaStateOf(t, s, ann), eaStateOf(t, s, ben); a.Balance != "100.00" || a.Entries != 1 || b.Balance != "0.00" || b.Entries != 0 {
			t.Errorf("after the refused sends ann=%+v ben=%+v, want 100.00/1 entry and 0.00/0 entries", a, b)
		}
	})
}

func TestSendCoins_idempotencyKey_retryMovesMoneyOnce(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
		eaWantError(t, send(ann, "ben", "11", "k1"), "CONFLICT", "idempotencyKey")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
		eaWantError(t, s.send(ann, "ben", "10", map[string]any{"idempotencyKey": "k1", "memo": "other"}), "CONFLICT", "idempotencyKey")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))

		// A key belongs to its user: ben's "k1" is a new request.
		if other := id(send(ben, "ann", "1", "k1")); other == first {
			t.Error("ben's request under ann's key returned ann's transaction")
		}
		// 64 characters are allowed.
		id(send(ann, "ben", "1", strings.Repeat("k", 64)))

		// A refused request leaves its key unused: the retry after funding goes through.
		before = eaSnapshot(t, s, admin, ann, ben)
		eaWantError(t, send(ann, "ben", "500", "k-big"), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
		s.mint(admin, "ann", "500")
		id(send(ann, "ben", "500", "k-big"))
		if a, b := s.balance(ann), s.balance(ben); a != "90.00" || b != "510.00" {
			t.Errorf("final balances ann=%s ben=%s, want 90.00 and 510.00", a, b)
		}
	})
}

func TestSendCoins_autoSignFalse_reservesUntilConfirmedOrCancelled(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
		eaWantError(t, s.send(ann, "ben", "70.01", nil), "INSUFFICIENT_FUNDS")
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
		eaWantError(t, s.do(ann, eaConfirmMutation, map[string]any{"id": pending}), "PRECONDITION_FAILED")
		eaWantError(t, s.do(ann, eaCancelMutation, map[string]any{"id": pending}), "PRECONDITION_FAILED")
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
		eaWantError(t, s.do(ann, eaConfirmMutation, map[string]any{"id": second}), "PRECONDITION_FAILED")
		eaWantError(t, s.do(ann, eaCancelMutation, map[string]any{"id": second}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
	})
}

func TestConfirmTransaction_withPublicKey_requiresValidSignature(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
				r := eaOn(t, s).do(ann, eaConfirmMutation, map[string]any{"id": id, "sig": tt.give})
				eaWantError(t, r, "BAD_USER_INPUT", "signature")
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
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
			// Without a challenge and a signature (publickey_test.go proves them) every field is named.
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
				r := eaOn(t, s).do(tokens[tt.as], eaSetPublicKeyMutation, map[string]any{"k": tt.give})
				eaWantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
			})
		}
		if a, b := eaStateOf(t, s, ann), eaStateOf(t, s, ben); a.PublicKey != "<null>" || b.PublicKey != hex.EncodeToString(bensKey) {
			t.Errorf("keys after the refusals ann=%q ben=%q, want <null> (none registered) and ben's", a.PublicKey, b.PublicKey)
		}
	})
}

func TestSetDebitLimit_allowsOverdraftUpToTheLimitOnly(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
				r := eaOn(t, s).do(tokens[tt.as], eaSetDebitLimitMutation, map[string]any{"id": tt.giveID, "l": tt.giveLimit})
				eaWantError(t, r, tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, zoe, ben))
			})
		}
		before := eaSnapshot(t, s, admin, zoe, ben)
		eaWantError(t, s.send(zoe, "ben", "0.01", nil), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, zoe, ben))

		var out struct {
			SetDebitLimit struct{ DebitLimit struct{ Amount string } }
		}
		s.mustDo(admin, eaSetDebitLimitMutation, map[string]any{"id": ids.AccountID, "l": "50"}, &out)
		if out.SetDebitLimit.DebitLimit.Amount != "50.00" {
			t.Errorf("debitLimit = %s, want 50.00", out.SetDebitLimit.DebitLimit.Amount)
		}
		before = eaSnapshot(t, s, admin, zoe, ben)
		eaWantError(t, s.send(zoe, "ben", "50.01", nil), "INSUFFICIENT_FUNDS")
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
		eaWantError(t, s.send(zoe, "ben", "0.01", nil), "INSUFFICIENT_FUNDS")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, zoe, ben))
	})
}

// TestDeleteCustomer_emptyAccounts_endsLoginKeepsHistory: deleting a customer whose accounts are
// empty ends their login and sessions, frees nothing that moves money, and leaves the other party's
// statement (with the deleted customer as counterparty) untouched.
func TestDeleteCustomer_emptyAccounts_endsLoginKeepsHistory(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
		eaWantError(t, s.do("", eaLoginMutation, map[string]any{"l": "gone", "p": "gone-password"}), "UNAUTHENTICATED")
		eaWantError(t, s.do(gone, eaMeQuery, nil), "UNAUTHENTICATED")
		eaWantError(t, s.do(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}), "NOT_FOUND")
		eaWantError(t, s.send(stay, "gone", "1", nil), "NOT_FOUND")

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
