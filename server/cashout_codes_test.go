package main

import (
	"context"
	"testing"
)

// ccFailConfirmations makes the database refuse to mark any cash-out CONFIRMED (a trigger: an
// error raised by the database inside the posting's transaction, after the TAN was checked) and
// returns the statement that lifts it.
func ccFailConfirmations(t *testing.T, s *testServer) (heal string) {
	t.Helper()
	db := lrOpen(t, s)
	stmts := []string{`CREATE TRIGGER cc_fail BEFORE UPDATE ON cashouts
		WHEN NEW.status = 'CONFIRMED' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	heal = `DROP TRIGGER cc_fail`
	if storeOf(s.DatabaseURL) == "postgres" {
		stmts = []string{
			`CREATE FUNCTION cc_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER cc_fail BEFORE UPDATE ON cashouts FOR EACH ROW WHEN (NEW.status = 'CONFIRMED') EXECUTE FUNCTION cc_fail()`,
		}
		heal = `DROP TRIGGER cc_fail ON cashouts`
	}
	for _, q := range stmts {
		if _, err := db.SQL.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return heal
}

// A database failure in confirmCashout's posting, after the TAN was checked, is INTERNAL and
// spends nothing: the money stays reserved, the TAN unused, and the same TAN confirms once the
// database works again. The TAN used to be spent before the posting: the retry was INVALID_CODE
// and the cash-out could only be aborted.
func TestConfirmCashout_databaseFailsAfterTheTAN_sameTANConfirmsLater(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		s = onT(t, s)
		admin := s.admin()
		cara := ptCustomerWithAddress(t, s, admin, "cara", "")
		s.mint(admin, "cara", "100")
		co := ptNewCashout(t, s, cara, "40", "EMAIL")
		tan := ptTAN(t, s, "cara@example.com", "40.00 EUR")
		confirm := map[string]any{"id": co.ID, "tan": tan.Code}

		heal := ccFailConfirmations(t, s)
		wantError(t, s.do(cara, ptConfirmCashoutMutation, confirm), "INTERNAL")
		pending := eaMoneyState{Balance: "100.00", Available: "60.00", DebitLimit: "0.00", PendingCount: 1, Entries: 1}
		if got := eaStateOf(t, s, cara).eaMoneyState; got != pending {
			t.Fatalf("after the failed confirmation cara = %+v, want %+v (still reserved)", got, pending)
		}
		if _, err := lrOpen(t, s).SQL.ExecContext(context.Background(), heal); err != nil {
			t.Fatal(err)
		}

		var conf ptCashout
		ptOne(t, s.do(cara, ptConfirmCashoutMutation, confirm), &conf)
		if conf.Status != "CONFIRMED" {
			t.Fatalf("confirmCashout with the same TAN = %+v, want CONFIRMED", conf)
		}
		posted := eaMoneyState{Balance: "60.00", Available: "60.00", DebitLimit: "0.00", PendingCount: 0, Entries: 2}
		if got := eaStateOf(t, s, cara).eaMoneyState; got != posted {
			t.Errorf("after the confirmation cara = %+v, want %+v", got, posted)
		}
		wantError(t, s.do(cara, ptConfirmCashoutMutation, confirm), "PRECONDITION_FAILED")
	})
}
