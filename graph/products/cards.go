// Package products holds the everyday products a customer keeps on top of the ledger: cards,
// savings goals and bills. Each is a view on ledger accounts; every movement is one ledger
// transaction, so the ledger's conservation, version and idempotency rules hold for all of them.
package products

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/card"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/cardnum"
	"coffer/graph/coins"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/lookup"
	"coffer/graph/ratelimit"
	"coffer/graph/store"
)

// MaxActiveCards bounds the cards one customer holds at a time.
const MaxActiveCards = 10

// cardValidity is how long a new card is valid: to the end of the month, this many years ahead.
const cardValidityYears = 4

// Service applies the product rules.
type Service struct {
	Ledger *ledger.Ledger
	// Key hashes card numbers for look-up; only the hash and the last four digits are stored.
	Key lookup.Key
	// CardPrefix is the issuer identification number new card numbers start with.
	CardPrefix string
	// FailedLookups bounds, per user, card numbers that name no card (nil: unbounded;
	// enumeration.go).
	FailedLookups *ratelimit.Limiter
}

func (s *Service) client() *ent.Client { return s.Ledger.Client }

func (s *Service) numberHash(number string) []byte { return s.Key.Hash("card", number) }

// positive parses a positive amount as typed (Decimal or "CUR:value"), adding field to f when it
// is not one; the caller reports f with its other findings.
func (s *Service) positive(f apperr.Fields, field, amount string) int64 {
	v, err := s.Ledger.Currency.ParsePositive(amount)
	if err == nil {
		err = s.Ledger.Currency.WithinBound(v)
	}
	if err != nil {
		f.Add(field, err.Error())
	}
	return v
}

var errCardNotFound = apperr.New(apperr.NotFound, "card not found")

// CreateCard issues a card to the viewer: a CARD account and a fresh, unique, Luhn-valid number,
// returned in full this once.
func (s *Service) CreateCard(ctx context.Context, v *identity.Viewer) (*ent.Card, string, error) {
	// A number drawn twice loses on the unique index; a new draw in a new transaction wins.
	for range 5 {
		number, err := cardnum.Generate(s.CardPrefix, rand.Reader)
		if err != nil {
			return nil, "", fmt.Errorf("products: card number: %w", err)
		}
		c, err := store.InTx(ctx, s.client(), func(tx *ent.Tx) (*ent.Card, error) {
			// Counted under the owner's row lock: concurrent creations count one after another.
			owner, err := s.Ledger.LockCustomer(ctx, tx, v.CustomerID)
			if err != nil {
				return nil, err
			}
			n, err := tx.Card.Query().Where(card.CustomerID(v.CustomerID), card.StatusNEQ(card.StatusCLOSED)).Count(ctx)
			if err != nil {
				return nil, err
			}
			if n >= MaxActiveCards {
				return nil, apperr.New(apperr.PreconditionFailed, "at most %d cards at a time", MaxActiveCards)
			}
			acc, err := s.Ledger.Open(ctx, tx, ledger.NewAccount{Kind: account.KindCARD, OwnerID: v.CustomerID, HolderName: owner.Name})
			if err != nil {
				return nil, err
			}
			return tx.Card.Create().SetCustomerID(v.CustomerID).SetAccountID(acc.ID).
				SetNumberHash(s.numberHash(number)).SetLast4(cardnum.Last4(number)).
				SetExpiresOn(expiry(s.Ledger.Now())).SetCreatedAt(s.Ledger.Now()).Save(ctx)
		})
		if store.IsUniqueViolation(err) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("products: create card: %w", err)
		}
		return c, number, nil
	}
	return nil, "", fmt.Errorf("products: no free card number after 5 draws")
}

// expiry is the last day of the month cardValidityYears after now.
func expiry(now time.Time) time.Time {
	y, m, _ := now.UTC().Date()
	return time.Date(y+cardValidityYears, m+1, 0, 0, 0, 0, 0, time.UTC)
}

