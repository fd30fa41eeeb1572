package main

// Cards, savings goals and bills over real HTTP on PostgreSQL: the success path of every
// operation with the exact balance of every account it touches (main, cards, goals), every
// refusal the contract names with nothing changed after it, races (one payment per bill, one
// withdrawal of a whole goal, card transfers that conserve money), idempotency keys, a mixed
// workload checked against the ledger's invariants, and a card's statement.
//
// Cash-out has its own file (cashout_test.go). The "pt" helpers are in products_helpers_test.go.

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// 1. Success paths, with exact balances.

func TestCard_create_fullNumberShownOnce_luhnValidMaskedExpiring(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")

	first, second := ptCreateCardChecked(t, s, ann)

	// The full number is never shown again, whatever the viewer reads.
	cardFields := `id last4 maskedNumber expiresOn status createdAt balance { amount }
		account { id number iban kind } history(first: 10) { totalCount }`
	reads := []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"cards", `{ cards { ` + cardFields + ` } }`, nil},
		{"card(last4)", `query($l: String!) { card(last4: $l) { ` + cardFields + ` } }`, map[string]any{"l": first.Last4}},
		{"node", `query($id: ID!) { node(id: $id) { ... on Card { ` + cardFields + ` } } }`, map[string]any{"id": first.ID}},
		{"nodes", `query($id: ID!) { nodes(ids: [$id]) { ... on Card { ` + cardFields + ` } } }`, map[string]any{"id": first.ID}},
		{"me.customer.cards", `{ me { customer { cards { ` + cardFields + ` } } } }`, nil},
	}
	for _, rd := range reads {
		r := s.do(ann, rd.query, rd.vars)
		if len(r.Errors) > 0 {
			t.Errorf("%s: %+v", rd.name, r.Errors)
			continue
		}
		data := string(r.Data)
		for _, form := range []string{first.Number, ptGrouped(first.Number, " "), ptGrouped(first.Number, "-"), first.Number[:12]} {
			if strings.Contains(data, form) {
				t.Errorf("%s shows the full number (%s): %s", rd.name, form, data)
			}
		}
		if !strings.Contains(data, first.Last4) || !strings.Contains(data, `"kind":"CARD"`) {
			t.Errorf("%s = %s, want the card", rd.name, data)
		}
	}
	var list struct{ Cards []struct{ ID string } }
	s.mustDo(ann, `{ cards { id } }`, nil, &list)
	if len(list.Cards) != 2 || list.Cards[0].ID != first.ID || list.Cards[1].ID != second.ID {
		t.Errorf("ann's cards = %+v, want %s then %s", list.Cards, first.ID, second.ID)
	}
	s.mustDo(ben, `{ cards { id } }`, nil, &list)
	if len(list.Cards) != 0 {
		t.Errorf("ben's cards = %+v, want none", list.Cards)
	}

	// At most ten active cards at a time.
	for range 8 {
		ptNewCard(t, s, ann)
	}
	before10 := ptSnapshot(t, s, admin, ann, ben)
	wantError(t, s.do(ann, ptCreateCardMutation, nil), "PRECONDITION_FAILED")
	eaUnchanged(t, before10, ptSnapshot(t, s, admin, ann, ben))
	ptWantTrue(t, s.do(ann, ptDeleteCardMutation, map[string]any{"n": second.Number}))
	ptNewCard(t, s, ann)
	if got := len(ptBalances(t, s, ann)); got != 11 {
		t.Errorf("ann holds %d accounts, want main and 10 cards", got)
	}
}

// ptCreateCardChecked creates two cards of ann (holding 100) and checks the first in every field.
func ptCreateCardChecked(t *testing.T, s *testServer, ann string) (first, second ptCard) {
	t.Helper()
	before := time.Now()
	var out struct {
		CreateCard struct {
			Number string
			Card   struct {
				ID, Last4, MaskedNumber, ExpiresOn, Status, CreatedAt string
				Balance                                               struct{ Amount, Currency string }
				Account                                               struct {
					Kind    string
					Balance struct{ Amount string }
					Owner   struct{ Name string }
				}
			}
		}
	}
	s.mustDo(ann, `mutation { createCard { number card { id last4 maskedNumber expiresOn status createdAt
		balance { amount currency } account { kind balance { amount } owner { name } } } } }`, nil, &out)
	after := time.Now()
	n, c := out.CreateCard.Number, out.CreateCard.Card
	if !regexp.MustCompile(`^400000[0-9]{10}$`).MatchString(n) || !ptLuhnValid(n) {
		t.Fatalf("number %q: want 16 digits starting with 400000 and Luhn-valid", n)
	}
	if c.Last4 != n[12:] || c.MaskedNumber != "**** **** **** "+n[12:] {
		t.Errorf("last4 %q maskedNumber %q for number %s", c.Last4, c.MaskedNumber, n)
	}
	if c.ExpiresOn != ptExpiry(before) && c.ExpiresOn != ptExpiry(after) {
		t.Errorf("expiresOn = %q, want %s (the end of the month four years ahead)", c.ExpiresOn, ptExpiry(after))
	}
	if created, err := time.Parse(time.RFC3339, c.CreatedAt); err != nil ||
		created.Before(before.Add(-time.Second)) || created.After(after.Add(time.Second)) {
		t.Errorf("createdAt = %q (%v), want between %v and %v", c.CreatedAt, err, before, after)
	}
	if c.Status != "ACTIVE" || c.Balance.Amount != "0.00" || c.Balance.Currency != "EUR" ||
		c.Account.Kind != "CARD" || c.Account.Balance.Amount != "0.00" || c.Account.Owner.Name != "Ann" {
		t.Errorf("new card = %+v, want ACTIVE, 0.00 EUR, on a CARD account of Ann", c)
	}
	second = ptNewCard(t, s, ann)
	if second.Number == n || second.ID == c.ID || !ptLuhnValid(second.Number) {
		t.Errorf("second card %+v: want a new Luhn-valid number and ID (first %s %s)", second, n, c.ID)
	}
	first = ptCard{ID: c.ID, Number: n, Last4: c.Last4}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "100.00", first.key(): "0.00", second.key(): "0.00"})
	return first, second
}

func TestFundCard_andDefundCard_moveExactAmountsBetweenMainAndCard(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "100")
	c := ptNewCard(t, s, ann)

	var fund struct {
		ID, Kind, Status string
		Amount           struct{ Amount string }
		Entries          []struct {
			Type                 string
			Amount, BalanceAfter struct{ Amount string }
			Account              struct{ Kind string }
		}
	}
	ptOne(t, ptIn(t, s, ann, `mutation($in: CardMoveInput!) { fundCard(input: $in) { id kind status amount { amount }
		entries { type amount { amount } balanceAfter { amount } account { kind } } } }`, ptCardMove(c.ID, "30")), &fund)
	if fund.Kind != "CARD_TRANSFER" || fund.Status != "POSTED" || fund.Amount.Amount != "30.00" || len(fund.Entries) != 2 ||
		fund.Entries[0].Type != "SEND" || fund.Entries[0].Account.Kind != "MAIN" || fund.Entries[0].BalanceAfter.Amount != "70.00" ||
		fund.Entries[1].Type != "RECEIVE" || fund.Entries[1].Account.Kind != "CARD" || fund.Entries[1].BalanceAfter.Amount != "30.00" {
		t.Errorf("fundCard = %+v, want a posted CARD_TRANSFER of 30.00: main SEND to 70.00, card RECEIVE to 30.00", fund)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "70.00", c.key(): "30.00"})

	ptWantTxn(t, ptMove(t, s, ann, ptDefundCardMutation, ptCardMove(c.ID, "12.5")), "CARD_TRANSFER", "POSTED", "12.50")
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "82.50", c.key(): "17.50"})
	var avail struct {
		Cards []struct {
			Account struct{ Available struct{ Amount string } }
		}
	}
	s.mustDo(ann, `{ cards { account { available { amount } } } }`, nil, &avail)
	if st := eaStateOf(t, s, ann); st.Available != "82.50" || st.PendingCount != 0 || st.Entries != 3 ||
		len(avail.Cards) != 1 || avail.Cards[0].Account.Available.Amount != "17.50" {
		t.Errorf("main %+v, card %+v: want available 82.50 with 3 entries and 17.50 on the card", st, avail.Cards)
	}

	// The whole main balance may go to the card, and the whole card balance back.
	ptWantTxn(t, ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "82.50")), "CARD_TRANSFER", "POSTED", "82.50")
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", c.key(): "100.00"})
	ptWantTxn(t, ptMove(t, s, ann, ptDefundCardMutation, ptCardMove(c.ID, "100.00")), "CARD_TRANSFER", "POSTED", "100.00")
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "100.00", c.key(): "0.00"})
	if n := ptCountTxns(t, s, admin, "CARD_TRANSFER", "POSTED"); n != 4 {
		t.Errorf("posted card transfers = %d, want 4", n)
	}
}

