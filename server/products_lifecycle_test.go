package main

// The second release of cards, savings goals and bills (API.md §7) over real HTTP on both stores:
// freezing cards (every debit refused, defund and credits allowed, closed cards listed on request),
// editing goals and unpaid bills, deleting unpaid bills, and autopay (paid once on the due date,
// also with two instances on one PostgreSQL database; refusals recorded in autopayError).
//
// Count limits of cards and goals under parallel requests are here too. Helpers carry the prefix
// "pr"; the "pt" helpers are in products_helpers_test.go.

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	prFreezeMutation        = `mutation($id: ID!) { freezeCard(id: $id) { id status } }`
	prUnfreezeMutation      = `mutation($id: ID!) { unfreezeCard(id: $id) { id status } }`
	prCardsQuery            = `query($c: Boolean) { cards(includeClosed: $c) { id status } }`
	prGoalUpdate            = `mutation($id: ID!, $in: UpdateSavingsGoalInput!) { updateSavingsGoal(id: $id, input: $in) { ` + ptGoalFields + ` } }`
	prBillFields            = ptBillFields + ` autopayCard { id } autopayError`
	prBillUpdate            = `mutation($id: ID!, $in: UpdateBillInput!) { updateBill(id: $id, input: $in) { ` + prBillFields + ` } }`
	prBillDelete            = `mutation($id: ID!) { deleteBill(id: $id) }`
	prSetAutopayMutation    = `mutation($id: ID!, $n: String!) { setBillAutopay(billId: $id, cardNumber: $n) { ` + prBillFields + ` } }`
	prCancelAutopayMutation = `mutation($id: ID!) { cancelBillAutopay(billId: $id) { ` + prBillFields + ` } }`
	prBillQuery             = `query($id: ID!) { node(id: $id) { ... on Bill { ` + prBillFields + ` } } }`
)

// prBill is a bill with its autopay fields.
type prBill struct {
	ptBill
	AutopayCard  *struct{ ID string }
	AutopayError *string
}

// prCardStatus is a card's id and status.
type prCardStatus struct{ ID, Status string }

func prCardStatuses(t *testing.T, s *testServer, token string, includeClosed any) []prCardStatus {
	t.Helper()
	var out struct{ Cards []prCardStatus }
	onT(t, s).mustDo(token, prCardsQuery, map[string]any{"c": includeClosed}, &out)
	return out.Cards
}

// prSetStatus freezes or unfreezes a card and asserts the status it answers.
func prSetStatus(t *testing.T, s *testServer, token, mutation, cardID, want string) {
	t.Helper()
	var got prCardStatus
	ptOne(t, onT(t, s).do(token, mutation, map[string]any{"id": cardID}), &got)
	if got.ID != cardID || got.Status != want {
		t.Errorf("card after %s = %+v, want %s", mutation, got, want)
	}
}

func prGetBill(t *testing.T, s *testServer, token, id string) prBill {
	t.Helper()
	var b prBill
	ptOne(t, onT(t, s).do(token, prBillQuery, map[string]any{"id": id}), &b)
	return b
}

