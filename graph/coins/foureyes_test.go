package coins

import (
	"errors"
	"testing"

	"coffer/ent"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/identity"
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

func TestSignable(t *testing.T) {
	admin := &identity.Viewer{UserID: 1, Role: user.RoleADMIN}
	ann := &identity.Viewer{UserID: 2, Role: user.RoleCUSTOMER, CustomerID: 3}
	creator, other := 1, 9
	const annMain, benMain = 10, 11
	tx := func(kind transaction.Kind, status transaction.Status, debit int, initiator *int) *ent.Transaction {
		return &ent.Transaction{Kind: kind, Status: status, DebitAccountID: debit, InitiatorID: initiator}
	}
	tests := []struct {
		name   string
		viewer *identity.Viewer
		give   *ent.Transaction
		want   bool
	}{
		{"ann's pending transfer", ann, tx(transaction.KindTRANSFER, transaction.StatusPENDING, annMain, nil), true},
		{"a pending transfer to ann", ann, tx(transaction.KindTRANSFER, transaction.StatusPENDING, benMain, nil), false},
		{"ann's posted transfer", ann, tx(transaction.KindTRANSFER, transaction.StatusPOSTED, annMain, nil), false},
		{"a pending creation, for its recipient", ann, tx(transaction.KindCREATION, transaction.StatusPENDING, 1, &creator), false},
		{"another admin's pending creation", admin, tx(transaction.KindCREATION, transaction.StatusPENDING, 1, &other), true},
		{"the admin's own pending creation", admin, tx(transaction.KindCREATION, transaction.StatusPENDING, 1, &creator), false},
		{"a customer's transfer, for an admin", admin, tx(transaction.KindTRANSFER, transaction.StatusPENDING, annMain, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Signable(tt.viewer, annMain, tt.give); got != tt.want {
				t.Errorf("Signable = %v, want %v", got, tt.want)
			}
		})
	}
}