func TestTransferBetweenCards_toOwnAndAnotherCustomersCard_exactBalances(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	s.mint(admin, "ben", "20")
	a, a2, b := ptNewCard(t, s, ann), ptNewCard(t, s, ann), ptNewCard(t, s, ben)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "50"))
	ptMove(t, s, ben, ptFundCardMutation, ptCardMove(b.ID, "10"))

	// To another customer's card, the number written in groups.
	ptWantTxn(t, ptMove(t, s, ann, ptTransferMutation, ptCardTransfer(a.Number, ptGrouped(b.Number, " "), "20.25")),
		"CARD_TRANSFER", "POSTED", "20.25")
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "50.00", a.key(): "29.75", a2.key(): "0.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "10.00", b.key(): "30.25"})

	// Between the viewer's own cards.
	ptWantTxn(t, ptMove(t, s, ann, ptTransferMutation, ptCardTransfer(a.Number, a2.Number, "4.75")), "CARD_TRANSFER", "POSTED", "4.75")
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "50.00", a.key(): "25.00", a2.key(): "4.75"})

	// Back the other way, the numbers written with dashes.
	ptWantTxn(t, ptMove(t, s, ben, ptTransferMutation, ptCardTransfer(ptGrouped(b.Number, "-"), ptGrouped(a2.Number, "-"), "0.25")),
		"CARD_TRANSFER", "POSTED", "0.25")
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "50.00", a.key(): "25.00", a2.key(): "5.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "10.00", b.key(): "30.00"})

	// The whole card balance may leave.
	ptMove(t, s, ann, ptTransferMutation, ptCardTransfer(a.Number, b.Number, "25"))
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "50.00", a.key(): "0.00", a2.key(): "5.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "10.00", b.key(): "55.00"})
	ptCheckAllAccounts(t, s, admin, 0)
}

func TestDeleteCard_onlyWhenEmpty_thenGoneButHistoryStays(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	s.mint(admin, "ben", "5")
	c, b := ptNewCard(t, s, ann), ptNewCard(t, s, ben)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "10"))
	ptMove(t, s, ben, ptFundCardMutation, ptCardMove(b.ID, "5"))

	before := ptSnapshot(t, s, admin, ann, ben)
	wantError(t, s.do(ann, ptDeleteCardMutation, map[string]any{"n": c.Number}), "PRECONDITION_FAILED")
	eaUnchanged(t, before, ptSnapshot(t, s, admin, ann, ben))
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "90.00", c.key(): "10.00"})

	ptMove(t, s, ann, ptDefundCardMutation, ptCardMove(c.ID, "10"))
	ptWantTrue(t, s.do(ann, ptDeleteCardMutation, map[string]any{"n": ptGrouped(c.Number, " ")}))
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "100.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "0.00", b.key(): "5.00"})
	var list struct{ Cards []struct{ ID string } }
	s.mustDo(ann, `{ cards { id } }`, nil, &list)
	if len(list.Cards) != 0 {
		t.Errorf("cards after the delete = %+v, want none", list.Cards)
	}
	wantError(t, s.do(ann, ptCardByLast4Query, map[string]any{"l": c.Last4}), "NOT_FOUND")

	// The card itself stays readable by its owner, closed, with its history.
	var node struct {
		Node struct {
			Status  string
			Balance struct{ Amount string }
			History struct{ TotalCount int }
		}
	}
	s.mustDo(ann, `query($id: ID!) { node(id: $id) { ... on Card { status balance { amount } history { totalCount } } } }`,
		map[string]any{"id": c.ID}, &node)
	if node.Node.Status != "CLOSED" || node.Node.Balance.Amount != "0.00" || node.Node.History.TotalCount != 2 {
		t.Errorf("deleted card = %+v, want CLOSED, 0.00, its 2 entries", node.Node)
	}

	// Nothing reaches a deleted card any more.
	before = ptSnapshot(t, s, admin, ann, ben)
	wantError(t, ptIn(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "1")), "NOT_FOUND")
	wantError(t, ptIn(t, s, ann, ptDefundCardMutation, ptCardMove(c.ID, "1")), "NOT_FOUND")
	wantError(t, ptIn(t, s, ben, ptTransferMutation, ptCardTransfer(b.Number, c.Number, "1")), "NOT_FOUND")
	wantError(t, s.do(ann, ptDeleteCardMutation, map[string]any{"n": c.Number}), "NOT_FOUND")
	eaUnchanged(t, before, ptSnapshot(t, s, admin, ann, ben))
	ptCheckAllAccounts(t, s, admin, 0)
}

func TestSavings_topUpAndWithdraw_remainNeverNegative_deleteWhenEmpty(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "100")
	c := ptNewCard(t, s, ann)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "100"))

	bike := ptNewGoal(t, s, ann, "Bike", "50")
	if bike.Name != "Bike" || bike.Goal.Amount != "50.00" || bike.Balance.Amount != "0.00" || bike.Remain.Amount != "50.00" ||
		bike.Reached || bike.Account.Kind != "SAVINGS" {
		t.Errorf("new goal = %+v, want Bike 50.00, nothing saved, on a SAVINGS account", bike)
	}
	gk := ptGoalKey(bike.ID)
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", c.key(): "100.00", gk: "0.00"})

	steps := []struct {
		mutation, kind, amount string
		wantCard, wantGoal     string
		wantRemain             string
		wantReached            bool
		wantTxnAmount          string
	}{
		{ptTopUpMutation, "SAVINGS_TOP_UP", "20", "80.00", "20.00", "30.00", false, "20.00"},
		{ptTopUpMutation, "SAVINGS_TOP_UP", "30", "50.00", "50.00", "0.00", true, "30.00"},
		{ptTopUpMutation, "SAVINGS_TOP_UP", "15.01", "34.99", "65.01", "0.00", true, "15.01"},
		{ptWithdrawMutation, "SAVINGS_WITHDRAWAL", "15.02", "50.01", "49.99", "0.01", false, "15.02"},
		{ptWithdrawMutation, "SAVINGS_WITHDRAWAL", "49.99", "100.00", "0.00", "50.00", false, "49.99"},
	}
	for _, st := range steps {
		ptWantTxn(t, ptMove(t, s, ann, st.mutation, ptSavingsMove(bike.ID, c.ID, st.amount)), st.kind, "POSTED", st.wantTxnAmount)
		ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", c.key(): st.wantCard, gk: st.wantGoal})
		ptWantGoal(t, s, ann, bike.ID, st.wantGoal, st.wantRemain, st.wantReached)
	}

	trip := ptNewGoal(t, s, ann, "  Trip  ", "1000.00")
	if trip.Name != "Trip" {
		t.Errorf("goal name = %q, want it trimmed to Trip", trip.Name)
	}
	if goals := ptGoals(t, s, ann); len(goals) != 2 || goals[0].ID != bike.ID || goals[1].ID != trip.ID {
		t.Errorf("savingsGoals = %+v, want Bike then Trip", goals)
	}
	ptWantTrue(t, s.do(ann, ptDeleteGoalMutation, map[string]any{"id": bike.ID}))
	if goals := ptGoals(t, s, ann); len(goals) != 1 || goals[0].ID != trip.ID {
		t.Errorf("savingsGoals after deleting Bike = %+v, want Trip only", goals)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", c.key(): "100.00", ptGoalKey(trip.ID): "0.00"})
	wantError(t, s.do(ann, ptNodeQuery, map[string]any{"id": bike.ID}), "NOT_FOUND")
	var me struct {
		Me struct {
			Customer struct{ SavingsGoals []struct{ ID string } }
		}
	}
	s.mustDo(ann, `{ me { customer { savingsGoals { id } } } }`, nil, &me)
	if g := me.Me.Customer.SavingsGoals; len(g) != 1 || g[0].ID != trip.ID {
		t.Errorf("me.customer.savingsGoals = %+v, want Trip only", g)
	}
	if n := ptCountTxns(t, s, admin, "SAVINGS_TOP_UP", "POSTED") + ptCountTxns(t, s, admin, "SAVINGS_WITHDRAWAL", "POSTED"); n != 5 {
		t.Errorf("posted savings moves = %d, want 5", n)
	}
}

