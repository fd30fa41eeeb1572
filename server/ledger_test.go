package main

// The ledger's rules at their edges, over real HTTP on both stores: a cash-out's transaction moves
// only through its TAN, count limits hold under parallel requests, a customer at zero is deletable
// whatever they had, amounts are bounded, and instants compare as instants whatever their offset.
//
// Helpers here carry the prefix "lr" so that they cannot clash with the other test files'.

import (
	"context"
	"sync"
	"testing"
	"time"

	"coffer/graph/store"
)

// lrParallel runs n copies of op at once (op gets its index) and returns their responses.
func lrParallel(t *testing.T, s *testServer, n int, op func(i int) (token, query string, vars map[string]any)) []gqlResponse {
	t.Helper()
	out := make([]gqlResponse, n)
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token, query, vars := op(i)
			start.Wait()
			out[i], errs[i] = s.post(token, query, vars)
		}()
	}
	start.Done()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// lrCodes counts the responses by their error code ("" for success).
func lrCodes(rs []gqlResponse) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.code()]++
	}
	return m
}

// lrCashout is a cash-out with its transaction's status, as its owner sees it.
type lrCashout struct {
	ID, Status  string
	Transaction struct{ ID, Status string }
}

func lrCashoutsOf(t *testing.T, s *testServer, token string) map[string]lrCashout {
	t.Helper()
	var out struct {
		Cashouts struct{ Edges []struct{ Node lrCashout } }
	}
	eaOn(t, s).mustDo(token, `{ cashouts(first: 100) { edges { node { id status transaction { id status } } } } }`, nil, &out)
	m := map[string]lrCashout{}
	for _, e := range out.Cashouts.Edges {
		m[e.Node.ID] = e.Node
	}
	return m
}

// TestConfirmTransaction_cashoutTransaction_preconditionFailedChangesNothing: naming a cash-out's
// transaction in confirmTransaction or cancelTransaction neither pays out without the TAN nor
// releases the money under a PENDING cash-out; the TAN then still confirms it.
func TestConfirmTransaction_cashoutTransaction_preconditionFailedChangesNothing(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		cara := ptCustomerWithAddress(t, s, admin, "cara", "")
		s.mint(admin, "cara", "100")
		co := ptNewCashout(t, s, cara, "30", "EMAIL")

		before := ptSnapshot(t, s, admin, cara)
		eaWantError(t, s.do(cara, eaConfirmMutation, map[string]any{"id": co.Transaction.ID}), "PRECONDITION_FAILED")
		eaWantError(t, s.do(cara, eaCancelMutation, map[string]any{"id": co.Transaction.ID}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, ptSnapshot(t, s, admin, cara))
		if got := lrCashoutsOf(t, s, cara)[co.ID]; got.Status != "PENDING" || got.Transaction.Status != "PENDING" {
			t.Errorf("after the refused settlements the cash-out = %+v, want PENDING with a PENDING transaction", got)
		}

		tan := ptTAN(t, s, "cara@example.com", "30.00 EUR")
		ptOne(t, s.do(cara, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": tan.Code}), &co)
		if got := lrCashoutsOf(t, s, cara)[co.ID]; got.Status != "CONFIRMED" || got.Transaction.Status != "POSTED" {
			t.Errorf("after the TAN the cash-out = %+v, want CONFIRMED with a POSTED transaction", got)
		}
		if got := s.balance(cara); got != "70.00" {
			t.Errorf("balance = %s, want 70.00", got)
		}
	})
}

// TestCashout_parallelConfirmAbortAndSettle_oneWinsStatesAgree: confirmCashout with the TAN,
// abortCashout, confirmTransaction and cancelTransaction all at once on one cash-out: exactly one
// of confirm and abort wins, the two settlements by transaction id all fail, and the cash-out's
// status and its transaction's agree with the money.
func TestCashout_parallelConfirmAbortAndSettle_oneWinsStatesAgree(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		cara := ptCustomerWithAddress(t, s, admin, "cara", "")
		s.mint(admin, "cara", "100")
		co := ptNewCashout(t, s, cara, "40", "EMAIL")
		tan := ptTAN(t, s, "cara@example.com", "40.00 EUR")

		ops := []struct {
			query string
			vars  map[string]any
		}{
			{ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": tan.Code}},
			{ptAbortCashoutMutation, map[string]any{"id": co.ID}},
			{eaConfirmMutation, map[string]any{"id": co.Transaction.ID}},
			{eaCancelMutation, map[string]any{"id": co.Transaction.ID}},
		}
		const each = 4
		rs := lrParallel(t, s, len(ops)*each, func(i int) (string, string, map[string]any) {
			return cara, ops[i%len(ops)].query, ops[i%len(ops)].vars
		})
		wins := 0
		for i, r := range rs {
			switch op := i % len(ops); {
			case op >= 2 && r.code() != "PRECONDITION_FAILED":
				t.Errorf("%s on the cash-out's transaction: %+v, want PRECONDITION_FAILED", ops[op].query, r.Errors)
			case op < 2 && r.code() == "":
				wins++
			case op < 2 && r.code() != "PRECONDITION_FAILED" && r.code() != "INVALID_CODE":
				t.Errorf("%s: %+v, want success, PRECONDITION_FAILED or INVALID_CODE", ops[op].query, r.Errors)
			}
		}
		if wins != 1 {
			t.Errorf("%d of confirm and abort succeeded, want exactly 1", wins)
		}
		got := lrCashoutsOf(t, s, cara)[co.ID]
		wantBalance := map[string]string{"CONFIRMED": "60.00", "ABORTED": "100.00"}[got.Status]
		wantTxn := map[string]string{"CONFIRMED": "POSTED", "ABORTED": "VOIDED"}[got.Status]
		if got.Transaction.Status != wantTxn || wantTxn == "" {
			t.Errorf("cash-out %s with transaction %s: the two disagree", got.Status, got.Transaction.Status)
		}
		want := eaMoneyState{Balance: wantBalance, Available: wantBalance, DebitLimit: "0.00", PendingCount: 0,
			Entries: map[string]int{"CONFIRMED": 2, "ABORTED": 1}[got.Status]}
		if st := eaStateOf(t, s, cara).eaMoneyState; st != want {
			t.Errorf("cara after the race (%s) = %+v, want %+v", got.Status, st, want)
		}
	})
}

