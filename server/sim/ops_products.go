package main

import (
	"fmt"
	"time"

	"coffer/graph/products"
)

// Cards, savings goals, bills and cash-outs.

const (
	qCreateCard = `mutation { createCard { card { id account { id } } number } }`
	qDeleteCard = `mutation($n: String!) { deleteCard(cardNumber: $n) }`
)

// opCreateCard opens a card while the customer has fewer than the maximum.
func (s *sim) opCreateCard(w *worker) {
	if c := s.pickCustomer(w); c != nil {
		s.createCard(w, "createCard", c, s.createCardAllowed(c)...)
	}
}

// createCardAllowed is what createCard may answer c now: PRECONDITION_FAILED (at most
// products.MaxActiveCards) when the cards the model knows, with those whose answer was lost, may
// reach the limit.
func (s *sim) createCardAllowed(c *customer) []string {
	s.mu.Lock()
	n, unknown := len(c.liveCards()), c.unknownCards
	s.mu.Unlock()
	switch {
	case n >= products.MaxActiveCards:
		return []string{"PRECONDITION_FAILED"}
	case n+unknown >= products.MaxActiveCards:
		return []string{"", "PRECONDITION_FAILED"}
	}
	return []string{""}
}

// createCard sends createCard and adds the card to the model on success.
func (s *sim) createCard(w *worker, kind string, c *customer, allowed ...string) *card {
	return s.recordCard(w, kind, c, s.call(w, false, c.token, qCreateCard, nil), allowed...)
}

// recordCard takes createCard's answer: a new card joins the model. An answer lost to a fault
// (none came, or INTERNAL) leaves a card that may exist, counted in unknownCards: the server
// commits the card before it reads the answer's card.account, so a database stopped in between
// answers INTERNAL for a card that was made (seed 86281, docs/simulator.md).
func (s *sim) recordCard(w *worker, kind string, c *customer, r reply, allowed ...string) *card {
	if !s.expect(w, kind, c, "createCard", r, allowed...) {
		if s.ambiguous(r) {
			s.mu.Lock()
			c.unknownCards++
			s.mu.Unlock()
		}
		return nil
	}
	var out struct {
		CreateCard struct {
			Card struct {
				ID      string
				Account struct{ ID string }
			}
			Number string
		}
	}
	if !s.decodeOK(w, kind, c, r, &out) {
		return nil
	}
	k := &card{id: out.CreateCard.Card.ID, number: out.CreateCard.Number, acct: &account{id: out.CreateCard.Card.Account.ID, kind: "CARD"}}
	s.mu.Lock()
	c.cards = append(c.cards, k)
	c.hadProducts = true
	s.mu.Unlock()
	return k
}

// opDeleteCard deletes a card: PRECONDITION_FAILED while it holds money.
func (s *sim) opDeleteCard(w *worker) {
	c, k := s.pickCard(w)
	if k == nil {
		return
	}
	s.mu.Lock()
	empty := k.acct.balance == 0
	s.mu.Unlock()
	// Credits from others may land at any time: an empty card may have received money since.
	allowed := []string{"", "PRECONDITION_FAILED"}
	if !empty {
		allowed = []string{"PRECONDITION_FAILED"}
	}
	s.deleteCard(w, "deleteCard", c, k, allowed...)
}

// deleteCard deletes k and records it. An answer lost to a fault is sent again until one comes:
// NOT_FOUND then means the lost try deleted it (left live in the model, the card would be counted
// against the limit that the server no longer counts it against).
func (s *sim) deleteCard(w *worker, kind string, c *customer, k *card, allowed ...string) bool {
	r := s.callSettle(w, c.token, qDeleteCard, map[string]any{"n": k.number}, codeIn("NOT_FOUND"))
	if !s.expect(w, kind, c, "card "+k.id, r, allowed...) {
		s.lost(c, r)
		return false
	}
	s.mu.Lock()
	balance := k.acct.balance
	if balance == 0 {
		k.deleted, k.acct.closed = true, true
	}
	s.mu.Unlock()
	if balance != 0 {
		s.violate(w.step, kind, c, fmt.Sprintf("deleted card %s holding %s in the model", k.id, dec(balance)))
	}
	return balance == 0
}