func TestBills_byDueDate_filteredByPaid_payBillRecordsThePayment(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	c := ptNewCard(t, s, ann)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "60"))

	now := time.Now().UTC().Truncate(time.Second)
	rentDue := now.Add(20 * 24 * time.Hour)
	rent := ptNewBill(t, s, ann, "Rent", "500", rentDue)
	power := ptNewBill(t, s, ann, "Power", "40.1", now.Add(5*24*time.Hour))
	ptNewBill(t, s, ann, "Water", "15.00", now.Add(10*24*time.Hour))
	ptNewBill(t, s, ann, "Phone", "25", now.Add(-2*24*time.Hour))
	ptNewBill(t, s, ben, "Gas", "5", now)
	if due, err := time.Parse(time.RFC3339, rent.DueDate); err != nil || !due.Equal(rentDue) || rent.Name != "Rent" ||
		rent.Amount.Amount != "500.00" || rent.Paid || rent.PaidAt != nil || rent.PaidWith != nil || rent.Transaction != nil {
		t.Errorf("new bill = %+v (%v), want Rent 500.00 due %v, unpaid", rent, err, rentDue)
	}

	ptWantBillListings(t, s, ann, ben)

	before := time.Now()
	var paid ptBill
	ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptPayment(power.ID, c.Number)), &paid)
	if paid.ID != power.ID || !paid.Paid || paid.PaidAt == nil || paid.PaidWith == nil || paid.PaidWith.ID != c.ID ||
		paid.PaidWith.Last4 != c.Last4 || paid.Transaction == nil {
		t.Fatalf("payBill = %+v, want Power paid with card %s", paid, c.Last4)
	}
	ptWantTxn(t, *paid.Transaction, "BILL_PAYMENT", "POSTED", "40.10")
	if at, err := time.Parse(time.RFC3339, *paid.PaidAt); err != nil || at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("paidAt = %q (%v), want now", *paid.PaidAt, err)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "40.00", c.key(): "19.90"})

	if p := ptBills(t, s, ann, 10, nil, true); !slices.Equal(p.names(), []string{"Power"}) || p.TotalCount != 1 ||
		!p.Edges[0].Node.Paid || p.Edges[0].Node.PaidWith == nil || p.Edges[0].Node.PaidWith.Last4 != c.Last4 {
		t.Errorf("paid bills = %+v, want Power paid with %s", p, c.Last4)
	}
	if p := ptBills(t, s, ann, 10, nil, false); !slices.Equal(p.names(), []string{"Phone", "Water", "Rent"}) {
		t.Errorf("unpaid bills = %v, want [Phone Water Rent]", p.names())
	}
	var me struct {
		Me struct {
			Customer struct {
				Bills struct {
					TotalCount int
					Edges      []struct{ Node struct{ Name string } }
				}
			}
		}
	}
	s.mustDo(ann, `{ me { customer { bills(first: 10, paid: true) { totalCount edges { node { name } } } } } }`, nil, &me)
	if b := me.Me.Customer.Bills; b.TotalCount != 1 || len(b.Edges) != 1 || b.Edges[0].Node.Name != "Power" {
		t.Errorf("me.customer.bills(paid: true) = %+v, want Power", b)
	}
	if clearing := ptCheckAllAccounts(t, s, admin, 0); clearing["BILL_PAYMENT"] != 4010 {
		t.Errorf("bill-payment clearing account = %d minor units, want 4010", clearing["BILL_PAYMENT"])
	}
}

// ptWantBillListings checks ann's four unpaid bills by due date, in pages, by paid, and ben's one.
func ptWantBillListings(t *testing.T, s *testServer, ann, ben string) {
	t.Helper()
	all := ptBills(t, s, ann, 10, nil, nil)
	if want := []string{"Phone", "Power", "Water", "Rent"}; all.TotalCount != 4 || !slices.Equal(all.names(), want) {
		t.Errorf("bills = %d %v, want 4 %v (by due date)", all.TotalCount, all.names(), want)
	}
	page1 := ptBills(t, s, ann, 2, nil, nil)
	page2 := ptBills(t, s, ann, 2, page1.PageInfo.EndCursor, nil)
	if !slices.Equal(page1.names(), []string{"Phone", "Power"}) || !page1.PageInfo.HasNextPage ||
		!slices.Equal(page2.names(), []string{"Water", "Rent"}) || page2.PageInfo.HasNextPage {
		t.Errorf("pages %v (next %v) and %v (next %v), want [Phone Power] then [Water Rent]", page1.names(),
			page1.PageInfo.HasNextPage, page2.names(), page2.PageInfo.HasNextPage)
	}
	if p := ptBills(t, s, ann, 10, nil, true); p.TotalCount != 0 || len(p.Edges) != 0 {
		t.Errorf("paid bills before any payment = %v", p.names())
	}
	if p := ptBills(t, s, ann, 10, nil, false); p.TotalCount != 4 {
		t.Errorf("unpaid bills = %v, want all 4", p.names())
	}
	if p := ptBills(t, s, ben, 10, nil, nil); !slices.Equal(p.names(), []string{"Gas"}) {
		t.Errorf("ben's bills = %v, want only his Gas", p.names())
	}
}

// 2. Refusals: the exact code, the fields named, and nothing changed.

func TestCard_refusedCalls_changeNothing(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	s.mint(admin, "ben", "10")
	a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ben)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "30"))
	ptMove(t, s, ben, ptFundCardMutation, ptCardMove(b.ID, "5"))
	annIDs := eaAccountOf(t, s, ann)
	tests := ptCardRefusalCases(a, b, annIDs)
	tokens := map[string]string{"": "", "admin": admin, "ann": ann, "ben": ben}
	ptRefusals(t, s, admin, tokens, []string{ann, ben}, tests)
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "70.00", a.key(): "30.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "5.00", b.key(): "5.00"})
	if n := ptCountTxns(t, s, admin, "CARD_TRANSFER", "POSTED"); n != 2 {
		t.Errorf("posted card transfers = %d, want the 2 fundings", n)
	}
}

