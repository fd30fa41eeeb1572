package main

import (
	"slices"
	"strings"
	"testing"
)

// Tests of API.md §7's ledger, customers and identity items through the wire, on both stores.

// crOnStores runs body once per store, in parallel, each on a fresh server started with env.
func crOnStores(t *testing.T, env []string, body func(t *testing.T, s *testServer)) {
	t.Helper()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			body(t, startServer(t, st, env...))
		})
	}
}

// crOn returns s bound to t (with its outbox), so that a failing helper stops the subtest t.
func crOn(t *testing.T, s *testServer) *testServer {
	c := *s
	c.t = t
	return &c
}

// crWant fails unless r's first error has code (and names fields, when given).
func crWant(t *testing.T, r gqlResponse, code string, fields ...string) {
	t.Helper()
	if r.code() != code {
		t.Fatalf("want %s, got %+v (data %s)", code, r.Errors, r.Data)
	}
	for _, f := range fields {
		if _, ok := r.Errors[0].Extensions.Fields[f]; !ok {
			t.Errorf("%s does not name %q: %+v", code, f, r.Errors[0].Extensions.Fields)
		}
	}
}

// crLastCode is the last code the outbox holds for address to.
func crLastCode(t *testing.T, s *testServer, to string) string {
	t.Helper()
	lines := idReadOutbox(t, s.Outbox)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].To == to {
			return lines[i].Code
		}
	}
	t.Fatalf("no code sent to %s", to)
	return ""
}

type crTxn struct {
	ID       string
	Kind     string
	Status   string
	Signable bool
	Amount   struct{ Amount string }
}

type crTxnPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   string
	}
	Edges []struct{ Node crTxn }
}

func (p crTxnPage) amounts() []string {
	var out []string
	for _, e := range p.Edges {
		out = append(out, e.Node.Amount.Amount+" "+e.Node.Status)
	}
	return out
}

const crTxnFields = `totalCount pageInfo { hasNextPage endCursor } edges { node { id kind status signable amount { amount } } }`

// crMyTransactions is the viewer's Customer.transactions page.
func crMyTransactions(t *testing.T, s *testServer, token string, vars map[string]any) crTxnPage {
	t.Helper()
	var out struct {
		Me struct {
			Customer struct{ Transactions crTxnPage }
		}
	}
	s.mustDo(token, `query($first: Int, $after: Cursor, $status: TransactionStatus) { me { customer {
		transactions(first: $first, after: $after, status: $status) { `+crTxnFields+` } } } }`, vars, &out)
	return out.Me.Customer.Transactions
}

func TestCustomerTransactions_ownNewestFirst_pendingIsTheReviewPage(t *testing.T) {
	crOnStores(t, nil, func(t *testing.T, s *testServer) {
		s = crOn(t, s)
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
		crWant(t, r, "NOT_FOUND")
		crWant(t, s.do(bob, `{ customer(username: "alice") { transactions { totalCount } } }`, nil), "FORBIDDEN")
	})
}

