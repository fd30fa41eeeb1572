package products

import (
	"context"
	"fmt"
	"strconv"

	"coffer/ent"
	"coffer/graph/apperr"
	"coffer/graph/identity"
	"coffer/graph/ledger"
)

// A card transfer names its destination by number, and anyone may name anyone's card: the answer
// must not tell which numbers exist more cheaply than a real transfer does. So the source's funds
// are checked before the destination is looked up (an amount the sender cannot pay is
// INSUFFICIENT_FUNDS whatever the number), and numbers that name no card spend the sender's
// budget of failed look-ups (FailedLookups, shared with sendCoins), checked before the look-up.

// checkLookupBudget refuses, before any look-up, a viewer whose failed look-ups are spent.
func (s *Service) checkLookupBudget(v *identity.Viewer) error {
	if s.FailedLookups == nil {
		return nil
	}
	if ok, wait := s.FailedLookups.Peek(strconv.Itoa(v.UserID)); !ok {
		return apperr.TooMany(wait, "too many card numbers not found: try again later")
	}
	return nil
}

// countLookupMiss spends one failed look-up of the viewer's.
func (s *Service) countLookupMiss(v *identity.Viewer) {
	if s.FailedLookups != nil {
		s.FailedLookups.Allow(strconv.Itoa(v.UserID))
	}
}

// checkFunds refuses an amount the account cannot pay now; the transfer checks again when it
// debits.
func checkFunds(ctx context.Context, client *ent.Client, accountID int, amountMinor int64) error {
	acc, err := client.Account.Get(ctx, accountID)
	if err != nil {
		return fmt.Errorf("products: read the source account: %w", err)
	}
	if ledger.Available(acc) < amountMinor {
		return apperr.New(apperr.InsufficientFunds, "insufficient funds")
	}
	return nil
}
