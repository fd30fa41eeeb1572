package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestHotPaths_statementCounts_stayPinned pins how many SQL statements the hot requests cost, so
// that a regression (an extra look-up, a read-back, authentication growing again) fails here
// rather than only in `make bench`. Authentication is one statement (session, user, customer and
// main account id joined; shared by concurrent requests, graph/coalesce, but a lone request's
// round is its own, so still one here); a balance read adds the balance; a transfer to a username
// adds its batch (docs/ledger.md): BEGIN, the names resolved, the accounts read and locked, one
// statement that writes the transaction rows, the accounts and the entries, COMMIT. A batch of n
// transfers runs those 5 once.
func TestHotPaths_statementCounts_stayPinned(t *testing.T) {
	t.Parallel()
	s, counter := newCountedServer(t)
	admin := s.admin()
	alice := s.customer(admin, "alice")
	s.customer(admin, "bob")
	s.mustDo(admin, `mutation { createUser(input: {username: "clerk", password: "clerk-password-1", role: STAFF}) { id } }`, nil, nil)
	clerk := s.login("clerk", "clerk-password-1")
	s.mint(admin, "alice", "100")

	const n = 10
	tests := []struct {
		name string
		give func()
		want float64 // at most
	}{
		{"balance read", func() { s.balance(alice) }, 2},
		{"me with customer, user fields and balance", func() {
			s.mustDo(alice, `{ me { username email customer { name email phone balance { amount } } } }`, nil, nil)
		}, 2},
		{"me of staff", func() { s.mustDo(clerk, `{ me { username role } }`, nil, nil) }, 1},
		{"sendCoins autoSign by username", func() {
			if r := s.send(alice, "bob", "0.01", map[string]any{"autoSign": true}); len(r.Errors) > 0 {
				t.Fatalf("sendCoins: %+v", r.Errors)
			}
		}, 6},
	}
	for _, tt := range tests {
		got, list := counter.perRequest(n, tt.give)
		t.Logf("%s: %.1f statements", tt.name, got)
		if got > tt.want {
			t.Errorf("%s: %.1f SQL statements per request, want at most %.0f:%s", tt.name, got, tt.want, list)
		}
	}
	// The counted transfers happened: 10 × 0.01 left alice, bob received them.
	if got := s.balance(alice); got != "99.90" {
		t.Errorf("alice's balance = %s, want 99.90", got)
	}
	if got := s.balance(s.login("bob", "bob-password")); got != "0.10" {
		t.Errorf("bob's balance = %s, want 0.10", got)
	}
}

