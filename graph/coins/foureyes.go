package coins

import (
	"context"
	"fmt"

	"coffer/ent"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
)

// CheckSettleCreation is the dual-control rule for a pending creation (API.md §7): any
// administrator may void it, but only one other than its creator may post it, so that no single
// administrator mints money alone. Transfers are signed by their sender only, and every other
// kind has its own flow.
func CheckSettleCreation(txn *ent.Transaction, adminUserID int, post bool) error {
	switch txn.Kind {
	case transaction.KindCREATION:
	case transaction.KindTRANSFER:
		return apperr.New(apperr.Forbidden, "only the sender confirms or cancels a transfer")
	default:
		return ledger.ErrOtherFlow(txn.Kind)
	}
	if txn.Status != transaction.StatusPENDING {
		return apperr.New(apperr.PreconditionFailed, "the transaction is no longer pending")
	}
	if post && txn.InitiatorID != nil && *txn.InitiatorID == adminUserID {
		return apperr.New(apperr.Forbidden, "a creation is confirmed by an administrator other than the one who created it")
	}
	return nil
}

// SettleCreation posts (post) or voids a pending creation as administrator admin, under
// CheckSettleCreation. A missing transaction is NOT_FOUND.
func (s *Service) SettleCreation(ctx context.Context, admin *identity.Viewer, txnID int, post bool) (*ent.Transaction, error) {
	txn, err := s.Ledger.Client.Transaction.Get(ctx, txnID)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "transaction not found")
	}
	if err != nil {
		return nil, fmt.Errorf("coins: settle creation: %w", err)
	}
	if err := CheckSettleCreation(txn, admin.UserID, post); err != nil {
		return nil, err
	}
	return s.Ledger.SubmitApply(ctx, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		// The kind is part of the settlement's condition: only a creation moves here.
		if post {
			return s.Ledger.Post(ctx, tx, txn.ID, transaction.KindCREATION)
		}
		return s.Ledger.Void(ctx, tx, txn.ID, transaction.KindCREATION)
	})
}

// Signable reports whether viewer v may confirm txn now: a pending transfer sent from v's main
// account (mainAccountID), or for an administrator a pending creation another administrator
// created. It is what a customer's review page marks as waiting for their signature.
func Signable(v *identity.Viewer, mainAccountID int, txn *ent.Transaction) bool {
	if txn.Status != transaction.StatusPENDING {
		return false
	}
	if v.IsAdmin() {
		return CheckSettleCreation(txn, v.UserID, true) == nil
	}
	return txn.Kind == transaction.KindTRANSFER && mainAccountID != 0 && txn.DebitAccountID == mainAccountID
}