// ptCardRefusalCases are the refused card calls of ann (card a) and ben (card b).
func ptCardRefusalCases(a, b ptCard, annIDs eaAccount) []ptCase {
	madeUpCard, madeUpNumber := eaMadeUpID(), ptMadeUpNumber()
	luhnInvalid := b.Number[:15] + string('0'+(b.Number[15]-'0'+1)%10)
	in := func(v map[string]any) map[string]any { return map[string]any{"in": v} }
	num := func(n string) map[string]any { return map[string]any{"n": n} }

	tests := []ptCase{
		{name: "fund zero", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "0")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund negative", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "-1")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund minus zero", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "-0.00")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund too many decimals", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "1.234")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund not a number", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "ten")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund with an exponent", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "1e1")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund a JSON number", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, 5)), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund in another currency", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "USD:5")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "fund more than main", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "70.01")), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "fund another's card", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(b.ID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptCardMove(madeUpCard, "1"))},
		{name: "fund a made-up card", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(madeUpCard, "1")), wantCode: "NOT_FOUND"},
		{name: "fund a main account's ID", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove(annIDs.AccountID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptCardMove(madeUpCard, "1"))},
		{name: "fund a malformed ID", as: "ann", query: ptFundCardMutation, vars: in(ptCardMove("not-an-id", "1")), wantCode: "BAD_USER_INPUT", wantFields: []string{"cardId"}},
		{name: "fund with a 65-character key", as: "ann", query: ptFundCardMutation, vars: in(ptWithKey(ptCardMove(a.ID, "1"), strings.Repeat("k", 65))),
			wantCode: "BAD_USER_INPUT", wantFields: []string{"idempotencyKey"}},
		{name: "fund by the admin", as: "admin", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "1")), wantCode: "FORBIDDEN"},
		{name: "fund unauthenticated", as: "", query: ptFundCardMutation, vars: in(ptCardMove(a.ID, "1")), wantCode: "UNAUTHENTICATED"},
		{name: "defund more than the card", as: "ann", query: ptDefundCardMutation, vars: in(ptCardMove(a.ID, "30.01")), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "defund zero", as: "ann", query: ptDefundCardMutation, vars: in(ptCardMove(a.ID, "0.00")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "defund another's card", as: "ann", query: ptDefundCardMutation, vars: in(ptCardMove(b.ID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptCardMove(madeUpCard, "1"))},
		{name: "defund by the admin", as: "admin", query: ptDefundCardMutation, vars: in(ptCardMove(a.ID, "1")), wantCode: "FORBIDDEN"},
		{name: "transfer zero", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, b.Number, "0")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "transfer negative", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, b.Number, "-5")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "transfer more than the card", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, b.Number, "30.01")), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "transfer from another's card", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(b.Number, a.Number, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptCardTransfer(madeUpNumber, a.Number, "1"))},
		{name: "transfer to an unknown card", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, madeUpNumber, "1")), wantCode: "NOT_FOUND"},
		{name: "transfer from a malformed number", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer("4000", b.Number, "1")),
			wantCode: "BAD_USER_INPUT", wantFields: []string{"fromCardNumber"}},
		{name: "transfer to a malformed number", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, "4000-00", "1")),
			wantCode: "BAD_USER_INPUT", wantFields: []string{"toCardNumber"}},
		{name: "transfer with every field malformed", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer("4000", "4000-00", "0")),
			wantCode: "BAD_USER_INPUT", wantFields: []string{"fromCardNumber", "toCardNumber", "amount"}},
		{name: "transfer to a number failing Luhn", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, luhnInvalid, "1")),
			wantCode: "BAD_USER_INPUT", wantFields: []string{"toCardNumber"}},
		{name: "transfer to the same card", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, ptGrouped(a.Number, " "), "1")),
			wantCode: "BAD_USER_INPUT", wantFields: []string{"toCardNumber"}},
		{name: "transfer by the admin", as: "admin", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, b.Number, "1")), wantCode: "FORBIDDEN"},
		{name: "delete a card holding money", as: "ann", query: ptDeleteCardMutation, vars: num(a.Number), wantCode: "PRECONDITION_FAILED"},
		{name: "delete another's card", as: "ann", query: ptDeleteCardMutation, vars: num(b.Number), wantCode: "NOT_FOUND", likeMadeUp: num(madeUpNumber)},
		{name: "delete an unknown card", as: "ann", query: ptDeleteCardMutation, vars: num(madeUpNumber), wantCode: "NOT_FOUND"},
		{name: "delete a malformed number", as: "ann", query: ptDeleteCardMutation, vars: num("1234 5678"), wantCode: "BAD_USER_INPUT", wantFields: []string{"cardNumber"}},
		{name: "delete by the admin", as: "admin", query: ptDeleteCardMutation, vars: num(a.Number), wantCode: "FORBIDDEN"},
		{name: "create by the admin", as: "admin", query: ptCreateCardMutation, wantCode: "FORBIDDEN"},
		{name: "create unauthenticated", as: "", query: ptCreateCardMutation, wantCode: "UNAUTHENTICATED"},
		{name: "cards by the admin", as: "admin", query: `{ cards { id } }`, wantCode: "FORBIDDEN"},
		{name: "card by last4 by the admin", as: "admin", query: ptCardByLast4Query, vars: map[string]any{"l": a.Last4}, wantCode: "FORBIDDEN"},
		{name: "another's card by node", as: "ann", query: ptNodeQuery, vars: map[string]any{"id": b.ID}, wantCode: "NOT_FOUND",
			likeMadeUp: map[string]any{"id": madeUpCard}},
	}
	if b.Last4 != a.Last4 {
		tests = append(tests, ptCase{name: "another's card by last4", as: "ann", query: ptCardByLast4Query,
			vars: map[string]any{"l": b.Last4}, wantCode: "NOT_FOUND", likeMadeUp: map[string]any{"l": "no-such"}})
	}
	return tests
}

