// Package testkit is the set-up that the domain packages' tests share: a ledger over a fresh
// store, a customer with a main account, coins minted to an account, and the assertions every
// rule test makes (an error's code, an account's balance, the last code sent). Only tests import
// it; it imports no domain service above the ledger, so that those services' own tests can.
package testkit

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/ledger"
	"coffer/graph/money"
	"coffer/graph/pgtest"
	"coffer/graph/store"

	"entgo.io/ent/dialect"
)

// EUR is the currency of the tests' ledgers.
var EUR = money.Currency{Code: "EUR", Scale: 2}

// Ledger is a ledger in EUR over db, on PostgreSQL with its batch statements prepared as the
// server runs them.
func Ledger(db *store.DB) *ledger.Ledger {
	l := ledger.New(db.Client, db.Dialect, EUR)
	if db.Dialect == dialect.Postgres {
		l.Statements = &store.TxStatements{DB: db.SQL}
	}
	return l
}

// OpenLedger is Ledger over a fresh database of store st ("postgres" or "sqlite").
func OpenLedger(t testing.TB, st string) *ledger.Ledger {
	t.Helper()
	return Ledger(pgtest.OpenStore(t, st))
}

// Customer is what NewCustomer created.
type Customer struct {
	UserID, CustomerID, AccountID int
	Username                      string
}

// CustomerOptions are a new customer's optional fields; the zero value sets none of them.
type CustomerOptions struct {
	Email          string // the user's e-mail
	CashoutAddress string // the customer's cash-out address
}

// NewCustomer creates, in one transaction, a user called username with the CUSTOMER role, its
// customer (named username too) and the customer's main account.
func NewCustomer(t testing.TB, l *ledger.Ledger, username string, o CustomerOptions) Customer {
	t.Helper()
	ctx := context.Background()
	c, err := store.InTx(ctx, l.Client, func(tx *ent.Tx) (Customer, error) {
		create := tx.User.Create().SetUsername(username).SetPasswordHash("x").SetRole(user.RoleCUSTOMER)
		if o.Email != "" {
			create.SetEmail(o.Email)
		}
		u, err := create.Save(ctx)
		if err != nil {
			return Customer{}, err
		}
		cc := tx.Customer.Create().SetUserID(u.ID).SetName(username)
		if o.CashoutAddress != "" {
			cc.SetCashoutAddress(o.CashoutAddress)
		}
		cu, err := cc.Save(ctx)
		if err != nil {
			return Customer{}, err
		}
		acc, err := l.Open(ctx, tx, ledger.NewAccount{Kind: account.KindMAIN, OwnerID: cu.ID, HolderName: username})
		if err != nil {
			return Customer{}, err
		}
		return Customer{UserID: u.ID, CustomerID: cu.ID, AccountID: acc.ID, Username: username}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Mint moves amountMinor from the issuer to accountID (a CREATION, as createCoins posts it).
func Mint(t testing.TB, l *ledger.Ledger, accountID int, amountMinor int64) *ent.Transaction {
	t.Helper()
	ctx := context.Background()
	issuer, err := l.Issuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	txn, err := l.Run(ctx, 0, nil, func(tx *ledger.Tx) (*ent.Transaction, error) {
		return l.Transfer(ctx, tx, ledger.Move{Kind: transaction.KindCREATION, DebitID: issuer, CreditID: accountID, AmountMinor: amountMinor})
	})
	if err != nil {
		t.Fatal(err)
	}
	return txn
}

// Balance is accountID's balance and reservation, read from its row.
func Balance(t testing.TB, l *ledger.Ledger, accountID int) (balanceMinor, reservedMinor int64) {
	t.Helper()
	a, err := l.Client.Account.Get(context.Background(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance, a.Reserved
}

// WantCode fails t at once unless err carries the code want.
func WantCode(t testing.TB, err error, want apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != want {
		t.Fatalf("error = %v (%s), want %s", err, got, want)
	}
}

// LastCode is the code of the last message in the outbox file (graph/delivery's OUTBOX_FILE).
func LastCode(t testing.TB, outbox string) string {
	t.Helper()
	f, err := os.Open(outbox)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last struct{ Code string }
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatal(err)
		}
	}
	return last.Code
}