// prAwaitBill reads the bill until cond holds (the autopay job runs in the background), failing
// after 30 s; the assertion is on the state reached, never on how long it took.
func prAwaitBill(t *testing.T, s *testServer, token, id, what string, cond func(prBill) bool) prBill {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b := prGetBill(t, s, token, id)
		if cond(b) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("bill %s: not %s within 30 s: %+v", b.Name, what, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func prAutopayError(want string) func(prBill) bool {
	return func(b prBill) bool { return b.AutopayError != nil && *b.AutopayError == want }
}

func prSetAutopay(t *testing.T, s *testServer, token, billID string, c ptCard) prBill {
	t.Helper()
	var b prBill
	ptOne(t, onT(t, s).do(token, prSetAutopayMutation, map[string]any{"id": billID, "n": c.Number}), &b)
	if b.AutopayCard == nil || b.AutopayCard.ID != c.ID || b.AutopayError != nil {
		t.Errorf("setBillAutopay = %+v, want card %s and no error", b, c.ID)
	}
	return b
}

func TestFreezeCard_frozenCardRefusesEveryDebit_defundAndCreditsWork(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := onT(t, s).admin()
		ann, ben := onT(t, s).customer(admin, "ann"), onT(t, s).customer(admin, "ben")
		onT(t, s).mint(admin, "ann", "100")
		onT(t, s).mint(admin, "ben", "10")
		a, b, c := ptNewCard(t, s, ann), ptNewCard(t, s, ann), ptNewCard(t, s, ben)
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "50"))
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(b.ID, "10"))
		ptMove(t, s, ben, ptFundCardMutation, ptCardMove(c.ID, "10"))
		g := ptNewGoal(t, s, ann, "Bike", "100")
		ptMove(t, s, ann, ptTopUpMutation, ptSavingsMove(g.ID, a.ID, "5"))
		power := ptNewBill(t, s, ann, "Power", "5", time.Now().Add(time.Hour))

		// Freezing twice answers FROZEN twice.
		prSetStatus(t, s, ann, prFreezeMutation, a.ID, "FROZEN")
		prSetStatus(t, s, ann, prFreezeMutation, a.ID, "FROZEN")
		if got := prCardStatuses(t, s, ann, nil); !slices.Equal(got, []prCardStatus{{a.ID, "FROZEN"}, {b.ID, "ACTIVE"}}) {
			t.Errorf("cards = %+v, want a FROZEN and b ACTIVE", got)
		}
		in := func(v map[string]any) map[string]any { return map[string]any{"in": v} }
		madeUp := eaMadeUpID()
		tests := []ptCase{
			{name: "transfer from a frozen card", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, b.Number, "1")), wantCode: "PRECONDITION_FAILED"},
			{name: "transfer from a frozen card to another's", as: "ann", query: ptTransferMutation, vars: in(ptCardTransfer(a.Number, c.Number, "1")), wantCode: "PRECONDITION_FAILED"},
			{name: "pay a bill with a frozen card", as: "ann", query: ptPayBillMutation, vars: in(ptPayment(power.ID, a.Number)), wantCode: "PRECONDITION_FAILED"},
			{name: "top up savings from a frozen card", as: "ann", query: ptTopUpMutation, vars: in(ptSavingsMove(g.ID, a.ID, "1")), wantCode: "PRECONDITION_FAILED"},
			{name: "freeze another's card", as: "ben", query: prFreezeMutation, vars: ptIDVars(a.ID), wantCode: "NOT_FOUND", likeMadeUp: ptIDVars(madeUp)},
			{name: "unfreeze another's card", as: "ben", query: prUnfreezeMutation, vars: ptIDVars(a.ID), wantCode: "NOT_FOUND", likeMadeUp: ptIDVars(madeUp)},
			{name: "freeze by the admin", as: "admin", query: prFreezeMutation, vars: ptIDVars(b.ID), wantCode: "FORBIDDEN"},
			{name: "freeze unauthenticated", as: "", query: prFreezeMutation, vars: ptIDVars(b.ID), wantCode: "UNAUTHENTICATED"},
		}
		tokens := map[string]string{"": "", "admin": admin, "ann": ann, "ben": ben}
		ptRefusals(t, s, admin, tokens, []string{ann, ben}, tests)

		// Credits land on the frozen card, and defundCard empties it back to the main account.
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "5"))
		ptMove(t, s, ann, ptTransferMutation, ptCardTransfer(b.Number, a.Number, "10"))
		ptMove(t, s, ben, ptTransferMutation, ptCardTransfer(c.Number, a.Number, "5"))
		ptMove(t, s, ann, ptWithdrawMutation, ptSavingsMove(g.ID, a.ID, "5"))
		ptMove(t, s, ann, ptDefundCardMutation, ptCardMove(a.ID, "70"))
		ptWantBalances(t, s, ann, "ann", map[string]string{"main": "105.00", a.key(): "0.00", b.key(): "0.00", ptGoalKey(g.ID): "0.00"})
		ptWantBalances(t, s, ben, "ben", map[string]string{"main": "0.00", c.key(): "5.00"})

		// Unfrozen (twice), it pays again.
		prSetStatus(t, s, ann, prUnfreezeMutation, a.ID, "ACTIVE")
		prSetStatus(t, s, ann, prUnfreezeMutation, a.ID, "ACTIVE")
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "10"))
		var paid ptBill
		ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptPayment(power.ID, a.Number)), &paid)
		if !paid.Paid || paid.PaidWith == nil || paid.PaidWith.ID != a.ID {
			t.Errorf("payBill after unfreezing = %+v", paid)
		}

		prWantFrozenCardDeleted(t, s, ann, a, b)
	})
}

