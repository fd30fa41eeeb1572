package main

import (
	"fmt"
	"slices"
	"time"
)

// Administrators' and clerks' operations, and the cross-domain sequences.

// opNewCustomer: the admin creates a customer for this worker and mints it coins.
func (s *sim) opNewCustomer(w *worker) {
	s.mu.Lock()
	n := len(w.mine)
	s.mu.Unlock()
	if n >= 3*s.o.customers/max(s.o.workers, 1)+4 {
		return
	}
	if c := s.createCustomer(w, "createCustomer"); c != nil && w.rng.IntN(2) == 0 {
		s.mint(w, "createCoins", c, 1+w.rng.Int64N(50000))
	}
}

// opDebitLimit: the admin sets a customer's debit limit (0 to 50.00); lowering it below what the
// customer already uses may be refused.
func (s *sim) opDebitLimit(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	limit := w.rng.Int64N(5001)
	s.mu.Lock()
	used := c.main.reserved - c.main.balance // what the limit must cover
	s.mu.Unlock()
	allowed := []string{""}
	if limit < used {
		// Refused, unless a credit another worker is sending it lands first (its worker records
		// it only once answered): credits only lower what the limit must cover, and the invariant
		// checks (no account below its debit limit) still compare the server's own rows.
		// Seed 265545: cu34 paid cu86 1,000,001.46 while cu86's limit was lowered to 19.31.
		allowed = []string{"PRECONDITION_FAILED", "BAD_USER_INPUT", ""}
	}
	r := s.call(w, true, s.admin, `mutation($id: ID!, $l: Decimal!) { setDebitLimit(accountId: $id, limit: $l) { id debitLimit { amount } } }`,
		map[string]any{"id": c.main.id, "l": dec(limit)})
	if !s.expect(w, "setDebitLimit", c, dec(limit), r, allowed...) {
		s.lost(c, r)
		return
	}
	s.mu.Lock()
	c.main.limit = limit
	s.mu.Unlock()
}

// opUserStatus: the admin locks or disables a customer, who then cannot log in (nor use the old
// session), and reactivates it.
func (s *sim) opUserStatus(w *worker) {
	c := s.pickCustomer(w)
	if c == nil || c.subscribed {
		return
	}
	status, refused := "LOCKED", "ACCOUNT_LOCKED"
	if w.rng.IntN(2) == 0 {
		status, refused = "DISABLED", "ACCOUNT_DISABLED"
	}
	set := func(st string) bool {
		r := s.callThroughFault(w, s.admin, `mutation($u: String!, $s: UserStatus!) { setUserStatus(username: $u, status: $s) { status } }`,
			map[string]any{"u": c.username, "s": st})
		return s.expect(w, "setUserStatus", c, st, r, "")
	}
	if !set(status) {
		return
	}
	s.login(w, "login.whileBlocked", c, c.username, c.password, refused)
	r := s.call(w, true, c.token, `{ me { username } }`, nil)
	s.expect(w, "session.whileBlocked", c, status, r, "UNAUTHENTICATED", refused, "FORBIDDEN")
	if !set("ACTIVE") {
		return
	}
	s.relogin(w, c)
}

// opCoinsBad: createCoins with a target date outside its window, to an institutional user, to
// nobody.
func (s *sim) opCoinsBad(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	var in map[string]any
	var allowed []string
	switch w.rng.IntN(3) {
	case 0:
		in = map[string]any{"recipient": map[string]any{"username": c.username}, "amount": "1.00",
			"targetDate": time.Now().UTC().AddDate(0, -4, 0).Format(time.RFC3339)}
		allowed = []string{"BAD_USER_INPUT"}
	case 1:
		in = map[string]any{"recipient": map[string]any{"username": "bank"}, "amount": "1.00"}
		allowed = []string{"FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT"}
	case 2:
		in = map[string]any{"recipient": map[string]any{"email": s.newName("nobody") + "@sim.example"}, "amount": "1.00"}
		allowed = []string{"NOT_FOUND"}
	}
	r := s.call(w, true, s.admin, `mutation($in: CreateCoinsInput!) { createCoins(input: $in) { id } }`, map[string]any{"in": in})
	s.expect(w, "createCoins.bad", c, fmt.Sprint(in["recipient"]), r, allowed...)
}

