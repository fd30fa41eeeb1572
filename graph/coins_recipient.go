// RecipientInput (graph/ledger.graphqls) as the coins package names a customer.

package graph

import (
	"coffer/graph/coins"
	"coffer/graph/model"
)

func recipient(in *model.RecipientInput) coins.Recipient {
	if in == nil {
		return coins.Recipient{}
	}
	return coins.Recipient{Email: deref(in.Email), Username: deref(in.Username), PublicKey: deref(in.PublicKey), IBAN: deref(in.Iban)}
}

// recipientKey is the recipient as part of an idempotency fingerprint.
func recipientKey(in *model.RecipientInput) string {
	r := recipient(in)
	return r.Email + "\x00" + r.Username + "\x00" + r.PublicKey + "\x00" + r.IBAN
}
