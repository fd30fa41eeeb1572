package main

// The ledger's rules at their edges, over real HTTP on both stores: amounts are bounded, the
// money in circulation is bounded, and instants compare as instants whatever their offset.

import (
	"testing"
	"time"
)

// TestAmounts_atTheBoundAndOnePast: every amount a client gives is accepted at
// money.MaxAmountMinor and refused one minor unit past it (BAD_USER_INPUT naming the field, nothing
// changed); the ledger's sums at the bound stay exact.
func TestAmounts_atTheBoundAndOnePast(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st, "CREATION_MONTHLY_LIMIT=10000000000000")
			admin := s.admin()
			rich := ptCustomerWithAddress(t, s, admin, "rich", "")
			debtor := s.customer(admin, "debtor")
			ids := eaAccountOf(t, s, debtor)
			past := []struct {
				name, token, query string
				vars               map[string]any
				field              string
			}{
				{"setDebitLimit", admin, eaSetDebitLimitMutation, map[string]any{"id": ids.AccountID, "l": lrPastMax}, "limit"},
				{"setDebitLimit near int64", admin, eaSetDebitLimitMutation, map[string]any{"id": ids.AccountID, "l": "92233720368547758.07"}, "limit"},
				{"createCoins", admin, `mutation($a: Decimal!) { createCoins(input: {recipient: {username: "rich"}, amount: $a}) { id } }`,
					map[string]any{"a": lrPastMax}, "amount"},
				{"sendCoins", debtor, `mutation($a: Decimal!) { sendCoins(input: {recipient: {username: "rich"}, amount: $a}) { id } }`,
					map[string]any{"a": lrPastMax}, "amount"},
				{"createCashout", rich, ptCreateCashoutMutation, map[string]any{"in": map[string]any{"amount": lrPastMax, "channel": "EMAIL"}}, "amount"},
				{"createSavingsGoal", rich, ptCreateGoalMutation, map[string]any{"in": map[string]any{"name": "Moon", "goal": lrPastMax}}, "goal"},
				{"createBill", rich, ptCreateBillMutation, map[string]any{"in": map[string]any{"name": "Moon", "amount": lrPastMax,
					"dueDate": "2030-01-01T00:00:00Z"}}, "amount"},
			}
			before := ptSnapshot(t, s, admin, rich, debtor)
			for _, tt := range past {
				r := onT(t, s).do(tt.token, tt.query, tt.vars)
				if wantError(t, r, "BAD_USER_INPUT", tt.field); t.Failed() {
					t.Fatalf("%s one past the bound", tt.name)
				}
			}
			eaUnchanged(t, before, ptSnapshot(t, s, admin, rich, debtor))

			// At the bound: a creation, a debit limit, a goal, a bill, a cash-out, a card move.
			s.mint(admin, "rich", lrMaxAmount)
			s.mustDo(admin, eaSetDebitLimitMutation, map[string]any{"id": ids.AccountID, "l": lrMaxAmount}, nil)
			ptOne(t, ptIn(t, s, rich, ptCreateGoalMutation, map[string]any{"name": "Moon", "goal": lrMaxAmount}), &struct{}{})
			ptOne(t, ptIn(t, s, rich, ptCreateBillMutation, map[string]any{"name": "Moon", "amount": lrMaxAmount,
				"dueDate": "2030-01-01T00:00:00Z"}), &struct{}{})
			c := ptNewCard(t, s, rich)
			wantError(t, ptIn(t, s, rich, ptFundCardMutation, map[string]any{"cardId": c.ID, "amount": lrPastMax}), "BAD_USER_INPUT", "amount")
			ptOne(t, ptIn(t, s, rich, ptFundCardMutation, map[string]any{"cardId": c.ID, "amount": lrMaxAmount}), &ptTxn{})
			ptOne(t, ptIn(t, s, rich, ptDefundCardMutation, map[string]any{"cardId": c.ID, "amount": lrMaxAmount}), &ptTxn{})
			co := ptNewCashout(t, s, rich, lrMaxAmount, "EMAIL")
			ptOne(t, s.do(rich, ptAbortCashoutMutation, map[string]any{"id": co.ID}), &struct{}{})
			// The debtor spends the whole limit: balance - reserved + limit is exact at the bound.
			if r := s.send(debtor, "rich", lrMaxAmount, nil); len(r.Errors) > 0 {
				t.Fatalf("sending the whole debit limit: %+v", r.Errors)
			}
			wantError(t, s.send(debtor, "rich", "0.01", nil), "INSUFFICIENT_FUNDS")
			want := eaMoneyState{Balance: "-" + lrMaxAmount, Available: "0.00", DebitLimit: lrMaxAmount, Entries: 1}
			if got := eaStateOf(t, s, debtor).eaMoneyState; got != want {
				t.Errorf("debtor = %+v, want %+v", got, want)
			}
			if got := s.balance(rich); got != "20000000000000.00" {
				t.Errorf("rich = %s, want 20000000000000.00", got)
			}
		})
	}
}

