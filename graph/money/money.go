// Package money holds exact amounts for the banking API.
//
// Inside the system an amount is an int64 count of minor units of one
// currency (cents for EUR); at the edges it is a decimal string. Floats never
// appear: 0.1 + 0.2 must be 0.3, and a client must get back exactly the
// digits it sent.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sentinels callers match with errors.Is. The errors the Parse functions
// return carry a short human message (safe to show an API client) and wrap
// exactly one of these.
var (
	ErrSyntax      = errors.New("money: invalid decimal syntax")
	ErrPrecision   = errors.New("money: too many fractional digits")
	ErrRange       = errors.New("money: amount out of range")
	ErrCurrency    = errors.New("money: wrong or invalid currency")
	ErrNotPositive = errors.New("money: amount not positive")
)

// MaxScale bounds Currency.Scale: 10^8 minor units per major unit still
// leaves room for amounts up to ~92 billion major units in an int64.
const MaxScale = 8

// Currency is a currency code and the number of fractional digits its
// amounts carry (EUR 2, GDD 4).
type Currency struct {
	Code  string
	Scale int
}

// amountError is what Validate and the Parse functions return. Its message
// is only the human part, without the sentinel's "money: ..." text, because
// it goes to API clients as is; code matches the sentinel with errors.Is.
type amountError struct {
	msg  string
	kind error
}

func (e *amountError) Error() string { return e.msg }
func (e *amountError) Unwrap() error { return e.kind }

func newError(kind error, msg string) error { return &amountError{msg: msg, kind: kind} }

// The fixed messages are built once; amountError has no setters, so sharing
// them between calls is safe.
var (
	errSyntaxMsg = newError(ErrSyntax, `must be a decimal string such as "12.34"`)
	errRangeMsg  = newError(ErrRange, "out of range")
)

// Validate reports whether c can be used: a code of 3 to 11 letters A-Z and
// a scale in 0..MaxScale. Codes longer than ISO 4217's three letters are
// allowed for in-house units (Taler uses such codes).
func (c Currency) Validate() error {
	if n := len(c.Code); n < 3 || n > 11 {
		return newError(ErrCurrency, "currency code must be 3 to 11 letters A-Z")
	}
	for i := 0; i < len(c.Code); i++ {
		if ch := c.Code[i]; ch < 'A' || ch > 'Z' {
			return newError(ErrCurrency, "currency code must be 3 to 11 letters A-Z")
		}
	}
	if c.Scale < 0 || c.Scale > MaxScale {
		return newError(ErrCurrency, fmt.Sprintf("currency scale must be 0 to %d", MaxScale))
	}
	return nil
}

// ParseDecimal parses an exact decimal string ("12.34", "-0.5", "007.50")
// into minor units of c.
//
// The grammar is deliberately narrow, -?[0-9]+(\.[0-9]+)?, so that one amount
// has few spellings and nothing is guessed: no '+', no exponent, no spaces,
// no digit-less side of the point, and no more fractional digits than
// c.Scale (even trailing zeros: "1.230" at scale 2 is rejected rather than
// silently rounded or trimmed). math.MinInt64 is rejected too so that every
// parsed amount can be negated safely.
func (c Currency) ParseDecimal(s string) (int64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	rest := s
	negative := false
	if strings.HasPrefix(rest, "-") {
		negative = true
		rest = rest[1:]
	}
	whole, frac, hasPoint := strings.Cut(rest, ".")
	if !allDigits(whole) || (hasPoint && !allDigits(frac)) {
		return 0, errSyntaxMsg
	}
	if len(frac) > c.Scale {
		return 0, precisionError(c.Scale)
	}

	// Accumulate every digit, then append the missing fractional zeros, so
	// that "12.3" at scale 2 becomes 1230. Each step checks against
	// MaxInt64 before it multiplies: both signs share that bound because
	// MinInt64 is rejected anyway.
	var amountMinor int64
	for _, part := range [2]string{whole, frac} {
		for i := 0; i < len(part); i++ {
			d := int64(part[i] - '0')
			if amountMinor > (math.MaxInt64-d)/10 {
				return 0, errRangeMsg
			}
			amountMinor = amountMinor*10 + d
		}
	}
	for range c.Scale - len(frac) {
		if amountMinor > math.MaxInt64/10 {
			return 0, errRangeMsg
		}
		amountMinor *= 10
	}
	if negative {
		amountMinor = -amountMinor
	}
	return amountMinor, nil
}

