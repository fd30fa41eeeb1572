package identity

import (
	"context"
	"fmt"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/bill"
	"coffer/ent/card"
	"coffer/ent/cashout"
	"coffer/ent/challenge"
	"coffer/ent/savingsgoal"
	"coffer/ent/session"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
)

// deleteCustomer deletes c inside tx. What goes: the login (user, sessions, codes), the customer
// row and the product rows that are views on their accounts (cards, savings goals, bills,
// cash-outs). What stays: the accounts, closed and without owner, with their holder name and
// IBAN, and every transaction and entry, so that another customer's statement still names the
// counterparty of an old entry. The username and e-mail are free for a new customer afterwards.
func (s *Service) deleteCustomer(ctx context.Context, tx *ent.Tx, c *ent.Customer) error {
	// The customer's row lock first: a concurrent createCard or createSavingsGoal (which take it
	// too) either commits before, and its account is closed below, or waits and then finds no
	// customer.
	if _, err := s.Ledger.LockCustomer(ctx, tx, c.ID); err != nil {
		return err
	}
	// Closing the accounts takes their row locks, so no movement can slip in before the checks.
	if _, err := tx.Account.Update().Where(account.OwnerID(c.ID), account.ClosedAtIsNil()).SetClosedAt(s.Now()).Save(ctx); err != nil {
		return err
	}
	accountIDs, err := tx.Account.Query().Where(account.OwnerID(c.ID)).IDs(ctx)
	if err != nil {
		return err
	}
	// A pending transaction on either side (a cash-out awaiting its TAN, a transfer awaiting its
	// signature, to or from the customer) would be stranded on a closed account.
	pending, err := tx.Transaction.Query().Where(transaction.StatusEQ(transaction.StatusPENDING),
		transaction.Or(transaction.DebitAccountIDIn(accountIDs...), transaction.CreditAccountIDIn(accountIDs...))).Exist(ctx)
	if err != nil {
		return err
	}
	if pending {
		return apperr.New(apperr.PreconditionFailed, "the customer has pending transactions (a cash-out or a transfer): settle them first")
	}
	busy, err := tx.Account.Query().
		Where(account.IDIn(accountIDs...), account.Or(account.BalanceNEQ(0), account.ReservedNEQ(0))).Exist(ctx)
	if err != nil {
		return err
	}
	if busy {
		return apperr.New(apperr.PreconditionFailed, "the customer's accounts are not empty")
	}
	return removeCustomerRows(ctx, tx, c, accountIDs)
}

// removeCustomerRows deletes what references the customer or their user, children first (the
// foreign keys do not cascade), and detaches the accounts.
func removeCustomerRows(ctx context.Context, tx *ent.Tx, c *ent.Customer, accountIDs []int) error {
	steps := []struct {
		what string
		run  func() (int, error)
	}{
		{"bills", func() (int, error) { return tx.Bill.Delete().Where(bill.CustomerID(c.ID)).Exec(ctx) }},
		{"cash-outs", func() (int, error) { return tx.Cashout.Delete().Where(cashout.CustomerID(c.ID)).Exec(ctx) }},
		{"savings goals", func() (int, error) {
			return tx.SavingsGoal.Delete().Where(savingsgoal.CustomerID(c.ID)).Exec(ctx)
		}},
		{"cards", func() (int, error) { return tx.Card.Delete().Where(card.CustomerID(c.ID)).Exec(ctx) }},
		{"accounts", func() (int, error) {
			return tx.Account.Update().Where(account.IDIn(accountIDs...)).ClearOwnerID().Save(ctx)
		}},
		{"codes", func() (int, error) { return tx.Challenge.Delete().Where(challenge.UserID(c.UserID)).Exec(ctx) }},
		{"sessions", func() (int, error) { return tx.Session.Delete().Where(session.UserID(c.UserID)).Exec(ctx) }},
		{"customer", func() (int, error) { return 1, tx.Customer.DeleteOneID(c.ID).Exec(ctx) }},
		{"user", func() (int, error) { return 1, tx.User.DeleteOneID(c.UserID).Exec(ctx) }},
	}
	for _, st := range steps {
		if _, err := st.run(); err != nil {
			return fmt.Errorf("identity: delete customer's %s: %w", st.what, err)
		}
	}
	return nil
}