func TestCreateCoins_pendingCreationNeedsASecondAdmin(t *testing.T) {
	crOnStores(t, []string{"CREATION_MONTHLY_LIMIT=150"}, func(t *testing.T, s *testServer) {
		s = crOn(t, s)
		admin := s.admin()
		s.mustDo(admin, `mutation { createUser(input: {username: "second", password: "second-password-1", role: ADMIN}) { id } }`, nil, nil)
		second := s.login("second", "second-password-1")
		alice := s.customer(admin, "alice")
		create := func(token, amount string, autoSign bool, key string) gqlResponse {
			in := map[string]any{"recipient": map[string]any{"username": "alice"}, "amount": amount, "autoSign": autoSign}
			if key != "" {
				in["idempotencyKey"] = key
			}
			return s.do(token, `mutation($in: CreateCoinsInput!) { createCoins(input: $in) { id status } }`, map[string]any{"in": in})
		}
		idOf := func(r gqlResponse) string {
			var out struct{ CreateCoins struct{ ID, Status string } }
			eaDecode(t, r, &out)
			if len(r.Errors) > 0 || out.CreateCoins.Status != "PENDING" {
				t.Fatalf("createCoins(autoSign: false) = %s %+v, want PENDING", r.Data, r.Errors)
			}
			return out.CreateCoins.ID
		}
		id := idOf(create(admin, "100", false, "mint-1"))
		// A retry returns it; the same key with another input is a conflict.
		if again := idOf(create(admin, "100", false, "mint-1")); again != id {
			t.Errorf("retry returned %s, want %s", again, id)
		}
		crWant(t, create(admin, "100", true, "mint-1"), "CONFLICT", "idempotencyKey")
		if s.balance(alice) != "0.00" {
			t.Fatalf("a pending creation credited alice")
		}
		// Pending, it counts against the month's limit of 150.
		crWant(t, create(second, "60", true, ""), "PRECONDITION_FAILED")
		// Four eyes: not the creator; the recipient cannot sign it either.
		confirm := `mutation($id: ID!) { confirmTransaction(id: $id) { status } }`
		cancel := `mutation($id: ID!) { cancelTransaction(id: $id) { status } }`
		signable := func(token string) bool {
			var out struct{ Transaction struct{ Signable bool } }
			s.mustDo(token, `query($id: ID!) { transaction(id: $id) { signable } }`, map[string]any{"id": id}, &out)
			return out.Transaction.Signable
		}
		if signable(admin) || !signable(second) || signable(alice) {
			t.Errorf("signable: creator %v, second admin %v, recipient %v; want false, true, false",
				signable(admin), signable(second), signable(alice))
		}
		crWant(t, s.do(admin, confirm, map[string]any{"id": id}), "FORBIDDEN")
		crWant(t, s.do(alice, confirm, map[string]any{"id": id}), "NOT_FOUND")
		crWant(t, s.do(alice, cancel, map[string]any{"id": id}), "NOT_FOUND")
		if got := eaTxnStatus(t, s, admin, id); got != "PENDING" || s.balance(alice) != "0.00" {
			t.Fatalf("after refused settlements: %s, balance %s; want PENDING, 0.00", got, s.balance(alice))
		}
		s.mustDo(second, confirm, map[string]any{"id": id}, nil)
		if got := eaTxnStatus(t, s, admin, id); got != "POSTED" || s.balance(alice) != "100.00" {
			t.Errorf("after the second admin's confirmation: %s, balance %s; want POSTED, 100.00", got, s.balance(alice))
		}
		crWant(t, s.do(second, confirm, map[string]any{"id": id}), "PRECONDITION_FAILED")
		// Any admin, the creator too, voids one; the limit's room comes back.
		voided := idOf(create(admin, "50", false, ""))
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
		crWant(t, s.do(second, confirm, map[string]any{"id": transfer}), "FORBIDDEN")
		if got := eaTxnStatus(t, s, admin, transfer); got != "PENDING" {
			t.Errorf("the transfer is %s after an admin's confirmTransaction, want PENDING", got)
		}
	})
}

// crCreate creates a customer with contact data through the wire, without logging in.
func crCreate(s *testServer, admin, username, name, email, phone string) {
	s.t.Helper()
	s.mustDo(admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": username, "password": username + "-password",
			"name": name, "email": email, "phone": phone}}, nil)
}

type crCustomer struct {
	Name, Email, Phone, CashoutAddress string
	User                               struct{ Username string }
	Account                            struct{ Iban string }
}

const crCustomerFields = `name email phone cashoutAddress user { username } account { iban }`

func crLookUp(t *testing.T, s *testServer, admin, username string) crCustomer {
	t.Helper()
	var out struct{ Customer crCustomer }
	s.mustDo(admin, `query($u: String!) { customer(username: $u) { `+crCustomerFields+` } }`, map[string]any{"u": username}, &out)
	return out.Customer
}

func crSearch(t *testing.T, s *testServer, admin, text string) (int, []string) {
	t.Helper()
	var out struct {
		Customers struct {
			TotalCount int
			Edges      []struct{ Node crCustomer }
		}
	}
	s.mustDo(admin, `query($s: String) { customers(first: 10, search: $s) { totalCount edges { node { user { username } } } } }`,
		map[string]any{"s": text}, &out)
	var names []string
	for _, e := range out.Customers.Edges {
		names = append(names, e.Node.User.Username)
	}
	slices.Sort(names)
	return out.Customers.TotalCount, names
}

func TestCustomers_lookUpByUsernameAndSearch(t *testing.T) {
	crOnStores(t, nil, func(t *testing.T, s *testServer) {
		s = crOn(t, s)
		admin := s.admin()
		crCreate(s, admin, "alice", "Alice Martin", "alice@example.com", "+34600111222")
		crCreate(s, admin, "bob", "Bob Stone", "bob@mail.test", "+34699000111")
		crCreate(s, admin, "carol_x", "Carol 100% Real", "carol@example.com", "+49170000333")
		alice := crLookUp(t, s, admin, "ALICE")
		if alice.Name != "Alice Martin" || alice.Email != "alice@example.com" || alice.Account.Iban == "" {
			t.Errorf("customer(username: ALICE) = %+v", alice)
		}
		crWant(t, s.do(admin, `{ customer(username: "nobody") { name } }`, nil), "NOT_FOUND")
		crWant(t, s.do(s.login("bob", "bob-password"), `{ customer(username: "alice") { name } }`, nil), "FORBIDDEN")
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
		crWant(t, s.do(admin, `query($s: String) { customers(search: $s) { totalCount } }`,
			map[string]any{"s": strings.Repeat("a", 101)}), "BAD_USER_INPUT", "search")
	})
}

const crUpdate = `mutation($in: UpdateCustomerInput!) { updateCustomer(input: $in) { challengeId customer { ` + crCustomerFields + ` } } }`