// allDigits reports whether s is a non-empty run of ASCII digits. Non-empty
// is what rejects "", "-", ".", "1." and ".5".
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func precisionError(scale int) error {
	switch scale {
	case 0:
		return newError(ErrPrecision, "must be a whole number")
	case 1:
		return newError(ErrPrecision, "at most 1 fractional digit")
	default:
		return newError(ErrPrecision, fmt.Sprintf("at most %d fractional digits", scale))
	}
}

// ParseAmount is ParseDecimal that also accepts the Taler form "EUR:12.34".
// The prefix must equal c.Code exactly (case-sensitive): an amount in the
// wrong currency must never be read as a number in ours. Sign is not
// checked; see ParsePositive.
func (c Currency) ParseAmount(s string) (int64, error) {
	code, decimal, ok := strings.Cut(s, ":")
	if !ok {
		return c.ParseDecimal(s)
	}
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if code != c.Code {
		return 0, newError(ErrCurrency, "currency must be "+c.Code)
	}
	return c.ParseDecimal(decimal)
}

// ParsePositive is ParseAmount for amounts that must be above zero, such
// as a transfer: "0" and "-0.00" are rejected with ErrNotPositive.
func (c Currency) ParsePositive(s string) (int64, error) {
	amountMinor, err := c.ParseAmount(s)
	if err != nil {
		return 0, err
	}
	if amountMinor <= 0 {
		return 0, newError(ErrNotPositive, "must be positive")
	}
	return amountMinor, nil
}

// ParseBounded is ParsePositive within ±MaxAmountMinor: the reading of every positive amount a
// client gives (a transfer, a creation, a cash-out, a savings goal, a bill).
func (c Currency) ParseBounded(s string) (int64, error) {
	amountMinor, err := c.ParsePositive(s)
	if err == nil {
		err = c.WithinBound(amountMinor)
	}
	return amountMinor, err
}

// MaxAmountMinor bounds every amount a client gives (a transfer, a creation, a cash-out, a debit
// limit, a savings goal, a bill): 10^15 minor units, 10,000,000,000,000.00 at scale 2. With every
// value at most this, and the money in circulation bounded by the ledger (MaxCirculationMinor
// there), no sum the ledger forms (balance - reserved + debit limit, balance + amount) comes near
// the int64 range.
const MaxAmountMinor int64 = 1_000_000_000_000_000

// WithinBound returns an ErrRange error (its message names the bound in c) when amountMinor lies
// beyond ±MaxAmountMinor. The Parse functions read the whole int64 range exactly; the callers
// that take a client's amount check it here.
func (c Currency) WithinBound(amountMinor int64) error {
	if amountMinor > MaxAmountMinor || amountMinor < -MaxAmountMinor {
		return newError(ErrRange, "at most "+c.Format(MaxAmountMinor))
	}
	return nil
}

// Format renders amountMinor with exactly c.Scale fractional digits:
// 1250 → "12.50", -50 → "-0.50", 0 → "0.00"; at scale 0 there is no point.
// The output is canonical: ParseDecimal(Format(x)) == x for every x except
// math.MinInt64, which Format still renders without overflow.
//
// Format cannot return an error, so a scale outside 0..MaxScale is not
// rejected here: a negative scale renders as 0 and a larger one is honoured
// as written (Validate is the place that rejects such a currency).
func (c Currency) Format(amountMinor int64) string {
	scale := max(c.Scale, 0)
	// Work on the magnitude as uint64: -math.MinInt64 does not fit an int64,
	// but its two's-complement bit pattern read as uint64 is the right value.
	magnitude := uint64(amountMinor)
	if amountMinor < 0 {
		magnitude = -magnitude
	}
	digits := strconv.FormatUint(magnitude, 10)
	if len(digits) <= scale {
		// Pad so at least one digit stays left of the point: 5 → "0.05".
		digits = strings.Repeat("0", scale+1-len(digits)) + digits
	}

	var b strings.Builder
	b.Grow(len(digits) + 2)
	if amountMinor < 0 {
		b.WriteByte('-')
	}
	point := len(digits) - scale
	b.WriteString(digits[:point])
	if scale > 0 {
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String()
}

// Taler renders amountMinor in the Taler form "EUR:12.50".
func (c Currency) Taler(amountMinor int64) string {
	return c.Code + ":" + c.Format(amountMinor)
}
