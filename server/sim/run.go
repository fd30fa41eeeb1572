package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// op is one kind of operation with its weight.
type op struct {
	name   string
	weight int
	fn     func(s *sim, w *worker)
}

// ops are every operation the simulator runs, with their default weights. The regress.* ones
// reproduce bugs it was written for or found, now fixed (docs/simulator.md).
func ops() []op {
	return []op{
		{"sendCoins", 30, (*sim).opSend},
		{"settlePending", 8, (*sim).opSettle},
		{"createCoins", 6, (*sim).opMint},
		{"createCard", 5, (*sim).opCreateCard},
		{"cardMove", 12, (*sim).opCardMove},
		{"cardTransfer", 8, (*sim).opCardTransfer},
		{"deleteCard", 3, (*sim).opDeleteCard},
		{"savingsGoal", 4, (*sim).opGoal},
		{"savingsMove", 8, (*sim).opSavingsMove},
		{"bill", 6, (*sim).opBill},
		{"cashout", 8, (*sim).opCashout},
		{"foreignId", 8, (*sim).opForeign},
		{"badAmount", 5, (*sim).opBadAmount},
		{"readOwn", 5, (*sim).opReadOwn},
		{"session", 2, (*sim).opSession},
		{"anonymous", 4, (*sim).opAnonymous},
		{"customerAsAdmin", 2, (*sim).opCustomerAsAdmin},
		{"newCustomer", 2, (*sim).opNewCustomer},
		{"setDebitLimit", 3, (*sim).opDebitLimit},
		{"setUserStatus", 1, (*sim).opUserStatus},
		{"createCoinsBad", 2, (*sim).opCoinsBad},
		{"deleteCustomer", 2, func(s *sim, w *worker) { s.opDelete(w, "plain") }},
		{"deleteWithPendingCashout", 1, (*sim).opDeleteWithPending},
		{"people", 6, (*sim).opPeople},
		{"personData", 3, (*sim).opPersonData},
		{"changePassword", 2, (*sim).opPassword},
		{"register", 1, (*sim).opRegister},
		{"publicKey", 2, (*sim).opSignature},
		{"freezeCard", 3, (*sim).opFreeze},
		{"freezeRace", 2, (*sim).opFreezeRace},
		{"billEdit", 3, (*sim).opBillEdit},
		{"goalEdit", 2, (*sim).opGoalEdit},
		{"autopay", 2, (*sim).opAutopay},
		{"twoFactor", 1, (*sim).opTwoFactor},
		{"census", 3, (*sim).opCensus},
		{"parallelLockout", 1, (*sim).opParallelLockout},
		// The bugs known when the simulator was written and those it found, all fixed: each
		// operation now wants the correct behaviour (docs/simulator.md, "Bugs it found").
		{"regress.deleteHadCard", 1, (*sim).opBugDeleteHadCard},
		{"regress.deleteHadProducts", 1, func(s *sim, w *worker) { s.opDelete(w, "hadProducts") }},
		{"regress.cashoutTx", 1, (*sim).opBugCashoutTx},
		{"regress.nul", 1, (*sim).opBugNUL},
		{"regress.parallelCards", 1, (*sim).opBugParallelCards},
		{"regress.hugeLimit", 1, (*sim).opBugHugeLimit},
		{"regress.deleteHadCashout", 1, func(s *sim, w *worker) { s.opDelete(w, "hadCashout") }},
		{"regress.maxAmount", 1, (*sim).opBugMaxAmount},
	}
}

// weighted applies -weights ("name=n,name=n"; "regress.*=0" sets every regress.* operation) to the
// defaults.
func weighted(spec string) ([]op, error) {
	list := ops()
	if strings.TrimSpace(spec) == "" {
		return list, nil
	}
	for _, kv := range strings.Split(spec, ",") {
		name, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("-weights: %q is not name=n", kv)
		}
		found := false
		for i := range list {
			if list[i].name == name || strings.HasSuffix(name, "*") && strings.HasPrefix(list[i].name, strings.TrimSuffix(name, "*")) {
				list[i].weight, found = n, true
			}
		}
		if !found {
			return nil, fmt.Errorf("-weights: no operation %q", name)
		}
	}
	return list, nil
}

func weightsString(list []op) string {
	var parts []string
	for _, o := range list {
		parts = append(parts, fmt.Sprintf("%s=%d", o.name, o.weight))
	}
	return strings.Join(parts, ",")
}

func pick(rng *rand.Rand, list []op, total int) op {
	n := rng.IntN(total)
	for _, o := range list {
		if n < o.weight {
			return o
		}
		n -= o.weight
	}
	return list[len(list)-1]
}