// prWantFrozenCardDeleted freezes ann's card a (holding 5), empties and deletes it: closed, it is listed only on request and can be neither frozen nor unfrozen.
func prWantFrozenCardDeleted(t *testing.T, s *testServer, ann string, a, b ptCard) {
	t.Helper()
	// A frozen card can be emptied and deleted; closed, it is listed only on request and
	// can be neither frozen nor unfrozen.
	prSetStatus(t, s, ann, prFreezeMutation, a.ID, "FROZEN")
	ptMove(t, s, ann, ptDefundCardMutation, ptCardMove(a.ID, "5"))
	ptWantTrue(t, onT(t, s).do(ann, ptDeleteCardMutation, map[string]any{"n": a.Number}))
	if got := prCardStatuses(t, s, ann, false); !slices.Equal(got, []prCardStatus{{b.ID, "ACTIVE"}}) {
		t.Errorf("cards = %+v, want b only", got)
	}
	if got := prCardStatuses(t, s, ann, true); !slices.Equal(got, []prCardStatus{{a.ID, "CLOSED"}, {b.ID, "ACTIVE"}}) {
		t.Errorf("cards(includeClosed: true) = %+v, want a CLOSED and b ACTIVE", got)
	}
	wantError(t, onT(t, s).do(ann, prFreezeMutation, ptIDVars(a.ID)), "PRECONDITION_FAILED")
	wantError(t, onT(t, s).do(ann, prUnfreezeMutation, ptIDVars(a.ID)), "PRECONDITION_FAILED")
	if got := prCardStatuses(t, s, ann, true); got[0].Status != "CLOSED" {
		t.Errorf("closed card after refused calls = %+v", got[0])
	}
}

// TestFreezeCard_racingTransfers_noDebitSentAfterTheFreezeAnswered: transfers race a freeze;
// every transfer sent after freezeCard answered is refused, and the balances count exactly the
// transfers that succeeded.
func TestFreezeCard_racingTransfers_noDebitSentAfterTheFreezeAnswered(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := onT(t, s).admin()
		ann := onT(t, s).customer(admin, "ann")
		onT(t, s).mint(admin, "ann", "100")
		a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ann)
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "100"))
		var frozen atomic.Bool
		var succeeded atomic.Int64
		firstSuccesses := make(chan struct{}, 64)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for range 8 {
					afterFreeze := frozen.Load()
					r, err := s.post(ann, ptTransferMutation, map[string]any{"in": ptCardTransfer(a.Number, b.Number, "1")})
					switch {
					case err != nil:
						t.Error(err)
					case r.code() == "":
						succeeded.Add(1)
						firstSuccesses <- struct{}{}
						if afterFreeze {
							t.Error("a transfer sent after freezeCard answered was debited")
						}
					case r.code() != "PRECONDITION_FAILED":
						t.Errorf("transfer: %+v, want success or PRECONDITION_FAILED", r.Errors)
					}
				}
			})
		}
		for range 5 {
			<-firstSuccesses
		}
		r, err := s.post(ann, prFreezeMutation, map[string]any{"id": a.ID})
		if err != nil || r.code() != "" {
			t.Fatalf("freezeCard: %v %+v", err, r.Errors)
		}
		frozen.Store(true)
		wg.Wait()
		n := succeeded.Load()
		ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00",
			a.key(): fmt.Sprintf("%d.00", 100-n), b.key(): fmt.Sprintf("%d.00", n)})
	})
}

