package products

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/bill"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
)

// BillsAccountCode is the bank's bill-payment clearing account: bills are paid into it.
const BillsAccountCode = "bill-payments"

var errBillNotFound = apperr.New(apperr.NotFound, "bill not found")

// CreateBill enters a bill for the viewer.
func (s *Service) CreateBill(ctx context.Context, v *identity.Viewer, name, amount string, due time.Time) (*ent.Bill, error) {
	f := apperr.Fields{}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		f.Add("name", "required, at most 100 characters")
	}
	amountMinor := s.positive(f, "amount", amount)
	if due.IsZero() || due.Year() > 9999 {
		f.Add("dueDate", "required")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	b, err := s.client().Bill.Create().SetCustomerID(v.CustomerID).SetName(name).SetAmount(amountMinor).
		SetDueDate(due.UTC()).SetCreatedAt(s.Ledger.Now()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("products: create bill: %w", err)
	}
	return b, nil
}

// OwnBill returns one of the viewer's bills; another's is NOT_FOUND, as a missing one.
func OwnBill(ctx context.Context, client *ent.Client, v *identity.Viewer, billID int) (*ent.Bill, error) {
	b, err := client.Bill.Query().Where(bill.ID(billID), bill.CustomerID(v.CustomerID)).Only(ctx)
	if ent.IsNotFound(err) || v.CustomerID == 0 {
		return nil, errBillNotFound
	}
	return b, err
}

// BillPayment pays one of the viewer's bills with one of their cards.
type BillPayment struct {
	BillID     int
	CardNumber string
	Key        *ledger.Key
}

// PayBill debits the card to the bill-payment clearing account and marks the bill paid, in one
// database transaction. The mark is a conditional update (paid_at IS NULL): of two racing
// payments, the second finds the bill paid and rolls its transfer back.
func (s *Service) PayBill(ctx context.Context, v *identity.Viewer, in BillPayment) (*ent.Bill, error) {
	clearing, err := s.Ledger.EnsureSystemAccount(ctx, BillsAccountCode, "Bill payments", false)
	if err != nil {
		return nil, err
	}
	txn, err := s.Ledger.Run(ctx, v.UserID, in.Key, func(tx *ledger.Tx) (*ent.Transaction, error) {
		b, err := OwnBill(ctx, tx.Client(), v, in.BillID)
		if err != nil {
			return nil, err
		}
		if b.PaidAt != nil {
			return nil, apperr.New(apperr.PreconditionFailed, "the bill is already paid")
		}
		c, err := s.cardByNumber(ctx, tx.Client(), "cardNumber", in.CardNumber)
		if err != nil {
			return nil, err
		}
		if c.CustomerID != v.CustomerID {
			return nil, errCardNotFound
		}
		txn, err := s.Ledger.Transfer(ctx, tx, ledger.Move{
			Kind: transaction.KindBILL_PAYMENT, DebitID: c.AccountID, CreditID: clearing,
			AmountMinor: b.Amount, Memo: b.Name, InitiatorID: v.UserID, Key: in.Key,
		})
		if err != nil {
			return nil, err
		}
		n, err := tx.Bill.Update().Where(bill.ID(b.ID), bill.PaidAtIsNil()).
			SetPaidAt(s.Ledger.Now()).SetPaidWithCardID(c.ID).SetTransactionID(txn.ID).Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, apperr.New(apperr.PreconditionFailed, "the bill is already paid")
		}
		return txn, nil
	})
	if err != nil {
		return nil, err
	}
	// A retry under the same key returns the first payment's bill.
	b, err := s.client().Bill.Query().Where(bill.TransactionID(txn.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errBillNotFound
	}
	return b, err
}
