package products

import (
	"context"
	"encoding/hex"
	"fmt"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/card"
	"coffer/graph/cardnum"
	"coffer/graph/coins"
)

// Counterparty is what a statement line shows of its other side. Nil fields are not shown.
type Counterparty struct {
	Name, Email, PublicKey, IBAN *string
	// CardNumber is the masked number of the other side's card ("•••• 1234"), for card entries.
	CardNumber *string
}

// CounterpartyOf describes the account on the other side of an entry, its owner and user loaded:
// the holder's name, the e-mail when the owner is a known user, their public key otherwise, and
// the IBAN.
//
// A card account shows its holder's name and its masked number only: anyone may send 0.01 to any
// card number (transferBetweenCards), so a card number that answered with its owner's e-mail or
// IBAN would let a guessed number find a person. card is the account's card (nil: not loaded or
// none); a CARD account without it still shows nothing but the name.
func CounterpartyOf(acc *ent.Account, c *ent.Card) Counterparty {
	name := acc.HolderName
	cp := Counterparty{Name: &name}
	if acc.Kind == account.KindCARD {
		if c != nil {
			if masked := cardnum.Mask(c.Last4); masked != "" {
				cp.CardNumber = &masked
			}
		}
		return cp
	}
	cp.IBAN = acc.Iban
	if owner := acc.Edges.Owner; owner != nil {
		if u := owner.Edges.User; u != nil && u.Email != nil {
			cp.Email = u.Email
		} else if key := coins.PublicKeyOf(owner); key != nil {
			k := hex.EncodeToString(key)
			cp.PublicKey = &k
		}
	}
	return cp
}

// CardOfAccount returns the card whose ledger account is accountID, nil when there is none.
func CardOfAccount(ctx context.Context, client *ent.Client, accountID int) (*ent.Card, error) {
	c, err := client.Card.Query().Where(card.AccountID(accountID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("products: card of account: %w", err)
	}
	return c, nil
}
