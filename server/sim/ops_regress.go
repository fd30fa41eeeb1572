package main

import (
	"fmt"
	"strconv"
	"sync"

	"coffer/graph/money"
	"coffer/graph/products"
)

// Operations that reproduced the bugs known when the simulator was written, and those it found
// (docs/simulator.md lists them with the seeds that found them). All are fixed: each is now a
// regression operation (named regress.*) that wants the correct behaviour.

// opBugDeleteHadCard: a fresh customer opens a card, deletes it, and is deleted at zero. Must
// succeed ("deleting a customer at zero works whatever they had before").
func (s *sim) opBugDeleteHadCard(w *worker) {
	c := s.createCustomer(w, "regress.deleteHadCard")
	if c == nil {
		return
	}
	k := s.createCard(w, "regress.deleteHadCard", c, "")
	if k == nil || !s.deleteCard(w, "regress.deleteHadCard", c, k, "") {
		return
	}
	s.mu.Lock()
	c.deleting = true
	s.mu.Unlock()
	r := s.callSettle(w, s.admin, `mutation($u: String!) { deleteCustomer(username: $u) }`, map[string]any{"u": c.username}, codeIn("NOT_FOUND"))
	// Another worker may have sent it coins meanwhile: PRECONDITION_FAILED then.
	ok := s.expect(w, "regress.deleteHadCard", c, "deleteCustomer", r, "", "PRECONDITION_FAILED")
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
	p := s.createCashout(w, "regress.cashoutTx", c, 1, "", "TOO_MANY_REQUESTS")
	if p == nil {
		return
	}
	confirm := w.rng.IntN(2) == 0
	q, kind := `mutation($id: ID!) { cancelTransaction(id: $id) { id status } }`, "regress.cashoutTx.cancelTransaction"
	if confirm {
		q, kind = `mutation($id: ID!) { confirmTransaction(id: $id) { id status } }`, "regress.cashoutTx.confirmTransaction"
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

// opBugNUL: text with a NUL or another control character (a customer's name, a person's first
// name): the client's mistake, BAD_USER_INPUT (it was INTERNAL on PostgreSQL), and nothing made.
func (s *sim) opBugNUL(w *worker) {
	bad := []string{"Nul\x00Name", "Bell\x07Name", "Esc\x1bName", "Del\x7fName"}[w.rng.IntN(4)]
	if w.rng.IntN(2) == 0 {
		s.registerPerson(w, bad, []string{"BAD_USER_INPUT"})
		return
	}
	name := s.newName("nul")
	r := s.call(w, false, s.admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": name, "password": name + "-Password1", "name": bad}})
	s.expect(w, "regress.nul.createCustomer", nil, name+" "+strconv.Quote(bad), r, "BAD_USER_INPUT")
}

// opBugParallelCards: a fresh customer asks for more than the maximum number of cards at once:
// at most products.MaxActiveCards may succeed.
func (s *sim) opBugParallelCards(w *worker) {
	c := s.createCustomer(w, "regress.parallelCards")
	if c == nil {
		return
	}
	const n = products.MaxActiveCards + 4
	var wg sync.WaitGroup
	replies := make([]reply, n)
	urls := s.e.urls()
	for i := range n {
		wg.Go(func() {
			replies[i] = post(s.ctx, s.hc, urls[i%len(urls)], c.token, qCreateCard, nil)
		})
	}
	wg.Wait()
	if ok := s.recordCards(w, "regress.parallelCards", c, replies); ok > products.MaxActiveCards {
		s.violate(w.step, "regress.parallelCards", c, fmt.Sprintf("%d of %d parallel createCard succeeded, at most %d cards may be active", ok, n, products.MaxActiveCards))
	}
}

// recordCards takes the answers of parallel createCards (each may be PRECONDITION_FAILED) into the
// model, and says how many made a card.
func (s *sim) recordCards(w *worker, kind string, c *customer, replies []reply) int {
	ok := 0
	for _, r := range replies {
		if s.recordCard(w, kind, c, r, "", "PRECONDITION_FAILED") != nil {
			ok++
		}
	}
	return ok
}

// opBugMaxAmount: the largest representable amount, sent to another customer or moved to a card:
// BAD_USER_INPUT (past money.MaxAmountMinor; it overflowed the credit side, INTERNAL); the bound
// itself is a valid amount nobody has: INSUFFICIENT_FUNDS.
func (s *sim) opBugMaxAmount(w *worker) {
	c := s.pickCustomer(w)
	to := s.pickOther(w, c)
	if c == nil || to == nil {
		return
	}
	amount, allowed := largest, []string{"BAD_USER_INPUT"}
	if w.rng.IntN(2) == 0 {
		amount, allowed = dec(money.MaxAmountMinor), []string{"INSUFFICIENT_FUNDS"}
	}
	s.mu.Lock()
	cards := c.liveCards()
	huge := c.main.limit >= money.MaxAmountMinor // regress.hugeLimit's customers may owe that much
	s.mu.Unlock()
	if huge {
		return
	}
	if len(cards) > 0 && w.rng.IntN(2) == 0 {
		r := s.call(w, true, c.token, qFund, map[string]any{"in": map[string]any{"cardId": cards[0].id, "amount": amount}})
		s.expect(w, "regress.maxAmount.fundCard", c, amount, r, allowed...)
		return
	}
	// The recipient may be deleted meanwhile: NOT_FOUND or PRECONDITION_FAILED.
	allowed = append(allowed, "NOT_FOUND", "PRECONDITION_FAILED")
	r := s.call(w, true, c.token, qSend, map[string]any{"in": map[string]any{"recipient": map[string]any{"username": to.username}, "amount": amount}})
	s.expect(w, "regress.maxAmount.sendCoins", c, amount+" to "+to.username, r, allowed...)
}

// largest is the largest amount int64 minor units can hold.
const largest = "92233720368547758.07"

// opBugHugeLimit: the admin sets a fresh customer's debit limit past the largest amount
// (BAD_USER_INPUT), then to it; reading what is available and spending must not overflow (no
// INTERNAL, no wrong sign).
func (s *sim) opBugHugeLimit(w *worker) {
	c := s.createCustomer(w, "regress.hugeLimit")
	if c == nil {
		return
	}
	s.mint(w, "regress.hugeLimit", c, 100)
	// Past money.MaxAmountMinor: BAD_USER_INPUT (it was INTERNAL on PostgreSQL, and on SQLite
	// available overflowed); the bound itself is a valid limit.
	r := s.call(w, true, s.admin, qSetLimit, map[string]any{"id": c.main.id, "l": largest})
	s.expect(w, "regress.hugeLimit.setDebitLimit.past", c, largest, r, "BAD_USER_INPUT")
	huge := dec(money.MaxAmountMinor)
	r = s.call(w, true, s.admin, qSetLimit, map[string]any{"id": c.main.id, "l": huge})
	if !s.expect(w, "regress.hugeLimit.setDebitLimit", c, huge, r, "") {
		return
	}
	s.mu.Lock()
	c.main.limit = money.MaxAmountMinor
	s.mu.Unlock()
	r = s.call(w, true, c.token, `{ me { customer { account { balance { amount } available { amount } } } } }`, nil)
	if s.expect(w, "regress.hugeLimit.read", c, "", r, "") {
		var out struct {
			Me struct {
				Customer struct {
					Account struct{ Available struct{ Amount string } }
				}
			}
		}
		if r.decode(&out) == nil {
			if v, err := parseDec(out.Me.Customer.Account.Available.Amount); err != nil || v < 0 {
				s.violate(w.step, "regress.hugeLimit.read", c, fmt.Sprintf("available %q with a limit of %s and a positive balance", out.Me.Customer.Account.Available.Amount, huge))
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
	if s.expect(w, "regress.hugeLimit.sendCoins", c, "1000000.00 to "+to.username, r, allowed...) {
		s.mu.Lock()
		c.main.balance -= 100000000
		to.main.balance += 100000000
		s.mu.Unlock()
	}
}

const qSetLimit = `mutation($id: ID!, $l: Decimal!) { setDebitLimit(accountId: $id, limit: $l) { available { amount } } }`