// OwnCard returns one of the viewer's usable (active or frozen) cards; another's, a closed or a
// missing one is NOT_FOUND alike.
func OwnCard(ctx context.Context, client *ent.Client, v *identity.Viewer, cardID int) (*ent.Card, error) {
	c, err := client.Card.Query().
		Where(card.ID(cardID), card.CustomerID(v.CustomerID), card.StatusNEQ(card.StatusCLOSED)).Only(ctx)
	if ent.IsNotFound(err) || v.CustomerID == 0 {
		return nil, errCardNotFound
	}
	return c, err
}

// cardByNumber finds a usable (active or frozen) card by its full number; field names the input on
// a malformed one. Whether a frozen card may be debited is debitCard's question.
func (s *Service) cardByNumber(ctx context.Context, client *ent.Client, field, number string) (*ent.Card, error) {
	n, err := cardnum.Normalize(number)
	if err != nil {
		return nil, apperr.Field(field, err.Error())
	}
	c, err := client.Card.Query().
		Where(card.NumberHash(s.numberHash(n)), card.StatusNEQ(card.StatusCLOSED)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errCardNotFound
	}
	return c, err
}

// CardByLast4 returns the viewer's active or frozen card ending in last4.
func CardByLast4(ctx context.Context, client *ent.Client, v *identity.Viewer, last4 string) (*ent.Card, error) {
	c, err := client.Card.Query().
		Where(card.CustomerID(v.CustomerID), card.Last4(last4), card.StatusNEQ(card.StatusCLOSED)).
		Order(ent.Desc(card.FieldID)).First(ctx)
	if ent.IsNotFound(err) || v.CustomerID == 0 {
		return nil, errCardNotFound
	}
	return c, err
}

// CardMove moves money between the viewer's main account and one of their cards.
type CardMove struct {
	CardID      int
	AmountMinor int64
	Key         *ledger.Key
}

// FundCard moves money from the viewer's main account to their card.
func (s *Service) FundCard(ctx context.Context, v *identity.Viewer, in CardMove) (*ent.Transaction, error) {
	return s.cardMove(ctx, v, in, true)
}

// DefundCard moves money from the viewer's card back to their main account.
func (s *Service) DefundCard(ctx context.Context, v *identity.Viewer, in CardMove) (*ent.Transaction, error) {
	return s.cardMove(ctx, v, in, false)
}

func (s *Service) cardMove(ctx context.Context, v *identity.Viewer, in CardMove, fund bool) (*ent.Transaction, error) {
	return s.Ledger.SubmitRun(ctx, v.UserID, in.Key, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		if in.AmountMinor <= 0 {
			return nil, apperr.Field("amount", "must be positive")
		}
		c, err := OwnCard(ctx, tx.Client(), v, in.CardID)
		if err != nil {
			return nil, err
		}
		main, err := coins.MainAccount(ctx, tx.Client(), v.CustomerID)
		if err != nil {
			return nil, err
		}
		from, to := main.ID, c.AccountID
		if !fund {
			from, to = to, from
		}
		return s.Ledger.Transfer(ctx, tx, ledger.Move{
			Kind: transaction.KindCARD_TRANSFER, DebitID: from, CreditID: to, AmountMinor: in.AmountMinor,
			InitiatorID: v.UserID, Key: in.Key,
		})
	})
}

// CardTransfer moves money from one of the viewer's cards to any customer's card.
type CardTransfer struct {
	FromNumber, ToNumber string
	// Amount is as the client typed it; IdempotencyKey is the client's key, if any.
	Amount         string
	IdempotencyKey *string
}

