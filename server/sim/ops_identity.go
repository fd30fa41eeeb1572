package main

import (
	"fmt"
	"sync"
)

// The second factor and the census queue, as changed after the simulator was written.

const qSetTwoFactor = `mutation($m: TwoFactorMethod!, $p: String) { setTwoFactor(method: $m, currentPassword: $p) { twoFactor } }`

// opTwoFactor turns a customer's e-mail second factor on, logs in with it (the code from the
// outbox through confirmLogin), and turns it off again, which needs the
// current password: missing or wrong is BAD_USER_INPUT. SMS needs a verified phone (the
// simulated customers have none): PRECONDITION_FAILED.
func (s *sim) opTwoFactor(w *worker) {
	c := s.pickCustomer(w)
	if c == nil || c.subscribed {
		return
	}
	r := s.call(w, true, c.token, qSetTwoFactor, map[string]any{"m": "SMS"})
	s.expect(w, "setTwoFactor.smsUnverified", c, "", r, "PRECONDITION_FAILED")
	// Whatever happens (an answer lost to a fault may have turned it on), the factor ends off,
	// or later logins of c would stop at SECOND_FACTOR_REQUIRED.
	defer func() {
		r := s.callThroughFault(w, c.token, qSetTwoFactor, map[string]any{"m": "NONE", "p": c.password})
		s.expect(w, "setTwoFactor", c, "NONE", r, "")
	}()
	r = s.call(w, true, c.token, qSetTwoFactor, map[string]any{"m": "EMAIL"})
	if !s.expect(w, "setTwoFactor", c, "EMAIL", r, "") {
		return
	}
	sent := s.e.outbox.count(c.email)
	r = s.call(w, false, "", `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status challengeId } }`,
		map[string]any{"l": c.username, "p": c.password})
	var out struct {
		Login struct{ Status, ChallengeID string }
	}
	if !s.expect(w, "login.secondFactor", c, c.username, r, "") || r.decode(&out) != nil {
		return
	}
	if out.Login.Status != "SECOND_FACTOR_REQUIRED" || out.Login.ChallengeID == "" {
		s.violate(w.step, "login.secondFactor", c, fmt.Sprintf("login with an e-mail second factor answered %+v", out.Login))
		return
	}
	code, ok := s.e.outbox.wait(c.email, sent)
	if !ok {
		s.violate(w.step, "login.secondFactor", c, "no login code reached the outbox")
		return
	}
	// No wrong code here: it would count as a failed login, and opPassword's wrong passwords too.
	r = s.call(w, false, "", `mutation($id: String!, $c: String!) { confirmLogin(challengeId: $id, code: $c) { token } }`,
		map[string]any{"id": out.Login.ChallengeID, "c": code})
	s.expect(w, "confirmLogin", c, "", r, "")
	r = s.call(w, true, c.token, qSetTwoFactor, map[string]any{"m": "NONE"})
	s.expect(w, "setTwoFactor.noPassword", c, "NONE", r, "BAD_USER_INPUT")
}

const qProcess = `mutation($id: ID!, $d: ProcedureDecision!) { processProcedure(id: $id, decision: $d, comment: "sim") { id state } }`

// opCensus: the clerk reads the procedures queue (pending ones only: each must be PENDING), or
// asks a person for documents (requestVerification: a DOCUMENT_VERIFICATION procedure that waits)
// and then cancels the person while it waits: the cancellation is decided first, and the waiting
// procedure must still have a way out (decided, or refused because the cancellation closed it;
// the drain at the end and the invariant "no procedure stays pending" check that nothing is left).
func (s *sim) opCensus(w *worker) {
	if w.rng.IntN(3) == 0 {
		s.readQueue(w)
		return
	}
	p := s.pickPerson(w)
	if p == nil {
		return
	}
	r := s.call(w, true, s.staff, `mutation($p: String!) { requestVerification(personId: $p) { id state } }`, map[string]any{"p": p.id})
	// CONFLICT: documents are already asked for or being checked; PRECONDITION_FAILED: cancelled.
	if !s.expect(w, "requestVerification", nil, p.id, r, "", "CONFLICT", "PRECONDITION_FAILED") {
		return
	}
	var out struct{ RequestVerification struct{ ID, State string } }
	if r.decode(&out) != nil || out.RequestVerification.ID == "" {
		return
	}
	waiting := out.RequestVerification.ID
	if out.RequestVerification.State != "PENDING" {
		s.violate(w.step, "requestVerification", nil, fmt.Sprintf("new procedure %s of %s is %s, want PENDING", waiting, p.id, out.RequestVerification.State))
	}
	if w.rng.IntN(2) == 0 {
		s.mu.Lock()
		p.procedures = append(p.procedures, waiting)
		s.mu.Unlock()
		return // left waiting for opPeople (or the drain)
	}
	r = s.call(w, true, s.staff, `mutation($p: String!) { cancelPerson(personId: $p, channel: "sim", reason: "while documents wait") { id } }`,
		map[string]any{"p": p.id})
	var cancel struct{ CancelPerson struct{ ID string } }
	if !s.expect(w, "cancelWhileWaiting.cancelPerson", nil, p.id, r, "", "CONFLICT", "PRECONDITION_FAILED") || r.decode(&cancel) != nil {
		s.mu.Lock()
		p.procedures = append(p.procedures, waiting)
		s.mu.Unlock()
		return
	}
	r = s.call(w, true, s.staff, qProcess, map[string]any{"id": cancel.CancelPerson.ID, "d": "ACCEPT"})
	s.expect(w, "cancelWhileWaiting.acceptCancellation", nil, cancel.CancelPerson.ID, r, "", "PRECONDITION_FAILED")
	decision := []string{"ACCEPT", "REJECT"}[w.rng.IntN(2)]
	r = s.call(w, true, s.staff, qProcess, map[string]any{"id": waiting, "d": decision})
	s.expect(w, "cancelWhileWaiting.decideWaiting", nil, waiting+" "+decision, r, "", "PRECONDITION_FAILED")
	// Whatever the answer, the waiting procedure must not be PENDING any more, or have a way out:
	// rejecting it must work then.
	if st := s.procedureState(w, waiting); st == "PENDING" {
		r = s.call(w, true, s.staff, qProcess, map[string]any{"id": waiting, "d": "REJECT"})
		if !s.expect(w, "cancelWhileWaiting.rejectWaiting", nil, waiting, r, "") {
			s.violate(w.step, "cancelWhileWaiting", nil, fmt.Sprintf("procedure %s of cancelled person %s stays PENDING without a way out: %s", waiting, p.id, r.code()))
		}
	}
}

