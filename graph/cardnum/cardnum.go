// Package cardnum issues, checks and displays 16-digit payment card numbers
// (Luhn, ISO/IEC 7812) and derives the keyed hash under which a card is
// looked up, so the full number never has to be stored readably.
//
// A card number is shown in full once, when the card is created. After that
// the caller keeps only Last4 and LookupHash of it, and shows Mask.
package cardnum

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrInvalid is wrapped by every error this package returns for bad input;
// the wrapping error's message is short and safe to show an API client.
var ErrInvalid = errors.New("cardnum: invalid")

const (
	// Len is the number of digits in every card number this package issues
	// and accepts. Other lengths exist (Amex has 15), but coffer issues
	// only 16, so accepting others would only let typos through.
	Len = 16

	// maxPrefixLen leaves room for the check digit after the prefix.
	maxPrefixLen = Len - 1

	// maxInputLen bounds the raw input to Normalize: 16 digits with a
	// separator between every pair is 31 bytes, so anything past 64 is not
	// a card number and is not worth scanning.
	maxInputLen = 64

	// maskPrefix hides the first twelve digits. It is ASCII, not "•", so
	// every client font and log viewer shows it the same way.
	maskPrefix = "**** **** **** "

	// hashDomain is prepended to the number before hashing, so the same
	// server key can hash other kinds of identifiers without one kind's
	// hash ever matching another's.
	hashDomain = "card:"
)

// invalidError carries only the human message, without ErrInvalid's
// "cardnum: invalid" text, because it is shown to API clients as is; code
// matches it with errors.Is(err, ErrInvalid).
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalid(msg string) error { return &invalidError{msg: msg} }

// maxRandomTries bounds the rejection sampling in Generate. An honest
// source is rejected with probability below 1e-5 per try, so running out
// means the reader is broken (say, stuck on 0xFF), and looping forever
// would hide it.
const maxRandomTries = 8

// pow10 holds 10^0..10^14: the number of possible random parts for each
// prefix length, all below 2^64.
var pow10 = func() [Len - 1]uint64 {
	var p [Len - 1]uint64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// Generate issues a new card number: prefix (the issuer's IIN/BIN, 1 to 15
// digits), then uniformly random digits read from r, then the Luhn check
// digit. A nil r means crypto/rand.Reader; tests pass a deterministic
// reader. Card numbers must not be guessable from one another, so r must
// be a cryptographic source in production.
//
// Generate cannot know which numbers were already issued, and collisions
// are not rare: a 6-digit prefix leaves 10^9 numbers, so by the birthday
// bound some 37,000 cards already give even odds of one repeat. The caller
// must keep a unique index on LookupHash and generate again on conflict.
// With a 15-digit prefix no random digit is left, r is not read, and every
// call returns the same number.
func Generate(prefix string, r io.Reader) (string, error) {
	if len(prefix) < 1 || len(prefix) > maxPrefixLen || !allDigits(prefix) {
		return "", invalid(fmt.Sprintf("card prefix must be 1 to %d digits", maxPrefixLen))
	}
	n := maxPrefixLen - len(prefix) // random digits needed, 0..14
	if n == 0 {
		return prefix + string(checkDigit(prefix)), nil
	}
	if r == nil {
		r = rand.Reader
	}
	// One 64-bit draw covers all 14 digits at most. Values at or above
	// limit are redrawn: limit is the largest multiple of space that fits,
	// so the modulo below gives every digit string the same chance. (A
	// plain n%space would favour low numbers; per-digit b%10 on bytes
	// would favour 0..5.)
	space := pow10[n]
	limit := (1<<64 - 1) / space * space
	var buf [8]byte
	for range maxRandomTries {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("cardnum: read random digits: %w", err)
		}
		v := binary.BigEndian.Uint64(buf[:])
		if v >= limit {
			continue
		}
		payload := fmt.Sprintf("%s%0*d", prefix, n, v%space)
		return payload + string(checkDigit(payload)), nil
	}
	return "", errors.New("cardnum: random source keeps returning out-of-range values")
}