type crUpdatePayload struct {
	UpdateCustomer struct {
		ChallengeID *string
		Customer    *crCustomer
	}
}

func TestUpdateCustomer_adminChangesAnyFieldAtOnce(t *testing.T) {
	crOnStores(t, nil, func(t *testing.T, s *testServer) {
		s = crOn(t, s)
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
		crWant(t, r, "CONFLICT", "email", "phone")
		if got := crLookUp(t, s, admin, "alice"); got != before {
			t.Errorf("a refused update changed %+v into %+v", before, got)
		}
		crWant(t, s.do(admin, crUpdate, map[string]any{"in": map[string]any{"username": "nobody", "name": "X"}}), "NOT_FOUND")
		crWant(t, s.do(admin, crUpdate, map[string]any{"in": map[string]any{"name": "X"}}), "BAD_USER_INPUT", "username")
		crWant(t, s.do(admin, crUpdate, map[string]any{"in": map[string]any{"username": "alice", "email": "",
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
	crOnStores(t, nil, func(t *testing.T, s *testServer) {
		s = crOn(t, s)
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
		crWant(t, s.do(alice, crUpdate, map[string]any{"in": map[string]any{"name": "Queen"}}), "FORBIDDEN")
		crWant(t, s.do(alice, crUpdate, map[string]any{"in": map[string]any{"username": "bob", "email": "x@example.com"}}), "FORBIDDEN")
		crWant(t, s.do(alice, crUpdate, map[string]any{"in": map[string]any{"email": "bob@example.com"}}), "CONFLICT", "email")

		id := request(alice, map[string]any{"email": "new@example.com", "cashoutAddress": addr, "phone": "+34611222333"})
		code := crLastCode(t, s, "alice@example.com") // the current address, not the new one
		if got := crLookUp(t, s, admin, "alice"); got != before {
			t.Fatalf("the change applied before its TAN: %+v", got)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		crWant(t, confirm(alice, id, wrong), "INVALID_CODE")
		crWant(t, confirm(bob, id, code), "INVALID_CODE") // another user's challenge
		if got := crLookUp(t, s, admin, "alice"); got != before {
			t.Fatalf("a refused confirmation changed alice: %+v", got)
		}
		var out struct{ ConfirmCustomerUpdate crCustomer }
		eaDecode(t, confirm(alice, id, code), &out)
		if c := out.ConfirmCustomerUpdate; c.Email != "new@example.com" || c.CashoutAddress != addr || c.Phone != "+34611222333" || c.Name != before.Name {
			t.Errorf("confirmCustomerUpdate = %+v", c)
		}
		crWant(t, confirm(alice, id, code), "INVALID_CODE") // used
		// A phone taken between request and confirmation is CONFLICT at confirmation, and the TAN survives it.
		id = request(alice, map[string]any{"phone": "+34655000111"})
		code = crLastCode(t, s, "new@example.com")
		s.mustDo(admin, crUpdate, map[string]any{"in": map[string]any{"username": "bob", "phone": "+34655000111"}}, nil)
		crWant(t, confirm(alice, id, code), "CONFLICT", "phone")
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
			crWant(t, confirm(alice, id, wrong), "INVALID_CODE")
		}
		crWant(t, confirm(alice, id, code), "INVALID_CODE")
		if got := crLookUp(t, s, admin, "alice"); got.CashoutAddress != addr {
			t.Errorf("a dead challenge changed the address to %q", got.CashoutAddress)
		}
	})
}

func TestRequireTwoFactor_everyCustomerLoginTakesTwoSteps(t *testing.T) {
	crOnStores(t, []string{"REQUIRE_TWO_FACTOR=1"}, func(t *testing.T, s *testServer) {
		s = crOn(t, s)
		admin := s.admin() // administrators keep their own choice
		crCreate(s, admin, "alice", "Alice", "alice@example.com", "+34600111222")
		is := &idServer{testServer: s}
		challenge := is.idChallenge("alice", "alice-password")
		code := crLastCode(t, s, "alice@example.com")
		if _, token := is.idConfirmLogin(challenge, code); token == "" || s.balance(token) != "0.00" {
			t.Errorf("confirmLogin gave no working session")
		}
		// A chosen method wins: SMS goes to the phone.
		_, token := is.idConfirmLogin(is.idChallenge("alice", "alice-password"), crLastCode(t, s, "alice@example.com"))
		s.mustDo(token, `mutation { setTwoFactor(method: SMS) { twoFactor } }`, nil, nil)
		challenge = is.idChallenge("alice@example.com", "alice-password")
		if _, token := is.idConfirmLogin(challenge, crLastCode(t, s, "+34600111222")); token == "" {
			t.Errorf("the SMS code did not log in")
		}
	})
}

func TestRequireTwoFactor_offByDefault(t *testing.T) {
	s := startServer(t, "sqlite")
	admin := s.admin()
	crCreate(s, admin, "alice", "Alice", "alice@example.com", "")
	s.login("alice", "alice-password") // fails the test unless AUTHENTICATED at once
}
