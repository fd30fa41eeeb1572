package main

import (
	"fmt"
	"sync"

	"coffer/graph/products"
)

// Operations that reproduce the bugs known when the simulator was written, each behind its own
// weight (named bug.*), so that a run can leave out what is being fixed elsewhere and the fixes
// can be verified by turning them on: see docs/simulator.md.

// opBugDeleteHadCard: a fresh customer opens a card, deletes it, and is deleted at zero. Must
// succeed ("deleting a customer at zero works whatever they had before").
func (s *sim) opBugDeleteHadCard(w *worker) {
	c := s.createCustomer(w, "bug.deleteHadCard")
	if c == nil {
		return
	}
	k := s.createCard(w, "bug.deleteHadCard", c, "")
	if k == nil {
		return
	}
	r := s.call(w, false, c.token, `mutation($n: String!) { deleteCard(cardNumber: $n) }`, map[string]any{"n": k.number})
	if !s.expect(w, "bug.deleteHadCard", c, "deleteCard", r, "") {
		return
	}
	s.mu.Lock()
	k.deleted, k.acct.closed = true, true
	c.deleting = true
	s.mu.Unlock()
	r = s.callSettle(w, s.admin, `mutation($u: String!) { deleteCustomer(username: $u) }`, map[string]any{"u": c.username}, codeIn("NOT_FOUND"))
	// Another worker may have sent it coins meanwhile: PRECONDITION_FAILED then.
	ok := s.expect(w, "bug.deleteHadCard", c, "deleteCustomer", r, "", "PRECONDITION_FAILED")
	s.mu.Lock()
	c.deleting, c.deleted = false, ok
	s.mu.Unlock()
}

// opBugCashoutTx: a cash-out's transaction named in confirmTransaction or cancelTransaction must
// be PRECONDITION_FAILED (only confirmCashout with its TAN, or abortCashout, move it).
func (s *sim) opBugCashoutTx(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	avail := c.main.available()
	s.mu.Unlock()
	if avail < 1 {
		return
	}
	p := s.createCashout(w, "bug.cashoutTx", c, 1, "", "TOO_MANY_REQUESTS")
	if p == nil {
		return
	}
	confirm := w.rng.IntN(2) == 0
	q, kind := `mutation($id: ID!) { cancelTransaction(id: $id) { id status } }`, "bug.cashoutTx.cancelTransaction"
	if confirm {
		q, kind = `mutation($id: ID!) { confirmTransaction(id: $id) { id status } }`, "bug.cashoutTx.confirmTransaction"
	}
	r := s.call(w, true, c.token, q, map[string]any{"id": p.id})
	if s.expect(w, kind, c, "transaction "+p.id+" of cash-out "+p.cashout, r, "PRECONDITION_FAILED") {
		// It moved: follow the server so that the money oracle stays exact; the state-machine
		// invariant reports the cash-out that disagrees with its transaction.
		s.mu.Lock()
		c.main.reserved -= p.amount
		p.status = "VOIDED"
		if confirm {
			c.main.balance -= p.amount
			p.status = "POSTED"
		}
		s.mu.Unlock()
	}
}