func TestSavings_refusedCalls_changeNothing(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	s.mint(admin, "ben", "10")
	a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ben)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "50"))
	ptMove(t, s, ben, ptFundCardMutation, ptCardMove(b.ID, "10"))
	g, bg := ptNewGoal(t, s, ann, "Bike", "40"), ptNewGoal(t, s, ben, "Car", "900")
	ptMove(t, s, ann, ptTopUpMutation, ptSavingsMove(g.ID, a.ID, "20"))
	ptMove(t, s, ben, ptTopUpMutation, ptSavingsMove(bg.ID, b.ID, "5"))
	old := ptNewGoal(t, s, ann, "Old", "10")
	ptWantTrue(t, s.do(ann, ptDeleteGoalMutation, map[string]any{"id": old.ID}))
	madeUp := eaMadeUpID()
	in := func(v map[string]any) map[string]any { return map[string]any{"in": v} }
	goal := func(name string, amount any) map[string]any {
		return in(map[string]any{"name": name, "goal": amount})
	}
	id := func(v string) map[string]any { return map[string]any{"id": v} }

	tests := []ptCase{
		{name: "goal zero", as: "ann", query: ptCreateGoalMutation, vars: goal("Boat", "0"), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal"}},
		{name: "goal negative", as: "ann", query: ptCreateGoalMutation, vars: goal("Boat", "-5"), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal"}},
		{name: "goal not a number", as: "ann", query: ptCreateGoalMutation, vars: goal("Boat", "lots"), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal"}},
		{name: "goal a JSON number", as: "ann", query: ptCreateGoalMutation, vars: goal("Boat", 50), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal"}},
		{name: "goal without a name", as: "ann", query: ptCreateGoalMutation, vars: goal("  ", "10"), wantCode: "BAD_USER_INPUT", wantFields: []string{"name"}},
		{name: "goal with a long name", as: "ann", query: ptCreateGoalMutation, vars: goal(strings.Repeat("n", 101), "10"), wantCode: "BAD_USER_INPUT", wantFields: []string{"name"}},
		{name: "goal without a name or amount", as: "ann", query: ptCreateGoalMutation, vars: goal("", "lots"), wantCode: "BAD_USER_INPUT", wantFields: []string{"name", "goal"}},
		{name: "goal by the admin", as: "admin", query: ptCreateGoalMutation, vars: goal("Boat", "10"), wantCode: "FORBIDDEN"},
		{name: "top up zero", as: "ann", query: ptTopUpMutation, vars: in(ptSavingsMove(g.ID, a.ID, "0")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "top up more than the card", as: "ann", query: ptTopUpMutation, vars: in(ptSavingsMove(g.ID, a.ID, "30.01")), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "top up another's goal", as: "ann", query: ptTopUpMutation, vars: in(ptSavingsMove(bg.ID, a.ID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptSavingsMove(madeUp, a.ID, "1"))},
		{name: "top up from another's card", as: "ann", query: ptTopUpMutation, vars: in(ptSavingsMove(g.ID, b.ID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptSavingsMove(g.ID, madeUp, "1"))},
		{name: "top up a deleted goal", as: "ann", query: ptTopUpMutation, vars: in(ptSavingsMove(old.ID, a.ID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptSavingsMove(madeUp, a.ID, "1"))},
		{name: "top up by the admin", as: "admin", query: ptTopUpMutation, vars: in(ptSavingsMove(g.ID, a.ID, "1")), wantCode: "FORBIDDEN"},
		{name: "withdraw more than the goal", as: "ann", query: ptWithdrawMutation, vars: in(ptSavingsMove(g.ID, a.ID, "20.01")), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "withdraw negative", as: "ann", query: ptWithdrawMutation, vars: in(ptSavingsMove(g.ID, a.ID, "-1")), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "withdraw from another's goal", as: "ann", query: ptWithdrawMutation, vars: in(ptSavingsMove(bg.ID, a.ID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptSavingsMove(madeUp, a.ID, "1"))},
		{name: "withdraw to another's card", as: "ann", query: ptWithdrawMutation, vars: in(ptSavingsMove(g.ID, b.ID, "1")), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptSavingsMove(g.ID, madeUp, "1"))},
		{name: "delete a goal holding money", as: "ann", query: ptDeleteGoalMutation, vars: id(g.ID), wantCode: "PRECONDITION_FAILED"},
		{name: "delete another's goal", as: "ann", query: ptDeleteGoalMutation, vars: id(bg.ID), wantCode: "NOT_FOUND", likeMadeUp: id(madeUp)},
		{name: "delete a deleted goal", as: "ann", query: ptDeleteGoalMutation, vars: id(old.ID), wantCode: "NOT_FOUND", likeMadeUp: id(madeUp)},
		{name: "delete by the admin", as: "admin", query: ptDeleteGoalMutation, vars: id(g.ID), wantCode: "FORBIDDEN"},
		{name: "savingsGoals by the admin", as: "admin", query: `{ savingsGoals { id } }`, wantCode: "FORBIDDEN"},
		{name: "another's goal by node", as: "ann", query: ptNodeQuery, vars: id(bg.ID), wantCode: "NOT_FOUND", likeMadeUp: id(madeUp)},
	}
	tokens := map[string]string{"": "", "admin": admin, "ann": ann, "ben": ben}
	ptRefusals(t, s, admin, tokens, []string{ann, ben}, tests)
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "50.00", a.key(): "30.00", ptGoalKey(g.ID): "20.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "0.00", b.key(): "5.00", ptGoalKey(bg.ID): "5.00"})
	ptWantGoal(t, s, ann, g.ID, "20.00", "20.00", false)
}

func TestBill_refusedCalls_changeNothing(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	s.mint(admin, "ben", "10")
	a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ben)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "30"))
	ptMove(t, s, ben, ptFundCardMutation, ptCardMove(b.ID, "10"))
	due := time.Now().Add(72 * time.Hour)
	power := ptNewBill(t, s, ann, "Power", "40", due)
	water := ptNewBill(t, s, ann, "Water", "10", due)
	gas := ptNewBill(t, s, ben, "Gas", "5", due)
	ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptPayment(water.ID, a.Number)), &ptBill{})
	madeUp, madeUpNumber := eaMadeUpID(), ptMadeUpNumber()
	in := func(v map[string]any) map[string]any { return map[string]any{"in": v} }
	bill := func(name string, amount any, due any) map[string]any {
		return in(map[string]any{"name": name, "amount": amount, "dueDate": due})
	}
	dueText := due.UTC().Format(time.RFC3339)

	tests := []ptCase{
		{name: "bill of zero", as: "ann", query: ptCreateBillMutation, vars: bill("Tax", "0", dueText), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "bill negative", as: "ann", query: ptCreateBillMutation, vars: bill("Tax", "-3", dueText), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "bill not a number", as: "ann", query: ptCreateBillMutation, vars: bill("Tax", "3,50", dueText), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "bill without a name", as: "ann", query: ptCreateBillMutation, vars: bill("", "3", dueText), wantCode: "BAD_USER_INPUT", wantFields: []string{"name"}},
		{name: "bill with a malformed due date", as: "ann", query: ptCreateBillMutation, vars: bill("Tax", "3", "next week"), wantCode: "BAD_USER_INPUT", wantFields: []string{"dueDate"}},
		{name: "bill without a name or amount", as: "ann", query: ptCreateBillMutation, vars: bill(" ", "-1", dueText), wantCode: "BAD_USER_INPUT", wantFields: []string{"name", "amount"}},
		{name: "bill by the admin", as: "admin", query: ptCreateBillMutation, vars: bill("Tax", "3", dueText), wantCode: "FORBIDDEN"},
		{name: "pay a paid bill", as: "ann", query: ptPayBillMutation, vars: in(ptPayment(water.ID, a.Number)), wantCode: "PRECONDITION_FAILED"},
		{name: "pay more than the card", as: "ann", query: ptPayBillMutation, vars: in(ptPayment(power.ID, a.Number)), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "pay another's bill", as: "ann", query: ptPayBillMutation, vars: in(ptPayment(gas.ID, a.Number)), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptPayment(madeUp, a.Number))},
		{name: "pay a made-up bill", as: "ann", query: ptPayBillMutation, vars: in(ptPayment(madeUp, a.Number)), wantCode: "NOT_FOUND"},
		{name: "pay with another's card", as: "ann", query: ptPayBillMutation, vars: in(ptPayment(power.ID, b.Number)), wantCode: "NOT_FOUND",
			likeMadeUp: in(ptPayment(power.ID, madeUpNumber))},
		{name: "pay with a malformed number", as: "ann", query: ptPayBillMutation, vars: in(ptPayment(power.ID, "4000 0000")),
			wantCode: "BAD_USER_INPUT", wantFields: []string{"cardNumber"}},
		{name: "pay by the admin", as: "admin", query: ptPayBillMutation, vars: in(ptPayment(power.ID, a.Number)), wantCode: "FORBIDDEN"},
		{name: "pay unauthenticated", as: "", query: ptPayBillMutation, vars: in(ptPayment(power.ID, a.Number)), wantCode: "UNAUTHENTICATED"},
		{name: "bills by the admin", as: "admin", query: `{ bills(first: 5) { totalCount } }`, wantCode: "FORBIDDEN"},
		{name: "another's bill by node", as: "ann", query: ptNodeQuery, vars: map[string]any{"id": gas.ID}, wantCode: "NOT_FOUND",
			likeMadeUp: map[string]any{"id": madeUp}},
	}
	tokens := map[string]string{"": "", "admin": admin, "ann": ann, "ben": ben}
	ptRefusals(t, s, admin, tokens, []string{ann, ben}, tests)
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "70.00", a.key(): "20.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "0.00", b.key(): "10.00"})
	if p := ptBills(t, s, ann, 10, nil, false); !slices.Equal(p.names(), []string{"Power"}) {
		t.Errorf("unpaid bills = %v, want Power only", p.names())
	}

	// The bill refused for funds is payable once the card holds enough.
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "20"))
	var paid ptBill
	ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptPayment(power.ID, a.Number)), &paid)
	if !paid.Paid || paid.Transaction == nil || paid.Transaction.Amount.Amount != "40.00" {
		t.Errorf("payBill after funding = %+v, want Power paid", paid)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "50.00", a.key(): "0.00"})
}

// 3. Races.

func TestPayBill_twentyConcurrent_paysOnce(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "1000")
	a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ann)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "300"))
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(b.ID, "300"))
	due := time.Now().Add(24 * time.Hour)
	rent := ptNewBill(t, s, ann, "Rent", "25", due)
	power := ptNewBill(t, s, ann, "Power", "25", due)
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "400.00", a.key(): "300.00", b.key(): "300.00"})

	// The first bill payments ever: twenty at once on one card, then twenty split over two cards.
	races := []struct {
		bill  ptBill
		cards []ptCard
	}{{rent, []ptCard{a}}, {power, []ptCard{a, b}}}
	paidWith := map[string]string{}
	for _, race := range races {
		codes := ptRace(20, func(i int) (gqlResponse, error) {
			card := race.cards[i%len(race.cards)]
			return s.post(ann, ptPayBillMutation, map[string]any{"in": ptPayment(race.bill.ID, card.Number)})
		})
		if got := ptTally(codes); got[""] != 1 || got["PRECONDITION_FAILED"] != 19 {
			t.Errorf("20 concurrent payments of %s: %v, want 1 success and 19 PRECONDITION_FAILED", race.bill.Name, got)
		}
		for i, c := range codes {
			if c == "" {
				paidWith[race.bill.Name] = race.cards[i%len(race.cards)].ID
			}
		}
	}
	paid := ptBills(t, s, ann, 10, nil, true)
	if paid.TotalCount != 2 {
		t.Fatalf("paid bills = %v, want both", paid.names())
	}
	for _, e := range paid.Edges {
		if e.Node.PaidWith == nil || e.Node.PaidWith.ID != paidWith[e.Node.Name] {
			t.Errorf("%s paid with %+v, want the card of the one successful call %s", e.Node.Name, e.Node.PaidWith, paidWith[e.Node.Name])
		}
	}
	want := map[string]string{"main": "400.00", a.key(): "275.00", b.key(): "300.00"}
	if paidWith["Power"] == a.ID {
		want[a.key()] = "250.00"
	} else {
		want[b.key()] = "275.00"
	}
	ptWantBalances(t, s, ann, "ann", want)
	if n := ptCountTxns(t, s, admin, "BILL_PAYMENT", "POSTED"); n != 2 {
		t.Errorf("posted bill payments = %d, want 2", n)
	}
	if clearing := ptCheckAllAccounts(t, s, admin, 0); clearing["BILL_PAYMENT"] != 5000 {
		t.Errorf("bill-payment clearing account = %d minor units, want 5000", clearing["BILL_PAYMENT"])
	}
}

