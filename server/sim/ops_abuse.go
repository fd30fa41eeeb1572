package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Operations a client gets wrong on purpose, and the reads that check ownership.

// opForeign names another customer's entity in one of the viewer's operations: every one must be
// NOT_FOUND (or BAD_USER_INPUT for an ID of the wrong type), and change nothing.
func (s *sim) opForeign(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	ids := s.foreignIDs(c)
	if len(ids) == 0 {
		return
	}
	id := ids[w.rng.IntN(len(ids))]
	as := s.foreignAttempts(c, id)
	a := as[w.rng.IntN(len(as))]
	r := s.call(w, true, c.token, a.q, a.vars)
	allowed := a.allowed
	// node and transaction answer null for what the viewer may not see, or NOT_FOUND.
	if r.ok() && len(allowed) > 0 && allowed[len(allowed)-1] == "null" {
		var out map[string]json.RawMessage
		if r.decode(&out) == nil {
			for k, v := range out {
				if string(v) != "null" {
					s.violate(w.step, a.kind, c, fmt.Sprintf("%s(%s) of another customer answered %s: %s", k, id, v, ownerOf(s, id)))
				}
			}
		}
		s.expect(w, a.kind, c, id, r, "")
		return
	}
	s.expect(w, a.kind, c, fmt.Sprintf("%s (%s)", id, ownerOf(s, id)), r, allowed...)
}

// attempt is one request naming a foreign id, with the codes it may answer ("null": a read that
// answers null).
type attempt struct {
	kind, q string
	vars    map[string]any
	allowed []string
}

