package ledger_test

import (
	"context"
	"errors"
	"testing"

	"coffer/graph/apperr"
	"coffer/graph/ledger"
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