// TestCreateCard_parallel_holdsTheLimit: 20 parallel createCard for one customer give exactly
// MaxActiveCards (10) cards; the others are PRECONDITION_FAILED.
func TestCreateCard_parallel_holdsTheLimit(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		rs := lrParallel(t, s, 20, func(int) (string, string, map[string]any) { return ann, ptCreateCardMutation, nil })
		if got := lrCodes(rs); got[""] != 10 || got["PRECONDITION_FAILED"] != 10 {
			t.Errorf("20 parallel createCard: %v, want 10 successes and 10 PRECONDITION_FAILED", got)
		}
		var out struct{ Cards []struct{ ID string } }
		s.mustDo(ann, `{ cards { id } }`, nil, &out)
		if len(out.Cards) != 10 {
			t.Errorf("active cards = %d, want 10", len(out.Cards))
		}
	})
}

// TestCreateSavingsGoal_parallel_holdsTheLimit: 25 parallel createSavingsGoal for one customer
// give exactly MaxSavingsGoals (20) goals.
func TestCreateSavingsGoal_parallel_holdsTheLimit(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		rs := lrParallel(t, s, 25, func(int) (string, string, map[string]any) {
			return ann, ptCreateGoalMutation, map[string]any{"in": map[string]any{"name": "Bike", "goal": "10"}}
		})
		if got := lrCodes(rs); got[""] != 20 || got["PRECONDITION_FAILED"] != 5 {
			t.Errorf("25 parallel createSavingsGoal: %v, want 20 successes and 5 PRECONDITION_FAILED", got)
		}
		var out struct{ SavingsGoals []struct{ ID string } }
		s.mustDo(ann, `{ savingsGoals { id } }`, nil, &out)
		if len(out.SavingsGoals) != 20 {
			t.Errorf("savings goals = %d, want 20", len(out.SavingsGoals))
		}
	})
}

