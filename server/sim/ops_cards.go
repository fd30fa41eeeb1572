package main

import (
	"fmt"
	"sync"
	"time"
)

// Frozen cards, bill and goal edits, and autopay: the operations of the products added after the
// simulator was written, and their cross-domain sequences (a card frozen while a transfer from it
// or a bill's autopay runs).

const (
	qFreeze   = `mutation($id: ID!) { freezeCard(id: $id) { id status } }`
	qUnfreeze = `mutation($id: ID!) { unfreezeCard(id: $id) { id status } }`
	qBillRead = `query($id: ID!) { node(id: $id) { ... on Bill { paid autopayError paidWith { id } } } }`
)

// opFreeze freezes or unfreezes one of the customer's cards. Both are idempotent (a frozen card
// frozen again is returned unchanged), so a lost answer is simply sent again.
func (s *sim) opFreeze(w *worker) {
	c, k := s.pickCard(w)
	if k == nil {
		return
	}
	s.setFrozen(w, "freezeCard", c, k, w.rng.IntN(2) == 0)
}

// setFrozen freezes (or unfreezes) k and records it in the model; the answer's status must say so.
func (s *sim) setFrozen(w *worker, kind string, c *customer, k *card, freeze bool) bool {
	q, want := qFreeze, "FROZEN"
	if !freeze {
		q, kind, want = qUnfreeze, "unfreezeCard", "ACTIVE"
	}
	r := s.call(w, true, c.token, q, map[string]any{"id": k.id})
	if !s.expect(w, kind, c, "card "+k.id, r, "") {
		return false
	}
	var out map[string]struct{ ID, Status string }
	if !s.decodeOK(w, kind, c, r, &out) {
		return false
	}
	for _, v := range out {
		if v.Status != want {
			s.violate(w.step, kind, c, fmt.Sprintf("card %s is %s after %s, want %s", k.id, v.Status, kind, want))
		}
	}
	s.mu.Lock()
	k.frozen = freeze
	s.mu.Unlock()
	return true
}

// opFreezeRace sends a transfer from a card and the card's freeze at once, to two servers: the
// freeze succeeds, and the transfer either commits (before the freeze) or is PRECONDITION_FAILED,
// never half. Then a debit must be refused, and the card is sometimes unfrozen.
func (s *sim) opFreezeRace(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	cards := c.liveCards()
	s.mu.Unlock()
	if len(cards) < 2 {
		return
	}
	from, to := cards[0], cards[1+w.rng.IntN(len(cards)-1)]
	s.mu.Lock()
	avail, frozen := from.acct.available(), from.frozen
	s.mu.Unlock()
	if frozen || avail < 1 {
		return
	}
	amount := 1 + w.rng.Int64N(min(avail, 5000))
	xferVars := map[string]any{"in": map[string]any{"fromCardNumber": from.number, "toCardNumber": to.number,
		"amount": dec(amount), "idempotencyKey": s.key(w, "freeze-race")}}
	xfer, freeze, ok := s.raceFreeze(w, c, from, xferVars)
	if !ok {
		return
	}
	if !s.expect(w, "freezeRace.freeze", c, "card "+from.id, freeze, "") {
		// Lost to a fault: freezing is idempotent, so send it again.
		if !s.setFrozen(w, "freezeCard", c, from, true) {
			s.lost(c, reply{err: fmt.Errorf("card %s may be frozen", from.id)})
			return
		}
	}
	s.mu.Lock()
	from.frozen = true
	s.mu.Unlock()
	detail := fmt.Sprintf("%s card %s to %s racing its freeze", dec(amount), from.id, to.id)
	retried := s.ambiguous(xfer)
	if retried {
		// The transfer's answer was lost: its key says what happened (if the card's freeze is
		// not checked first; a refusal of the retry leaves the model unsure, read back).
		xfer = s.call(w, true, c.token, qXfer, xferVars)
	}
	if s.expect(w, "freezeRace.transfer", c, detail, xfer, "", "PRECONDITION_FAILED") {
		s.move(from.acct, to.acct, amount)
	} else if s.lost(c, xfer); retried {
		s.mu.Lock()
		c.dirty = true
		s.mu.Unlock()
	}
	// Frozen: the same transfer again (a new key) is refused and moves nothing.
	r := s.call(w, true, c.token, qXfer, map[string]any{"in": map[string]any{"fromCardNumber": from.number,
		"toCardNumber": to.number, "amount": "0.01", "idempotencyKey": s.key(w, "frozen")}})
	allowed := []string{"PRECONDITION_FAILED"}
	s.mu.Lock()
	if from.acct.available() < 1 { // emptied by the transfer: which refusal comes first is open
		allowed = append(allowed, "INSUFFICIENT_FUNDS")
	}
	s.mu.Unlock()
	s.expect(w, "freezeRace.afterFreeze", c, "card "+from.id, r, allowed...)
	if w.rng.IntN(2) == 0 {
		s.setFrozen(w, "unfreezeCard", c, from, false)
	}
}