// opDelete empties one of the worker's customers (cancels what is pending, brings cards and goals
// home, sends the balance away or mints what it owes) and deletes it. which picks the customers
// by history: "plain" never had a product nor a cash-out; "hadProducts" had a card, goal or bill
// (a known bug while it is open); "hadCashout" had a cash-out.
func (s *sim) opDelete(w *worker, which string) {
	s.mu.Lock()
	var pick []*customer
	for _, c := range w.mine {
		if c.deleted || c.deleting || c.dirty || c.subscribed {
			continue
		}
		switch which {
		case "plain":
			if !c.hadProducts && !c.hadCashout {
				pick = append(pick, c)
			}
		case "hadProducts":
			if c.hadProducts && !c.hadCashout {
				pick = append(pick, c)
			}
		case "hadCashout":
			if c.hadCashout && !c.hadProducts {
				pick = append(pick, c)
			}
		}
	}
	s.mu.Unlock()
	if len(pick) < 2 {
		return // keep a few customers alive
	}
	c := pick[w.rng.IntN(len(pick))]
	kind := "deleteCustomer." + which
	if !s.empty(w, kind, c) {
		return
	}
	s.mu.Lock()
	c.deleting = true
	empty := c.empty()
	s.mu.Unlock()
	allowed := []string{"", "PRECONDITION_FAILED"} // a credit may land in between
	if !empty {
		allowed = []string{"PRECONDITION_FAILED"}
	}
	r := s.callSettle(w, s.admin, `mutation($u: String!) { deleteCustomer(username: $u) }`, map[string]any{"u": c.username}, codeIn("NOT_FOUND"))
	ok := s.expect(w, kind, c, "", r, allowed...)
	s.mu.Lock()
	c.deleting = false
	if ok {
		c.deleted = true
		for _, a := range c.accounts() {
			a.closed = true
		}
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	r = s.call(w, true, c.token, `{ me { username } }`, nil)
	s.expect(w, "session.ofDeleted", c, "", r, "UNAUTHENTICATED")
	s.login(w, "login.ofDeleted", c, c.username, c.password, "UNAUTHENTICATED")
}

// empty brings all of c's money to zero: pending transfers cancelled, cash-outs aborted, goals
// withdrawn to a card, cards defunded, the main balance sent to another customer or, when
// negative, minted back. It returns false when a step failed.
func (s *sim) empty(w *worker, kind string, c *customer) bool {
	return s.releasePending(w, kind, c) && s.emptyProducts(w, kind, c) && s.emptyMain(w, kind, c)
}

// releasePending cancels c's pending transfers and aborts its cash-outs.
func (s *sim) releasePending(w *worker, kind string, c *customer) bool {
	s.mu.Lock()
	open := c.open("")
	s.mu.Unlock()
	for _, p := range open {
		if !s.release(w, kind+".release", c, p) {
			return false
		}
	}
	return true
}

// emptyProducts withdraws c's goals to a card and defunds its cards to the main account.
func (s *sim) emptyProducts(w *worker, kind string, c *customer) bool {
	s.mu.Lock()
	cards, goals := c.liveCards(), c.liveGoals()
	s.mu.Unlock()
	for _, g := range goals {
		if g.acct.balance > 0 && len(cards) > 0 {
			r := s.call(w, true, c.token, qWd, map[string]any{"in": map[string]any{"savingsGoalId": g.id, "cardId": cards[0].id,
				"amount": dec(g.acct.balance), "idempotencyKey": s.key(w, "empty-goal"+g.id)}})
			if !s.expect(w, kind+".withdraw", c, g.id, r, "") {
				return false
			}
			s.move(g.acct, cards[0].acct, g.acct.balance)
		}
	}
	for _, k := range cards {
		if k.acct.balance > 0 {
			r := s.call(w, true, c.token, qDef, map[string]any{"in": map[string]any{"cardId": k.id, "amount": dec(k.acct.balance),
				"idempotencyKey": s.key(w, "empty-card"+k.id)}})
			if !s.expect(w, kind+".defund", c, k.id, r, "") {
				return false
			}
			s.move(k.acct, c.main, k.acct.balance)
		}
	}
	return true
}

// emptyMain brings c's main account to zero: sent to another customer, or minted back when
// negative.
func (s *sim) emptyMain(w *worker, kind string, c *customer) bool {
	s.mu.Lock()
	bal := c.main.balance
	s.mu.Unlock()
	switch {
	case bal > 0:
		to := s.pickOther(w, c)
		if to == nil {
			return false
		}
		before := s.deleted(to)
		r := s.call(w, true, c.token, qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"username": to.username},
			"amount": dec(bal), "idempotencyKey": s.key(w, "empty-main")}})
		allowed := s.creditAllowed([]string{""}, before, to)
		if !s.expect(w, kind+".sendAll", c, dec(bal)+" to "+to.username, r, allowed...) {
			return false
		}
		s.move(c.main, to.main, bal)
	case bal < 0:
		if !s.mint(w, kind+".mint", c, -bal) {
			return false
		}
	}
	return true
}