func TestWithdrawSavings_twentyConcurrentOfTheWholeBalance_succeedsOnce(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "100")
	c := ptNewCard(t, s, ann)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "100"))
	g := ptNewGoal(t, s, ann, "Car", "500")
	ptMove(t, s, ann, ptTopUpMutation, ptSavingsMove(g.ID, c.ID, "50"))
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", c.key(): "50.00", ptGoalKey(g.ID): "50.00"})

	codes := ptRace(20, func(int) (gqlResponse, error) {
		return s.post(ann, ptWithdrawMutation, map[string]any{"in": ptSavingsMove(g.ID, c.ID, "50")})
	})
	if got := ptTally(codes); got[""] != 1 || got["INSUFFICIENT_FUNDS"] != 19 {
		t.Errorf("20 concurrent withdrawals of the whole goal: %v, want 1 success and 19 INSUFFICIENT_FUNDS", got)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", c.key(): "100.00", ptGoalKey(g.ID): "0.00"})
	ptWantGoal(t, s, ann, g.ID, "0.00", "500.00", false)
	if n := ptCountTxns(t, s, admin, "SAVINGS_WITHDRAWAL", "POSTED"); n != 1 {
		t.Errorf("posted withdrawals = %d, want 1", n)
	}
	ptCheckAllAccounts(t, s, admin, 0)
}

func TestTransferBetweenCards_concurrentAmongFourCustomers_conserveMoney(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	const customers = 4
	tokens := make([]string, customers)
	cards := make([]ptCard, customers)
	for i := range customers {
		name := fmt.Sprintf("card%d", i)
		tokens[i] = s.customer(admin, name)
		s.mint(admin, name, "100")
		cards[i] = ptNewCard(t, s, tokens[i])
		ptMove(t, s, tokens[i], ptFundCardMutation, ptCardMove(cards[i].ID, "100"))
	}
	const clients, transfers = 8, 25
	var ok, funds atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(c), 11))
			from := c % customers
			for range transfers {
				to := (from + 1 + rnd.IntN(customers-1)) % customers
				amount := fmt.Sprintf("%d.%02d", rnd.IntN(60), 1+rnd.IntN(99))
				r, err := s.post(tokens[from], ptTransferMutation, map[string]any{"in": ptCardTransfer(cards[from].Number, cards[to].Number, amount)})
				switch {
				case err != nil:
					t.Error(err)
				case len(r.Errors) == 0:
					ok.Add(1)
				case r.code() == "INSUFFICIENT_FUNDS":
					funds.Add(1)
				default:
					t.Errorf("transferBetweenCards: %+v", r.Errors)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() == 0 || funds.Load() == 0 || ok.Load()+funds.Load() != clients*transfers {
		t.Errorf("%d successes and %d INSUFFICIENT_FUNDS of %d, want both kinds and nothing else", ok.Load(), funds.Load(), clients*transfers)
	}
	if n := ptCountTxns(t, s, admin, "CARD_TRANSFER", "POSTED"); n != customers+int(ok.Load()) {
		t.Errorf("posted card transfers = %d, want %d fundings + %d successes", n, customers, ok.Load())
	}
	var sum int64
	finals := make([]string, customers)
	for i := range customers {
		got := ptBalances(t, s, tokens[i])
		finals[i] = got[cards[i].key()]
		if len(got) != 2 || got["main"] != "0.00" {
			t.Errorf("customer %d balances %v, want an empty main and the card", i, got)
		}
		sum += minor(t, finals[i])
	}
	if sum != customers*10000 {
		t.Errorf("cards sum to %d minor units (%v), want %d", sum, finals, customers*10000)
	}
	ptCheckAllAccounts(t, s, admin, 0)

	// With the cards emptied back to the main accounts, the base invariants hold as well.
	for i := range customers {
		if finals[i] != "0.00" {
			ptMove(t, s, tokens[i], ptDefundCardMutation, ptCardMove(cards[i].ID, finals[i]))
		}
		ptWantBalances(t, s, tokens[i], fmt.Sprintf("customer %d", i), map[string]string{"main": finals[i], cards[i].key(): "0.00"})
	}
	checkLedgerInvariants(t, s, admin, 0)
}

// TestDeleteCard_racingFundCard_neverClosesACardHoldingMoney: a deletion racing fundings either
// loses (the card keeps what reached it) or wins (every later funding is refused); a closed card
// never holds money.
func TestDeleteCard_racingFundCard_neverClosesACardHoldingMoney(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "100")
	c := ptNewCard(t, s, ann)
	codes := ptRace(11, func(i int) (gqlResponse, error) {
		if i == 0 {
			return s.post(ann, ptDeleteCardMutation, map[string]any{"n": c.Number})
		}
		return s.post(ann, ptFundCardMutation, map[string]any{"in": ptCardMove(c.ID, "1")})
	})
	funded := ptTally(codes[1:])[""]
	for i, code := range codes[1:] {
		if code != "" && code != "NOT_FOUND" && code != "PRECONDITION_FAILED" {
			t.Errorf("funding %d: %q, want success, NOT_FOUND or PRECONDITION_FAILED (card closed)", i, code)
		}
	}
	var node struct {
		Node struct {
			Status  string
			Balance struct{ Amount string }
		}
	}
	s.mustDo(ann, `query($id: ID!) { node(id: $id) { ... on Card { status balance { amount } } } }`, map[string]any{"id": c.ID}, &node)
	main := fmt.Sprintf("%d.00", 100-funded)
	switch codes[0] {
	case "":
		// Deleted while empty: no funding can have reached it, before or after.
		if funded != 0 || node.Node.Status != "CLOSED" || node.Node.Balance.Amount != "0.00" {
			t.Errorf("deleted card %+v after %d successful fundings, want CLOSED, 0.00 and none", node.Node, funded)
		}
		ptWantBalances(t, s, ann, "ann", map[string]string{"main": "100.00"})
	case "PRECONDITION_FAILED":
		if funded == 0 || node.Node.Status != "ACTIVE" {
			t.Errorf("deletion refused with %d successful fundings, card %+v: want some, and the card ACTIVE", funded, node.Node)
		}
		ptWantBalances(t, s, ann, "ann", map[string]string{"main": main, c.key(): fmt.Sprintf("%d.00", funded)})
	default:
		t.Errorf("deleteCard: %q, want success or PRECONDITION_FAILED", codes[0])
	}
	ptCheckAllAccounts(t, s, admin, 0)
}

// 4. Idempotency.

func TestFundCard_idempotencyKey_movesMoneyOnceAndReturnsTheSameTransaction(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	s.mint(admin, "ben", "10")
	a, a2, b := ptNewCard(t, s, ann), ptNewCard(t, s, ann), ptNewCard(t, s, ben)

	first := ptMove(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a.ID, "10"), "k1"))
	again := ptMove(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a.ID, "10"), "k1"))
	if again != first {
		t.Errorf("retry = %+v, want the first transaction %+v", again, first)
	}
	// The same amount written another way is the same request.
	if again := ptMove(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a.ID, "10.00"), "k1")); again != first {
		t.Errorf("retry with 10.00 = %+v, want the first transaction %+v", again, first)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "90.00", a.key(): "10.00", a2.key(): "0.00"})

	// Retries racing each other still move the money once.
	ids := make([]string, 10)
	codes := ptRace(10, func(i int) (gqlResponse, error) {
		r, err := s.post(ann, ptFundCardMutation, map[string]any{"in": ptWithKey(ptCardMove(a.ID, "5"), "k-race")})
		var txn ptTxn
		if err == nil && len(r.Errors) == 0 && ptDecodeOne(r, &txn) == nil {
			ids[i] = txn.ID
		}
		return r, err
	})
	if got := ptTally(codes); got[""] != 10 {
		t.Errorf("10 racing retries: %v, want all to succeed", got)
	}
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Errorf("racing retries returned %v, want one transaction", ids)
			break
		}
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "85.00", a.key(): "15.00", a2.key(): "0.00"})

	before := ptSnapshot(t, s, admin, ann, ben)
	for name, r := range map[string]gqlResponse{
		"another amount":    ptIn(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a.ID, "11"), "k1")),
		"another card":      ptIn(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a2.ID, "10"), "k1")),
		"another operation": ptIn(t, s, ann, ptDefundCardMutation, ptWithKey(ptCardMove(a.ID, "10"), "k1")),
		"a savings move":    ptIn(t, s, ann, ptTopUpMutation, ptWithKey(ptSavingsMove(eaMadeUpID(), a.ID, "10"), "k1")),
	} {
		t.Run(name, func(t *testing.T) { wantError(t, r, "CONFLICT", "idempotencyKey") })
	}
	eaUnchanged(t, before, ptSnapshot(t, s, admin, ann, ben))

	// A key belongs to its user; 64 characters are allowed.
	if other := ptMove(t, s, ben, ptFundCardMutation, ptWithKey(ptCardMove(b.ID, "10"), "k1")); other.ID == first.ID {
		t.Error("ben's request under ann's key returned ann's transaction")
	}
	ptMove(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a2.ID, "1"), strings.Repeat("k", 64)))
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "84.00", a.key(): "15.00", a2.key(): "1.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "0.00", b.key(): "10.00"})

	// A refused request leaves its key unused.
	before = ptSnapshot(t, s, admin, ann, ben)
	wantError(t, ptIn(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a.ID, "84.01"), "k-big")), "INSUFFICIENT_FUNDS")
	eaUnchanged(t, before, ptSnapshot(t, s, admin, ann, ben))
	ptMove(t, s, ann, ptFundCardMutation, ptWithKey(ptCardMove(a.ID, "84"), "k-big"))
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", a.key(): "99.00", a2.key(): "1.00"})
}

