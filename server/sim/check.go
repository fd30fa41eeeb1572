package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// dbInvariants are the ledger's and the state machines' rules, each a query that returns the rows
// that break it (nothing when it holds), run in one snapshot of the database.
var dbInvariants = []struct{ name, query string }{
	{"balances sum to zero", `SELECT 'sum', COALESCE(SUM(balance), 0) FROM accounts HAVING COALESCE(SUM(balance), 0) <> 0`},
	{"entries sum to the balance", `SELECT a.id, a.balance - COALESCE((SELECT SUM(e.amount) FROM entries e WHERE e.account_id = a.id), 0)
		FROM accounts a WHERE a.balance <> COALESCE((SELECT SUM(e.amount) FROM entries e WHERE e.account_id = a.id), 0)`},
	{"versions are 1..n without a gap", `SELECT a.id, a.version FROM accounts a
		LEFT JOIN (SELECT account_id, COUNT(*) n, MIN(version) lo, MAX(version) hi FROM entries GROUP BY account_id) v ON v.account_id = a.id
		WHERE COALESCE(v.n, 0) <> a.version OR (v.n > 0 AND (v.lo <> 1 OR v.hi <> v.n))`},
	{"the last entry's balanceAfter is the balance", `SELECT a.id, a.balance FROM accounts a JOIN entries e ON e.account_id = a.id AND e.version = a.version
		WHERE e.balance_after <> a.balance`},
	{"no account below its debit limit", `SELECT id, balance - reserved + debit_limit FROM accounts
		WHERE NOT allow_negative AND balance - reserved + debit_limit < 0`},
	{"reserved equals the pending debits", `SELECT a.id, a.reserved - COALESCE((SELECT SUM(t.amount) FROM transactions t
		WHERE t.debit_account_id = a.id AND t.status = 'PENDING'), 0) FROM accounts a
		WHERE a.reserved <> COALESCE((SELECT SUM(t.amount) FROM transactions t WHERE t.debit_account_id = a.id AND t.status = 'PENDING'), 0)`},
	{"a posted transaction has its two entries, others none", `SELECT t.id, (SELECT COUNT(*) FROM entries e WHERE e.transaction_id = t.id)
		FROM transactions t WHERE (SELECT COUNT(*) FROM entries e WHERE e.transaction_id = t.id) <> CASE WHEN t.status = 'POSTED' THEN 2 ELSE 0 END`},
	{"a cash-out agrees with its transaction", `SELECT c.id, 0 FROM cashouts c JOIN transactions t ON t.id = c.transaction_id
		WHERE NOT ((c.status = 'PENDING' AND t.status = 'PENDING') OR (c.status = 'CONFIRMED' AND t.status = 'POSTED')
		OR (c.status = 'ABORTED' AND t.status = 'VOIDED')) OR t.kind <> 'CASHOUT' OR t.amount <> c.amount`},
	{"a bill is paid exactly when its payment is posted", `SELECT b.id, 0 FROM bills b LEFT JOIN transactions t ON t.id = b.transaction_id
		WHERE (b.paid_at IS NULL) <> (t.id IS NULL) OR (t.id IS NOT NULL AND (t.status <> 'POSTED' OR t.amount <> b.amount OR t.kind <> 'BILL_PAYMENT'))`},
	{"a decided procedure has its decision time, a pending one none", `SELECT id, 0 FROM procedures
		WHERE (state = 'PENDING') <> (processed_at IS NULL)`},
	{"money never sits in a deleted customer's account", `SELECT id, balance FROM accounts
		WHERE owner_id IS NULL AND kind <> 'SYSTEM' AND (balance <> 0 OR reserved <> 0)`},
}

// afterDrain holds once drain has ended everything the model knew to be pending.
var afterDrain = []struct{ name, query string }{
	{"nothing of a customer stays pending after draining", `SELECT t.id, t.amount FROM transactions t
		JOIN accounts a ON a.id = t.debit_account_id WHERE t.status = 'PENDING' AND a.owner_id IS NOT NULL`},
	{"no procedure stays pending after draining", `SELECT id, 0 FROM procedures WHERE state = 'PENDING'`},
}