// opDeleteWithPending: a customer with a pending cash-out is deleted: PRECONDITION_FAILED, and the
// cash-out stays as it was (the state-machine invariants check it and its transaction).
func (s *sim) opDeleteWithPending(w *worker) {
	c := s.pickCustomer(w)
	if c == nil || c.subscribed {
		return
	}
	s.mu.Lock()
	open := c.open("cashout")
	avail := c.main.available()
	s.mu.Unlock()
	if len(open) == 0 {
		if avail < 1 || s.createCashout(w, "createCashout", c, 1, "", "TOO_MANY_REQUESTS") == nil {
			return
		}
	}
	r := s.call(w, true, s.admin, `mutation($u: String!) { deleteCustomer(username: $u) }`, map[string]any{"u": c.username})
	s.expect(w, "deleteCustomer.pendingCashout", c, "", r, "PRECONDITION_FAILED")
}

// opPeople: the clerk registers people, decides their procedures (twice: the second time
// PRECONDITION_FAILED), changes their membership, cancels them, and looks up malformed
// identifiers.
func (s *sim) opPeople(w *worker) {
	switch op := w.rng.IntN(6); {
	case op == 0 || s.pickPerson(w) == nil:
		s.registerPerson(w, fmt.Sprintf("Sim%d", w.step), []string{""})
	case op == 1:
		p := s.pickPerson(w)
		var proc string
		s.mu.Lock()
		if len(p.procedures) > 0 {
			proc = p.procedures[0]
			p.procedures = p.procedures[1:]
		}
		s.mu.Unlock()
		if proc == "" {
			return
		}
		decision := []string{"ACCEPT", "REJECT"}[w.rng.IntN(2)]
		q := `mutation($id: ID!, $d: ProcedureDecision!) { processProcedure(id: $id, decision: $d, comment: "sim") { id state } }`
		r := s.call(w, true, s.staff, q, map[string]any{"id": proc, "d": decision})
		// A later procedure may be refused once an earlier one cancelled the person.
		s.expect(w, "processProcedure", nil, proc+" "+decision, r, "", "PRECONDITION_FAILED")
		r = s.call(w, true, s.staff, q, map[string]any{"id": proc, "d": decision})
		s.expect(w, "processProcedure.again", nil, proc, r, "PRECONDITION_FAILED")
	case op == 2:
		p := s.pickPerson(w)
		r := s.call(w, true, s.staff, `mutation($p: String!, $l: MembershipLevel!) { changeMembershipLevel(personId: $p, level: $l) { id } }`,
			map[string]any{"p": p.id, "l": []string{"MEMBER", "FOLLOWER"}[w.rng.IntN(2)]})
		s.addProcedure(w, "changeMembershipLevel", p, r, "changeMembershipLevel")
	case op == 3:
		p := s.pickPerson(w)
		r := s.call(w, true, s.staff, `mutation($p: String!) { cancelPerson(personId: $p, channel: "sim", reason: "sim") { id } }`,
			map[string]any{"p": p.id})
		s.addProcedure(w, "cancelPerson", p, r, "cancelPerson")
	case op == 4:
		bad := []string{"", "abc", "12@", "@census", "999999999@census", "1@nosuchsystem", "00000000T@document_id", "Z%@census"}
		r := s.call(w, true, s.staff, `query($id: String!) { person(id: $id) { id } }`, map[string]any{"id": bad[w.rng.IntN(len(bad))]})
		if r.ok() {
			s.expect(w, "person.malformed", nil, "", r, "")
			return
		}
		s.expect(w, "person.malformed", nil, "", r, "BAD_USER_INPUT", "NOT_FOUND")
	case op == 5:
		s.readPerson(w, s.pickPerson(w))
	}
}

