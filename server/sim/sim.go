package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sim is one seed's simulation: the environment, the model, and what was seen.
type sim struct {
	e    *env
	o    options
	seed uint64
	hc   *http.Client
	ctx  context.Context

	// rw: operations hold it shared; a quiescent check holds it exclusively, so that the model
	// and the server agree on what has happened.
	rw sync.RWMutex

	mu         sync.Mutex // guards the model and the history
	customers  []*customer
	byName     map[string]*customer
	admin      string // an admin session
	staff      string // a clerk's session
	staffEmail string // the clerk's e-mail: no customer's, so sendCoins to it is NOT_FOUND
	persons    []*person
	victim     string // a customer that only anonymous clients use (wrong passwords lock it)
	history    []event
	nextName   atomic.Int64

	statsMu    sync.Mutex
	stats      map[string]map[string]int // kind -> outcome -> count
	violations []violation
	internal   int // INTERNAL answers outside faults
	faultAns   int // INTERNAL or transport failures during faults
	checks     map[string]int
	faults     map[string]int
	seen       map[string]bool // violations reported once

	faultMu sync.Mutex // held by a fault while it runs and by a quiescent check

	subs []*subscriber
}

// person is a census person as the model knows it.
type person struct {
	id         string
	worker     int
	procedures []string // pending procedure IDs
}

// worker drives its own customers with its own random stream: the same seed gives each worker
// the same choices, so a run replays as far as the interleaving of workers allows.
type worker struct {
	idx  int
	rng  *rand.Rand
	step int
	keys int // idempotency keys made so far
	mine []*customer
}

func newSim(ctx context.Context, e *env, o options, seed uint64) *sim {
	return &sim{
		e: e, o: o, seed: seed, ctx: ctx,
		hc:     &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		byName: map[string]*customer{}, stats: map[string]map[string]int{},
		checks: map[string]int{}, faults: map[string]int{},
	}
}

