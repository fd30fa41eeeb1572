package main

import (
	"fmt"
)

// The customers' money operations. Each picks one of the worker's customers, computes from the
// model what must happen, sends the request and moves the model only on an acknowledged success.

const (
	qSend = `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id status amount { amount } } }`
	qFund = `mutation($in: CardMoveInput!) { fundCard(input: $in) { id status } }`
	qDef  = `mutation($in: CardMoveInput!) { defundCard(input: $in) { id status } }`
	qXfer = `mutation($in: TransferBetweenCardsInput!) { transferBetweenCards(input: $in) { id status } }`
	qTop  = `mutation($in: SavingsMoveInput!) { topUpSavings(input: $in) { id status } }`
	qWd   = `mutation($in: SavingsMoveInput!) { withdrawSavings(input: $in) { id status } }`
)

// amountFor is a random amount for a debit of what: mostly within avail (never 0), sometimes
// above it, to see INSUFFICIENT_FUNDS.
func amountFor(w *worker, avail int64) int64 {
	avail = min(avail, 1_000_000_00) // a huge debit limit makes avail near int64's end
	if avail <= 0 || w.rng.IntN(8) == 0 {
		return max(avail, 0) + 1 + w.rng.Int64N(1000)
	}
	return 1 + w.rng.Int64N(min(avail, 5000))
}

// debitAllowed is what a debit of amount from an account with the model's avail may answer:
// success when it fits (the model is a lower bound: only credits race with the owner's worker),
// success or INSUFFICIENT_FUNDS when it does not.
func debitAllowed(avail, amount int64, extra ...string) []string {
	if amount <= avail {
		return append([]string{""}, extra...)
	}
	return append([]string{"", "INSUFFICIENT_FUNDS"}, extra...)
}

// recipient chooses how to name to: by username, e-mail or IBAN.
func (s *sim) recipient(w *worker, to *customer) (map[string]any, string) {
	switch w.rng.IntN(3) {
	case 0:
		return map[string]any{"email": to.email}, "email " + to.username
	case 1:
		if iban := s.ibanOf(w, to); iban != "" {
			return map[string]any{"iban": iban}, "iban " + to.username
		}
	}
	return map[string]any{"username": to.username}, "username " + to.username
}

// ibanOf reads (once) the IBAN of a customer's main account, as the customer sees it.
func (s *sim) ibanOf(w *worker, c *customer) string {
	s.mu.Lock()
	iban := c.iban
	s.mu.Unlock()
	if iban != "" {
		return iban
	}
	r := s.call(w, true, s.admin, `query($id: ID!) { node(id: $id) { ... on Account { iban } } }`, map[string]any{"id": c.main.id})
	var out struct{ Node struct{ Iban string } }
	if !r.ok() || r.decode(&out) != nil {
		return ""
	}
	s.mu.Lock()
	c.iban = out.Node.Iban
	s.mu.Unlock()
	return out.Node.Iban
}

