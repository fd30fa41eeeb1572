package main

import (
	"testing"
)

// checkLedgerInvariants reads every account and its statement through the API (as the admin) and
// asserts the ledger's rules: all balances sum to zero, no customer account is below zero, each
// account's entries sum to its balance with versions 1..n, and the number of posted transfers is
// wantTransfers.
func checkLedgerInvariants(t *testing.T, s *testServer, admin string, wantTransfers int) {
	t.Helper()
	var out struct {
		Transactions struct{ TotalCount int }
		Customers    struct {
			Edges []struct {
				Node struct{ Account struct{ ID string } }
			}
		}
	}
	s.mustDo(admin, `{ transactions(first: 1, filter: {kind: TRANSFER, status: POSTED}) { totalCount }
		customers(first: 100) { edges { node { account { id } } } } }`, nil, &out)
	if out.Transactions.TotalCount != wantTransfers {
		t.Errorf("posted transfers = %d, want %d (the successful mutations)", out.Transactions.TotalCount, wantTransfers)
	}
	// The issuer is reached through a creation's entries.
	var iss struct {
		Transactions struct {
			Edges []struct {
				Node struct {
					Entries []struct{ Account struct{ ID, Kind string } }
				}
			}
		}
	}
	s.mustDo(admin, `{ transactions(first: 1, filter: {kind: CREATION}) { edges { node { entries { account { id kind } } } } } }`, nil, &iss)
	ids := []string{}
	for _, e := range out.Customers.Edges {
		ids = append(ids, e.Node.Account.ID)
	}
	for _, e := range iss.Transactions.Edges[0].Node.Entries {
		if e.Account.Kind == "SYSTEM" {
			ids = append(ids, e.Account.ID)
		}
	}
	var total int64
	for _, id := range ids {
		balance, kind := accountStatementCheck(t, s, admin, id)
		if kind != "SYSTEM" && balance < 0 {
			t.Errorf("account %s balance %d < 0", id, balance)
		}
		total += balance
	}
	if total != 0 {
		t.Errorf("sum of all balances = %d minor units, want 0", total)
	}
}

// accountStatementCheck pages through an account's whole statement oldest first and checks that
// the entries sum to the balance with versions 1..n. It returns the balance in minor units.
func accountStatementCheck(t *testing.T, s *testServer, admin, id string) (int64, string) {
	t.Helper()
	var sum, lastBalance int64
	version := 0
	var after any
	var kind string
	var balance int64
	for {
		var out struct {
			Node struct {
				Kind    string
				Version int
				Balance struct{ Amount string }
				Entries struct {
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct {
						Node struct {
							Type         string
							Version      int
							Amount       struct{ Amount string }
							BalanceAfter struct{ Amount string }
						}
					}
				}
			}
		}
		s.mustDo(admin, `query($id: ID!, $after: Cursor) { node(id: $id) { ... on Account { kind version balance { amount }
			entries(first: 100, after: $after, order: ASC) { pageInfo { hasNextPage endCursor }
			edges { node { type version amount { amount } balanceAfter { amount } } } } } } }`,
			map[string]any{"id": id, "after": after}, &out)
		kind = out.Node.Kind
		balance = minor(t, out.Node.Balance.Amount)
		for _, e := range out.Node.Entries.Edges {
			version++
			if e.Node.Version != version {
				t.Fatalf("account %s: entry version %d, want %d (no gaps)", id, e.Node.Version, version)
			}
			a := minor(t, e.Node.Amount.Amount)
			if e.Node.Type == "SEND" {
				a = -a
			}
			sum += a
			lastBalance = minor(t, e.Node.BalanceAfter.Amount)
			if lastBalance != sum {
				t.Fatalf("account %s v%d: balanceAfter %d, running sum %d", id, version, lastBalance, sum)
			}
		}
		if !out.Node.Entries.PageInfo.HasNextPage {
			if out.Node.Version != version {
				t.Errorf("account %s: version %d, entries %d", id, out.Node.Version, version)
			}
			break
		}
		after = out.Node.Entries.PageInfo.EndCursor
	}
	if sum != balance {
		t.Errorf("account %s: entries sum to %d, balance %d", id, sum, balance)
	}
	return balance, kind
}

// minor parses an API decimal of scale 2 into minor units.
func minor(t *testing.T, s string) int64 {
	t.Helper()
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	var v int64
	for _, c := range s {
		if c == '.' {
			continue
		}
		if c < '0' || c > '9' {
			t.Fatalf("not a decimal: %q", s)
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v
}