// lrStatement is the viewer's main-account statement: each entry's type, amount and counterparty.
type lrStatementLine struct {
	Type         string
	Amount       struct{ Amount string }
	Counterparty *struct {
		Name  string
		Email *string
		Iban  *string
	}
}

func lrStatement(t *testing.T, s *testServer, token string) []lrStatementLine {
	t.Helper()
	var out struct {
		Me struct {
			Customer struct {
				Account struct {
					Entries struct {
						Edges []struct{ Node lrStatementLine }
					}
				}
			}
		}
	}
	eaOn(t, s).mustDo(token, `{ me { customer { account { entries(first: 50) { edges { node {
		type amount { amount } counterparty { name email iban } } } } } } } }`, nil, &out)
	lines := []lrStatementLine{}
	for _, e := range out.Me.Customer.Account.Entries.Edges {
		lines = append(lines, e.Node)
	}
	return lines
}

// lrHistory gives a customer (with a cashout address) every product there is, and leaves them at
// zero: a card funded and emptied, a second card deleted, a savings goal topped up, emptied and
// deleted, a paid and an unpaid bill, a confirmed and an aborted cash-out; the rest goes to "stay".
func lrHistory(t *testing.T, s *testServer, admin, gone string) {
	t.Helper()
	s.mint(admin, "gone", "100")
	c1, c2 := ptNewCard(t, s, gone), ptNewCard(t, s, gone)
	mv := func(mutation string, in map[string]any) { ptOne(t, ptIn(t, s, gone, mutation, in), &ptTxn{}) }
	mv(ptFundCardMutation, map[string]any{"cardId": c1.ID, "amount": "10"})
	var goal struct{ ID string }
	ptOne(t, ptIn(t, s, gone, ptCreateGoalMutation, map[string]any{"name": "Bike", "goal": "50"}), &goal)
	mv(ptTopUpMutation, map[string]any{"savingsGoalId": goal.ID, "cardId": c1.ID, "amount": "4"})
	mv(ptWithdrawMutation, map[string]any{"savingsGoalId": goal.ID, "cardId": c1.ID, "amount": "4"})
	eaOn(t, s).mustDo(gone, ptDeleteGoalMutation, map[string]any{"id": goal.ID}, nil)
	var paid, unpaid struct{ ID string }
	ptOne(t, ptIn(t, s, gone, ptCreateBillMutation, map[string]any{"name": "Power", "amount": "3", "dueDate": "2030-01-01T00:00:00Z"}), &paid)
	ptOne(t, ptIn(t, s, gone, ptCreateBillMutation, map[string]any{"name": "Rent", "amount": "500", "dueDate": "2030-01-01T00:00:00Z"}), &unpaid)
	ptOne(t, ptIn(t, s, gone, ptPayBillMutation, map[string]any{"billId": paid.ID, "cardNumber": c1.Number}), &struct{}{})
	mv(ptDefundCardMutation, map[string]any{"cardId": c1.ID, "amount": "7"})
	eaOn(t, s).mustDo(gone, ptDeleteCardMutation, map[string]any{"n": c2.Number}, nil)
	co := ptNewCashout(t, s, gone, "10", "EMAIL")
	tan := ptTAN(t, s, "gone@example.com", "10.00 EUR")
	ptOne(t, s.do(gone, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": tan.Code}), &struct{}{})
	co2 := ptNewCashout(t, s, gone, "5", "EMAIL")
	ptOne(t, s.do(gone, ptAbortCashoutMutation, map[string]any{"id": co2.ID}), &struct{}{})
	if r := s.send(gone, "stay", "87", nil); len(r.Errors) > 0 {
		t.Fatalf("send the rest: %+v", r.Errors)
	}
	if got := ptBalances(t, s, gone); got["main"] != "0.00" || got[c1.key()] != "0.00" {
		t.Fatalf("gone's balances before the delete = %v, want all zero", got)
	}
}

// TestDeleteCustomer_afterCardsGoalsBillsCashouts_deletesAndKeepsCounterparty: a customer at zero
// who had cards (one still active, one deleted), a deleted savings goal, paid and unpaid bills and
// cash-outs is deleted; the other party's statement still renders them as counterparty; the
// username is free for a new customer, who starts with nothing of the old one's.
func TestDeleteCustomer_afterCardsGoalsBillsCashouts_deletesAndKeepsCounterparty(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		gone := ptCustomerWithAddress(t, s, admin, "gone", "")
		stay := s.customer(admin, "stay")
		lrHistory(t, s, admin, gone)

		var del struct{ DeleteCustomer bool }
		s.mustDo(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}, &del)
		if !del.DeleteCustomer {
			t.Fatal("deleteCustomer = false, want true")
		}
		eaWantError(t, s.do(gone, eaMeQuery, nil), "UNAUTHENTICATED")
		lines := lrStatement(t, s, stay)
		if len(lines) != 1 || lines[0].Type != "RECEIVE" || lines[0].Amount.Amount != "87.00" ||
			lines[0].Counterparty == nil || lines[0].Counterparty.Name != "Gone" ||
			lines[0].Counterparty.Iban == nil || lines[0].Counterparty.Email != nil {
			t.Errorf("stay's statement after the delete = %+v, want one RECEIVE of 87.00 from Gone with an IBAN, no e-mail", lines)
		}
		var all struct {
			Transactions struct{ TotalCount int }
		}
		s.mustDo(admin, `{ transactions(first: 1) { totalCount } }`, nil, &all)
		// mint, fund, top-up, withdraw, bill, defund, two cash-outs, send: the ledger keeps all nine.
		if all.Transactions.TotalCount != 9 {
			t.Errorf("transactions after the delete = %d, want 9 (the ledger keeps its history)", all.Transactions.TotalCount)
		}

		// The username is free again; the new customer has nothing of the old one's.
		eaOn(t, s).mustDo(admin, eaCreateCustomerMutation, map[string]any{"in": map[string]any{
			"username": "gone", "password": "gone-password", "name": "Gone Again", "email": "gone@example.com"}}, nil)
		again := s.login("gone", "gone-password")
		var me struct {
			Me struct {
				Customer struct {
					Cards, SavingsGoals []struct{ ID string }
					Bills               struct{ TotalCount int }
				}
			}
		}
		s.mustDo(again, `{ me { customer { cards { id } savingsGoals { id } bills(first: 1) { totalCount } } } }`, nil, &me)
		if c := me.Me.Customer; len(c.Cards) != 0 || len(c.SavingsGoals) != 0 || c.Bills.TotalCount != 0 {
			t.Errorf("the new customer gone = %+v, want no cards, goals or bills", c)
		}
		if n, _ := ptCashoutIDs(t, s, again); n != 0 || s.balance(again) != "0.00" || len(lrStatement(t, s, again)) != 0 {
			t.Errorf("the new customer gone has %d cash-outs, balance %s: want none and 0.00", n, s.balance(again))
		}
		if lines := lrStatement(t, s, stay); len(lines) != 1 || lines[0].Counterparty.Name != "Gone" {
			t.Errorf("stay's statement after the username's reuse = %+v, want the old name Gone", lines)
		}
	})
}