func TestPayBill_idempotencyKey_paysOnceAndReturnsTheSameBill(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "100")
	a, a2 := ptNewCard(t, s, ann), ptNewCard(t, s, ann)
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "50"))
	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a2.ID, "50"))
	due := time.Now().Add(24 * time.Hour)
	rent, gym := ptNewBill(t, s, ann, "Rent", "20", due), ptNewBill(t, s, ann, "Gym", "7", due)

	var first, again ptBill
	ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptWithKey(ptPayment(rent.ID, a.Number), "pay-1")), &first)
	ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptWithKey(ptPayment(rent.ID, a.Number), "pay-1")), &again)
	if !first.Paid || first.Transaction == nil || again.ID != rent.ID || again.Transaction == nil ||
		again.Transaction.ID != first.Transaction.ID || again.PaidAt == nil || *again.PaidAt != *first.PaidAt {
		t.Fatalf("retry = %+v, want the first payment %+v", again, first)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", a.key(): "30.00", a2.key(): "50.00"})

	before := ptSnapshot(t, s, admin, ann)
	for _, tt := range []struct {
		name     string
		in       map[string]any
		wantCode string
		fields   []string
	}{
		{"same key, another card", ptWithKey(ptPayment(rent.ID, a2.Number), "pay-1"), "CONFLICT", []string{"idempotencyKey"}},
		{"same key, another bill", ptWithKey(ptPayment(gym.ID, a.Number), "pay-1"), "CONFLICT", []string{"idempotencyKey"}},
		{"no key", ptPayment(rent.ID, a.Number), "PRECONDITION_FAILED", nil},
		{"a new key", ptWithKey(ptPayment(rent.ID, a.Number), "pay-2"), "PRECONDITION_FAILED", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ptIn(t, s, ann, ptPayBillMutation, tt.in), tt.wantCode, tt.fields...)
		})
	}
	eaUnchanged(t, before, ptSnapshot(t, s, admin, ann))
	if n := ptCountTxns(t, s, admin, "BILL_PAYMENT", "POSTED"); n != 1 {
		t.Errorf("posted bill payments = %d, want 1", n)
	}
	// The key of the refused "pay-2" was not consumed: it pays another bill.
	var gymPaid ptBill
	ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptWithKey(ptPayment(gym.ID, a2.Number), "pay-2")), &gymPaid)
	if !gymPaid.Paid || gymPaid.PaidWith == nil || gymPaid.PaidWith.ID != a2.ID {
		t.Errorf("payBill(Gym) = %+v, want paid with the second card", gymPaid)
	}
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", a.key(): "30.00", a2.key(): "43.00"})
}

// 5. A mixed workload.

// TestProducts_mixedWorkload_ledgerInvariantsHold runs four customers at once, each doing random
// transfers, card moves, savings moves, bill payments and cash-outs (confirmed with the TAN from
// the outbox, or aborted), some failing for funds, then checks every account of the bank.
func TestProducts_mixedWorkload_ledgerInvariantsHold(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	const customers, ops = 4, 30
	parties := make([]*ptMixParty, customers)
	for i := range customers {
		parties[i] = ptMixSetUp(t, s, admin, fmt.Sprintf("mix%d", i))
	}
	var tally ptMixTally
	var wg sync.WaitGroup
	for i, p := range parties {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 5))
			for op := range ops {
				amount := fmt.Sprintf("%d.%02d", rnd.IntN(40), 1+rnd.IntN(99))
				other := parties[(i+1+rnd.IntN(customers-1))%customers]
				p.step(t, s, op, amount, other, rnd, &tally)
			}
		}()
	}
	wg.Wait()
	ptMixCheck(t, s, admin, parties, &tally)
}

// ptMixParty is a customer of the mixed workload with their card, goal and bills.
type ptMixParty struct {
	name, token string
	card        ptCard
	goal        string
	bills       []ptBill
	nextBill    int
}

// ptMixTally counts what the mixed workload did, for the checks after it.
type ptMixTally struct {
	transfers, paidMinor, confirmedMinor, confirmed, aborted, paidBills atomic.Int64
}

// ptMixSetUp creates a customer holding 300 with a card, a goal of 100 and four bills.
func ptMixSetUp(t *testing.T, s *testServer, admin, name string) *ptMixParty {
	p := &ptMixParty{name: name}
	p.token = ptCustomerWithAddress(t, s, admin, p.name, "")
	s.mint(admin, p.name, "300")
	p.card = ptNewCard(t, s, p.token)
	p.goal = ptNewGoal(t, s, p.token, "Goal", "100").ID
	for j := range 4 {
		p.bills = append(p.bills, ptNewBill(t, s, p.token, fmt.Sprintf("Bill %d", j), fmt.Sprintf("%d.%02d", 5+j*15, j), time.Now().Add(time.Duration(j)*time.Hour)))
	}
	return p
}

// do runs a mutation of p's; INSUFFICIENT_FUNDS is a normal refusal, any other error fails t.
func (p *ptMixParty) do(t *testing.T, s *testServer, what, mutation string, in map[string]any) (gqlResponse, bool) {
	r, err := s.post(p.token, mutation, map[string]any{"in": in})
	switch {
	case err != nil:
		t.Errorf("%s %s: %v", p.name, what, err)
	case len(r.Errors) == 0:
		return r, true
	case r.code() != "INSUFFICIENT_FUNDS":
		t.Errorf("%s %s: %+v", p.name, what, r.Errors)
	}
	return r, false
}

// step runs operation number op of p's: each of eight kinds in turn.
func (p *ptMixParty) step(t *testing.T, s *testServer, op int, amount string, other *ptMixParty, rnd *rand.Rand, tally *ptMixTally) {
	switch op % 8 {
	case 0:
		if _, ok := p.do(t, s, "send", eaSendCoinsMutation, map[string]any{"recipient": map[string]any{"username": other.name}, "amount": amount}); ok {
			tally.transfers.Add(1)
		}
	case 1:
		p.do(t, s, "fund", ptFundCardMutation, ptCardMove(p.card.ID, amount))
	case 2:
		p.do(t, s, "transfer", ptTransferMutation, ptCardTransfer(p.card.Number, other.card.Number, amount))
	case 3:
		p.do(t, s, "top up", ptTopUpMutation, ptSavingsMove(p.goal, p.card.ID, amount))
	case 4:
		p.do(t, s, "withdraw", ptWithdrawMutation, ptSavingsMove(p.goal, p.card.ID, amount))
	case 5:
		if p.nextBill < len(p.bills) {
			b := p.bills[p.nextBill]
			if _, ok := p.do(t, s, "pay", ptPayBillMutation, ptPayment(b.ID, p.card.Number)); ok {
				p.nextBill++
				tally.paidBills.Add(1)
				tally.paidMinor.Add(minor(t, b.Amount.Amount))
			}
		}
	case 6:
		p.do(t, s, "defund", ptDefundCardMutation, ptCardMove(p.card.ID, amount))
	case 7:
		p.cashout(t, s, amount, rnd, tally)
	}
}