func TestUpdateSavingsGoal_renamesAndRetargets_refusalsChangeNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := onT(t, s).admin()
		ann, ben := onT(t, s).customer(admin, "ann"), onT(t, s).customer(admin, "ben")
		onT(t, s).mint(admin, "ann", "100")
		c := ptNewCard(t, s, ann)
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "50"))
		g := ptNewGoal(t, s, ann, "Bike", "200")
		gone := ptNewGoal(t, s, ann, "Gone", "5")
		ptWantTrue(t, onT(t, s).do(ann, ptDeleteGoalMutation, map[string]any{"id": gone.ID}))
		ptMove(t, s, ann, ptTopUpMutation, ptSavingsMove(g.ID, c.ID, "30"))
		upd := func(id string, in map[string]any) map[string]any { return map[string]any{"id": id, "in": in} }

		var got ptGoal
		ptOne(t, onT(t, s).do(ann, prGoalUpdate, upd(g.ID, map[string]any{"name": " Car "})), &got)
		if got.Name != "Car" || got.Goal.Amount != "200.00" || got.Balance.Amount != "30.00" || got.Remain.Amount != "170.00" {
			t.Errorf("after renaming = %+v", got)
		}
		ptOne(t, onT(t, s).do(ann, prGoalUpdate, upd(g.ID, map[string]any{"goal": "25.50"})), &got)
		if got.Name != "Car" || got.Goal.Amount != "25.50" || got.Remain.Amount != "0.00" || !got.Reached {
			t.Errorf("after retargeting below the balance = %+v, want reached", got)
		}
		tests := []ptCase{
			{name: "goal zero", as: "ann", query: prGoalUpdate, vars: upd(g.ID, map[string]any{"goal": "0"}), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal"}},
			{name: "goal negative", as: "ann", query: prGoalUpdate, vars: upd(g.ID, map[string]any{"goal": "-5"}), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal"}},
			{name: "goal beyond the bound", as: "ann", query: prGoalUpdate, vars: upd(g.ID, map[string]any{"goal": "10000000000000.01"}), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal"}},
			{name: "blank name and bad goal", as: "ann", query: prGoalUpdate, vars: upd(g.ID, map[string]any{"name": " ", "goal": "1.234"}), wantCode: "BAD_USER_INPUT", wantFields: []string{"goal", "name"}},
			{name: "another's goal", as: "ben", query: prGoalUpdate, vars: upd(g.ID, map[string]any{"name": "Mine"}), wantCode: "NOT_FOUND",
				likeMadeUp: upd(eaMadeUpID(), map[string]any{"name": "Mine"})},
			{name: "a deleted goal", as: "ann", query: prGoalUpdate, vars: upd(gone.ID, map[string]any{"name": "Back"}), wantCode: "NOT_FOUND"},
			{name: "by the admin", as: "admin", query: prGoalUpdate, vars: upd(g.ID, map[string]any{"name": "Admin's"}), wantCode: "FORBIDDEN"},
		}
		ptRefusals(t, s, admin, map[string]string{"admin": admin, "ann": ann, "ben": ben}, []string{ann, ben}, tests)
		ptWantGoal(t, s, ann, g.ID, "30.00", "0.00", true)
	})
}