// TestDeleteCustomer_pendingCashoutOrTransfer_preconditionFailed: a pending cash-out (money
// reserved) or a pending transfer to the customer refuses the delete and changes nothing; once
// settled, the delete goes through.
func TestDeleteCustomer_pendingCashoutOrTransfer_preconditionFailed(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		gone := ptCustomerWithAddress(t, s, admin, "gone", "")
		stay := s.customer(admin, "stay")
		s.mint(admin, "gone", "10")
		s.mint(admin, "stay", "10")
		co := ptNewCashout(t, s, gone, "10", "EMAIL")
		before := ptSnapshot(t, s, admin, gone, stay)
		eaWantError(t, s.do(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, ptSnapshot(t, s, admin, gone, stay))
		ptOne(t, s.do(gone, ptAbortCashoutMutation, map[string]any{"id": co.ID}), &struct{}{})
		if r := s.send(gone, "stay", "10", nil); len(r.Errors) > 0 {
			t.Fatalf("send: %+v", r.Errors)
		}

		var pending struct{ SendCoins struct{ ID string } }
		ptOne(t, s.send(stay, "gone", "1", map[string]any{"autoSign": false}), &pending.SendCoins)
		before = ptSnapshot(t, s, admin, gone, stay)
		eaWantError(t, s.do(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}), "PRECONDITION_FAILED")
		eaUnchanged(t, before, ptSnapshot(t, s, admin, gone, stay))
		eaOn(t, s).mustDo(stay, eaCancelMutation, map[string]any{"id": pending.SendCoins.ID}, nil)
		s.mustDo(admin, eaDeleteCustomerMutation, map[string]any{"u": "gone"}, nil)
		eaWantError(t, s.do(gone, eaMeQuery, nil), "UNAUTHENTICATED")
	})
}