// opBugNUL: text with a NUL character (a customer's name, a person's first name): the client's
// mistake, so BAD_USER_INPUT or accepted, never INTERNAL.
func (s *sim) opBugNUL(w *worker) {
	if w.rng.IntN(2) == 0 {
		s.registerPerson(w, "Nul\x00Name", []string{"", "BAD_USER_INPUT"})
		return
	}
	name := s.newName("nul")
	r := s.call(w, false, s.admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": name, "password": name + "-Password1", "name": "Nul\x00Name"}})
	s.expect(w, "bug.nul.createCustomer", nil, name, r, "", "BAD_USER_INPUT")
}

// opBugParallelCards: a fresh customer asks for more than the maximum number of cards at once:
// at most products.MaxActiveCards may succeed.
func (s *sim) opBugParallelCards(w *worker) {
	c := s.createCustomer(w, "bug.parallelCards")
	if c == nil {
		return
	}
	const n = products.MaxActiveCards + 4
	var wg sync.WaitGroup
	replies := make([]reply, n)
	urls := s.e.urls()
	for i := range n {
		wg.Go(func() {
			replies[i] = post(s.ctx, s.hc, urls[i%len(urls)], c.token, `mutation { createCard { card { id account { id } } number } }`, nil)
		})
	}
	wg.Wait()
	ok := 0
	for _, r := range replies {
		if s.expect(w, "bug.parallelCards", c, "createCard", r, "", "PRECONDITION_FAILED") {
			ok++
			var out struct {
				CreateCard struct {
					Card struct {
						ID      string
						Account struct{ ID string }
					}
					Number string
				}
			}
			if r.decode(&out) == nil {
				s.mu.Lock()
				c.cards = append(c.cards, &card{id: out.CreateCard.Card.ID, number: out.CreateCard.Number,
					acct: &account{id: out.CreateCard.Card.Account.ID, kind: "CARD"}})
				c.hadProducts = true
				s.mu.Unlock()
			}
		}
	}
	if ok > products.MaxActiveCards {
		s.violate(w.step, "bug.parallelCards", c, fmt.Sprintf("%d of %d parallel createCard succeeded, at most %d cards may be active", ok, n, products.MaxActiveCards))
	}
}

// opBugMaxAmount: the largest representable amount, sent to another customer or moved to a card:
// INSUFFICIENT_FUNDS (nobody has that much), never INTERNAL. On PostgreSQL the credit side
// overflowed ("bigint out of range") when it was updated before the debit was refused.
func (s *sim) opBugMaxAmount(w *worker) {
	c := s.pickCustomer(w)
	to := s.pickOther(w, c)
	if c == nil || to == nil {
		return
	}
	const largest = "92233720368547758.07"
	allowed := []string{"INSUFFICIENT_FUNDS", "BAD_USER_INPUT"}
	s.mu.Lock()
	cards := c.liveCards()
	s.mu.Unlock()
	allowed = append(allowed, "NOT_FOUND", "PRECONDITION_FAILED") // the recipient may be deleted meanwhile
	if len(cards) > 0 && w.rng.IntN(2) == 0 {
		r := s.call(w, true, c.token, qFund, map[string]any{"in": map[string]any{"cardId": cards[0].id, "amount": largest}})
		s.expect(w, "bug.maxAmount.fundCard", c, largest, r, allowed...)
		return
	}
	r := s.call(w, true, c.token, qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"username": to.username}, "amount": largest}})
	s.expect(w, "bug.maxAmount.sendCoins", c, largest+" to "+to.username, r, allowed...)
}

// opBugHugeLimit: the admin sets a fresh customer's debit limit to the largest amount; reading
// what is available and spending must not overflow (no INTERNAL, no wrong sign).
func (s *sim) opBugHugeLimit(w *worker) {
	c := s.createCustomer(w, "bug.hugeLimit")
	if c == nil {
		return
	}
	s.mint(w, "bug.hugeLimit", c, 100)
	const huge = "92233720368547758.07"
	r := s.call(w, true, s.admin, `mutation($id: ID!, $l: Decimal!) { setDebitLimit(accountId: $id, limit: $l) { available { amount } } }`,
		map[string]any{"id": c.main.id, "l": huge})
	if !s.expect(w, "bug.hugeLimit.setDebitLimit", c, huge, r, "", "BAD_USER_INPUT") {
		return
	}
	s.mu.Lock()
	c.main.limit = 1<<63 - 1
	s.mu.Unlock()
	r = s.call(w, true, c.token, `{ me { customer { account { balance { amount } available { amount } } } } }`, nil)
	if s.expect(w, "bug.hugeLimit.read", c, "", r, "") {
		var out struct {
			Me struct {
				Customer struct {
					Account struct{ Available struct{ Amount string } }
				}
			}
		}
		if r.decode(&out) == nil {
			if v, err := parseDec(out.Me.Customer.Account.Available.Amount); err != nil || v < 0 {
				s.violate(w.step, "bug.hugeLimit.read", c, fmt.Sprintf("available %q with a limit of %s and a positive balance", out.Me.Customer.Account.Available.Amount, huge))
			}
		}
	}
	to := s.pickOther(w, c)
	if to == nil {
		return
	}
	before := s.deleted(to)
	r = s.call(w, true, c.token, qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"username": to.username},
		"amount": "1000000.00", "idempotencyKey": s.key(w, "huge")}})
	allowed := s.creditAllowed([]string{"", "INSUFFICIENT_FUNDS"}, before, to)
	if s.expect(w, "bug.hugeLimit.sendCoins", c, "1000000.00 to "+to.username, r, allowed...) {
		s.mu.Lock()
		c.main.balance -= 100000000
		to.main.balance += 100000000
		s.mu.Unlock()
	}
}