// foreignAttempts lists the requests of c's that name id, another customer's.
func (s *sim) foreignAttempts(c *customer, id string) []attempt {
	refused := []string{"NOT_FOUND", "BAD_USER_INPUT"}
	s.mu.Lock()
	var myCard *card
	myFrozen := false
	if cards := c.liveCards(); len(cards) > 0 {
		myCard, myFrozen = cards[0], cards[0].frozen
	}
	s.mu.Unlock()
	as := []attempt{
		{"foreign.node", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, append(refused, "null")},
		{"foreign.fundCard", qFund, map[string]any{"in": map[string]any{"cardId": id, "amount": "0.01"}}, refused},
		{"foreign.defundCard", qDef, map[string]any{"in": map[string]any{"cardId": id, "amount": "0.01"}}, refused},
		{"foreign.confirmTransaction", `mutation($id: ID!) { confirmTransaction(id: $id) { id } }`, map[string]any{"id": id}, refused},
		{"foreign.cancelTransaction", `mutation($id: ID!) { cancelTransaction(id: $id) { id } }`, map[string]any{"id": id}, refused},
		{"foreign.confirmCashout", `mutation($id: ID!) { confirmCashout(id: $id, tan: "123456") { id } }`, map[string]any{"id": id}, refused},
		{"foreign.abortCashout", `mutation($id: ID!) { abortCashout(id: $id) { id } }`, map[string]any{"id": id}, refused},
		{"foreign.deleteSavingsGoal", `mutation($id: ID!) { deleteSavingsGoal(id: $id) }`, map[string]any{"id": id}, refused},
		{"foreign.transaction", `query($id: ID!) { transaction(id: $id) { id } }`, map[string]any{"id": id}, append(refused, "null")},
		{"foreign.freezeCard", `mutation($id: ID!) { freezeCard(id: $id) { id } }`, map[string]any{"id": id}, refused},
		{"foreign.unfreezeCard", `mutation($id: ID!) { unfreezeCard(id: $id) { id } }`, map[string]any{"id": id}, refused},
		{"foreign.updateSavingsGoal", `mutation($id: ID!) { updateSavingsGoal(id: $id, input: {name: "mine"}) { id } }`, map[string]any{"id": id}, refused},
		{"foreign.updateBill", `mutation($id: ID!) { updateBill(id: $id, input: {amount: "0.01"}) { id } }`, map[string]any{"id": id}, refused},
		{"foreign.deleteBill", `mutation($id: ID!) { deleteBill(id: $id) }`, map[string]any{"id": id}, refused},
		{"foreign.cancelBillAutopay", `mutation($id: ID!) { cancelBillAutopay(billId: $id) { id } }`, map[string]any{"id": id}, refused},
	}
	if myCard != nil {
		// A frozen card of the viewer's may be refused first.
		mine := refused
		if myFrozen {
			mine = append(slices.Clone(refused), "PRECONDITION_FAILED")
		}
		as = append(as,
			attempt{"foreign.payBill", `mutation($in: PayBillInput!) { payBill(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"billId": id, "cardNumber": myCard.number}}, mine},
			attempt{"foreign.setBillAutopay", `mutation($id: ID!, $n: String!) { setBillAutopay(billId: $id, cardNumber: $n) { id } }`,
				map[string]any{"id": id, "n": myCard.number}, mine},
			attempt{"foreign.topUpSavings", qTop, map[string]any{"in": map[string]any{"savingsGoalId": id, "cardId": myCard.id, "amount": "0.01"}}, mine})
	}
	return as
}

// ownerOf names the customer the model says owns id.
func ownerOf(s *sim, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.customers {
		if c.owns(id) {
			return "owned by " + c.username
		}
	}
	return "owner unknown"
}

// opBadAmount sends amounts past every bound: zero, negative, too many digits, an exponent, a JSON
// number, one past int64 (the largest representable amount is bug.maxAmount's).
func (s *sim) opBadAmount(w *worker) {
	c := s.pickCustomer(w)
	to := s.pickOther(w, c)
	if c == nil || to == nil {
		return
	}
	bad := []any{"0", "0.00", "-1.00", "0.001", "1e3", "", " 1", "1,00", "USD:1.00", 5, 1.5, "92233720368547758.08", "99999999999999999999999"}
	var amount any = bad[w.rng.IntN(len(bad))]
	allowed := []string{"BAD_USER_INPUT"}
	target := []string{"sendCoins", "fundCard", "createCashout", "createBill", "createSavingsGoal"}[w.rng.IntN(5)]
	var r reply
	switch target {
	case "sendCoins":
		r = s.call(w, true, c.token, qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"username": to.username}, "amount": amount}})
	case "fundCard":
		s.mu.Lock()
		cards := c.liveCards()
		s.mu.Unlock()
		if len(cards) == 0 {
			return
		}
		r = s.call(w, true, c.token, qFund, map[string]any{"in": map[string]any{"cardId": cards[0].id, "amount": amount}})
	case "createCashout":
		r = s.call(w, true, c.token, `mutation($in: CreateCashoutInput!) { createCashout(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"amount": amount, "channel": "EMAIL"}})
		allowed = append(allowed, "TOO_MANY_REQUESTS")
	case "createBill", "createSavingsGoal":
		if target == "createBill" {
			r = s.call(w, false, c.token, `mutation($in: CreateBillInput!) { createBill(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"name": "bad", "amount": amount, "dueDate": "2030-01-01T00:00:00Z"}})
		} else {
			r = s.call(w, false, c.token, `mutation($in: CreateSavingsGoalInput!) { createSavingsGoal(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"name": "bad", "goal": amount}})
		}
	}
	s.expect(w, "badAmount."+target, c, fmt.Sprintf("%#v", amount), r, allowed...)
}

// opReadOwn reads the viewer's own things and checks that every ID in the answer is the viewer's
// in the model (nothing of another customer's shows up).
func (s *sim) opReadOwn(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	r := s.call(w, true, c.token, `{ me { customer { account { id entries(first: 20) { edges { node { id transaction { id } } } } }
		cards { id account { id } } savingsGoals { id account { id } } bills(first: 50) { edges { node { id } } } } }
		cards { id } savingsGoals { id } cashouts(first: 50) { edges { node { id transaction { id } } } } }`, nil)
	if !s.expect(w, "readOwn", c, "", r, "") {
		return
	}
	s.checkOwnership(w, c, r.Data)
}

// checkOwnership walks an answer: every "id" that the model knows as another customer's is a
// violation. Entries and transactions are not in the model by id, so only what is is checked.
func (s *sim) checkOwnership(w *worker, c *customer, data json.RawMessage) {
	var ids []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if id, ok := x.(string); ok && k == "id" {
					ids = append(ids, id)
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	var v any
	json.Unmarshal(data, &v)
	walk(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if c.owns(id) {
			continue
		}
		for _, o := range s.customers {
			if o != c && o.owns(id) {
				s.mu.Unlock()
				s.violate(w.step, "ownership", c, fmt.Sprintf("%s sees %s, which is %s's", c.username, id, o.username))
				s.mu.Lock()
			}
		}
	}
}

// opSession logs out and uses the revoked token (UNAUTHENTICATED), then logs in again; or sends
// a made-up token.
func (s *sim) opSession(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	if w.rng.IntN(2) == 0 {
		r := s.call(w, true, "not-a-real-token-"+s.key(w, "t"), `{ me { username } }`, nil)
		s.expect(w, "session.madeUpToken", c, "", r, "UNAUTHENTICATED")
		return
	}
	r := s.call(w, false, c.token, `mutation { logout }`, nil)
	if !s.expect(w, "logout", c, "", r, "") {
		s.relogin(w, c) // the session may have ended all the same
		return
	}
	old := c.token
	r = s.call(w, true, old, qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"username": "admin"}, "amount": "0.01"}})
	s.expect(w, "session.revokedToken", c, "", r, "UNAUTHENTICATED")
	s.relogin(w, c)
}

