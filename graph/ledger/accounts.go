package ledger

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/customer"
	"coffer/ent/entry"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/iban"
	"coffer/graph/store"
)

// IssuerCode names the SYSTEM account that money is minted from; its balance is minus the money
// in circulation.
const IssuerCode = "issuer"

// BankCode is the German bank code in the IBANs coffer generates.
const BankCode = "10020030"

// accountNumberDigits is the length of generated account numbers (the account part of a German IBAN).
const accountNumberDigits = 10

// NewAccount describes an account to open.
type NewAccount struct {
	Kind       account.Kind
	OwnerID    int
	HolderName string
	// IBAN, when empty for a MAIN account, is generated from the account number.
	IBAN string
}

// Open creates an account inside tx.
func (l *Ledger) Open(ctx context.Context, tx *ent.Tx, na NewAccount) (*ent.Account, error) {
	number, err := l.freeNumber(ctx, tx)
	if err != nil {
		return nil, err
	}
	create := tx.Account.Create().
		SetKind(na.Kind).
		SetNumber(number).
		SetCurrency(l.Currency.Code).
		SetHolderName(na.HolderName).
		SetCreatedAt(l.Now())
	if na.OwnerID != 0 {
		create.SetOwnerID(na.OwnerID)
	}
	switch {
	case na.IBAN != "":
		create.SetIban(na.IBAN)
	case na.Kind == account.KindMAIN:
		generated, err := iban.New("DE", BankCode+number)
		if err != nil {
			return nil, fmt.Errorf("ledger: iban: %w", err)
		}
		create.SetIban(generated)
	}
	acc, err := create.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: open account: %w", err)
	}
	return acc, nil
}

// freeNumber draws random account numbers until one is unused; with ten digits a second draw is
// already rare.
func (l *Ledger) freeNumber(ctx context.Context, tx *ent.Tx) (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(accountNumberDigits), nil)
	for range 8 {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", fmt.Errorf("ledger: random: %w", err)
		}
		number := fmt.Sprintf("%0*d", accountNumberDigits, n)
		taken, err := tx.Account.Query().Where(account.Number(number)).Exist(ctx)
		if err != nil {
			return "", fmt.Errorf("ledger: number lookup: %w", err)
		}
		if !taken {
			return number, nil
		}
	}
	return "", fmt.Errorf("ledger: no free account number after 8 draws")
}

// Issuer returns the issuer account's id, creating the account on first use.
func (l *Ledger) Issuer(ctx context.Context) (int, error) {
	l.issuerMu.Lock()
	defer l.issuerMu.Unlock()
	if l.issuerID != 0 {
		return l.issuerID, nil
	}
	id, err := l.EnsureSystemAccount(ctx, IssuerCode, "Coffer issuer", true)
	if err != nil {
		return 0, err
	}
	l.issuerID = id
	return id, nil
}

// EnsureSystemAccount returns the id of the SYSTEM account with code, creating it if needed (two
// servers starting at once agree on one row through the unique code).
func (l *Ledger) EnsureSystemAccount(ctx context.Context, code, holder string, allowNegative bool) (int, error) {
	for range 2 {
		id, err := l.Client.Account.Query().Where(account.Code(code)).OnlyID(ctx)
		if err == nil {
			return id, nil
		}
		if !ent.IsNotFound(err) {
			return 0, fmt.Errorf("ledger: system account %s: %w", code, err)
		}
		_, err = store.InTx(ctx, l.Client, func(tx *ent.Tx) (*ent.Account, error) {
			acc, err := l.Open(ctx, tx, NewAccount{Kind: account.KindSYSTEM, HolderName: holder})
			if err != nil {
				return nil, err
			}
			return tx.Account.UpdateOne(acc).SetCode(code).SetAllowNegative(allowNegative).Save(ctx)
		})
		if err != nil && !store.IsUniqueViolation(err) {
			return 0, err
		}
	}
	return 0, fmt.Errorf("ledger: system account %s could not be created", code)
}

