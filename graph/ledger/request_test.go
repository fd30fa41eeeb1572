package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"entgo.io/contrib/entgql"

	"coffer/ent/entry"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/ledger"
	"coffer/graph/testkit"
)

// TestSetDebitLimit_rawLimit_errorsInTheAPIsOrder: the limit is read as typed; a malformed one is
// BAD_USER_INPUT on "limit" even for a missing account, a well-formed one for a missing account
// is NOT_FOUND, and out-of-range values on an existing one are BAD_USER_INPUT; nothing changes
// but the accepted limit.
func TestSetDebitLimit_rawLimit_errorsInTheAPIsOrder(t *testing.T) {
	l := open(t, "sqlite")
	id := openAccount(t, l, "ann")
	tests := []struct {
		name      string
		accountID int
		give      string
		want      apperr.Code
		wantField string
	}{
		{"malformed, missing account", id + 100, "ten", apperr.BadUserInput, "limit"},
		{"negative, missing account", id + 100, "-1", apperr.NotFound, ""},
		{"negative", id, "-1", apperr.BadUserInput, "limit"},
		{"beyond the bound", id, "10000000000000.01", apperr.BadUserInput, "limit"},
		{"another currency", id, "USD:5", apperr.BadUserInput, "limit"},
	}
	for _, tt := range tests {
		_, err := l.SetDebitLimit(context.Background(), tt.accountID, tt.give)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != tt.want || tt.wantField != "" && ae.Fields[tt.wantField] == "" {
			t.Errorf("%s: %v, want %s on %q", tt.name, err, tt.want, tt.wantField)
		}
	}
	if got := get(t, l, id).DebitLimit; got != 0 {
		t.Fatalf("debit limit after the refusals = %d, want 0", got)
	}
	acc, err := l.SetDebitLimit(context.Background(), id, "EUR:12.5")
	if err != nil || acc.DebitLimit != 12_50 || get(t, l, id).DebitLimit != 12_50 {
		t.Fatalf("SetDebitLimit(EUR:12.5) = %+v, %v; want 1250", acc, err)
	}
}

// TestPositiveAmount_fieldNamed: an amount the client typed is positive and bounded, and an error
// names the caller's field.
func TestPositiveAmount_fieldNamed(t *testing.T) {
	l := ledger.New(nil, "", eur)
	for _, give := range []string{"0", "-1", "1.001", "x", "10000000000000.01", "USD:1"} {
		_, err := l.PositiveAmount("goal", give)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields["goal"] == "" {
			t.Errorf("%q: %v, want BAD_USER_INPUT on goal", give, err)
		}
	}
	if got, err := l.PositiveAmount("goal", "EUR:0.5"); err != nil || got != 50 || ledger.AmountPart(got) != "50" {
		t.Errorf("EUR:0.5 = %d, %v; want 50", got, err)
	}
}

// TestFilters_narrowOnlyByWhatIsGiven: the statement's and the transaction list's filters narrow
// by each field given and by nothing else; a statement is newest first unless asked otherwise.
func TestFilters_narrowOnlyByWhatIsGiven(t *testing.T) {
	l := open(t, "sqlite")
	ctx := context.Background()
	a, b := openAccount(t, l, "ann"), openAccount(t, l, "ben")
	testkit.Mint(t, l, a, 10_00)
	if _, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: a, CreditID: b, AmountMinor: 1_00, Pending: true}); err != nil {
		t.Fatal(err)
	}
	count := func(f ledger.TransactionFilter) int {
		q, _ := f.Narrow(l.Client.Transaction.Query())
		return q.CountX(ctx)
	}
	pending, creation := transaction.StatusPENDING, transaction.KindCREATION
	for _, tt := range []struct {
		give ledger.TransactionFilter
		want int
	}{
		{ledger.TransactionFilter{}, 2},
		{ledger.TransactionFilter{Status: &pending}, 1},
		{ledger.TransactionFilter{Kind: &creation}, 1},
		{ledger.TransactionFilter{Status: &pending, Kind: &creation}, 0},
	} {
		if got := count(tt.give); got != tt.want {
			t.Errorf("%+v: %d transactions, want %d", tt.give, got, tt.want)
		}
	}
	created, sent, future := entry.TypeCREATION, entry.TypeSEND, time.Now().Add(time.Hour)
	entries := func(f ledger.EntryFilter) int {
		q, _ := f.Narrow(l.Client.Entry.Query().Where(entry.AccountID(a)))
		return q.CountX(ctx)
	}
	for _, tt := range []struct {
		give ledger.EntryFilter
		want int
	}{
		{ledger.EntryFilter{}, 1},
		{ledger.EntryFilter{Type: &created}, 1},
		{ledger.EntryFilter{Type: &sent}, 0}, // the pending transfer has no entry yet
		{ledger.EntryFilter{Until: &future}, 1},
		{ledger.EntryFilter{Since: &future}, 0},
	} {
		if got := entries(tt.give); got != tt.want {
			t.Errorf("%+v: %d of ann's entries, want %d", tt.give, got, tt.want)
		}
	}
	asc := entgql.OrderDirectionAsc
	if ledger.StatementOrder(nil).Direction != entgql.OrderDirectionDesc || ledger.StatementOrder(&asc).Direction != asc {
		t.Error("a statement is newest first unless asked for oldest first")
	}
}