// cashout creates a cash-out of amount, then aborts or confirms it with its TAN at random.
func (p *ptMixParty) cashout(t *testing.T, s *testServer, amount string, rnd *rand.Rand, tally *ptMixTally) {
	r, ok := p.do(t, s, "cash out", ptCreateCashoutMutation, map[string]any{"amount": "EUR:" + amount, "channel": "EMAIL"})
	if !ok {
		return
	}
	var co ptCashout
	if err := ptDecodeOne(r, &co); err != nil {
		t.Error(err)
		return
	}
	if rnd.IntN(2) == 0 {
		r, err := s.post(p.token, ptAbortCashoutMutation, map[string]any{"id": co.ID})
		if err != nil || len(r.Errors) > 0 {
			t.Errorf("%s abort: %v %+v", p.name, err, r.Errors)
			return
		}
		tally.aborted.Add(1)
		return
	}
	m, err := ptLastTAN(s.Outbox, p.name+"@example.com", co.Amount.Amount+" EUR")
	if err != nil {
		t.Error(err)
		return
	}
	r, err = s.post(p.token, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": m.Code})
	if err != nil || len(r.Errors) > 0 {
		t.Errorf("%s confirm: %v %+v", p.name, err, r.Errors)
		return
	}
	tally.confirmed.Add(1)
	tally.confirmedMinor.Add(minor(t, co.Amount.Amount))
}

// ptMixCheck checks the ledger's invariants and every count against the tally.
func ptMixCheck(t *testing.T, s *testServer, admin string, parties []*ptMixParty, tally *ptMixTally) {
	if tally.paidBills.Load() == 0 || tally.confirmed.Load() == 0 || tally.aborted.Load() == 0 || tally.transfers.Load() == 0 {
		t.Errorf("workload did %d transfers, %d bill payments, %d confirmed and %d aborted cash-outs: want some of each",
			tally.transfers.Load(), tally.paidBills.Load(), tally.confirmed.Load(), tally.aborted.Load())
	}
	clearing := ptCheckAllAccounts(t, s, admin, int(tally.transfers.Load()))
	if clearing["BILL_PAYMENT"] != tally.paidMinor.Load() || clearing["CASHOUT"] != tally.confirmedMinor.Load() {
		t.Errorf("clearing accounts %v, want bill payments %d and cash-outs %d", clearing, tally.paidMinor.Load(), tally.confirmedMinor.Load())
	}
	if n := ptCountTxns(t, s, admin, "BILL_PAYMENT", "POSTED"); n != int(tally.paidBills.Load()) {
		t.Errorf("posted bill payments = %d, want %d", n, tally.paidBills.Load())
	}
	if n := ptCountTxns(t, s, admin, "CASHOUT", "POSTED"); n != int(tally.confirmed.Load()) {
		t.Errorf("posted cash-outs = %d, want %d", n, tally.confirmed.Load())
	}
	if n := ptCountTxns(t, s, admin, "CASHOUT", "VOIDED"); n != int(tally.aborted.Load()) {
		t.Errorf("voided cash-outs = %d, want %d", n, tally.aborted.Load())
	}
	var paidTotal int
	for _, p := range parties {
		st := eaStateOf(t, s, p.token)
		if st.PendingCount != 0 || st.Available != st.Balance {
			t.Errorf("%s = %+v, want nothing pending or reserved", p.name, st)
		}
		paidTotal += ptBills(t, s, p.token, 10, nil, true).TotalCount
	}
	if paidTotal != int(tally.paidBills.Load()) {
		t.Errorf("paid bills = %d, want %d", paidTotal, tally.paidBills.Load())
	}
}

// 6. A card's statement.

func TestCard_history_newestFirstWithTypeAmountAndBalanceAfter(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	ben := s.customer(admin, "ben")
	s.mint(admin, "ann", "100")
	s.mint(admin, "ben", "10")
	a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ben)
	g := ptNewGoal(t, s, ann, "Bike", "100")
	phone := ptNewBill(t, s, ann, "Phone", "7", time.Now())

	ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "30"))
	ptMove(t, s, ann, ptDefundCardMutation, ptCardMove(a.ID, "5"))
	ptMove(t, s, ann, ptTopUpMutation, ptSavingsMove(g.ID, a.ID, "10"))
	ptMove(t, s, ann, ptWithdrawMutation, ptSavingsMove(g.ID, a.ID, "4"))
	ptMove(t, s, ann, ptTransferMutation, ptCardTransfer(a.Number, b.Number, "3"))
	ptMove(t, s, ben, ptFundCardMutation, ptCardMove(b.ID, "10"))
	ptMove(t, s, ben, ptTransferMutation, ptCardTransfer(b.Number, a.Number, "2"))
	ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptPayment(phone.ID, a.Number)), &ptBill{})
	ptWantBalances(t, s, ann, "ann", map[string]string{"main": "75.00", a.key(): "11.00", ptGoalKey(g.ID): "6.00"})
	ptWantBalances(t, s, ben, "ben", map[string]string{"main": "0.00", b.key(): "11.00"})

	want := []ptHistoryLine{
		{"SEND", "7.00", "11.00", "BILL_PAYMENT"},
		{"RECEIVE", "2.00", "18.00", "CARD_TRANSFER"},
		{"SEND", "3.00", "16.00", "CARD_TRANSFER"},
		{"RECEIVE", "4.00", "19.00", "SAVINGS_WITHDRAWAL"},
		{"SEND", "10.00", "15.00", "SAVINGS_TOP_UP"},
		{"SEND", "5.00", "25.00", "CARD_TRANSFER"},
		{"RECEIVE", "30.00", "30.00", "CARD_TRANSFER"},
	}
	n, got, _, _ := ptCardHistory(t, s, ann, map[string]any{"l": a.Last4, "f": 10})
	if n != len(want) || !slices.Equal(got, want) {
		t.Errorf("history = %d %v,\nwant %d %v (newest first)", n, got, len(want), want)
	}
	_, asc, _, _ := ptCardHistory(t, s, ann, map[string]any{"l": a.Last4, "f": 10, "o": "ASC"})
	rev := slices.Clone(want)
	slices.Reverse(rev)
	if !slices.Equal(asc, rev) {
		t.Errorf("history ASC = %v, want %v", asc, rev)
	}
	_, page1, next, cursor := ptCardHistory(t, s, ann, map[string]any{"l": a.Last4, "f": 3})
	_, page2, _, _ := ptCardHistory(t, s, ann, map[string]any{"l": a.Last4, "f": 3, "a": cursor})
	if !next || !slices.Equal(page1, want[:3]) || !slices.Equal(page2, want[3:6]) {
		t.Errorf("pages of 3 = %v (next %v) then %v, want %v then %v", page1, next, page2, want[:3], want[3:6])
	}
	ptWantHistoryVersions(t, s, ann, a.Last4, len(want))
	ptCheckAllAccounts(t, s, admin, 0)
}

// ptWantHistoryVersions checks that the card history is its account statement: versions count down from n, the newest carries the bill name Phone.
func ptWantHistoryVersions(t *testing.T, s *testServer, token, last4 string, n int) {
	t.Helper()
	// The history is the card account's statement: versions count down from 7, the payment
	// carries the bill's name.
	var st struct {
		Card struct {
			History struct {
				Edges []struct {
					Node struct {
						Version int
						Memo    *string
					}
				}
			}
		}
	}
	s.mustDo(token, `query($l: String!) { card(last4: $l) { history(first: 10) { edges { node { version memo } } } } }`,
		map[string]any{"l": last4}, &st)
	for i, e := range st.Card.History.Edges {
		if e.Node.Version != n-i {
			t.Errorf("entry %d version %d, want %d", i, e.Node.Version, n-i)
		}
	}
	if e := st.Card.History.Edges; len(e) == 0 || e[0].Node.Memo == nil || *e[0].Node.Memo != "Phone" {
		t.Errorf("newest entry = %+v, want the payment of Phone", e)
	}
}

// ptHistoryLine is a line of a card's history.
type ptHistoryLine struct{ typ, amount, after, kind string }

// ptCardHistory reads a page of a card's history (vars: l, the last4, and f, a, o) and returns
// its total count, lines, whether there is a next page and the end cursor.
func ptCardHistory(t *testing.T, s *testServer, token string, vars map[string]any) (int, []ptHistoryLine, bool, string) {
	t.Helper()
	var out struct {
		Card struct {
			History struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Node struct {
						Type                 string
						Version              int
						Memo                 *string
						Amount, BalanceAfter struct{ Amount string }
						Transaction          struct{ Kind string }
					}
				}
			}
		}
	}
	s.mustDo(token, `query($l: String!, $f: Int, $a: Cursor, $o: OrderDirection) { card(last4: $l) {
		history(first: $f, after: $a, order: $o) { totalCount pageInfo { hasNextPage endCursor }
		edges { node { type version memo amount { amount } balanceAfter { amount } transaction { kind } } } } } }`,
		vars, &out)
	h := out.Card.History
	var got []ptHistoryLine
	for _, e := range h.Edges {
		got = append(got, ptHistoryLine{e.Node.Type, e.Node.Amount.Amount, e.Node.BalanceAfter.Amount, e.Node.Transaction.Kind})
	}
	return h.TotalCount, got, h.PageInfo.HasNextPage, h.PageInfo.EndCursor
}