// opSend: sendCoins to another customer, posted at once or left pending (autoSign false), with an
// idempotency key that is sometimes replayed with the same input (the first answer, no more
// money moves) and sometimes with another amount (CONFLICT).
func (s *sim) opSend(w *worker) {
	c := s.pickCustomer(w)
	to := s.pickOther(w, c)
	if c == nil || to == nil {
		return
	}
	rcpt, how := s.recipient(w, to)
	s.mu.Lock()
	avail := c.main.available()
	s.mu.Unlock()
	before := s.deleted(to)
	amount := amountFor(w, avail)
	autoSign := w.rng.IntN(4) != 0
	key := s.key(w, "send")
	in := map[string]any{"recipient": rcpt, "amount": dec(amount), "autoSign": autoSign, "idempotencyKey": key, "memo": "sim"}
	kind := "sendCoins"
	if !autoSign {
		kind = "sendCoins.pending"
	}
	detail := fmt.Sprintf("%s to %s key %s", dec(amount), how, key)
	r := s.call(w, true, c.token, qSend, map[string]any{"in": in})
	allowed := s.creditAllowed(debitAllowed(avail, amount), before, to)
	if !s.expect(w, kind, c, detail, r, allowed...) {
		s.lost(c, r)
		return
	}
	var out struct{ SendCoins struct{ ID, Status string } }
	if !s.decodeOK(w, kind, c, r, &out) {
		return
	}
	want := "POSTED"
	if !autoSign {
		want = "PENDING"
	}
	if out.SendCoins.Status != want {
		s.violate(w.step, kind, c, fmt.Sprintf("%s: status %s, want %s", detail, out.SendCoins.Status, want))
	}
	s.mu.Lock()
	if autoSign {
		c.main.balance -= amount
		to.main.balance += amount
	} else {
		c.main.reserved += amount
		c.pendings = append(c.pendings, &pending{id: out.SendCoins.ID, amount: amount, to: to, status: "PENDING"})
		if to.counterpartyOf == nil {
			to.counterpartyOf = map[string]bool{}
		}
		to.counterpartyOf[out.SendCoins.ID] = true
	}
	s.mu.Unlock()
	switch w.rng.IntN(4) {
	case 0: // the same request again: the first answer, nothing moves
		r2 := s.call(w, true, c.token, qSend, map[string]any{"in": in})
		if s.expect(w, kind+".replay", c, detail, r2, "") {
			var o2 struct{ SendCoins struct{ ID string } }
			if r2.decode(&o2) == nil && o2.SendCoins.ID != out.SendCoins.ID {
				s.violate(w.step, kind+".replay", c, fmt.Sprintf("replayed key %s answered transaction %s, first answer %s", key, o2.SendCoins.ID, out.SendCoins.ID))
			}
		}
	case 1: // the same key with another amount: CONFLICT, nothing moves
		in2 := map[string]any{"recipient": rcpt, "amount": dec(amount + 1), "autoSign": autoSign, "idempotencyKey": key, "memo": "sim"}
		r2 := s.call(w, true, c.token, qSend, map[string]any{"in": in2})
		s.expect(w, kind+".replayOther", c, detail+" amount+0.01", r2, "CONFLICT")
	}
}

// opSettle confirms or cancels one of the customer's pending transfers, sometimes twice (the
// second time PRECONDITION_FAILED).
func (s *sim) opSettle(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	open := c.open("transfer")
	s.mu.Unlock()
	if len(open) == 0 {
		return
	}
	p := open[w.rng.IntN(len(open))]
	confirm := w.rng.IntN(2) == 0
	before := s.deleted(p.to)
	var r reply
	kind := "cancelTransaction"
	allowed := []string{""}
	if confirm {
		kind = "confirmTransaction"
		sig, ok := s.signature(w, c, p)
		if !ok {
			return
		}
		vars := map[string]any{"id": p.id}
		if sig != "" {
			vars["s"] = sig
		}
		r = s.callSettle(w, c.token, `mutation($id: ID!, $s: String) { confirmTransaction(id: $id, signature: $s) { id status } }`, vars, s.statusIs(w, c.token, p.id, "POSTED"))
		// Posting into a deleted customer's closed account must fail.
		allowed = s.creditAllowed(allowed, before, p.to)
	} else {
		r = s.callSettle(w, c.token, `mutation($id: ID!) { cancelTransaction(id: $id) { id status } }`, map[string]any{"id": p.id}, s.statusIs(w, c.token, p.id, "VOIDED"))
	}
	detail := fmt.Sprintf("%s of %s to %s", p.id, dec(p.amount), p.to.username)
	if !s.expect(w, kind, c, detail, r, allowed...) {
		s.lost(c, r)
		return
	}
	s.mu.Lock()
	c.main.reserved -= p.amount
	if confirm {
		p.status = "POSTED"
		c.main.balance -= p.amount
		p.to.main.balance += p.amount
	} else {
		p.status = "VOIDED"
	}
	s.mu.Unlock()
	if w.rng.IntN(3) == 0 {
		r2 := s.call(w, true, c.token, `mutation($id: ID!) { confirmTransaction(id: $id) { id status } }`, map[string]any{"id": p.id})
		s.expect(w, "confirmTransaction.again", c, detail, r2, "PRECONDITION_FAILED")
	}
}

