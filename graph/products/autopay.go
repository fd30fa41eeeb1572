package products

import (
	"context"
	"errors"
	"fmt"
	"time"

	"coffer/ent"
	"coffer/ent/bill"
	"coffer/ent/card"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
)

// autopayBatch bounds the bills one query of the autopay run reads; a run reads batches until it
// has seen every due bill.
const autopayBatch = 100

// maxAutopayErrorLen is the autopay_error column's size.
const maxAutopayErrorLen = 200

// SetBillAutopay has one of the viewer's unpaid bills paid from one of their cards (given by its
// full number) on its due date. Another's card or bill is NOT_FOUND, a paid bill
// PRECONDITION_FAILED. A frozen card may be chosen: the card's state is checked when the bill is
// paid. Setting it again replaces the card and clears autopayError.
func (s *Service) SetBillAutopay(ctx context.Context, v *identity.Viewer, billID int, cardNumber string) (*ent.Bill, error) {
	c, err := s.cardByNumber(ctx, s.client(), "cardNumber", cardNumber)
	if err != nil {
		return nil, err
	}
	if c.CustomerID != v.CustomerID {
		return nil, errCardNotFound
	}
	return s.changeAutopay(ctx, v, billID, s.client().Bill.Update().SetAutopayCardID(c.ID))
}

// CancelBillAutopay stops autopay of one of the viewer's unpaid bills (a bill without autopay is
// returned unchanged); a paid bill is PRECONDITION_FAILED.
func (s *Service) CancelBillAutopay(ctx context.Context, v *identity.Viewer, billID int) (*ent.Bill, error) {
	return s.changeAutopay(ctx, v, billID, s.client().Bill.Update().ClearAutopayCardID())
}

// changeAutopay applies upd to an unpaid bill of the viewer's, conditionally on paid_at IS NULL.
func (s *Service) changeAutopay(ctx context.Context, v *identity.Viewer, billID int, upd *ent.BillUpdate) (*ent.Bill, error) {
	n, err := upd.Where(bill.ID(billID), bill.CustomerID(v.CustomerID), bill.PaidAtIsNil()).
		ClearAutopayError().Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("products: change autopay: %w", err)
	}
	if n == 0 {
		return nil, unchangeableBill(ctx, s.client(), v, billID)
	}
	return s.client().Bill.Get(ctx, billID)
}

// AutopayRun is what one run of the autopay job did.
type AutopayRun struct {
	// Paid counts the bills it paid; Failed those it could not (their autopayError says why).
	Paid, Failed int
}

// RunAutopay pays every unpaid bill with autopay whose due date (its UTC calendar day) has come,
// each in its own database transaction through settleBill, the function behind payBill. The
// claim there (paid_at IS NULL and the autopay card unchanged) makes a payment happen at most
// once even when two instances run at the same time; the caller keeps runs apart as well (an
// advisory lock on PostgreSQL). A bill that cannot be paid (funds, a frozen or closed card) stays
// unpaid with autopayError set, and is tried again at the next run. An internal error on one bill
// does not hold up the others: the run goes on and returns the first such error with their count.
func (s *Service) RunAutopay(ctx context.Context) (AutopayRun, error) {
	var run AutopayRun
	var firstErr error
	internal := 0
	clearing, err := s.Ledger.EnsureSystemAccount(ctx, BillsAccountCode, "Bill payments", false)
	if err != nil {
		return run, err
	}
	y, m, d := s.Ledger.Now().UTC().Date()
	dueBefore := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	for lastID := 0; ; {
		bills, err := s.client().Bill.Query().
			Where(bill.AutopayCardIDNotNil(), bill.PaidAtIsNil(), bill.DueDateLT(dueBefore), bill.IDGT(lastID)).
			Order(ent.Asc(bill.FieldID)).Limit(autopayBatch).All(ctx)
		if err != nil {
			return run, fmt.Errorf("products: autopay: due bills: %w", err)
		}
		for _, b := range bills {
			lastID = b.ID
			paid, err := s.autopay(ctx, clearing, b)
			if ctx.Err() != nil {
				return run, ctx.Err()
			}
			if err != nil {
				if internal++; firstErr == nil {
					firstErr = err
				}
				continue
			}
			if paid {
				run.Paid++
			} else {
				run.Failed++
			}
		}
		if len(bills) < autopayBatch {
			if firstErr != nil {
				return run, fmt.Errorf("products: autopay: %d bills failed, the first: %w", internal, firstErr)
			}
			return run, nil
		}
	}
}

// autopay pays one due bill from its autopay card, as its owner. A refusal (funds, the card frozen
// or closed) is written to autopay_error, unless the bill changed meanwhile; only an internal
// error is returned.
func (s *Service) autopay(ctx context.Context, clearing int, b *ent.Bill) (bool, error) {
	owner, err := s.client().Customer.Get(ctx, b.CustomerID)
	if err != nil {
		return false, fmt.Errorf("products: autopay bill %d: owner: %w", b.ID, err)
	}
	v := &identity.Viewer{UserID: owner.UserID, Role: user.RoleCUSTOMER, CustomerID: owner.ID}
	cardID := *b.AutopayCardID
	_, err = s.Ledger.SubmitRun(ctx, v.UserID, nil, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		// Any status: a closed card is refused by debitCard with its reason.
		c, err := tx.Card.Query().Where(card.ID(cardID), card.CustomerID(b.CustomerID)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, errCardNotFound
		}
		if err != nil {
			return nil, err
		}
		return s.settleBill(ctx, tx, v, clearing, b.ID, c, nil, bill.AutopayCardID(cardID))
	})
	var refusal *apperr.Error
	if err == nil || !errors.As(err, &refusal) || refusal.Code == apperr.Internal {
		return err == nil, err
	}
	msg := refusal.Message
	if len(msg) > maxAutopayErrorLen {
		msg = msg[:maxAutopayErrorLen]
	}
	// Written only while the bill is unpaid with the same card, and only when the reason changed.
	_, err = s.client().Bill.Update().
		Where(bill.ID(b.ID), bill.PaidAtIsNil(), bill.AutopayCardID(cardID),
			bill.Or(bill.AutopayErrorIsNil(), bill.AutopayErrorNEQ(msg))).
		SetAutopayError(msg).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("products: autopay bill %d: record error: %w", b.ID, err)
	}
	return false, nil
}