func TestUpdateBill_andDeleteBill_onlyWhileUnpaid_refusalsChangeNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := onT(t, s).admin()
		ann, ben := onT(t, s).customer(admin, "ann"), onT(t, s).customer(admin, "ben")
		onT(t, s).mint(admin, "ann", "100")
		c := ptNewCard(t, s, ann)
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "50"))
		due := time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)
		power := ptNewBill(t, s, ann, "Power", "40", due)
		water := ptNewBill(t, s, ann, "Water", "10", due)
		spare := ptNewBill(t, s, ann, "Spare", "3", due)
		gas := ptNewBill(t, s, ben, "Gas", "5", due)
		ptOne(t, ptIn(t, s, ann, ptPayBillMutation, ptPayment(water.ID, c.Number)), &ptBill{})
		upd := func(id string, in map[string]any) map[string]any { return map[string]any{"id": id, "in": in} }

		var got prBill
		newDue := "2027-02-01T09:30:00Z"
		ptOne(t, onT(t, s).do(ann, prBillUpdate, upd(power.ID, map[string]any{"name": "Electricity", "amount": "42.50", "dueDate": newDue})), &got)
		if got.Name != "Electricity" || got.Amount.Amount != "42.50" || got.DueDate != newDue || got.Paid {
			t.Errorf("updateBill = %+v", got)
		}
		ptOne(t, onT(t, s).do(ann, prBillUpdate, upd(power.ID, map[string]any{"amount": "20"})), &got)
		if got.Name != "Electricity" || got.Amount.Amount != "20.00" || got.DueDate != newDue {
			t.Errorf("updateBill of the amount only = %+v", got)
		}
		tests := []ptCase{
			{name: "edit a paid bill", as: "ann", query: prBillUpdate, vars: upd(water.ID, map[string]any{"amount": "1"}), wantCode: "PRECONDITION_FAILED"},
			{name: "delete a paid bill", as: "ann", query: prBillDelete, vars: map[string]any{"id": water.ID}, wantCode: "PRECONDITION_FAILED"},
			{name: "amount zero and blank name", as: "ann", query: prBillUpdate, vars: upd(power.ID, map[string]any{"amount": "0", "name": ""}), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount", "name"}},
			{name: "amount beyond the bound", as: "ann", query: prBillUpdate, vars: upd(power.ID, map[string]any{"amount": "10000000000000.01"}), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
			{name: "edit another's bill", as: "ann", query: prBillUpdate, vars: upd(gas.ID, map[string]any{"amount": "1"}), wantCode: "NOT_FOUND",
				likeMadeUp: upd(eaMadeUpID(), map[string]any{"amount": "1"})},
			{name: "delete another's bill", as: "ann", query: prBillDelete, vars: map[string]any{"id": gas.ID}, wantCode: "NOT_FOUND",
				likeMadeUp: map[string]any{"id": eaMadeUpID()}},
			{name: "delete by the admin", as: "admin", query: prBillDelete, vars: map[string]any{"id": power.ID}, wantCode: "FORBIDDEN"},
		}
		ptRefusals(t, s, admin, map[string]string{"admin": admin, "ann": ann, "ben": ben}, []string{ann, ben}, tests)

		var out struct{ DeleteBill string }
		onT(t, s).mustDo(ann, prBillDelete, map[string]any{"id": spare.ID}, &out)
		if out.DeleteBill != spare.ID {
			t.Errorf("deleteBill = %q, want %s", out.DeleteBill, spare.ID)
		}
		if p := ptBills(t, s, ann, 10, nil, nil); !slices.Equal(p.names(), []string{"Water", "Electricity"}) {
			t.Errorf("bills after deleting Spare = %v", p.names())
		}
		wantError(t, onT(t, s).do(ann, prBillDelete, map[string]any{"id": spare.ID}), "NOT_FOUND")
		ptWantBalances(t, s, ann, "ann", map[string]string{"main": "50.00", c.key(): "40.00"})
	})
}