// opCardMove funds a card from the main account or defunds it back.
func (s *sim) opCardMove(w *worker) {
	c, k := s.pickCard(w)
	if k == nil {
		return
	}
	fund := w.rng.IntN(2) == 0
	s.mu.Lock()
	from, to := c.main, k.acct
	if !fund {
		from, to = k.acct, c.main
	}
	avail := from.available()
	s.mu.Unlock()
	amount := amountFor(w, avail)
	q, kind := qFund, "fundCard"
	if !fund {
		q, kind = qDef, "defundCard"
	}
	key := s.key(w, kind)
	r := s.call(w, true, c.token, q, map[string]any{"in": map[string]any{"cardId": k.id, "amount": dec(amount), "idempotencyKey": key}})
	if !s.expect(w, kind, c, fmt.Sprintf("%s card %s", dec(amount), k.id), r, debitAllowed(avail, amount)...) {
		s.lost(c, r)
		return
	}
	s.move(from, to, amount)
}

// opCardTransfer moves money from one of the customer's cards to any card, by full number,
// another customer's included.
func (s *sim) opCardTransfer(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	cards := c.liveCards()
	var all []*card
	var owners []*customer
	for _, o := range s.customers {
		for _, k := range o.liveCards() {
			if !o.deleted {
				all = append(all, k)
				owners = append(owners, o)
			}
		}
	}
	s.mu.Unlock()
	if len(cards) == 0 || len(all) < 2 {
		return
	}
	from := cards[w.rng.IntN(len(cards))]
	i := w.rng.IntN(len(all))
	to, owner := all[i], owners[i]
	s.mu.Lock()
	avail, frozen := from.acct.available(), from.frozen
	toGone := owner.deleted || to.deleted
	s.mu.Unlock()
	amount := amountFor(w, avail)
	allowed := debitAllowed(avail, amount)
	if frozen {
		allowed = []string{"PRECONDITION_FAILED", "INSUFFICIENT_FUNDS"}
	}
	if to == from {
		allowed = []string{"BAD_USER_INPUT", "PRECONDITION_FAILED"}
	}
	switch {
	case toGone:
		// A card deleted (or whose owner was deleted) before the request: closed, never credited.
		allowed = []string{"NOT_FOUND", "PRECONDITION_FAILED", "INSUFFICIENT_FUNDS"}
	case owner != c:
		// Another customer's card may be deleted (closed) by its own worker at any moment.
		allowed = append(allowed, "NOT_FOUND", "PRECONDITION_FAILED")
	}
	key := s.key(w, "xfer")
	r := s.call(w, true, c.token, qXfer, map[string]any{"in": map[string]any{"fromCardNumber": from.number, "toCardNumber": to.number,
		"amount": dec(amount), "idempotencyKey": key}})
	if !s.expect(w, "transferBetweenCards", c, fmt.Sprintf("%s to %s's card %s frozen=%v", dec(amount), owner.username, to.id, frozen), r, allowed...) {
		s.lost(c, r)
		return
	}
	s.move(from.acct, to.acct, amount)
}

// opSavingsMove tops a goal up from a card or withdraws from it to a card.
func (s *sim) opSavingsMove(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	cards, goals := c.liveCards(), c.liveGoals()
	s.mu.Unlock()
	if len(cards) == 0 || len(goals) == 0 {
		return
	}
	k, g := cards[w.rng.IntN(len(cards))], goals[w.rng.IntN(len(goals))]
	top := w.rng.IntN(2) == 0
	s.mu.Lock()
	from, to := k.acct, g.acct
	if !top {
		from, to = g.acct, k.acct
	}
	avail, frozen := from.available(), top && k.frozen
	s.mu.Unlock()
	amount := amountFor(w, avail)
	q, kind := qTop, "topUpSavings"
	if !top {
		q, kind = qWd, "withdrawSavings"
	}
	allowed := debitAllowed(avail, amount)
	if frozen { // a top-up debits the card
		allowed = []string{"PRECONDITION_FAILED", "INSUFFICIENT_FUNDS"}
	}
	r := s.call(w, true, c.token, q, map[string]any{"in": map[string]any{"savingsGoalId": g.id, "cardId": k.id,
		"amount": dec(amount), "idempotencyKey": s.key(w, kind)}})
	if !s.expect(w, kind, c, fmt.Sprintf("%s goal %s card %s frozen=%v", dec(amount), g.id, k.id, frozen), r, allowed...) {
		s.lost(c, r)
		return
	}
	s.move(from, to, amount)
}

// opMint: the admin creates coins for one of the worker's customers.
func (s *sim) opMint(w *worker) {
	if c := s.pickCustomer(w); c != nil {
		s.mint(w, "createCoins", c, 1+w.rng.Int64N(20000))
	}
}