// TestCensusPages_statementCounts_fixedWhateverThePageSize pins the SQL statements of a page of
// the clerks' queue and of a person's history, and proves that they do not grow with the page:
// the related rows (people, clerks, files; procedures) are loaded once per page, not per row.
// A queue page: authentication, the count, the page, its people, its clerks, its files, and one
// audit row for the page's people. A history page: authentication, the person's look-up by census
// number and their row, the count, the page, its procedures (each version here made by a
// procedure), and the audit rows of the clerk's reads of the person and of its history
// (graph/audit: written before the data is returned).
func TestCensusPages_statementCounts_fixedWhateverThePageSize(t *testing.T) {
	t.Parallel()
	s, counter := newCountedServer(t)
	admin := s.admin()
	s.mustDo(admin, `mutation { createUser(input: {username: "clerk", password: "clerk-password-1", role: STAFF}) { id } }`, nil, nil)
	c := &ppCensus{testServer: s, admin: admin, staff: s.login("clerk", "clerk-password-1")}
	first, _ := c.register(t, nil)
	for i := range 24 {
		p, reg := c.register(t, nil)
		switch i % 4 {
		case 0:
			c.process(t, reg.ID, "ACCEPT", "")
		case 1:
			c.mustDo(c.staff, ppDocs, map[string]any{"p": p.ID, "f": []any{ppFileIn("a.png", "image/png", ppPNG)}, "pr": i%8 == 1}, nil)
		}
	}
	// The first person's history: each version made by an accepted procedure.
	for i := range 24 {
		var ch struct{ ChangePersonData ppProcedure }
		c.mustDo(c.staff, ppChange, map[string]any{"p": first.QualifiedID, "in": map[string]any{"address": fmt.Sprint("Calle ", i)}}, &ch)
		c.process(t, ch.ChangePersonData.ID, "ACCEPT", "")
	}
	const (
		queue = `query($n: Int!) { procedures(first: $n) { totalCount pageInfo { endCursor } edges { node {
			id type state prioritized createdAt person { qualifiedId firstName lastName1 state }
			createdBy { username } processedBy { username } files { filename sha256 } } } } }`
		history = `query($id: String!, $n: Int!) { person(id: $id) { versions(first: $n) { totalCount
			edges { cursor node { version at procedure { id type state } person { firstName state additionalInformation } } } } } }`
	)
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  float64
	}{
		{"queue", queue, map[string]any{}, 7},
		{"history", history, map[string]any{"id": first.QualifiedID}, 8},
	}
	for _, tt := range tests {
		var counts []float64
		for _, size := range []int{3, 20} {
			vars := map[string]any{"n": size}
			for k, v := range tt.vars {
				vars[k] = v
			}
			var page map[string]any
			s.mustDo(c.staff, tt.query, vars, &page)
			if n := strings.Count(fmt.Sprint(page), "procedure:map[") + strings.Count(fmt.Sprint(page), "createdBy:map["); n < size-1 {
				// (the first version, the registration, has no procedure)
				t.Fatalf("%s: the page of %d is not full: %v", tt.name, size, page)
			}
			got, list := counter.perRequest(5, func() { s.mustDo(c.staff, tt.query, vars, nil) })
			t.Logf("%s, page of %d: %.1f statements", tt.name, size, got)
			if got > tt.want {
				t.Errorf("%s, page of %d: %.1f SQL statements per request, want at most %.0f:%s", tt.name, size, got, tt.want, list)
			}
			counts = append(counts, got)
		}
		if counts[0] != counts[1] {
			t.Errorf("%s: %.1f statements for 3 rows, %.1f for 20: the count grows with the page", tt.name, counts[0], counts[1])
		}
	}
}

// TestCustomerTransactions_statementCount_fixedPerPage pins the review page's cost: whatever the
// customer's history, a page of Customer.transactions is authentication, the customer's accounts,
// the count and the page (the transactions are read by index on each side, see
// ledger.CustomerTransactions). A page of 20 out of 60 and a page of 3 cost the same.
func TestCustomerTransactions_statementCount_fixedPerPage(t *testing.T) {
	t.Parallel()
	s, counter := newCountedServer(t)
	admin := s.admin()
	alice := s.customer(admin, "alice")
	s.customer(admin, "bob")
	s.mint(admin, "alice", "100")
	for i := range 60 {
		if r := s.send(alice, "bob", "0.01", map[string]any{"autoSign": i%2 == 0}); len(r.Errors) > 0 {
			t.Fatalf("sendCoins: %+v", r.Errors)
		}
	}
	vars := func(first int, status string) map[string]any {
		v := map[string]any{"first": first}
		if status != "" {
			v["status"] = status
		}
		return v
	}
	page := func(first int, status string) func() {
		return func() {
			var out struct {
				Me struct {
					Customer struct{ Transactions struct{ TotalCount int } }
				}
			}
			s.mustDo(alice, `query($first: Int, $status: TransactionStatus) { me { customer { transactions(first: $first, status: $status) {
				totalCount edges { cursor node { id kind status signable amount { amount } memo createdAt } } } } } }`,
				vars(first, status), &out)
			if out.Me.Customer.Transactions.TotalCount == 0 {
				t.Fatal("empty page")
			}
		}
	}
	for _, tt := range []struct {
		name string
		give func()
	}{
		{"a page of 20 of 61", page(20, "")},
		{"a review page of 20 of 30 pending", page(20, "PENDING")},
		{"a page of 3", page(3, "PENDING")},
	} {
		got, list := counter.perRequest(5, tt.give)
		t.Logf("%s: %.1f statements", tt.name, got)
		if got > 4 {
			t.Errorf("%s: %.1f SQL statements per page, want at most 4:%s", tt.name, got, list)
		}
	}
}