// TestUpdateBill_racingPayBill_aPaidBillIsNeverEditedOrDeleted: an edit or a delete racing a
// payment either wins (and the payment pays the edited bill, or finds none) or finds the bill paid.
func TestUpdateBill_racingPayBill_aPaidBillIsNeverEditedOrDeleted(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := onT(t, s).admin()
		ann := onT(t, s).customer(admin, "ann")
		onT(t, s).mint(admin, "ann", "1000")
		c := ptNewCard(t, s, ann)
		ptMove(t, s, ann, ptFundCardMutation, ptCardMove(c.ID, "1000"))
		spentMinor := 0
		for round := range 8 {
			b := ptNewBill(t, s, ann, fmt.Sprintf("Bill %d", round), "10", time.Now())
			rival := map[string]any{"id": b.ID, "in": map[string]any{"amount": "20"}}
			rivalQuery := prBillUpdate
			if round%2 == 1 {
				rival, rivalQuery = map[string]any{"id": b.ID}, prBillDelete
			}
			codes := ptRace(2, func(i int) (gqlResponse, error) {
				if i == 0 {
					return s.post(ann, ptPayBillMutation, map[string]any{"in": ptPayment(b.ID, c.Number)})
				}
				return s.post(ann, rivalQuery, rival)
			})
			switch {
			case rivalQuery == prBillDelete && codes[1] == "":
				if codes[0] != "NOT_FOUND" {
					t.Errorf("round %d: deleted, but payBill answered %q", round, codes[0])
				}
				continue
			case codes[0] != "" || codes[1] != "" && codes[1] != "PRECONDITION_FAILED":
				t.Fatalf("round %d: payBill %q, rival %q", round, codes[0], codes[1])
			}
			got := prGetBill(t, s, ann, b.ID)
			want := "10.00"
			if rivalQuery == prBillUpdate && codes[1] == "" {
				want = "20.00"
			}
			if !got.Paid || got.Amount.Amount != want || got.Transaction == nil || got.Transaction.Amount.Amount != want {
				t.Errorf("round %d (rival %q): bill %+v, want paid %s with a payment of %s", round, codes[1], got, want, want)
			}
			spentMinor += map[string]int{"10.00": 1000, "20.00": 2000}[want]
		}
		ptWantBalances(t, s, ann, "ann", map[string]string{"main": "0.00", c.key(): fmt.Sprintf("%d.00", 1000-spentMinor/100)})
	})
}

func TestBillAutopay_paysOnTheDueDate_recordsWhyNot_retriesNextRun(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st, "AUTOPAY_INTERVAL=50ms")
			admin := onT(t, s).admin()
			ann, ben := onT(t, s).customer(admin, "ann"), onT(t, s).customer(admin, "ben")
			onT(t, s).mint(admin, "ann", "100")
			a, poor, cold, gone, bens := ptNewCard(t, s, ann), ptNewCard(t, s, ann), ptNewCard(t, s, ann), ptNewCard(t, s, ann), ptNewCard(t, s, ben)
			ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "50"))
			ptMove(t, s, ann, ptFundCardMutation, ptCardMove(cold.ID, "20"))
			prSetStatus(t, s, ann, prFreezeMutation, cold.ID, "FROZEN")
			past, future := time.Now().Add(-48*time.Hour), time.Now().Add(72*time.Hour)
			later := ptNewBill(t, s, ann, "Later", "1", future)
			prSetAutopay(t, s, ann, later.ID, a)
			// Bills are set up not yet due, then made due, so the job cannot run in between.
			makeDue := func(b ptBill) {
				ptOne(t, onT(t, s).do(ann, prBillUpdate, map[string]any{"id": b.ID, "in": map[string]any{"dueDate": past.Format(time.RFC3339)}}), &prBill{})
			}
			stopped := ptNewBill(t, s, ann, "Stopped", "1", future)
			prSetAutopay(t, s, ann, stopped.ID, a)
			var cancelled prBill
			ptOne(t, onT(t, s).do(ann, prCancelAutopayMutation, map[string]any{"id": stopped.ID}), &cancelled)
			if cancelled.AutopayCard != nil {
				t.Errorf("cancelBillAutopay = %+v, want no autopay card", cancelled)
			}
			makeDue(stopped)
			gas := ptNewBill(t, s, ann, "Gas", "7", past)
			prSetAutopay(t, s, ann, gas.ID, poor)
			phone := ptNewBill(t, s, ann, "Phone", "2", past)
			prSetAutopay(t, s, ann, phone.ID, cold)
			closed := ptNewBill(t, s, ann, "Closed", "2", future)
			prSetAutopay(t, s, ann, closed.ID, gone)
			ptWantTrue(t, onT(t, s).do(ann, ptDeleteCardMutation, map[string]any{"n": gone.Number}))
			makeDue(closed)
			// Set when already past due: paid at the next run.
			rent := ptNewBill(t, s, ann, "Rent", "10", past)
			prSetAutopay(t, s, ann, rent.ID, a)

			paid := prAwaitBill(t, s, ann, rent.ID, "paid", func(b prBill) bool { return b.Paid })
			if paid.PaidWith == nil || paid.PaidWith.ID != a.ID || paid.Transaction == nil || paid.Transaction.Kind != "BILL_PAYMENT" ||
				paid.Transaction.Amount.Amount != "10.00" || paid.AutopayError != nil {
				t.Errorf("rent paid by autopay = %+v", paid)
			}
			prAwaitBill(t, s, ann, gas.ID, "refused for funds", prAutopayError("insufficient funds"))
			prAwaitBill(t, s, ann, phone.ID, "refused for the frozen card", prAutopayError("the card is frozen"))
			prAwaitBill(t, s, ann, closed.ID, "refused for the closed card", prAutopayError("the card is closed"))

			prWantAutopayRefusals(t, s, admin, ann, ben, later, rent, a, bens)

			// Funding the card fixes the refusal at a later run, which clears autopayError.
			ptMove(t, s, ann, ptFundCardMutation, ptCardMove(poor.ID, "7"))
			if b := prAwaitBill(t, s, ann, gas.ID, "paid", func(b prBill) bool { return b.Paid }); b.AutopayError != nil {
				t.Errorf("gas paid with autopayError %q", *b.AutopayError)
			}
			for _, b := range []ptBill{later, stopped} {
				if got := prGetBill(t, s, ann, b.ID); got.Paid {
					t.Errorf("%s was paid: %+v", b.Name, got)
				}
			}
			if n := ptCountTxns(t, s, admin, "BILL_PAYMENT", "POSTED"); n != 2 {
				t.Errorf("bill payments = %d, want 2 (Rent and Gas)", n)
			}
			ptWantBalances(t, s, ann, "ann", map[string]string{"main": "23.00", a.key(): "40.00", poor.key(): "0.00", cold.key(): "20.00"})
		})
	}
}