const (
	// lrMaxAmount is money.MaxAmountMinor at scale 2, lrPastMax one minor unit beyond it.
	lrMaxAmount = "10000000000000.00"
	lrPastMax   = "10000000000000.01"
)

// lrOpen opens the test server's database directly, for a state no API call can reach.
func lrOpen(t *testing.T, s *testServer) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), s.DatabaseURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

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
				r := eaOn(t, s).do(tt.token, tt.query, tt.vars)
				if eaWantError(t, r, "BAD_USER_INPUT", tt.field); t.Failed() {
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
			eaWantError(t, ptIn(t, s, rich, ptFundCardMutation, map[string]any{"cardId": c.ID, "amount": lrPastMax}), "BAD_USER_INPUT", "amount")
			ptOne(t, ptIn(t, s, rich, ptFundCardMutation, map[string]any{"cardId": c.ID, "amount": lrMaxAmount}), &ptTxn{})
			ptOne(t, ptIn(t, s, rich, ptDefundCardMutation, map[string]any{"cardId": c.ID, "amount": lrMaxAmount}), &ptTxn{})
			co := ptNewCashout(t, s, rich, lrMaxAmount, "EMAIL")
			ptOne(t, s.do(rich, ptAbortCashoutMutation, map[string]any{"id": co.ID}), &struct{}{})
			// The debtor spends the whole limit: balance - reserved + limit is exact at the bound.
			if r := s.send(debtor, "rich", lrMaxAmount, nil); len(r.Errors) > 0 {
				t.Fatalf("sending the whole debit limit: %+v", r.Errors)
			}
			eaWantError(t, s.send(debtor, "rich", "0.01", nil), "INSUFFICIENT_FUNDS")
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
			eaWantError(t, s.do(admin, `mutation { createCoins(input: {recipient: {username: "bob"}, amount: "0.01"}) { id } }`, nil),
				"PRECONDITION_FAILED")
			eaUnchanged(t, before, ptSnapshot(t, s, admin, ann, bob))
			if got := s.balance(ann); got != lrMaxAmount {
				t.Errorf("ann = %s, want %s", got, lrMaxAmount)
			}
		})
	}
}

// lrAt renders t in a fixed zone of offsetHours, as a client far from UTC sends it.
func lrAt(t time.Time, offsetHours int) string {
	return t.In(time.FixedZone("", offsetHours*3600)).Format(time.RFC3339Nano)
}

// TestTimes_withOffsets_compareAsInstants: balanceAt, the statement's since/until filter and
// person(versionAt:) compare instants, whatever offset the client writes them in: a minute before
// the booking written at +05:00 is before it, a minute after written at -05:00 is after it.
func TestTimes_withOffsets_compareAsInstants(t *testing.T) {
	eaOnStores(t, func(t *testing.T, s *testServer) {
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
		eaWantError(t, s.do(clerk, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": lrAt(created.Add(-time.Minute), 5)}), "NOT_FOUND")
		var at struct{ Person *ppPerson }
		s.mustDo(clerk, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": lrAt(created.Add(time.Minute), -5)}, &at)
		if at.Person == nil || at.Person.ID != p.ID || at.Person.State != "PENDING" {
			t.Errorf("person at %s = %+v, want the pending registration", lrAt(created.Add(time.Minute), -5), at.Person)
		}
	})
}