// Available is what the account can still spend: balance + debit limit - reserved.
func Available(a *ent.Account) int64 {
	return a.Balance + a.DebitLimit - a.Reserved
}

// BalanceAt is the account's balance at t: the balance after its last entry booked at or before t.
func (l *Ledger) BalanceAt(ctx context.Context, accountID int, t time.Time) (int64, error) {
	e, err := l.Client.Entry.Query().
		Where(entry.AccountID(accountID), entry.BookedAtLTE(t)).
		Order(ent.Desc(entry.FieldVersion)).
		First(ctx)
	switch {
	case ent.IsNotFound(err):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("ledger: balance at: %w", err)
	}
	return e.BalanceAfter, nil
}

// PendingCount counts the pending transactions on either side of the account.
func (l *Ledger) PendingCount(ctx context.Context, accountID int) (int, error) {
	return l.Client.Transaction.Query().
		Where(transaction.StatusEQ(transaction.StatusPENDING),
			transaction.Or(transaction.DebitAccountID(accountID), transaction.CreditAccountID(accountID))).
		Count(ctx)
}

// SetDebitLimit sets how far below zero the account may go; limit is as the client typed it
// (Decimal or "CUR:value"). A malformed limit is BAD_USER_INPUT before a missing account is
// NOT_FOUND. The limit cannot fall below what the account already uses (the database's CHECK
// would refuse it): that is PRECONDITION_FAILED.
func (l *Ledger) SetDebitLimit(ctx context.Context, accountID int, limit string) (*ent.Account, error) {
	limitMinor, err := l.Currency.ParseAmount(limit)
	if err != nil {
		return nil, apperr.Field("limit", err.Error())
	}
	if ok, err := l.Client.Account.Query().Where(account.ID(accountID)).Exist(ctx); err != nil || !ok {
		return nil, cmp.Or[error](err, errAccountNotFound)
	}
	return l.setDebitLimit(ctx, accountID, limitMinor)
}

var errAccountNotFound = apperr.New(apperr.NotFound, "account not found")

func (l *Ledger) setDebitLimit(ctx context.Context, accountID int, limitMinor int64) (*ent.Account, error) {
	if limitMinor < 0 {
		return nil, apperr.Field("limit", "must not be negative")
	}
	if err := l.Currency.WithinBound(limitMinor); err != nil {
		return nil, apperr.Field("limit", err.Error())
	}
	var acc *ent.Account
	err := l.Apply(ctx, func(tx *Tx) error {
		var err error
		acc, err = tx.Account.UpdateOneID(accountID).SetDebitLimit(limitMinor).Save(ctx)
		switch {
		case ent.IsNotFound(err):
			return errAccountNotFound
		case store.IsCheckViolation(err):
			return apperr.New(apperr.PreconditionFailed, "the account already uses more than this limit")
		case err != nil:
			return err
		}
		return audit.Write(ctx, tx.AuditEvent, audit.Event{Action: audit.DebitLimitChanged,
			Target: audit.Target("account", accountID), TargetName: acc.Number + " " + strconv.FormatInt(limitMinor, 10)})
	})
	return acc, err
}

// LockCustomer reads the customer's row and, on PostgreSQL, locks it for the rest of tx (SQLite
// has one writer, whose immediate transactions already run one at a time). A rule of the shape
// "at most N per customer" counts after this lock, so that concurrent requests of one customer
// count one after another instead of all seeing the same count. A missing customer is NOT_FOUND.
func (l *Ledger) LockCustomer(ctx context.Context, tx *ent.Tx, customerID int) (*ent.Customer, error) {
	q := tx.Customer.Query().Where(customer.ID(customerID))
	if l.Dialect == dialect.Postgres {
		q.ForUpdate()
	}
	c, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "customer not found")
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: lock customer: %w", err)
	}
	return c, nil
}
