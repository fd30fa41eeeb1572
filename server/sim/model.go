package main

import (
	"crypto/ed25519"
	"fmt"
	"math"
	"strings"
)

// The model is what the simulator believes exists, built only from acknowledged answers: every
// successful money mutation moves the model's balances once, every failed one moves nothing. At
// a quiescent point the server's balances must equal the model's.

// account is one account as the model knows it (minor units).
type account struct {
	id       string // global ID
	kind     string // MAIN CARD SAVINGS
	balance  int64
	reserved int64
	limit    int64
	closed   bool
}

// available is balance - reserved + limit, saturating instead of overflowing (a limit may be as
// large as int64 allows).
func (a *account) available() int64 {
	v := a.balance - a.reserved
	if v > 0 && a.limit > math.MaxInt64-v {
		return math.MaxInt64
	}
	return v + a.limit
}

type card struct {
	id, number string
	acct       *account
	deleted    bool
	frozen     bool // freezeCard: every debit of it is PRECONDITION_FAILED
}

type goal struct {
	id      string
	acct    *account
	deleted bool
}

type bill struct {
	id      string
	amount  int64
	paid    bool
	deleted bool
}

// pending is a transfer or cash-out waiting for its confirmation.
type pending struct {
	id      string // the transaction's global ID
	cashout string // the cash-out's global ID, "" for a transfer
	amount  int64
	to      *customer // a transfer's recipient
	tan     string    // a cash-out's TAN, from the outbox
	inFault bool      // a cash-out created while a fault was injected (its TAN may be lost)
	status  string    // PENDING POSTED VOIDED (CONFIRMED ABORTED for a cash-out, as the API says)
}

// customer is one customer actor: driven by exactly one worker, so that everything that lowers
// what it may spend happens in order; other workers only credit it.
type customer struct {
	username, password, email string
	token                     string
	iban                      string // read once, when first sent to by IBAN
	worker                    int
	main                      *account
	cards                     []*card
	goals                     []*goal
	bills                     []*bill
	pendings                  []*pending
	// hadProducts: it once had a card, savings goal or bill (deleting it hits the known bug);
	// hadCashout: it once had a cash-out.
	hadProducts, hadCashout bool
	// unknownCards counts createCard answers lost to a fault: the card may exist.
	unknownCards int
	// key signs its pending transfers once it has set a public key.
	key               ed25519.PrivateKey
	deleting, deleted bool
	// subscribed: a subscriber follows its main account, so it is never deleted nor blocked.
	subscribed bool
	// counterpartyOf: transactions of others that this customer is the recipient of (and so
	// may see).
	counterpartyOf map[string]bool
	// dirty: an answer was lost (a fault), so the model no longer knows this customer's state; it
	// is read back from the server at the next quiescent point instead of being compared.
	dirty bool
}

// accounts lists every account the customer has, open or closed.
func (c *customer) accounts() []*account {
	out := []*account{c.main}
	for _, k := range c.cards {
		out = append(out, k.acct)
	}
	for _, g := range c.goals {
		out = append(out, g.acct)
	}
	return out
}

func (c *customer) liveCards() []*card {
	var out []*card
	for _, k := range c.cards {
		if !k.deleted {
			out = append(out, k)
		}
	}
	return out
}

func (c *customer) liveGoals() []*goal {
	var out []*goal
	for _, g := range c.goals {
		if !g.deleted {
			out = append(out, g)
		}
	}
	return out
}

func (c *customer) open(status string) []*pending {
	var out []*pending
	for _, p := range c.pendings {
		if p.status == "PENDING" && (status == "" || (status == "cashout") == (p.cashout != "")) {
			out = append(out, p)
		}
	}
	return out
}

// empty says whether no account of the customer holds or reserves money.
func (c *customer) empty() bool {
	for _, a := range c.accounts() {
		if a.balance != 0 || a.reserved != 0 {
			return false
		}
	}
	return true
}

// owns says whether id is one of this customer's entities (accounts, cards, goals, bills,
// transactions, cash-outs) in the model.
func (c *customer) owns(id string) bool {
	for _, a := range c.accounts() {
		if a.id == id {
			return true
		}
	}
	for _, k := range c.cards {
		if k.id == id {
			return true
		}
	}
	for _, g := range c.goals {
		if g.id == id {
			return true
		}
	}
	for _, b := range c.bills {
		if b.id == id {
			return true
		}
	}
	for _, p := range c.pendings {
		if p.id == id || p.cashout == id {
			return true
		}
	}
	return c.counterpartyOf[id]
}

func (c *customer) String() string { return c.username }

// event is one operation in the history: enough to read what happened and to find it in the
// server log.
type event struct {
	step    int
	worker  int
	kind    string
	actor   string
	detail  string
	outcome string
}

func (e event) String() string {
	return fmt.Sprintf("step %d w%d %-26s %-14s %s -> %s", e.step, e.worker, e.kind, e.actor, e.detail, e.outcome)
}

// violation is a broken invariant or a wrong answer.
type violation struct {
	Seed   uint64 `json:"seed"`
	Step   int    `json:"step"`
	Kind   string `json:"kind"`
	Actor  string `json:"actor"`
	Detail string `json:"detail"`
	// History is the operations of the actors involved, up to the violation.
	History []string `json:"history,omitempty"`
}

func (v violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "VIOLATION seed=%d step=%d %s (%s): %s", v.Seed, v.Step, v.Kind, v.Actor, v.Detail)
	for _, h := range v.History {
		b.WriteString("\n    " + h)
	}
	return b.String()
}