// call posts a request to one of the running servers, chosen by the worker's stream. With retry
// (operations that carry an idempotency key, and reads), a request that got no answer is sent
// again, to any server, until one answers or a minute has passed: the key makes that safe.
func (s *sim) call(w *worker, retry bool, token, query string, vars map[string]any) reply {
	deadline := time.Now().Add(time.Minute)
	for {
		urls := s.e.urls()
		var r reply
		if len(urls) == 0 {
			r = reply{err: fmt.Errorf("no server running")}
		} else {
			r = post(s.ctx, s.hc, urls[w.rng.IntN(len(urls))], token, query, vars)
		}
		if !s.ambiguous(r) || !retry || time.Now().After(deadline) || s.ctx.Err() != nil {
			return r
		}
		if r.err == nil {
			s.countFaultAnswer() // an INTERNAL during a fault, tried again
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ambiguous says whether an answer leaves the outcome unknown: none came, or INTERNAL while a
// fault is injected (the commit may have happened before the connection broke).
func (s *sim) ambiguous(r reply) bool {
	return r.err != nil || r.code() == "INTERNAL" && s.e.inFault()
}

// callSettle sends a request that a retry cannot repeat harmlessly (confirm, cancel, abort,
// delete). When the answer is ambiguous it is sent again until one is not; when done says that
// answer means the lost first attempt did the work (the customer is gone, the transaction is in
// the state the request wanted), it is returned as a success.
func (s *sim) callSettle(w *worker, token, query string, vars map[string]any, done func(reply) bool) reply {
	r := s.call(w, false, token, query, vars)
	if !s.ambiguous(r) {
		return r
	}
	for deadline := time.Now().Add(time.Minute); s.ambiguous(r) && time.Now().Before(deadline) && s.ctx.Err() == nil; {
		s.countFaultAnswer()
		time.Sleep(300 * time.Millisecond)
		r = s.call(w, false, token, query, vars)
	}
	if done != nil && done(r) {
		return reply{Data: json.RawMessage(`null`)}
	}
	return r
}

// codeIn is a callSettle done: the answer has one of codes.
func codeIn(codes ...string) func(reply) bool {
	return func(r reply) bool { return slices.Contains(codes, r.code()) }
}

// statusIs is a callSettle done for a transaction or cash-out: the answer is a refusal and the
// entity, read back, has status want (POSTED, VOIDED, CONFIRMED, ABORTED).
func (s *sim) statusIs(w *worker, token, id, want string) func(reply) bool {
	return func(r reply) bool {
		if c := r.code(); c != "PRECONDITION_FAILED" && c != "INVALID_CODE" {
			return false
		}
		// Aliased: the two status fields have different enum types.
		rr := s.call(w, true, token, `query($id: ID!) { node(id: $id) { ... on Transaction { txStatus: status } ... on Cashout { coStatus: status } } }`,
			map[string]any{"id": id})
		var out struct {
			Node struct{ TxStatus, CoStatus string }
		}
		if !rr.ok() || rr.decode(&out) != nil {
			s.violate(w.step, "statusReadBack", nil, fmt.Sprintf("reading %s back: %s %+v", id, rr.code(), rr.Errors))
			return false
		}
		return out.Node.TxStatus == want || out.Node.CoStatus == want
	}
}

// callThroughFault is call for a request whose failure would leave an actor stuck (unblocking a
// user): while a fault lasts, an INTERNAL or lost answer is tried again, for up to a minute.
func (s *sim) callThroughFault(w *worker, token, query string, vars map[string]any) reply {
	deadline := time.Now().Add(time.Minute)
	for {
		r := s.call(w, true, token, query, vars)
		if r.err == nil && r.code() != "INTERNAL" || !s.e.inFault() || time.Now().After(deadline) || s.ctx.Err() != nil {
			return r
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// expect records an operation's outcome and checks it: no INTERNAL outside a fault, no leaking
// message, and a code among allowed ("" is success). It returns whether the operation succeeded.
func (s *sim) expect(w *worker, kind string, c *customer, detail string, r reply, allowed ...string) bool {
	outcome := r.code()
	if outcome == "" {
		outcome = "ok"
	}
	actor := "-"
	if c != nil {
		actor = c.username
	}
	s.mu.Lock()
	s.history = append(s.history, event{step: w.step, worker: w.idx, kind: kind, actor: actor, detail: detail, outcome: outcome})
	s.mu.Unlock()
	s.count(kind, outcome)
	fault := s.e.inFault()
	switch {
	case r.err != nil:
		if !fault {
			s.violate(w.step, kind, c, "no answer outside a fault: "+r.err.Error())
		} else {
			s.countFaultAnswer()
		}
		return false
	case r.code() == "INTERNAL":
		if fault {
			s.countFaultAnswer()
		} else {
			s.statsMu.Lock()
			s.internal++
			s.statsMu.Unlock()
			s.violate(w.step, kind, c, fmt.Sprintf("INTERNAL (%s): %s", detail, r.Errors[0].Message))
		}
		return false
	}
	if m := r.leak(); m != "" {
		s.violate(w.step, kind, c, fmt.Sprintf("error message leaks internals (%s): %q", detail, m))
	}
	code := r.code()
	if !slices.Contains(allowed, code) {
		msg := ""
		if len(r.Errors) > 0 {
			msg = ": " + r.Errors[0].Message
		}
		want := strings.Join(allowed, "|")
		s.violate(w.step, kind, c, fmt.Sprintf("%s: got %q%s, want one of [%s]", detail, outcome, msg, strings.ReplaceAll(want, "|", " ")))
	}
	return code == "" && r.ok()
}

func (s *sim) count(kind, outcome string) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.stats[kind] == nil {
		s.stats[kind] = map[string]int{}
	}
	s.stats[kind][outcome]++
}

func (s *sim) countFaultAnswer() {
	s.statsMu.Lock()
	s.faultAns++
	s.statsMu.Unlock()
}

// violate records a violation with the history of the actor involved (all of it for "-").
func (s *sim) violate(step int, kind string, c *customer, detail string) {
	actor := "-"
	if c != nil {
		actor = c.username
	}
	v := violation{Seed: s.seed, Step: step, Kind: kind, Actor: actor, Detail: detail}
	s.mu.Lock()
	for _, h := range s.history {
		if c == nil || h.actor == actor || strings.Contains(h.detail, actor) {
			v.History = append(v.History, h.String())
		}
	}
	s.mu.Unlock()
	// The shortest history that still shows the cause: the last 30 operations of the actor.
	if len(v.History) > 30 {
		v.History = v.History[len(v.History)-30:]
	}
	s.statsMu.Lock()
	s.violations = append(s.violations, v)
	s.statsMu.Unlock()
	s.o.log("VIOLATION seed=%d step=%d %s (%s): %s", v.Seed, v.Step, v.Kind, v.Actor, v.Detail)
}

// pickCustomer chooses one of the worker's live customers, nil when it has none.
func (s *sim) pickCustomer(w *worker) *customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var live []*customer
	for _, c := range w.mine {
		if !c.deleted && !c.deleting {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[w.rng.IntN(len(live))]
}

// decodeOK decodes a successful answer into out; one that does not decode is a violation.
func (s *sim) decodeOK(w *worker, kind string, c *customer, r reply, out any) bool {
	if err := r.decode(out); err != nil {
		s.violate(w.step, kind, c, err.Error())
		return false
	}
	return true
}

// pickCard chooses one of the worker's live customers and one of its live cards; the card is nil
// when there is none.
func (s *sim) pickCard(w *worker) (*customer, *card) {
	c := s.pickCustomer(w)
	if c == nil {
		return nil, nil
	}
	s.mu.Lock()
	cards := c.liveCards()
	s.mu.Unlock()
	if len(cards) == 0 {
		return c, nil
	}
	return c, cards[w.rng.IntN(len(cards))]
}

// move records amount moved from one account of the model to another.
func (s *sim) move(from, to *account, amount int64) {
	s.mu.Lock()
	from.balance -= amount
	to.balance += amount
	s.mu.Unlock()
}

// pickOther chooses another customer (of any worker) that is not deleted, nil when there is none.
func (s *sim) pickOther(w *worker, not *customer) *customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*customer
	for _, c := range s.customers {
		if c != not && !c.deleted && c.username != s.victim {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out[w.rng.IntN(len(out))]
}

// foreignIDs lists the IDs of other customers' entities, for the operations that must not reach
// them.
func (s *sim) foreignIDs(not *customer) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.customers {
		if c == not {
			continue
		}
		for _, a := range c.accounts() {
			out = append(out, a.id)
		}
		for _, k := range c.cards {
			out = append(out, k.id)
		}
		for _, g := range c.goals {
			out = append(out, g.id)
		}
		for _, b := range c.bills {
			out = append(out, b.id)
		}
		for _, p := range c.pendings {
			out = append(out, p.id)
			if p.cashout != "" {
				out = append(out, p.cashout)
			}
		}
	}
	// Transactions of which not is the recipient are its to see.
	out = slices.DeleteFunc(out, not.owns)
	sort.Strings(out)
	return out
}

// deleted says whether who's deletion has been acknowledged.
func (s *sim) deleted(who *customer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return who.deleted
}

// creditAllowed adjusts what a request that credits who may answer: when who's deletion was
// acknowledged before the request (deletedBefore), only refusals; when who is being deleted or
// was deleted meanwhile (read after the answer), also NOT_FOUND and PRECONDITION_FAILED (the
// account is closed).
func (s *sim) creditAllowed(allowed []string, deletedBefore bool, who *customer) []string {
	if deletedBefore {
		out := []string{"NOT_FOUND", "PRECONDITION_FAILED"}
		for _, a := range allowed {
			if a != "" {
				out = append(out, a)
			}
		}
		return out
	}
	s.mu.Lock()
	gone := who.deleting || who.deleted
	s.mu.Unlock()
	if gone {
		return append(slices.Clone(allowed), "NOT_FOUND", "PRECONDITION_FAILED")
	}
	return allowed
}

// newName is a fresh username for this seed.
func (s *sim) newName(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, s.nextName.Add(1))
}
