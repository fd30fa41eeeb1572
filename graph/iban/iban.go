// Package iban checks and builds International Bank Account Numbers
// (ISO 13616) with the ISO 7064 mod-97-10 check.
package iban

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrInvalid is wrapped by every error this package returns for bad input;
// the wrapping error's message is short and safe to show an API client.
var ErrInvalid = errors.New("iban: invalid")

const (
	minLen = 15 // Norway, the shortest in the registry
	maxLen = 34 // the ISO 13616 maximum

	// maxInputLen bounds the raw input before spaces are removed: the
	// printed form of the longest IBAN is 34 characters plus 8 spaces, so
	// anything far beyond that is not an IBAN and is not worth scanning.
	maxInputLen = 64
)

// countryLen is the exact IBAN length per country from the SWIFT IBAN
// registry. A country missing here is still accepted within minLen..maxLen:
// the registry grows, and rejecting a real customer's new IBAN is worse than
// checking it a little less strictly (mod-97 still applies).
var countryLen = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
	"BG": 22, "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22,
	"CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20,
	"EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22,
	"GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21,
	"HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30,
	"KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
	"SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26,
	"UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// invalidError carries only the human message, without ErrInvalid's
// "iban: invalid" text, because it is shown to API clients as is; code
// matches it with errors.Is(err, ErrInvalid).
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalid(msg string) error { return &invalidError{msg: msg} }

// Normalize removes spaces, upper-cases, and validates s, returning the
// electronic form ("DE89370400440532013000") or an error wrapping
// ErrInvalid.
func Normalize(s string) (string, error) {
	compact, err := compactUpper(s)
	if err != nil {
		return "", err
	}
	if err := checkStructure(compact); err != nil {
		return "", err
	}
	// 00, 01 and 99 can never come out of the check-digit formula
	// (98 - n mod 97 is 2..98), yet 01 and 99 can still pass mod-97 as
	// aliases of 98 and 02. Rejecting them keeps one spelling per account.
	if cd := compact[2:4]; cd == "00" || cd == "01" || cd == "99" {
		return "", invalid("IBAN check digits must be between 02 and 98")
	}
	if mod97(compact) != 1 {
		return "", invalid("IBAN check digits do not match")
	}
	return compact, nil
}

// New builds an IBAN from a country code and a BBAN by computing the check
// digits. Spaces are removed and letters upper-cased as in Normalize; the
// result is validated by Normalize before it is returned.
func New(country, bban string) (string, error) {
	cc, err := compactUpper(country)
	if err != nil {
		return "", err
	}
	// Checked apart from the BBAN so that ("D", "E123...") cannot pass as DE.
	if len(cc) != 2 || !isLetter(cc[0]) || !isLetter(cc[1]) {
		return "", invalid("country must be two letters")
	}
	b, err := compactUpper(bban)
	if err != nil {
		return "", err
	}
	draft := cc + "00" + b
	if err := checkStructure(draft); err != nil {
		return "", err
	}
	check := 98 - mod97(draft)
	return Normalize(fmt.Sprintf("%s%02d%s", cc, check, b))
}

// maxRandomTries bounds the rejection sampling in Random. An honest source
// is rejected with probability below 1e-9 per try, so running out means the
// reader is broken (say, stuck on 0xFF), and looping forever would hide it.
const maxRandomTries = 8

// accountSpace is the number of 10-digit German account numbers.
const accountSpace = 10_000_000_000

// Random returns a valid German IBAN for the 8-digit bank code with a
// uniformly random 10-digit account number read from r. A nil r means
// crypto/rand.Reader; tests pass a deterministic reader.
func Random(r io.Reader, bankCode string) (string, error) {
	if len(bankCode) != 8 || !allDigits(bankCode) {
		return "", invalid("bank code must be 8 digits")
	}
	if r == nil {
		r = rand.Reader
	}
	// Values at or above limit are redrawn: limit is the largest multiple
	// of accountSpace that fits, so the modulo below has no bias.
	const limit = (1<<64 - 1) / accountSpace * accountSpace
	var buf [8]byte
	for range maxRandomTries {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("iban: read random account number: %w", err)
		}
		n := binary.BigEndian.Uint64(buf[:])
		if n >= limit {
			continue
		}
		return New("DE", fmt.Sprintf("%s%010d", bankCode, n%accountSpace))
	}
	return "", errors.New("iban: random source keeps returning out-of-range values")
}

// compactUpper drops spaces and upper-cases ASCII letters. Anything that is
// not an ASCII letter or digit is rejected here: strings.ToUpper would map
// some non-ASCII letters to ASCII ones ("ı" to "I"), letting a look-alike
// string normalize into a valid IBAN.
func compactUpper(s string) (string, error) {
	if len(s) > maxInputLen {
		return "", invalid("IBAN is too long")
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case isLetter(c), isDigit(c):
		default:
			return "", invalid("IBAN may contain only letters, digits and spaces")
		}
		out = append(out, c)
	}
	return string(out), nil
}

// checkStructure checks s (already compact and upper-case) for everything
// but the check digits' value: country letters, two digits, BBAN
// characters, and length.
func checkStructure(s string) error {
	if len(s) < 4 || !isLetter(s[0]) || !isLetter(s[1]) {
		return invalid("IBAN must start with a two-letter country code")
	}
	if !isDigit(s[2]) || !isDigit(s[3]) {
		return invalid("IBAN must have two check digits after the country code")
	}
	// compactUpper has already limited the BBAN to A-Z and 0-9.
	if want, ok := countryLen[s[:2]]; ok && len(s) != want {
		return invalid(fmt.Sprintf("IBAN for %s must be %d characters", s[:2], want))
	}
	if len(s) < minLen || len(s) > maxLen {
		return invalid(fmt.Sprintf("IBAN must be %d to %d characters", minLen, maxLen))
	}
	return nil
}

// mod97 computes the ISO 7064 mod-97-10 remainder of s rearranged (first
// four characters moved to the end, letters expanded to 10..35) one digit
// at a time, so no big integers are needed: the running remainder stays
// below 97, and 96*100+35 fits any int.
func mod97(s string) int {
	remainder := 0
	for i := range len(s) {
		c := s[(i+4)%len(s)]
		if isLetter(c) {
			remainder = (remainder*100 + int(c-'A') + 10) % 97
		} else {
			remainder = (remainder*10 + int(c-'0')) % 97
		}
	}
	return remainder
}

func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