// Valid reports whether number is exactly 16 ASCII digits with a correct
// Luhn check digit: the canonical form Normalize and Generate return.
// It does not accept separators; use Normalize for user input.
func Valid(number string) bool {
	return isNumber(number) && checkDigit(number[:Len-1]) == number[Len-1]
}

// Normalize turns a card number as a person types or pastes it into the 16
// bare digits, or returns an error wrapping ErrInvalid with a message for
// that person.
//
// Digit groups may be separated by single spaces or dashes ("4111 1111 1111
// 1111", "4111-1111-1111-1111"); spaces around the whole number are
// ignored, since they are invisible in a form field. Anything else is
// rejected, including non-ASCII digits such as "４" or "٤": they would have
// to be mapped to ASCII, and a look-alike string should not silently become
// somebody's card number.
func Normalize(s string) (string, error) {
	if len(s) > maxInputLen {
		return "", invalid("card number is too long")
	}
	s = trimSpaces(s)
	var digits [Len]byte
	count := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if count == Len {
				return "", invalid(fmt.Sprintf("card number must be %d digits", Len))
			}
			digits[count] = c
			count++
		case c == ' ' || c == '-':
			// A digit on both sides rules out a leading or trailing dash,
			// doubled separators and " - ".
			if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
				return "", invalid("card number may have single spaces or dashes only between digit groups")
			}
		default:
			return "", invalid("card number may contain only digits, spaces and dashes")
		}
	}
	if count != Len {
		return "", invalid(fmt.Sprintf("card number must be %d digits", Len))
	}
	number := string(digits[:])
	if !Valid(number) {
		return "", invalid("card number check digit does not match; please check for typos")
	}
	return number, nil
}

// Last4 returns the last four digits of number, which must be 16 ASCII
// digits (Luhn validity is not required: this is for display). For
// anything else it returns "", so a malformed value never reaches a screen
// longer than expected.
func Last4(number string) string {
	if !isNumber(number) {
		return ""
	}
	return number[Len-4:]
}

// Mask returns the form shown to clients after creation, such as
// "**** **** **** 1111". It takes the full 16-digit number or just its last
// four digits, because after creation only Last4 is stored;
// Mask(n) == Mask(Last4(n)). For anything else it returns "".
func Mask(numberOrLast4 string) string {
	last4 := numberOrLast4
	if len(last4) == Len {
		last4 = Last4(last4)
	}
	if len(last4) != 4 || !allDigits(last4) {
		return ""
	}
	return maskPrefix + last4
}

// LookupHash returns HMAC-SHA256(key, "card:" + number), the value stored
// (with Last4) to find a card by its number without storing the number.
//
// It is keyed, not a plain hash, because card numbers are easy to brute
// force: with the prefix and last four known only about 10^5 candidates
// remain, so the hash is only as strong as the secrecy of key. The key
// should be at least 32 random bytes kept out of the database; the caller
// checks it once at start-up. The "card:" prefix separates this use of the
// key from any other.
//
// number is hashed byte for byte, so pass the output of Normalize or
// Generate: "4111 1111 1111 1111" hashes differently from
// "4111111111111111" and would not be found.
func LookupHash(key []byte, number string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(hashDomain))
	mac.Write([]byte(number))
	return mac.Sum(nil)
}

// checkDigit returns the Luhn check digit (as an ASCII digit) that makes
// payload followed by it Luhn-valid. payload must be ASCII digits. The
// rightmost payload digit is doubled because the check digit will stand
// to its right, in the undoubled position.
func checkDigit(payload string) byte {
	sum := 0
	double := true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// isNumber reports whether s has the shape of a card number: 16 ASCII
// digits, whatever the check digit.
func isNumber(s string) bool { return len(s) == Len && allDigits(s) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// trimSpaces removes ASCII spaces at both ends. strings.TrimSpace would
// also drop Unicode spaces, which Normalize rejects everywhere else.
func trimSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}