// TestCreateCoins_circulationBound_preconditionFailed: a creation that would take the money in
// circulation beyond ledger.MaxCirculationMinor is refused and changes nothing; one that reaches it
// exactly goes through.
func TestCreateCoins_circulationBound_preconditionFailed(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st, "CREATION_MONTHLY_LIMIT=10000000000000")
			admin := s.admin()
			ann := s.customer(admin, "ann")
			bob := s.customer(admin, "bob")
			s.mint(admin, "bob", "1")
			// As if 10^18 - 10^15 - 100 minor units were already in circulation elsewhere.
			db := lrOpen(t, s)
			if _, err := db.SQL.Exec(`UPDATE accounts SET balance = balance - 998999999999999900 WHERE code = 'issuer'`); err != nil {
				t.Fatal(err)
			}
			s.mint(admin, "ann", lrMaxAmount)
			before := ptSnapshot(t, s, admin, ann, bob)
			wantError(t, s.do(admin, `mutation { createCoins(input: {recipient: {username: "bob"}, amount: "0.01"}) { id } }`, nil),
				"PRECONDITION_FAILED")
			eaUnchanged(t, before, ptSnapshot(t, s, admin, ann, bob))
			if got := s.balance(ann); got != lrMaxAmount {
				t.Errorf("ann = %s, want %s", got, lrMaxAmount)
			}
		})
	}
}

// TestTimes_withOffsets_compareAsInstants: balanceAt, the statement's since/until filter and
// person(versionAt:) compare instants, whatever offset the client writes them in: a minute before
// the booking written at +05:00 is before it, a minute after written at -05:00 is after it.
func TestTimes_withOffsets_compareAsInstants(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		s.mint(admin, "ann", "10")
		var st struct {
			Me struct {
				Customer struct {
					Account struct {
						Entries struct {
							Edges []struct{ Node struct{ BookedAt string } }
						}
					}
				}
			}
		}
		s.mustDo(ann, `{ me { customer { account { entries(first: 1) { edges { node { bookedAt } } } } } } }`, nil, &st)
		booked := ppTime(t, st.Me.Customer.Account.Entries.Edges[0].Node.BookedAt)
		before, after := lrAt(booked.Add(-time.Minute), 5), lrAt(booked.Add(time.Minute), -5)

		var out struct {
			Me struct {
				Customer struct {
					Account struct {
						Before, After                         struct{ Amount string }
						Since, Until, SinceAfter, UntilBefore struct{ TotalCount int }
					}
				}
			}
		}
		s.mustDo(ann, `query($b: Time!, $a: Time!) { me { customer { account {
			before: balanceAt(time: $b) { amount } after: balanceAt(time: $a) { amount }
			since: entries(first: 5, filter: {since: $b}) { totalCount }
			until: entries(first: 5, filter: {until: $a}) { totalCount }
			sinceAfter: entries(first: 5, filter: {since: $a}) { totalCount }
			untilBefore: entries(first: 5, filter: {until: $b}) { totalCount } } } } }`,
			map[string]any{"b": before, "a": after}, &out)
		acc := out.Me.Customer.Account
		if acc.Before.Amount != "0.00" || acc.After.Amount != "10.00" {
			t.Errorf("balanceAt(%s) = %s, balanceAt(%s) = %s; want 0.00 and 10.00", before, acc.Before.Amount, after, acc.After.Amount)
		}
		if acc.Since.TotalCount != 1 || acc.Until.TotalCount != 1 || acc.SinceAfter.TotalCount != 0 || acc.UntilBefore.TotalCount != 0 {
			t.Errorf("entries since %s: %d, until %s: %d, since %s: %d, until %s: %d; want 1, 1, 0, 0", before, acc.Since.TotalCount,
				after, acc.Until.TotalCount, after, acc.SinceAfter.TotalCount, before, acc.UntilBefore.TotalCount)
		}

		// A person's first version, asked for at the same two instants.
		s.mustDo(admin, `mutation { createUser(input: {username: "clerk", password: "clerk-password-1", role: STAFF}) { id } }`, nil, nil)
		clerk := s.login("clerk", "clerk-password-1")
		var reg struct {
			RegisterPerson struct{ Person ppPerson }
		}
		s.mustDo(clerk, ppRegister, map[string]any{"in": ppInput(nil)}, &reg)
		p := reg.RegisterPerson.Person
		created := ppTime(t, p.CreatedAt)
		wantError(t, s.do(clerk, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": lrAt(created.Add(-time.Minute), 5)}), "NOT_FOUND")
		var at struct{ Person *ppPerson }
		s.mustDo(clerk, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": lrAt(created.Add(time.Minute), -5)}, &at)
		if at.Person == nil || at.Person.ID != p.ID || at.Person.State != "PENDING" {
			t.Errorf("person at %s = %+v, want the pending registration", lrAt(created.Add(time.Minute), -5), at.Person)
		}
	})
}