// readPerson reads a person the ways a clerk's read is audited besides person and people (node,
// Person.versions, personProcedures, Procedure.person): each answers this person and nobody else.
func (s *sim) readPerson(w *worker, p *person) {
	r := s.call(w, true, s.staff, `query($id: ID!, $ref: String!) {
		node(id: $id) { ... on Person { id versions(first: 5) { edges { node { person { id } } } } } }
		personProcedures(personId: $ref) { id person { id } } }`, map[string]any{"id": p.id, "ref": p.id})
	var out struct {
		Node *struct {
			ID       string
			Versions struct {
				Edges []struct {
					Node struct{ Person struct{ ID string } }
				}
			}
		}
		PersonProcedures []struct{ Person struct{ ID string } }
	}
	if !s.expect(w, "person.read", nil, p.id, r, "") || !s.decodeOK(w, "person.read", nil, r, &out) {
		return
	}
	ids := []string{}
	if out.Node != nil {
		ids = append(ids, out.Node.ID)
		for _, e := range out.Node.Versions.Edges {
			ids = append(ids, e.Node.Person.ID)
		}
	}
	for _, pr := range out.PersonProcedures {
		ids = append(ids, pr.Person.ID)
	}
	if out.Node == nil || slices.ContainsFunc(ids, func(id string) bool { return id != p.id }) {
		s.violate(w.step, "person.read", nil, fmt.Sprintf("person %s read as %v", p.id, ids))
	}
}

// addProcedure records the procedure a people mutation answered.
func (s *sim) addProcedure(w *worker, kind string, p *person, r reply, field string) {
	// CONFLICT: the person already has a pending procedure of this type.
	if !s.expect(w, kind, nil, p.id, r, "", "PRECONDITION_FAILED", "CONFLICT") {
		return
	}
	var out map[string]struct{ ID string }
	if r.decode(&out) == nil && out[field].ID != "" {
		s.mu.Lock()
		p.procedures = append(p.procedures, out[field].ID)
		s.mu.Unlock()
	}
}

// pickPerson chooses one of the people w registered (each worker's clerk work stays its own, as
// customers do: a second phone verification of the same person would void the first's code), nil
// when w has none.
func (s *sim) pickPerson(w *worker) *person {
	s.mu.Lock()
	defer s.mu.Unlock()
	var mine []*person
	for _, p := range s.persons {
		if p.worker == w.idx {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return mine[w.rng.IntN(len(mine))]
}

// registerPerson registers a person with a valid random DNI; firstName is the caller's (the NUL
// operation sends a bad one).
func (s *sim) registerPerson(w *worker, firstName string, allowed []string) {
	n := 10000000 + w.rng.IntN(89999999)
	dni := fmt.Sprintf("%08d%c", n, "TRWAGMYFPDXBNJZSQVHLCKE"[n%23])
	r := s.call(w, true, s.staff, `mutation($in: RegisterPersonInput!) { registerPerson(input: $in) { person { id } procedure { id } } }`,
		map[string]any{"in": map[string]any{"firstName": firstName, "lastName1": "Simulada", "documentType": "DNI", "documentId": dni,
			"documentScopeCode": "ES", "bornAt": "1990-05-17", "gender": "UNDISCLOSED", "address": "Calle Mayor 1",
			"addressScopeCode": "ES-28079", "postalCode": "28013", "scopeCode": "ES-MD"}})
	// A random DNI may repeat one registered before: CONFLICT.
	if !s.expect(w, "registerPerson", nil, dni, r, append(allowed, "CONFLICT")...) {
		return
	}
	var out struct {
		RegisterPerson struct {
			Person, Procedure struct{ ID string }
		}
	}
	if r.decode(&out) == nil && out.RegisterPerson.Person.ID != "" {
		s.mu.Lock()
		s.persons = append(s.persons, &person{id: out.RegisterPerson.Person.ID, worker: w.idx, procedures: []string{out.RegisterPerson.Procedure.ID}})
		s.mu.Unlock()
	}
}
