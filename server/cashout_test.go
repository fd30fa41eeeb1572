package main

// Cash-out over the wire on PostgreSQL: the TAN from the outbox confirms, abort releases, every
// refusal the contract names changes nothing, a cash-out's transaction moves only with its TAN,
// and parallel settlements agree. The rules themselves are tested in graph/cashout.

import (
	"slices"
	"testing"
)

func TestCashout_tanFromOutbox_confirmPostsAndAbortReleases(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	cara := ptCustomerWithAddress(t, s, admin, "cara", "+34600111222")
	s.mint(admin, "cara", "100")

	co := ptNewCashout(t, s, cara, "EUR:12.34", "EMAIL")
	if co.Status != "PENDING" || co.Channel != "EMAIL" || co.Amount.Amount != "12.34" || co.Amount.Currency != "EUR" ||
		co.CashoutAddress != ptAddress("Cara") || co.ConfirmedAt != nil || co.CreatedAt == "" {
		t.Errorf("createCashout = %+v, want a pending 12.34 EUR cash-out to cara's address", co)
	}
	ptWantTxn(t, co.Transaction, "CASHOUT", "PENDING", "12.34")
	want := eaMoneyState{Balance: "100.00", Available: "87.66", DebitLimit: "0.00", PendingCount: 1, Entries: 1}
	if got := eaStateOf(t, s, cara).eaMoneyState; got != want {
		t.Errorf("while pending cara = %+v, want %+v (reserved, not booked)", got, want)
	}
	tan := ptTAN(t, s, "cara@example.com", "12.34 EUR")
	if tan.Channel != "email" {
		t.Errorf("TAN message = %+v, want it by e-mail", tan)
	}

	before := ptSnapshot(t, s, admin, cara)
	wantError(t, s.do(cara, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": ptWrongCode(tan.Code)}), "INVALID_CODE")
	eaUnchanged(t, before, ptSnapshot(t, s, admin, cara))

	var conf ptCashout
	ptOne(t, s.do(cara, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": tan.Code}), &conf)
	if conf.ID != co.ID || conf.Status != "CONFIRMED" || conf.ConfirmedAt == nil || conf.Transaction.ID != co.Transaction.ID {
		t.Errorf("confirmCashout = %+v, want %s CONFIRMED", conf, co.ID)
	}
	ptWantTxn(t, conf.Transaction, "CASHOUT", "POSTED", "12.34")
	want = eaMoneyState{Balance: "87.66", Available: "87.66", DebitLimit: "0.00", PendingCount: 0, Entries: 2}
	if got := eaStateOf(t, s, cara).eaMoneyState; got != want {
		t.Errorf("after confirm cara = %+v, want %+v", got, want)
	}
	before = ptSnapshot(t, s, admin, cara)
	wantError(t, s.do(cara, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": tan.Code}), "PRECONDITION_FAILED")
	wantError(t, s.do(cara, ptAbortCashoutMutation, map[string]any{"id": co.ID}), "PRECONDITION_FAILED")
	eaUnchanged(t, before, ptSnapshot(t, s, admin, cara))

	ptCashoutBySMSThenAborted(t, s, admin, cara)

	if clearing := ptCheckAllAccounts(t, s, admin, 0); clearing["CASHOUT"] != 1234 {
		t.Errorf("cash-out clearing account = %d minor units, want 1234", clearing["CASHOUT"])
	}
}

// ptCashoutBySMSThenAborted creates a cash-out of cara's (holding 87.66) by SMS with a plain amount, checks the reservation and its TAN, aborts it and checks it is released for good.
func ptCashoutBySMSThenAborted(t *testing.T, s *testServer, admin, cara string) {
	t.Helper()
	// A plain amount, the TAN by SMS, then aborted.
	co2 := ptNewCashout(t, s, cara, "20", "SMS")
	if co2.Status != "PENDING" || co2.Channel != "SMS" || co2.Amount.Amount != "20.00" {
		t.Errorf("createCashout = %+v, want a pending 20.00 by SMS", co2)
	}
	want := eaMoneyState{Balance: "87.66", Available: "67.66", DebitLimit: "0.00", PendingCount: 1, Entries: 2}
	if got := eaStateOf(t, s, cara).eaMoneyState; got != want {
		t.Errorf("while the second is pending cara = %+v, want %+v", got, want)
	}
	tan2 := ptTAN(t, s, "+34600111222", "20.00 EUR")
	if tan2.Channel != "sms" {
		t.Errorf("TAN message = %+v, want it by SMS", tan2)
	}
	var ab ptCashout
	ptOne(t, s.do(cara, ptAbortCashoutMutation, map[string]any{"id": co2.ID}), &ab)
	if ab.ID != co2.ID || ab.Status != "ABORTED" || ab.ConfirmedAt != nil {
		t.Errorf("abortCashout = %+v, want %s ABORTED", ab, co2.ID)
	}
	ptWantTxn(t, ab.Transaction, "CASHOUT", "VOIDED", "20.00")
	want = eaMoneyState{Balance: "87.66", Available: "87.66", DebitLimit: "0.00", PendingCount: 0, Entries: 2}
	if got := eaStateOf(t, s, cara).eaMoneyState; got != want {
		t.Errorf("after abort cara = %+v, want %+v (released)", got, want)
	}
	before := ptSnapshot(t, s, admin, cara)
	wantError(t, s.do(cara, ptConfirmCashoutMutation, map[string]any{"id": co2.ID, "tan": tan2.Code}), "PRECONDITION_FAILED")
	wantError(t, s.do(cara, ptAbortCashoutMutation, map[string]any{"id": co2.ID}), "PRECONDITION_FAILED")
	eaUnchanged(t, before, ptSnapshot(t, s, admin, cara))
}

func TestCashouts_customersSeeTheirOwn_adminSeesAll(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	cara := ptCustomerWithAddress(t, s, admin, "cara", "")
	dan := ptCustomerWithAddress(t, s, admin, "dan", "")
	eve := s.customer(admin, "eve")
	s.mint(admin, "cara", "50")
	s.mint(admin, "dan", "50")
	c1 := ptNewCashout(t, s, cara, "1", "EMAIL")
	d1 := ptNewCashout(t, s, dan, "2", "EMAIL")
	c2 := ptNewCashout(t, s, cara, "3", "EMAIL")
	ptOne(t, s.do(cara, ptAbortCashoutMutation, map[string]any{"id": c1.ID}), &ptCashout{})

	if n, ids := ptCashoutIDs(t, s, cara); n != 2 || !slices.Equal(ids, []string{c2.ID, c1.ID}) {
		t.Errorf("cara's cashouts = %d %v, want 2 [%s %s] (newest first)", n, ids, c2.ID, c1.ID)
	}
	if n, ids := ptCashoutIDs(t, s, dan); n != 1 || !slices.Equal(ids, []string{d1.ID}) {
		t.Errorf("dan's cashouts = %d %v, want [%s]", n, ids, d1.ID)
	}
	if n, ids := ptCashoutIDs(t, s, eve); n != 0 || len(ids) != 0 {
		t.Errorf("eve's cashouts = %d %v, want none", n, ids)
	}
	if n, ids := ptCashoutIDs(t, s, admin); n != 3 || !slices.Equal(ids, []string{c2.ID, d1.ID, c1.ID}) {
		t.Errorf("admin's cashouts = %d %v, want all 3 newest first", n, ids)
	}
	var node struct{ Node struct{ Status string } }
	s.mustDo(admin, `query($id: ID!) { node(id: $id) { ... on Cashout { status } } }`, map[string]any{"id": c1.ID}, &node)
	if node.Node.Status != "ABORTED" {
		t.Errorf("admin's node(%s) = %+v, want the ABORTED cash-out", c1.ID, node.Node)
	}
	ptWantLike(t, s.do(dan, ptNodeQuery, map[string]any{"id": c1.ID}), s.do(dan, ptNodeQuery, map[string]any{"id": eaMadeUpID()}))
	if a, d := eaStateOf(t, s, cara), eaStateOf(t, s, dan); a.Balance != "50.00" || a.Available != "47.00" || a.PendingCount != 1 ||
		d.Balance != "50.00" || d.Available != "48.00" || d.PendingCount != 1 {
		t.Errorf("cara %+v dan %+v, want 50.00 booked with 3.00 and 2.00 reserved", a, d)
	}
}

func TestCashout_refusedCalls_changeNothing(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	cara := ptCustomerWithAddress(t, s, admin, "cara", "+34600111222")
	dan := ptCustomerWithAddress(t, s, admin, "dan", "")
	eve := s.customer(admin, "eve")
	s.mint(admin, "cara", "100")
	s.mint(admin, "dan", "50")
	s.mint(admin, "eve", "10")
	pending := ptNewCashout(t, s, cara, "30", "EMAIL")
	tan := ptTAN(t, s, "cara@example.com", "30.00 EUR")
	dans := ptNewCashout(t, s, dan, "5", "EMAIL")
	dansTAN := ptTAN(t, s, "dan@example.com", "5.00 EUR")
	madeUp := eaMadeUpID()

	tests := []ptCase{
		{name: "zero", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("0", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "zero in the Taler form", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("EUR:0", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "negative", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("-1", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "not a number", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("abc", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "wrong currency", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("USD:5", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "currency in lower case", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("eur:5", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "currency without amount", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("EUR:", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "too many decimals", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("EUR:1.234", "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "a JSON number", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars(5, "EMAIL"), wantCode: "BAD_USER_INPUT", wantFields: []string{"amount"}},
		{name: "more than available", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("70.01", "EMAIL"), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "more than the balance", as: "cara", query: ptCreateCashoutMutation, vars: ptCashoutVars("EUR:100.01", "EMAIL"), wantCode: "INSUFFICIENT_FUNDS"},
		{name: "no cashout address", as: "eve", query: ptCreateCashoutMutation, vars: ptCashoutVars("1", "EMAIL"), wantCode: "PRECONDITION_FAILED"},
		{name: "SMS without a phone", as: "dan", query: ptCreateCashoutMutation, vars: ptCashoutVars("1", "SMS"), wantCode: "PRECONDITION_FAILED"},
		{name: "by the institutional admin", as: "admin", query: ptCreateCashoutMutation, vars: ptCashoutVars("1", "EMAIL"), wantCode: "CONFLICT"},
		{name: "unauthenticated", as: "", query: ptCreateCashoutMutation, vars: ptCashoutVars("1", "EMAIL"), wantCode: "UNAUTHENTICATED"},
		{name: "confirm with a wrong TAN", as: "cara", query: ptConfirmCashoutMutation, vars: ptConfirmVars(pending.ID, ptWrongCode(tan.Code)), wantCode: "INVALID_CODE"},
		{name: "confirm with another's TAN", as: "cara", query: ptConfirmCashoutMutation, vars: ptConfirmVars(pending.ID, dansTAN.Code), wantCode: "INVALID_CODE"},
		{name: "confirm another's cash-out", as: "cara", query: ptConfirmCashoutMutation, vars: ptConfirmVars(dans.ID, dansTAN.Code), wantCode: "NOT_FOUND",
			likeMadeUp: ptConfirmVars(madeUp, dansTAN.Code)},
		{name: "abort another's cash-out", as: "cara", query: ptAbortCashoutMutation, vars: ptIDVars(dans.ID), wantCode: "NOT_FOUND", likeMadeUp: ptIDVars(madeUp)},
		{name: "abort a made-up cash-out", as: "cara", query: ptAbortCashoutMutation, vars: ptIDVars(madeUp), wantCode: "NOT_FOUND"},
		{name: "confirm a malformed ID", as: "cara", query: ptConfirmCashoutMutation, vars: ptConfirmVars("###", tan.Code), wantCode: "BAD_USER_INPUT"},
		{name: "confirm by the admin", as: "admin", query: ptConfirmCashoutMutation, vars: ptConfirmVars(pending.ID, tan.Code), wantCode: "FORBIDDEN"},
		{name: "abort by the admin", as: "admin", query: ptAbortCashoutMutation, vars: ptIDVars(pending.ID), wantCode: "FORBIDDEN"},
		{name: "another's cash-out by node", as: "cara", query: ptNodeQuery, vars: ptIDVars(dans.ID), wantCode: "NOT_FOUND", likeMadeUp: ptIDVars(madeUp)},
	}
	tokens := map[string]string{"": "", "admin": admin, "cara": cara, "dan": dan, "eve": eve}
	ptRefusals(t, s, admin, tokens, []string{cara, dan, eve}, tests)
	want := map[string]eaMoneyState{
		"cara": {Balance: "100.00", Available: "70.00", DebitLimit: "0.00", PendingCount: 1, Entries: 1},
		"dan":  {Balance: "50.00", Available: "45.00", DebitLimit: "0.00", PendingCount: 1, Entries: 1},
		"eve":  {Balance: "10.00", Available: "10.00", DebitLimit: "0.00", PendingCount: 0, Entries: 1},
	}
	for who, tok := range map[string]string{"cara": cara, "dan": dan, "eve": eve} {
		if got := eaStateOf(t, s, tok).eaMoneyState; got != want[who] {
			t.Errorf("%s after the refusals = %+v, want %+v", who, got, want[who])
		}
	}

	ptCashoutDeadTANThenAbort(t, s, admin, cara, dan, pending, dans, tan, dansTAN)
}

// ptCashoutDeadTANThenAbort checks, after two wrong TANs of cara's, that three more kill her TAN (the right one is refused after), that she can still abort, and that dan's cash-out is untouched.
func ptCashoutDeadTANThenAbort(t *testing.T, s *testServer, admin, cara, dan string, pending, dans ptCashout, tan, dansTAN ptOutboxLine) {
	t.Helper()
	// Two wrong TANs above, three more kill it: then even the right one is INVALID_CODE, and
	// the cash-out stays pending until aborted.
	for range 3 {
		wantError(t, s.do(cara, ptConfirmCashoutMutation, ptConfirmVars(pending.ID, ptWrongCode(tan.Code))), "INVALID_CODE")
	}
	before := ptSnapshot(t, s, admin, cara)
	wantError(t, s.do(cara, ptConfirmCashoutMutation, ptConfirmVars(pending.ID, tan.Code)), "INVALID_CODE")
	eaUnchanged(t, before, ptSnapshot(t, s, admin, cara))
	var ab ptCashout
	ptOne(t, s.do(cara, ptAbortCashoutMutation, ptIDVars(pending.ID)), &ab)
	if ab.Status != "ABORTED" || ab.Transaction.Status != "VOIDED" {
		t.Errorf("abort after the dead TAN = %+v, want ABORTED and VOIDED", ab)
	}
	want := eaMoneyState{Balance: "100.00", Available: "100.00", DebitLimit: "0.00", PendingCount: 0, Entries: 1}
	if got := eaStateOf(t, s, cara).eaMoneyState; got != want {
		t.Errorf("cara after the abort = %+v, want %+v", got, want)
	}
	// Dan's cash-out was never touched by cara's attempts: his TAN still confirms it.
	var conf ptCashout
	ptOne(t, s.do(dan, ptConfirmCashoutMutation, ptConfirmVars(dans.ID, dansTAN.Code)), &conf)
	if conf.Status != "CONFIRMED" {
		t.Errorf("dan's confirm = %+v, want CONFIRMED", conf)
	}
	if got := eaStateOf(t, s, dan).eaMoneyState; got.Balance != "45.00" || got.Available != "45.00" || got.PendingCount != 0 {
		t.Errorf("dan after confirming = %+v, want 45.00", got)
	}
}

func TestCreateCashout_retryAfterFiveWrongTANs_returnsItWithoutANewTAN(t *testing.T) {
	s := ptStart(t)
	admin := s.admin()
	cara := ptCustomerWithAddress(t, s, admin, "cara", "+34600111222")
	s.mint(admin, "cara", "100")
	in := map[string]any{"amount": "20", "channel": "EMAIL", "idempotencyKey": "co-1"}
	var co ptCashout
	ptOne(t, ptIn(t, s, cara, ptCreateCashoutMutation, in), &co)
	tan := ptTAN(t, s, "cara@example.com", "20.00 EUR")
	for range 5 {
		wantError(t, s.do(cara, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": ptWrongCode(tan.Code)}), "INVALID_CODE")
	}
	sent := len(idReadOutbox(t, s.Outbox))
	// The retry, with the amount written another way, is the same request: the same cash-out,
	// and no fresh TAN that would grant five more guesses.
	var again ptCashout
	ptOne(t, ptIn(t, s, cara, ptCreateCashoutMutation, map[string]any{"amount": "EUR:20.00", "channel": "EMAIL", "idempotencyKey": "co-1"}), &again)
	if again.ID != co.ID || again.Status != "PENDING" {
		t.Errorf("retry = %+v, want the pending cash-out %s", again, co.ID)
	}
	if n := len(idReadOutbox(t, s.Outbox)); n != sent {
		t.Errorf("the retry sent %d messages, want none", n-sent)
	}
	wantError(t, s.do(cara, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": tan.Code}), "INVALID_CODE")
	// The way out is to abort it, which releases the money.
	s.mustDo(cara, `mutation($id: ID!) { abortCashout(id: $id) { status } }`, map[string]any{"id": co.ID}, nil)
	if got := eaStateOf(t, s, cara).eaMoneyState; got.Available != "100.00" || got.PendingCount != 0 {
		t.Errorf("after abort cara = %+v, want 100.00 available", got)
	}
}

// TestConfirmTransaction_cashoutTransaction_preconditionFailedChangesNothing: naming a cash-out's
// transaction in confirmTransaction or cancelTransaction neither pays out without the TAN nor
// releases the money under a PENDING cash-out; the TAN then still confirms it.
func TestConfirmTransaction_cashoutTransaction_preconditionFailedChangesNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		cara := ptCustomerWithAddress(t, s, admin, "cara", "")
		s.mint(admin, "cara", "100")
		co := ptNewCashout(t, s, cara, "30", "EMAIL")

		before := ptSnapshot(t, s, admin, cara)
		wantError(t, s.do(cara, eaConfirmMutation, map[string]any{"id": co.Transaction.ID}), "PRECONDITION_FAILED")
		wantError(t, s.do(cara, eaCancelMutation, map[string]any{"id": co.Transaction.ID}), "PRECONDITION_FAILED")
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
	onStores(t, func(t *testing.T, s *testServer) {
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