// raceFreeze sends the transfer of xferVars from card from and the card's freeze at once, to two
// servers (the same one when only one runs); ok is false when no server runs.
func (s *sim) raceFreeze(w *worker, c *customer, from *card, xferVars map[string]any) (xfer, freeze reply, ok bool) {
	urls := s.e.urls()
	if len(urls) == 0 {
		return xfer, freeze, false
	}
	first := w.rng.IntN(len(urls))
	var wg sync.WaitGroup
	wg.Go(func() { xfer = post(s.ctx, s.hc, urls[first], c.token, qXfer, xferVars) })
	wg.Go(func() {
		freeze = post(s.ctx, s.hc, urls[(first+1)%len(urls)], c.token, qFreeze, map[string]any{"id": from.id})
	})
	wg.Wait()
	return xfer, freeze, true
}

// opBillEdit changes an unpaid bill (name, amount, due date) or deletes it; a paid one is
// PRECONDITION_FAILED either way and stays as it was.
func (s *sim) opBillEdit(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	var bills []*bill
	for _, b := range c.bills {
		if !b.deleted {
			bills = append(bills, b)
		}
	}
	s.mu.Unlock()
	if len(bills) == 0 {
		return
	}
	b := bills[w.rng.IntN(len(bills))]
	s.mu.Lock()
	paid := b.paid
	s.mu.Unlock()
	allowed := []string{""}
	if paid {
		allowed = []string{"PRECONDITION_FAILED"}
	}
	detail := fmt.Sprintf("bill %s paid=%v", b.id, paid)
	switch w.rng.IntN(4) {
	case 0:
		r := s.callSettle(w, c.token, `mutation($id: ID!) { deleteBill(id: $id) }`, map[string]any{"id": b.id}, codeIn("NOT_FOUND"))
		if s.expect(w, "deleteBill", c, detail, r, allowed...) {
			s.mu.Lock()
			b.deleted = true
			s.mu.Unlock()
		}
		// The bill is gone: reading it answers null, never another's bill.
	case 1:
		r := s.call(w, true, c.token, `mutation($id: ID!, $a: Decimal!) { updateBill(id: $id, input: {amount: $a}) { id amount { amount } } }`,
			map[string]any{"id": b.id, "a": "0"})
		s.expect(w, "updateBill.badAmount", c, detail, r, "BAD_USER_INPUT", "PRECONDITION_FAILED")
	default:
		amount := 1 + w.rng.Int64N(3000)
		due := time.Now().UTC().AddDate(0, 0, w.rng.IntN(30)).Format(time.RFC3339)
		r := s.call(w, true, c.token, `mutation($id: ID!, $in: UpdateBillInput!) { updateBill(id: $id, input: $in) { id paid } }`,
			map[string]any{"id": b.id, "in": map[string]any{"name": fmt.Sprintf("bill %d edited", w.step), "amount": dec(amount), "dueDate": due}})
		if s.expect(w, "updateBill", c, detail+" to "+dec(amount), r, allowed...) {
			s.mu.Lock()
			b.amount = amount
			s.mu.Unlock()
		}
	}
}

// opGoalEdit renames a savings goal and changes its target (a target of zero is BAD_USER_INPUT);
// its money stays where it is.
func (s *sim) opGoalEdit(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	goals := c.liveGoals()
	s.mu.Unlock()
	if len(goals) == 0 {
		return
	}
	g := goals[w.rng.IntN(len(goals))]
	q := `mutation($id: ID!, $in: UpdateSavingsGoalInput!) { updateSavingsGoal(id: $id, input: $in) { id } }`
	if w.rng.IntN(4) == 0 {
		r := s.call(w, true, c.token, q, map[string]any{"id": g.id, "in": map[string]any{"goal": "0"}})
		s.expect(w, "updateSavingsGoal.badGoal", c, "goal "+g.id, r, "BAD_USER_INPUT")
		return
	}
	r := s.call(w, true, c.token, q, map[string]any{"id": g.id, "in": map[string]any{"name": fmt.Sprintf("goal %d edited", w.step),
		"goal": dec(1 + w.rng.Int64N(100000))}})
	s.expect(w, "updateSavingsGoal", c, "goal "+g.id, r, "")
}