// prWantAutopayRefusals checks the refused autopay calls: they change nothing (the job keeps running; what it may still do, retry the refusals, changes no balance).
func prWantAutopayRefusals(t *testing.T, s *testServer, admin, ann, ben string, later, rent ptBill, a, bens ptCard) {
	t.Helper()
	// Refused calls change nothing (the job keeps running; what it may still do, retry
	// the refusals, changes no balance).
	upd := func(id, number string) map[string]any { return map[string]any{"id": id, "n": number} }
	bensBill := ptNewBill(t, s, ben, "Ben's", "1", time.Now().Add(72*time.Hour))
	tests := []ptCase{
		{name: "another's card", as: "ann", query: prSetAutopayMutation, vars: upd(later.ID, bens.Number), wantCode: "NOT_FOUND",
			likeMadeUp: upd(later.ID, ptMadeUpNumber())},
		{name: "another's bill", as: "ann", query: prSetAutopayMutation, vars: upd(bensBill.ID, a.Number), wantCode: "NOT_FOUND",
			likeMadeUp: upd(eaMadeUpID(), a.Number)},
		{name: "a paid bill", as: "ann", query: prSetAutopayMutation, vars: upd(rent.ID, a.Number), wantCode: "PRECONDITION_FAILED"},
		{name: "cancel on a paid bill", as: "ann", query: prCancelAutopayMutation, vars: map[string]any{"id": rent.ID}, wantCode: "PRECONDITION_FAILED"},
		{name: "a malformed number", as: "ann", query: prSetAutopayMutation, vars: upd(later.ID, "4000 12"), wantCode: "BAD_USER_INPUT", wantFields: []string{"cardNumber"}},
		{name: "by the admin", as: "admin", query: prSetAutopayMutation, vars: upd(later.ID, a.Number), wantCode: "FORBIDDEN"},
	}
	ptRefusals(t, s, admin, map[string]string{"admin": admin, "ann": ann, "ben": ben}, []string{ann, ben}, tests)
}