// TransferBetweenCards applies a CardTransfer. Malformed numbers and amount are reported together.
func (s *Service) TransferBetweenCards(ctx context.Context, v *identity.Viewer, in CardTransfer) (*ent.Transaction, error) {
	f := apperr.Fields{}
	from, fromErr := cardnum.Normalize(in.FromNumber)
	if fromErr != nil {
		f.Add("fromCardNumber", fromErr.Error())
	}
	to, toErr := cardnum.Normalize(in.ToNumber)
	if toErr != nil {
		f.Add("toCardNumber", toErr.Error())
	}
	amountMinor := s.positive(f, "amount", in.Amount)
	if fromErr == nil && toErr == nil && from == to {
		f.Add("toCardNumber", "must differ from fromCardNumber")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	key, err := ledger.NewKey(in.IdempotencyKey, "transferBetweenCards",
		s.CardFingerprint(from), s.CardFingerprint(to), strconv.FormatInt(amountMinor, 10))
	if err != nil {
		return nil, err
	}
	if err := s.checkLookupBudget(v); err != nil {
		return nil, err
	}
	missed := false
	txn, err := s.Ledger.SubmitRun(ctx, v.UserID, key, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		missed = false
		from, err := s.cardByNumber(ctx, tx.Client(), "fromCardNumber", from)
		if err != nil {
			return nil, err
		}
		if from.CustomerID != v.CustomerID {
			return nil, errCardNotFound
		}
		if err := checkFunds(ctx, tx.Client(), from.AccountID, amountMinor); err != nil {
			return nil, err
		}
		to, err := s.cardByNumber(ctx, tx.Client(), "toCardNumber", to)
		if err != nil {
			missed = err == errCardNotFound
			return nil, err
		}
		if err := debitCard(ctx, tx.Tx, from.ID); err != nil {
			return nil, err
		}
		return s.Ledger.Transfer(ctx, tx, ledger.Move{
			Kind: transaction.KindCARD_TRANSFER, DebitID: from.AccountID, CreditID: to.AccountID,
			AmountMinor: amountMinor, InitiatorID: v.UserID, Key: key,
		})
	})
	if missed {
		s.countLookupMiss(v)
	}
	return txn, err
}

// DeleteCard closes one of the viewer's cards (active or frozen) and its account. Refused while
// the account holds or reserves money; the account's history stays, and the card is kept as
// CLOSED (cards(includeClosed: true)).
func (s *Service) DeleteCard(ctx context.Context, v *identity.Viewer, number string) error {
	_, err := store.InTx(ctx, s.client(), func(tx *ent.Tx) (struct{}, error) {
		c, err := s.cardByNumber(ctx, tx.Client(), "cardNumber", number)
		if err != nil {
			return struct{}{}, err
		}
		if c.CustomerID != v.CustomerID {
			return struct{}{}, errCardNotFound
		}
		// The card's row first, then its account's, the order every debit takes them in
		// (debitCard, then the ledger), so a debit and a delete never wait on each other in a cycle.
		n, err := tx.Card.Update().Where(card.ID(c.ID), card.StatusNEQ(card.StatusCLOSED)).
			SetStatus(card.StatusCLOSED).SetClosedAt(s.Ledger.Now()).Save(ctx)
		if err != nil {
			return struct{}{}, err
		}
		if n == 0 {
			return struct{}{}, errCardNotFound
		}
		return struct{}{}, closeEmpty(ctx, tx, c.AccountID, s.Ledger.Now())
	})
	return err
}

// closeEmpty closes an account in one conditional update, so that no movement can slip in
// between the check and the close: the ledger refuses movements on a closed account.
func closeEmpty(ctx context.Context, tx *ent.Tx, accountID int, now time.Time) error {
	n, err := tx.Account.Update().
		Where(account.ID(accountID), account.Balance(0), account.Reserved(0), account.ClosedAtIsNil()).
		SetClosedAt(now).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.PreconditionFailed, "the balance is not zero")
	}
	return nil
}

// CardFingerprint is a card number as part of an idempotency fingerprint: its keyed hash, since
// the fingerprint is stored and a plain hash of a card number can be reversed by trying them all.
func (s *Service) CardFingerprint(number string) string {
	if n, err := cardnum.Normalize(number); err == nil {
		return hex.EncodeToString(s.numberHash(n))
	}
	return hex.EncodeToString(s.Key.Hash("card-input", number))
}