// opAnonymous: what a client without a session tries: wrong passwords (for unknown users and for
// the victim, whom repeated failures lock), junk self-registrations, money operations.
func (s *sim) opAnonymous(w *worker) {
	switch w.rng.IntN(4) {
	case 0:
		_, r := s.login(w, "anon.loginUnknown", nil, s.newName("nobody"), "wrong-password-1", "UNAUTHENTICATED")
		_ = r
	case 1:
		s.login(w, "anon.loginVictim", nil, s.victim, "wrong-password-1", "UNAUTHENTICATED", "ACCOUNT_LOCKED")
	case 2:
		junk := []string{"", "x", strings.Repeat("9", 300), "DE00", "<script>", "' OR 1=1 --", "é"}
		r := s.call(w, true, "", `mutation($in: SelfRegisterInput!) { selfRegister(input: $in) { requestId } }`,
			map[string]any{"in": map[string]any{"accountNumber": junk[w.rng.IntN(len(junk))], "authenticationMode": "EMAIL",
				"email": junk[w.rng.IntN(len(junk))] + "@x.example", "password": "Password-123", "username": s.newName("self")}})
		s.expect(w, "anon.selfRegister", nil, "junk", r, "BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "PRECONDITION_FAILED", "")
	case 3:
		r := s.call(w, true, "", qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"username": s.victim}, "amount": "1.00"}})
		s.expect(w, "anon.sendCoins", nil, "", r, "UNAUTHENTICATED")
	}
}

// opCustomerAsAdmin: a customer calls admin and clerk operations (FORBIDDEN).
func (s *sim) opCustomerAsAdmin(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	qs := []string{
		`mutation { setUserStatus(username: "admin", status: DISABLED) { id } }`,
		`mutation { deleteCustomer(username: "` + c.username + `") }`,
		`mutation { createCoins(input: {recipient: {username: "` + c.username + `"}, amount: "1000.00"}) { id } }`,
		`mutation { setDebitLimit(accountId: "` + c.main.id + `", limit: "1000000.00") { id } }`,
		`{ people(first: 1) { totalCount } }`,
		`{ customers(first: 5) { edges { node { id } } } }`,
	}
	if w.rng.IntN(4) == 0 {
		// Staff are no recipients, also by e-mail: NOT_FOUND, like an address nobody has.
		r := s.call(w, true, c.token, qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"email": s.staffEmail},
			"amount": "0.01", "idempotencyKey": s.key(w, "to-staff")}})
		allowed := []string{"NOT_FOUND"}
		s.mu.Lock()
		if c.main.available() < 1 { // funds are checked before the recipient is looked up
			allowed = append(allowed, "INSUFFICIENT_FUNDS")
		}
		s.mu.Unlock()
		s.expect(w, "sendCoins.toStaffEmail", c, s.staffEmail, r, allowed...)
		return
	}
	r := s.call(w, true, c.token, qs[w.rng.IntN(len(qs))], nil)
	s.expect(w, "customerAsAdmin", c, "", r, "FORBIDDEN")
}
