package products

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/bill"
	"coffer/ent/predicate"
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
// database transaction (settleBill, which autopay uses too).
func (s *Service) PayBill(ctx context.Context, v *identity.Viewer, in BillPayment) (*ent.Bill, error) {
	clearing, err := s.Ledger.EnsureSystemAccount(ctx, BillsAccountCode, "Bill payments", false)
	if err != nil {
		return nil, err
	}
	txn, err := s.Ledger.SubmitRun(ctx, v.UserID, in.Key, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		b, err := OwnBill(ctx, tx.Client(), v, in.BillID)
		if err != nil {
			return nil, err
		}
		if b.PaidAt != nil {
			return nil, errBillPaid
		}
		c, err := s.cardByNumber(ctx, tx.Client(), "cardNumber", in.CardNumber)
		if err != nil {
			return nil, err
		}
		if c.CustomerID != v.CustomerID {
			return nil, errCardNotFound
		}
		return s.settleBill(ctx, tx, v, clearing, b.ID, c, in.Key)
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

var errBillPaid = apperr.New(apperr.PreconditionFailed, "the bill is already paid")

// settleBill pays bill billID of v with card c inside tx: the one function behind payBill and
// autopay, so a bill is paid at most once whoever pays it. It first claims the bill with a
// conditional update (paid_at IS NULL, plus the caller's conditions), which takes the bill's row
// lock: of two racing payments the second finds it paid and rolls back, and an edit or delete
// (conditional on paid_at IS NULL too) either commits before, and the amount read after the claim
// is the edited one, or finds the bill paid. Then the card's frozen rule and the transfer.
func (s *Service) settleBill(ctx context.Context, tx *ledger.Tx, v *identity.Viewer, clearing, billID int, c *ent.Card,
	key *ledger.Key, also ...predicate.Bill) (*ent.Transaction, error) {
	where := append([]predicate.Bill{bill.ID(billID), bill.CustomerID(v.CustomerID), bill.PaidAtIsNil()}, also...)
	n, err := tx.Bill.Update().Where(where...).
		SetPaidAt(s.Ledger.Now()).SetPaidWithCardID(c.ID).ClearAutopayError().Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("products: claim bill: %w", err)
	}
	if n == 0 {
		return nil, unchangeableBill(ctx, tx.Client(), v, billID)
	}
	b, err := tx.Bill.Get(ctx, billID)
	if err != nil {
		return nil, err
	}
	if err := debitCard(ctx, tx.Tx, c.ID); err != nil {
		return nil, err
	}
	txn, err := s.Ledger.Transfer(ctx, tx, ledger.Move{
		Kind: transaction.KindBILL_PAYMENT, DebitID: c.AccountID, CreditID: clearing,
		AmountMinor: b.Amount, Memo: b.Name, InitiatorID: v.UserID, Key: key,
	})
	if err != nil {
		return nil, err
	}
	if err := tx.Bill.UpdateOneID(b.ID).SetTransactionID(txn.ID).Exec(ctx); err != nil {
		return nil, err
	}
	return txn, nil
}

// unchangeableBill says why a conditional update of an unpaid bill matched nothing: it is not the
// viewer's (or gone), NOT_FOUND, or it is paid, PRECONDITION_FAILED. Otherwise the caller's own
// condition failed (autopay changed meanwhile), PRECONDITION_FAILED too.
func unchangeableBill(ctx context.Context, client *ent.Client, v *identity.Viewer, billID int) error {
	b, err := OwnBill(ctx, client, v, billID)
	switch {
	case err != nil:
		return err
	case b.PaidAt != nil:
		return errBillPaid
	default:
		return apperr.New(apperr.PreconditionFailed, "the bill's autopay changed")
	}
}

// BillChange is an edit of an unpaid bill; nil fields stay as they are.
type BillChange struct {
	Name, Amount *string
	DueDate      *time.Time
}

// UpdateBill edits one of the viewer's unpaid bills in one conditional update (paid_at IS NULL):
// a paid bill is PRECONDITION_FAILED, and a payment racing the edit either pays the edited bill
// or leaves it unedited (settleBill).
func (s *Service) UpdateBill(ctx context.Context, v *identity.Viewer, billID int, in BillChange) (*ent.Bill, error) {
	f := apperr.Fields{}
	upd := s.client().Bill.Update().Where(bill.ID(billID), bill.CustomerID(v.CustomerID), bill.PaidAtIsNil())
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || utf8.RuneCountInString(name) > 100 {
			f.Add("name", "required, at most 100 characters")
		}
		upd.SetName(name)
	}
	if in.Amount != nil {
		upd.SetAmount(s.positive(f, "amount", *in.Amount))
	}
	if in.DueDate != nil {
		if in.DueDate.IsZero() || in.DueDate.Year() > 9999 {
			f.Add("dueDate", "required")
		}
		upd.SetDueDate(in.DueDate.UTC())
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if in.Name == nil && in.Amount == nil && in.DueDate == nil {
		b, err := OwnBill(ctx, s.client(), v, billID)
		if err == nil && b.PaidAt != nil {
			return nil, errBillPaid
		}
		return b, err
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("products: update bill: %w", err)
	}
	if n == 0 {
		return nil, unchangeableBill(ctx, s.client(), v, billID)
	}
	return s.client().Bill.Get(ctx, billID)
}

// DeleteBill deletes one of the viewer's unpaid bills, conditionally on paid_at IS NULL as
// UpdateBill; a paid bill stays (it is the record of its payment): PRECONDITION_FAILED.
func (s *Service) DeleteBill(ctx context.Context, v *identity.Viewer, billID int) error {
	n, err := s.client().Bill.Delete().
		Where(bill.ID(billID), bill.CustomerID(v.CustomerID), bill.PaidAtIsNil()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("products: delete bill: %w", err)
	}
	if n == 0 {
		return unchangeableBill(ctx, s.client(), v, billID)
	}
	return nil
}