// opAutopay: a bill due today gets autopay from a card, which the server's job (AUTOPAY_INTERVAL,
// 200 ms in the simulation) pays at its next run; sometimes the card is frozen at once, racing
// the run (a card frozen while a bill autopay runs). The worker waits for the run's outcome, paid
// or autopayError, then cancels autopay, whose answer (or PRECONDITION_FAILED: paid) says the
// last word; the model then applies the payment once. The invariant "a bill agrees with its
// payment" checks the database side.
func (s *sim) opAutopay(w *worker) {
	c, k := s.pickCard(w)
	if k == nil {
		return
	}
	s.mu.Lock()
	avail := k.acct.available()
	s.mu.Unlock()
	// Mostly what the card has (paid at the next run), sometimes more (autopayError: funds).
	amount := 1 + w.rng.Int64N(min(max(avail, 1), 5000))
	if w.rng.IntN(4) == 0 {
		amount = amountFor(w, avail)
	} else if amount > avail {
		// An empty card (most are): fund it first from the main account, when that can.
		avail = s.fundForAutopay(w, c, k, amount-avail)
	}
	b := s.createBill(w, "autopay.createBill", c, amount, time.Now().UTC())
	if b == nil {
		return
	}
	r := s.call(w, true, c.token, `mutation($id: ID!, $n: String!) { setBillAutopay(billId: $id, cardNumber: $n) { id autopayCard { id } } }`,
		map[string]any{"id": b.id, "n": k.number})
	if !s.expect(w, "setBillAutopay", c, fmt.Sprintf("bill %s %s card %s", b.id, dec(amount), k.id), r, "") {
		s.lost(c, r)
		return
	}
	s.runAutopay(w, c, k, b, avail)
}

// runAutopay follows bill b, set to autopay from k (avail on it when set), through the job's run,
// sometimes racing it with the card's freeze, and checks the outcome.
func (s *sim) runAutopay(w *worker, c *customer, k *card, b *bill, avail int64) {
	amount := b.amount
	epoch := s.e.epoch.Load() // a fault may hold up the runs (a killed server held the job)
	raced := w.rng.IntN(3) == 0
	if raced {
		s.setFrozen(w, "autopay.freezeCard", c, k, true)
	}
	// The run's outcome: paid, or an autopayError (funds, a frozen card), within a few runs.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		paid, autopayErr, ok := s.readBill(w, c, b.id)
		if !ok || paid || autopayErr != "" {
			break
		}
	}
	r := s.callSettle(w, c.token, `mutation($id: ID!) { cancelBillAutopay(billId: $id) { id paid autopayCard { id } } }`,
		map[string]any{"id": b.id}, codeIn("PRECONDITION_FAILED"))
	if !s.expect(w, "cancelBillAutopay", c, "bill "+b.id, r, "", "PRECONDITION_FAILED") && r.code() != "PRECONDITION_FAILED" {
		s.lost(c, r)
		return
	}
	// Cancelled (or paid): no run pays it from now on, so what it reads now is final.
	paid, autopayErr, ok := s.readBill(w, c, b.id)
	if !ok {
		s.lost(c, reply{err: fmt.Errorf("bill %s unreadable", b.id)})
		return
	}
	s.mu.Lock()
	frozen := k.frozen
	if paid {
		b.paid = true
		k.acct.balance -= amount
	}
	s.mu.Unlock()
	outcome := "unpaid"
	if paid {
		outcome = "paid"
	}
	s.count(fmt.Sprintf("autopay.outcome.frozen=%v", frozen), outcome)
	switch {
	case !paid && !frozen && amount <= avail && !s.e.crossed(epoch):
		s.violate(w.step, "autopay", c, fmt.Sprintf("bill %s of %s due today with autopay from card %s (%s available) unpaid after 5 s: %q",
			b.id, dec(amount), k.id, dec(avail), autopayErr))
	case paid && frozen && !raced:
		s.violate(w.step, "autopay", c, fmt.Sprintf("bill %s paid by autopay from card %s frozen before autopay was set", b.id, k.id))
	}
	if frozen && w.rng.IntN(2) == 0 {
		s.setFrozen(w, "unfreezeCard", c, k, false)
	}
}

// readBill reads a bill of c's: whether it is paid, and its autopayError.
func (s *sim) readBill(w *worker, c *customer, id string) (paid bool, autopayErr string, ok bool) {
	r := s.call(w, true, c.token, qBillRead, map[string]any{"id": id})
	var out struct {
		Node *struct {
			Paid         bool
			AutopayError *string
			PaidWith     *struct{ ID string }
		}
	}
	if !s.expect(w, "autopay.readBill", c, id, r, "") || r.decode(&out) != nil {
		return false, "", false
	}
	if out.Node == nil {
		s.violate(w.step, "autopay.readBill", c, "bill "+id+" of the viewer's reads as null")
		return false, "", false
	}
	if out.Node.AutopayError != nil {
		autopayErr = *out.Node.AutopayError
	}
	return out.Node.Paid, autopayErr, true
}

// fundForAutopay moves need from c's main account to card k when the model says the main account
// has it, and returns what k then has available.
func (s *sim) fundForAutopay(w *worker, c *customer, k *card, need int64) int64 {
	s.mu.Lock()
	mainAvail := c.main.available()
	s.mu.Unlock()
	if need <= mainAvail {
		r := s.call(w, true, c.token, qFund, map[string]any{"in": map[string]any{"cardId": k.id, "amount": dec(need), "idempotencyKey": s.key(w, "autopay-fund")}})
		if s.expect(w, "autopay.fundCard", c, fmt.Sprintf("%s card %s", dec(need), k.id), r, "") {
			s.move(c.main, k.acct, need)
		} else {
			s.lost(c, r)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return k.acct.available()
}
