package products

import (
	"context"
	"fmt"

	"coffer/ent"
	"coffer/ent/card"
	"coffer/graph/apperr"
	"coffer/graph/identity"
)

var (
	errCardFrozen = apperr.New(apperr.PreconditionFailed, "the card is frozen")
	errCardClosed = apperr.New(apperr.PreconditionFailed, "the card is closed")
)

// debitCard is the frozen-card rule, checked inside the transaction that debits the card and
// before the ledger's debit: a conditional update that matches only an ACTIVE card and takes the
// card's row lock until the commit. A freeze (which updates the same row) therefore either commits
// first, and the debit is refused, or waits until the debit has committed; no debit can slip past
// a freeze that has been answered. SQLite's one writer serializes the two anyway.
// A frozen card is PRECONDITION_FAILED, so is a closed one (the autopay job may name one).
func debitCard(ctx context.Context, tx *ent.Tx, cardID int) error {
	n, err := tx.Card.Update().Where(card.ID(cardID), card.StatusEQ(card.StatusACTIVE)).
		SetStatus(card.StatusACTIVE).Save(ctx)
	if err != nil {
		return fmt.Errorf("products: lock card: %w", err)
	}
	if n == 1 {
		return nil
	}
	c, err := tx.Card.Get(ctx, cardID)
	switch {
	case ent.IsNotFound(err):
		return errCardNotFound
	case err != nil:
		return err
	case c.Status == card.StatusFROZEN:
		return errCardFrozen
	default:
		return errCardClosed
	}
}

// FreezeCard stops every debit of one of the viewer's cards until UnfreezeCard; credits (fundCard,
// transfers to it, withdrawSavings) and defundCard, which empties it back to the main account,
// still work. Freezing a frozen card returns it unchanged (a retry after a lost answer must not
// fail); a closed card is PRECONDITION_FAILED; another's card is NOT_FOUND.
func (s *Service) FreezeCard(ctx context.Context, v *identity.Viewer, cardID int) (*ent.Card, error) {
	return s.setCardStatus(ctx, v, cardID, card.StatusFROZEN)
}

// UnfreezeCard makes one of the viewer's frozen cards ACTIVE again; an active card is returned
// unchanged, a closed one is PRECONDITION_FAILED.
func (s *Service) UnfreezeCard(ctx context.Context, v *identity.Viewer, cardID int) (*ent.Card, error) {
	return s.setCardStatus(ctx, v, cardID, card.StatusACTIVE)
}

// setCardStatus moves a card between ACTIVE and FROZEN in one conditional update (never out of
// CLOSED), so that it waits for a running debit's row lock and a closed card stays closed.
func (s *Service) setCardStatus(ctx context.Context, v *identity.Viewer, cardID int, to card.Status) (*ent.Card, error) {
	if v.CustomerID == 0 {
		return nil, errCardNotFound
	}
	n, err := s.client().Card.Update().
		Where(card.ID(cardID), card.CustomerID(v.CustomerID), card.StatusIn(card.StatusACTIVE, card.StatusFROZEN)).
		SetStatus(to).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("products: set card status: %w", err)
	}
	c, err := s.client().Card.Query().Where(card.ID(cardID), card.CustomerID(v.CustomerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errCardNotFound
	}
	if err != nil {
		return nil, err
	}
	if n == 0 && c.Status == card.StatusCLOSED {
		return nil, errCardClosed
	}
	return c, nil
}