// procedureState reads a procedure's state through the API ("" when it cannot be read).
func (s *sim) procedureState(w *worker, id string) string {
	r := s.call(w, true, s.staff, `query($id: ID!) { node(id: $id) { ... on Procedure { state } } }`, map[string]any{"id": id})
	var out struct{ Node *struct{ State string } }
	if !s.expect(w, "procedure.read", nil, id, r, "") || r.decode(&out) != nil || out.Node == nil {
		return ""
	}
	return out.Node.State
}

// readQueue reads the first page of the clerks' queue of pending procedures: each must be
// PENDING.
func (s *sim) readQueue(w *worker) {
	r := s.call(w, true, s.staff, `{ procedures(first: 50, filter: {state: PENDING}) { totalCount edges { node { id state person { id } } } } }`, nil)
	var out struct {
		Procedures struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, State string } }
		}
	}
	if !s.expect(w, "procedures.queue", nil, "", r, "") || r.decode(&out) != nil {
		return
	}
	// totalCount is its own COUNT statement, apart from the page's: other workers' procedures
	// may land between the two, so it is not compared with the page here.
	for _, e := range out.Procedures.Edges {
		if e.Node.State != "PENDING" {
			s.violate(w.step, "procedures.queue", nil, fmt.Sprintf("procedure %s is %s in the queue of PENDING ones", e.Node.ID, e.Node.State))
		}
	}
}

// loginMaxFailures is the servers' LOGIN_MAX_FAILURES (its default).
const loginMaxFailures = 5

// opParallelLockout: ten wrong passwords at once, at both servers, against a fresh customer
// (outside the model: it holds nothing and nobody pays it): at most LOGIN_MAX_FAILURES are
// checked (UNAUTHENTICATED), the rest answer ACCOUNT_LOCKED, and then the right password is
// ACCOUNT_LOCKED too (the lockout lasts LOGIN_LOCKOUT).
func (s *sim) opParallelLockout(w *worker) {
	name := s.newName("lock")
	r := s.call(w, false, s.admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": name, "password": name + "-Password1", "name": "Lock " + name}})
	if !s.expect(w, "parallelLockout.createCustomer", nil, name, r, "") {
		return
	}
	const n = 10
	urls := s.e.urls()
	if len(urls) == 0 {
		return
	}
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			replies[i] = post(s.ctx, s.hc, urls[i%len(urls)], "", qLogin, map[string]any{"l": name, "p": fmt.Sprintf("wrong-password-%d", i)})
		})
	}
	wg.Wait()
	checked, answered := 0, 0
	for _, r := range replies {
		if s.expect(w, "parallelLockout.wrong", nil, name, r, "UNAUTHENTICATED", "ACCOUNT_LOCKED") || s.ambiguous(r) {
			continue
		}
		answered++
		if r.code() == "UNAUTHENTICATED" {
			checked++
		}
	}
	if checked > loginMaxFailures {
		s.violate(w.step, "parallelLockout", nil, fmt.Sprintf("%s: %d of %d parallel wrong passwords were checked, at most %d may be", name, checked, n, loginMaxFailures))
	}
	if answered == n {
		s.login(w, "parallelLockout.right", nil, name, name+"-Password1", "ACCOUNT_LOCKED")
	}
}