// opGoal creates a savings goal, or deletes one (PRECONDITION_FAILED while it holds money).
func (s *sim) opGoal(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	goals := c.liveGoals()
	s.mu.Unlock()
	if len(goals) < 3 && w.rng.IntN(3) != 0 {
		r := s.call(w, false, c.token, `mutation($in: CreateSavingsGoalInput!) { createSavingsGoal(input: $in) { id account { id } } }`,
			map[string]any{"in": map[string]any{"name": fmt.Sprintf("goal %d", w.step), "goal": dec(1 + w.rng.Int64N(100000))}})
		if !s.expect(w, "createSavingsGoal", c, "", r, "") {
			s.lost(c, r)
			return
		}
		var out struct {
			CreateSavingsGoal struct {
				ID      string
				Account struct{ ID string }
			}
		}
		if !s.decodeOK(w, "createSavingsGoal", c, r, &out) {
			return
		}
		s.mu.Lock()
		c.goals = append(c.goals, &goal{id: out.CreateSavingsGoal.ID, acct: &account{id: out.CreateSavingsGoal.Account.ID, kind: "SAVINGS"}})
		c.hadProducts = true
		s.mu.Unlock()
		return
	}
	if len(goals) == 0 {
		return
	}
	g := goals[w.rng.IntN(len(goals))]
	s.mu.Lock()
	empty := g.acct.balance == 0
	s.mu.Unlock()
	allowed := []string{""}
	if !empty {
		allowed = []string{"PRECONDITION_FAILED"}
	}
	r := s.call(w, false, c.token, `mutation($id: ID!) { deleteSavingsGoal(id: $id) }`, map[string]any{"id": g.id})
	if s.expect(w, "deleteSavingsGoal", c, "goal "+g.id, r, allowed...) {
		s.mu.Lock()
		g.deleted, g.acct.closed = true, true
		s.mu.Unlock()
	} else {
		s.lost(c, r)
	}
}

// opBill creates a bill or pays one with a card (PRECONDITION_FAILED when already paid).
func (s *sim) opBill(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	var unpaid, paid []*bill
	for _, b := range c.bills {
		if b.deleted {
			continue
		}
		if b.paid {
			paid = append(paid, b)
		} else {
			unpaid = append(unpaid, b)
		}
	}
	cards := c.liveCards()
	s.mu.Unlock()
	if len(unpaid) == 0 || len(cards) == 0 || w.rng.IntN(4) == 0 {
		amount := 1 + w.rng.Int64N(3000)
		s.createBill(w, "createBill", c, amount, time.Now().UTC().AddDate(0, 0, 1+w.rng.IntN(60)))
		return
	}
	k := cards[w.rng.IntN(len(cards))]
	b := unpaid[w.rng.IntN(len(unpaid))]
	again := len(paid) > 0 && w.rng.IntN(4) == 0
	if again {
		b = paid[w.rng.IntN(len(paid))]
	}
	s.mu.Lock()
	avail, frozen := k.acct.available(), k.frozen
	s.mu.Unlock()
	allowed := debitAllowed(avail, b.amount)
	if again || frozen {
		// A frozen card: refused whether or not the amount would fit.
		allowed = []string{"PRECONDITION_FAILED", "INSUFFICIENT_FUNDS"}
		if again {
			allowed = []string{"PRECONDITION_FAILED"}
		}
	}
	r := s.call(w, true, c.token, `mutation($in: PayBillInput!) { payBill(input: $in) { id paid } }`,
		map[string]any{"in": map[string]any{"billId": b.id, "cardNumber": k.number, "idempotencyKey": s.key(w, "bill")}})
	if !s.expect(w, "payBill", c, fmt.Sprintf("bill %s %s card %s again=%v frozen=%v", b.id, dec(b.amount), k.id, again, frozen), r, allowed...) {
		s.lost(c, r)
		return
	}
	s.mu.Lock()
	b.paid = true
	k.acct.balance -= b.amount
	s.mu.Unlock()
}