// TestBillAutopay_twoInstancesOnOnePostgres_payEachBillOnce: two servers on one database run the
// job every 20 ms; every bill past due is paid exactly once, though the card could pay each twice.
func TestBillAutopay_twoInstancesOnOnePostgres_payEachBillOnce(t *testing.T) {
	t.Parallel()
	one := startServer(t, "postgres", "AUTOPAY_INTERVAL=20ms")
	two := startServer(t, "postgres", "AUTOPAY_INTERVAL=20ms", "DATABASE_URL="+one.DatabaseURL)
	admin := one.admin()
	ann := one.customer(admin, "ann")
	one.mint(admin, "ann", "100")
	c := ptNewCard(t, one, ann)
	ptMove(t, one, ann, ptFundCardMutation, ptCardMove(c.ID, "100"))
	const bills = 30
	for i := range bills {
		s := []*testServer{one, two}[i%2]
		b := ptNewBill(t, s, ann, fmt.Sprintf("Bill %02d", i), "1", time.Now().Add(-time.Duration(i+1)*time.Hour))
		prSetAutopay(t, s, ann, b.ID, c)
	}
	deadline := time.Now().Add(60 * time.Second)
	for ptBills(t, two, ann, 1, nil, false).TotalCount > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("unpaid bills after 60 s: %d", ptBills(t, two, ann, 1, nil, false).TotalCount)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := ptCountTxns(t, one, admin, "BILL_PAYMENT", "POSTED"); n != bills {
		t.Errorf("bill payments = %d, want %d", n, bills)
	}
	ptWantBalances(t, one, ann, "ann", map[string]string{"main": "0.00", c.key(): "70.00"})
	for _, e := range ptBills(t, one, ann, bills, nil, true).Edges {
		if e.Node.Transaction == nil || e.Node.Transaction.Amount.Amount != "1.00" {
			t.Errorf("%s: payment %+v", e.Node.Name, e.Node.Transaction)
		}
	}
}

// TestDeleteCustomer_withFrozenAndClosedCardsAndAutopayBills_deletes: the second release's states
// (a frozen card, a closed card, a bill with autopay on each) do not stop deleting a customer at
// zero.
func TestDeleteCustomer_withFrozenAndClosedCardsAndAutopayBills_deletes(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := onT(t, s).admin()
		ann := onT(t, s).customer(admin, "ann")
		frozen, closed := ptNewCard(t, s, ann), ptNewCard(t, s, ann)
		future := time.Now().Add(72 * time.Hour)
		prSetAutopay(t, s, ann, ptNewBill(t, s, ann, "Power", "5", future).ID, frozen)
		prSetAutopay(t, s, ann, ptNewBill(t, s, ann, "Water", "5", future).ID, closed)
		prSetStatus(t, s, ann, prFreezeMutation, frozen.ID, "FROZEN")
		ptWantTrue(t, onT(t, s).do(ann, ptDeleteCardMutation, map[string]any{"n": closed.Number}))
		var del struct{ DeleteCustomer bool }
		onT(t, s).mustDo(admin, eaDeleteCustomerMutation, map[string]any{"u": "ann"}, &del)
		if !del.DeleteCustomer {
			t.Fatal("deleteCustomer = false, want true")
		}
		wantError(t, onT(t, s).do(ann, eaMeQuery, nil), "UNAUTHENTICATED")
	})
}

func TestAutopayInterval_defaultOneMinute_flagAndEnvironment_refusesNonDurations(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "AUTOPAY_INTERVAL" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		give    string
		args    []string
		want    time.Duration
		wantErr bool
	}{
		{give: "", want: time.Minute},
		{give: "250ms", want: 250 * time.Millisecond},
		{give: "250ms", args: []string{"--autopay-interval", "2h"}, want: 2 * time.Hour},
		{give: "0s", wantErr: true},
		{give: "-1m", wantErr: true},
		{give: "soon", wantErr: true},
	}
	for _, tt := range tests {
		c, err := parseConfig(tt.args, env(tt.give))
		if (err != nil) != tt.wantErr || (!tt.wantErr && c.AutopayInterval != tt.want) {
			t.Errorf("AUTOPAY_INTERVAL=%q %v: %v, %v; want %v (error %v)", tt.give, tt.args, c.AutopayInterval, err, tt.want, tt.wantErr)
		}
	}
}

// TestCreateCard_parallel_holdsTheLimit: 20 parallel createCard for one customer give exactly
// MaxActiveCards (10) cards; the others are PRECONDITION_FAILED.
func TestCreateCard_parallel_holdsTheLimit(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
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
	onStores(t, func(t *testing.T, s *testServer) {
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
