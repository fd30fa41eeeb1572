package coins

import (
	"errors"
	"testing"

	"coffer/ent"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
)

func TestCheckSettleCreation(t *testing.T) {
	creator, other := 7, 8
	pending := func(kind transaction.Kind) *ent.Transaction {
		return &ent.Transaction{Kind: kind, Status: transaction.StatusPENDING, InitiatorID: &creator}
	}
	posted := &ent.Transaction{Kind: transaction.KindCREATION, Status: transaction.StatusPOSTED, InitiatorID: &creator}
	tests := []struct {
		name  string
		give  *ent.Transaction
		admin int
		post  bool
		want  apperr.Code
	}{
		{"another admin confirms", pending(transaction.KindCREATION), other, true, ""},
		{"the creator confirms", pending(transaction.KindCREATION), creator, true, apperr.Forbidden},
		{"the creator cancels", pending(transaction.KindCREATION), creator, false, ""},
		{"another admin cancels", pending(transaction.KindCREATION), other, false, ""},
		{"no longer pending", posted, other, true, apperr.PreconditionFailed},
		{"a transfer is its sender's", pending(transaction.KindTRANSFER), other, true, apperr.Forbidden},
		{"a cash-out has its own flow", pending(transaction.KindCASHOUT), other, false, apperr.PreconditionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSettleCreation(tt.give, tt.admin, tt.post)
			var got apperr.Code
			var ae *apperr.Error
			if errors.As(err, &ae) {
				got = ae.Code
			} else if err != nil {
				got = "other: " + apperr.Code(err.Error())
			}
			if got != tt.want {
				t.Errorf("code = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}
