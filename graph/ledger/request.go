package ledger

import (
	"strconv"

	"coffer/graph/apperr"
)

// PositiveAmount reads a positive amount as the client typed it (Decimal or "CUR:value", within
// money.MaxAmountMinor); a bad one is BAD_USER_INPUT naming field.
func (l *Ledger) PositiveAmount(field, amount string) (int64, error) {
	amountMinor, err := l.Currency.ParseBounded(amount)
	if err != nil {
		return 0, apperr.Field(field, err.Error())
	}
	return amountMinor, nil
}

// AmountPart is an amount as part of an idempotency fingerprint: the parsed minor units, so that
// "10" and "10.00" are one request.
func AmountPart(amountMinor int64) string { return strconv.FormatInt(amountMinor, 10) }

// IDPart is an id as part of an idempotency fingerprint.
func IDPart(id int) string { return strconv.Itoa(id) }