// run drives one seed: setup, then the workers until steps or the deadline, with quiescent checks
// every checkEvery steps and faults on their own schedule; then the final checks.
func (s *sim) run(list []op, deadline time.Time) error {
	workers := make([]*worker, s.o.workers)
	for i := range workers {
		workers[i] = &worker{idx: i, rng: rand.New(rand.NewPCG(s.seed, uint64(i)+1))}
	}
	if err := s.setup(workers[0], workers); err != nil {
		return err
	}
	if err := s.startSubscribers(workers[0]); err != nil {
		return err
	}
	total := 0
	for _, o := range list {
		total += o.weight
	}
	if total == 0 {
		return fmt.Errorf("every operation has weight 0")
	}
	faults := s.newFaulter(rand.New(rand.NewPCG(s.seed, 0)))
	var mu sync.Mutex
	next := 0
	claim := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= s.o.steps || time.Now().After(deadline) || s.ctx.Err() != nil {
			return 0, false
		}
		next++
		return next, true
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for {
				step, ok := claim()
				if !ok {
					return
				}
				if step%s.o.checkEvery == 0 {
					s.quiescentCheck(w, fmt.Sprintf("step %d", step))
				}
				faults.atStep(step)
				w.step = step
				o := pick(w.rng, list, total)
				s.rw.RLock()
				o.fn(s, w)
				s.rw.RUnlock()
			}
		})
	}
	wg.Wait()
	faults.wait()
	s.quiescentCheck(workers[0], "before draining")
	s.drain(workers[0])
	s.quiescentCheck(workers[0], "end")
	s.checkSubscribers(workers[0])
	return nil
}

// summaryOps is the number of operations recorded, by kind, sorted by name.
func (s *sim) opsByKind() ([]string, int) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	var lines []string
	n := 0
	for kind, outcomes := range s.stats {
		var parts []string
		for o, c := range outcomes {
			parts = append(parts, fmt.Sprintf("%s=%d", o, c))
			n += c
		}
		sort.Strings(parts)
		lines = append(lines, fmt.Sprintf("  %-34s %s", kind, strings.Join(parts, " ")))
	}
	sort.Strings(lines)
	return lines, n
}

// drain ends everything left pending, as a customer or clerk would: every pending transfer is
// cancelled, every pending cash-out aborted, every pending procedure decided. Each must work:
// nothing may stay PENDING without a way out.
func (s *sim) drain(w *worker) {
	s.mu.Lock()
	type item struct {
		c *customer
		p *pending
	}
	var open []item
	for _, c := range s.customers {
		if c.deleted {
			continue
		}
		for _, p := range c.open("") {
			open = append(open, item{c, p})
		}
	}
	s.mu.Unlock()
	for _, it := range open {
		s.release(w, "drain", it.c, it.p)
	}
	s.drainQueue(w, s.pendingProcedures(w))
}

// release cancels a pending transfer of c's, or aborts a pending cash-out, and records it.
func (s *sim) release(w *worker, kind string, c *customer, p *pending) bool {
	q, id, want := `mutation($id: ID!) { cancelTransaction(id: $id) { id } }`, p.id, "VOIDED"
	if p.cashout != "" {
		q, id, want = `mutation($id: ID!) { abortCashout(id: $id) { id } }`, p.cashout, "ABORTED"
	}
	r := s.callSettle(w, c.token, q, map[string]any{"id": id}, s.statusIs(w, c.token, id, want))
	if !s.expect(w, kind+"."+want, c, id, r, "") {
		return false
	}
	s.mu.Lock()
	p.status = want
	c.main.reserved -= p.amount
	s.mu.Unlock()
	return true
}

// pendingProcedures: the clerk pages through everybody's pending procedures (also ones whose
// creation a fault hid from the model), and the drain rejects them.
func (s *sim) pendingProcedures(w *worker) []string {
	var procs []string
	var after any
	for {
		r := s.call(w, true, s.staff, `query($after: Cursor) { people(first: 100, after: $after) {
			edges { node { procedures(pendingOnly: true) { id } } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
		var out struct {
			People struct {
				Edges []struct {
					Node struct{ Procedures []struct{ ID string } }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		if !s.expect(w, "drain.readProcedures", nil, "", r, "") || r.decode(&out) != nil {
			break
		}
		for _, e := range out.People.Edges {
			for _, pr := range e.Node.Procedures {
				procs = append(procs, pr.ID)
			}
		}
		if !out.People.PageInfo.HasNextPage {
			break
		}
		after = out.People.PageInfo.EndCursor
	}
	return procs
}

// drainQueue rejects procs, then what the clerks' queue still lists (every person's pending
// procedures, cancelled people's too).
func (s *sim) drainQueue(w *worker, procs []string) {
	s.rejectAll(w, procs)
	for range 50 {
		r := s.call(w, true, s.staff, `{ procedures(first: 100, filter: {state: PENDING}) { edges { node { id } } } }`, nil)
		var out struct {
			Procedures struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		if !s.expect(w, "drain.queue", nil, "", r, "") || r.decode(&out) != nil {
			break
		}
		var more []string
		for _, e := range out.Procedures.Edges {
			if !slices.Contains(procs, e.Node.ID) {
				more = append(more, e.Node.ID)
			}
		}
		if len(more) == 0 {
			break
		}
		s.rejectAll(w, more)
		procs = append(procs, more...)
	}
}

// rejectAll rejects each procedure, as the drain does.
func (s *sim) rejectAll(w *worker, procs []string) {
	for _, id := range procs {
		r := s.call(w, true, s.staff, `mutation($id: ID!) { processProcedure(id: $id, decision: REJECT, comment: "drain") { id } }`,
			map[string]any{"id": id})
		// An earlier decision (or the person's cancellation) may have closed it already.
		s.expect(w, "drain.procedure", nil, id, r, "", "PRECONDITION_FAILED")
	}
}