// checkDB runs every invariant in one read-only snapshot and reports what breaks.
func (s *sim) checkDB(w *worker, when string) {
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	opts := &sql.TxOptions{ReadOnly: true}
	if s.e.store == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	var tx *sql.Tx
	var err error
	for range 30 { // the database may be coming back from a fault
		if tx, err = s.e.db.BeginTx(ctx, opts); err == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		s.violate(w.step, "invariant", nil, "cannot read the database: "+err.Error())
		return
	}
	defer tx.Rollback()
	invariants := dbInvariants
	if when == "end" {
		invariants = append(slices.Clone(invariants), afterDrain...)
	}
	for _, inv := range invariants {
		s.countCheck(inv.name)
		rows, err := tx.QueryContext(ctx, inv.query)
		if err != nil {
			s.violate(w.step, "invariant", nil, fmt.Sprintf("%s: %v", inv.name, err))
			continue
		}
		var bad []string
		for rows.Next() {
			var id any
			var v int64
			if err := rows.Scan(&id, &v); err == nil {
				bad = append(bad, fmt.Sprintf("%v:%d", id, v))
			}
		}
		rows.Close()
		if len(bad) > 0 {
			if len(bad) > 10 {
				bad = append(bad[:10], fmt.Sprintf("(%d more)", len(bad)-10))
			}
			s.violateOnce(w.step, "invariant", nil, inv.name, fmt.Sprintf("%s (%s): %s", inv.name, when, strings.Join(bad, " ")))
		}
	}
}

// violateOnce records a violation the first time its key is seen: an invariant that broke stays
// broken at every later check.
func (s *sim) violateOnce(step int, kind string, c *customer, key, detail string) {
	s.statsMu.Lock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	dup := s.seen[key]
	s.seen[key] = true
	s.statsMu.Unlock()
	if !dup {
		s.violate(step, kind, c, detail)
	}
}

func (s *sim) countCheck(name string) {
	s.statsMu.Lock()
	s.checks[name]++
	s.statsMu.Unlock()
}

// quiescentCheck stops every operation (and waits for any fault to end), then checks the
// database's invariants and compares the server's balances with the model's.
func (s *sim) quiescentCheck(w *worker, when string) {
	s.rw.Lock()
	defer s.rw.Unlock()
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.waitServing(w)
	s.checkDB(w, when)
	s.checkModel(w, when)
}

// waitServing waits until every server answers /readyz (after a fault, for up to a minute).
func (s *sim) waitServing(w *worker) {
	deadline := time.Now().Add(time.Minute)
	for _, u := range s.e.urls() {
		for time.Now().Before(deadline) && s.ctx.Err() == nil {
			r := post(s.ctx, s.hc, u, s.admin, `{ me { username } }`, nil)
			if r.ok() {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// checkModel compares every account the model knows (of customers whose answers were never lost)
// with the server, through the API as the admin; customers whose state is unknown are read back.
func (s *sim) checkModel(w *worker, when string) {
	s.mu.Lock()
	var accts []*account
	owner := map[*account]*customer{}
	for _, c := range s.customers {
		for _, a := range c.accounts() {
			accts = append(accts, a)
			owner[a] = c
		}
	}
	s.mu.Unlock()
	s.countCheck("model balances equal the server's")
	for i := 0; i < len(accts); i += 50 {
		batch := accts[i:min(i+50, len(accts))]
		ids := make([]string, len(batch))
		for j, a := range batch {
			ids[j] = a.id
		}
		r := s.call(w, true, s.admin, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Account { id balance { amount } available { amount } debitLimit { amount } } } }`,
			map[string]any{"ids": ids})
		if !r.ok() {
			s.violate(w.step, "model", nil, fmt.Sprintf("reading accounts (%s): %s %v", when, r.code(), r.Errors))
			return
		}
		var out struct {
			Nodes []*struct {
				ID                             string
				Balance, Available, DebitLimit struct{ Amount string }
			}
		}
		if err := r.decode(&out); err != nil || len(out.Nodes) != len(batch) {
			s.violate(w.step, "model", nil, fmt.Sprintf("reading accounts (%s): %v, %d nodes for %d ids", when, err, len(out.Nodes), len(batch)))
			return
		}
		for j, n := range out.Nodes {
			a := batch[j]
			c := owner[a]
			if n == nil {
				continue // a closed account of a deleted customer is no longer visible
			}
			bal, _ := parseDec(n.Balance.Amount)
			avail, _ := parseDec(n.Available.Amount)
			limit, _ := parseDec(n.DebitLimit.Amount)
			s.mu.Lock()
			dirty := c.dirty
			want, wantAvail, wantLimit := a.balance, a.available(), a.limit
			if dirty {
				a.balance, a.limit, a.reserved = bal, limit, bal+limit-avail
			}
			s.mu.Unlock()
			// With a limit near int64's end (bug.hugeLimit) only the balance is compared: how the
			// server shows an available amount past int64 is its own choice.
			huge := wantLimit > 1<<53
			if !dirty && (bal != want || !huge && (avail != wantAvail || limit != wantLimit)) {
				s.violateOnce(w.step, "model", c, "model "+a.id, fmt.Sprintf("%s's %s account %s (%s): server balance %s available %s limit %s, model %s %s %s",
					c.username, a.kind, a.id, when, dec(bal), dec(avail), dec(limit), dec(want), dec(wantAvail), dec(wantLimit)))
			}
		}
	}
	s.mu.Lock()
	for _, c := range s.customers {
		c.dirty = false
	}
	s.mu.Unlock()
}