// createBill creates a bill of c's and adds it to the model; nil when that failed.
func (s *sim) createBill(w *worker, kind string, c *customer, amount int64, due time.Time) *bill {
	r := s.call(w, false, c.token, `mutation($in: CreateBillInput!) { createBill(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": fmt.Sprintf("%s %d", kind, w.step), "amount": dec(amount), "dueDate": due.Format(time.RFC3339)}})
	if !s.expect(w, kind, c, dec(amount), r, "") {
		s.lost(c, r)
		return nil
	}
	var out struct{ CreateBill struct{ ID string } }
	if !s.decodeOK(w, kind, c, r, &out) {
		return nil
	}
	b := &bill{id: out.CreateBill.ID, amount: amount}
	s.mu.Lock()
	c.bills = append(c.bills, b)
	c.hadProducts = true
	s.mu.Unlock()
	return b
}

// opCashout creates a cash-out (reserving the amount, a TAN to the customer's e-mail), then
// confirms it with the TAN from the outbox, tries a wrong TAN first, or aborts it; some stay
// pending for the cross-domain operations.
func (s *sim) opCashout(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	open := c.open("cashout")
	avail := c.main.available()
	s.mu.Unlock()
	if len(open) > 0 && w.rng.IntN(2) == 0 {
		s.settleCashout(w, c, open[w.rng.IntN(len(open))])
		return
	}
	amount := amountFor(w, avail)
	p := s.createCashout(w, "createCashout", c, amount, debitAllowed(avail, amount, "TOO_MANY_REQUESTS")...)
	if p != nil && w.rng.IntN(3) != 0 {
		s.settleCashout(w, c, p)
	}
}

// createCashout sends createCashout and adds the pending cash-out to the model on success.
func (s *sim) createCashout(w *worker, kind string, c *customer, amount int64, allowed ...string) *pending {
	sent, epoch := s.e.outbox.count(c.email), s.e.epoch.Load()
	r := s.call(w, true, c.token, `mutation($in: CreateCashoutInput!) { createCashout(input: $in) { id status transaction { id status } } }`,
		map[string]any{"in": map[string]any{"amount": dec(amount), "channel": "EMAIL", "idempotencyKey": s.key(w, "cashout")}})
	if !s.expect(w, kind, c, dec(amount), r, allowed...) {
		s.lost(c, r)
		return nil
	}
	var out struct {
		CreateCashout struct {
			ID, Status  string
			Transaction struct{ ID, Status string }
		}
	}
	if !s.decodeOK(w, kind, c, r, &out) {
		return nil
	}
	co := out.CreateCashout
	if co.Status == "ABORTED" && co.Transaction.Status == "VOIDED" && s.e.crossed(epoch) {
		// Its TAN could not be sent during the fault, so the server aborted it; the retry under
		// the same key answers the aborted cash-out.
		s.count(kind+".abortedInFault", "ok")
		return nil
	}
	if co.Status != "PENDING" || co.Transaction.Status != "PENDING" {
		s.violate(w.step, kind, c, fmt.Sprintf("new cash-out %s is %s with its transaction %s, want PENDING both", co.ID, co.Status, co.Transaction.Status))
	}
	p := &pending{id: co.Transaction.ID, cashout: co.ID, amount: amount, status: "PENDING", inFault: s.e.crossed(epoch)}
	switch tan, ok := s.e.outbox.wait(c.email, sent); {
	case ok && p.inFault:
		// A first try may have sent a TAN and then lost its commit to the fault (the retry made
		// the cash-out anew, with its own TAN): the latest code is this cash-out's, if any is.
		time.Sleep(300 * time.Millisecond)
		codes := s.e.outbox.read(c.email)
		p.tan = codes[len(codes)-1]
	case ok:
		p.tan = tan
	case p.inFault:
		// A TAN issued but never delivered (the server died in between): the retry does not
		// send another, so only abortCashout ends this one (docs/simulator.md).
		s.count(kind+".tanLostInFault", "ok")
	default:
		s.violate(w.step, kind, c, fmt.Sprintf("cash-out %s: no TAN reached the outbox", co.ID))
	}
	s.mu.Lock()
	c.main.reserved += amount
	c.pendings = append(c.pendings, p)
	c.hadCashout = true
	s.mu.Unlock()
	return p
}

// settleCashout confirms p with its TAN (after a wrong one, sometimes) or aborts it.
func (s *sim) settleCashout(w *worker, c *customer, p *pending) {
	detail := fmt.Sprintf("cash-out %s of %s", p.cashout, dec(p.amount))
	if w.rng.IntN(3) == 0 {
		r := s.callSettle(w, c.token, `mutation($id: ID!) { abortCashout(id: $id) { id status } }`, map[string]any{"id": p.cashout}, s.statusIs(w, c.token, p.cashout, "ABORTED"))
		if s.expect(w, "abortCashout", c, detail, r, "") {
			s.mu.Lock()
			p.status = "ABORTED"
			c.main.reserved -= p.amount
			s.mu.Unlock()
		} else {
			s.lost(c, r)
		}
		return
	}
	if w.rng.IntN(3) == 0 && p.tan != "" {
		wrong := []byte(p.tan)
		wrong[len(wrong)-1] = '0' + (wrong[len(wrong)-1]-'0'+1)%10
		// Not retried: every wrong try counts, and five kill the TAN.
		r := s.call(w, false, c.token, `mutation($id: ID!, $t: String!) { confirmCashout(id: $id, tan: $t) { id status } }`,
			map[string]any{"id": p.cashout, "t": string(wrong)})
		s.expect(w, "confirmCashout.wrongTan", c, detail, r, "INVALID_CODE", "TOO_MANY_REQUESTS")
	}
	if p.tan == "" {
		return
	}
	epoch := s.e.epoch.Load()
	r := s.callSettle(w, c.token, `mutation($id: ID!, $t: String!) { confirmCashout(id: $id, tan: $t) { id status } }`,
		map[string]any{"id": p.cashout, "t": p.tan}, s.statusIs(w, c.token, p.cashout, "CONFIRMED"))
	allowed := []string{""}
	if p.inFault || s.e.crossed(epoch) {
		// Its TAN may be one a rolled-back first try of createCashout sent; only abortCashout
		// ends it. (A confirmation lost to the fault no longer spends the TAN: it is used in the
		// posting's transaction; docs/simulator.md.)
		allowed = append(allowed, "INVALID_CODE")
	}
	if !s.expect(w, "confirmCashout", c, detail, r, allowed...) {
		if r.code() == "INVALID_CODE" {
			s.count("confirmCashout.tanSpentInFault", "ok")
			s.mu.Lock()
			p.tan = ""
			s.mu.Unlock()
		}
		s.lost(c, r)
		return
	}
	s.mu.Lock()
	p.status = "CONFIRMED"
	c.main.reserved -= p.amount
	c.main.balance -= p.amount
	s.mu.Unlock()
}
