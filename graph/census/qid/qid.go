// Package qid parses the qualified identifiers that name a person in the
// census ("123@census", "X1234567L@document_id", "126@nhs") and validates the
// Spanish identity documents (DNI, NIE) and passport numbers stored with a
// person.
//
// The package only decides whether an identifier is well formed. Whether
// anybody is behind a well-formed identifier is the caller's question, so
// that a typo (a user input error) and an unknown person (not found) stay
// distinguishable for API clients.
package qid

import (
	"errors"
	"strconv"
	"strings"
)

// The built-in systems. They are always known: knownSystem is never asked
// about them, so a registry of external systems cannot shadow or disable
// them.
const (
	// SystemCensus names a person by the registry's own number.
	SystemCensus = "census"
	// SystemDocumentID names a person by their identity document number
	// (DNI, NIE or passport), in the normalized form ValidateDocument
	// returns.
	SystemDocumentID = "document_id"
)

const (
	// MaxValueLen bounds the part before the '@', in bytes as typed. It
	// keeps hostile input from reaching a database lookup and is far above
	// any real registry number, document number or external id.
	MaxValueLen = 64
	// maxSystemLen is the 1 + 31 characters of [a-z][a-z0-9_-]{0,31}.
	maxSystemLen = 32
)

// ErrMalformed is wrapped by every Parse error for an identifier that is
// not syntactically valid. The wrapping error's message is short and safe
// to show an end user; match it with errors.Is.
var ErrMalformed = errors.New("qid: malformed identifier")

// ErrUnknownSystem is wrapped by the Parse error for a well-formed
// identifier whose system is neither built in nor known to the caller. It
// is kept apart from ErrMalformed so a client can be told the system name
// is the problem, not the syntax.
var ErrUnknownSystem = errors.New("qid: unknown system")

// ErrInvalidDocument is wrapped by every ValidateDocument error.
var ErrInvalidDocument = errors.New("qid: invalid document")

// userError carries only the human message, not the sentinel's "qid: ..."
// text, because it is shown to API clients as is; code matches the
// sentinel with errors.Is.
type userError struct {
	msg      string
	sentinel error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.sentinel }

func malformed(msg string) error { return &userError{msg: msg, sentinel: ErrMalformed} }

// Kind says which way an ID names a person, so callers can switch on it
// instead of comparing system strings.
type Kind int

const (
	// KindExternal is an id from an external system, looked up in the
	// person's externalIds map under ID.System.
	KindExternal Kind = iota
	// KindCensus is the registry's own number; see ID.CensusNumber.
	KindCensus
	// KindDocument is a normalized identity document number.
	KindDocument
)

// String returns a name for logs and test failures.
func (k Kind) String() string {
	switch k {
	case KindCensus:
		return "census"
	case KindDocument:
		return "document"
	case KindExternal:
		return "external"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ID is a parsed qualified identifier "Value@System". IDs returned by
// Parse are canonical: two spellings of the same identifier (for example
// "12345678-z@document_id" and "12345678Z@document_id") parse to equal
// IDs, so an ID can be compared with == and used as a map key.
type ID struct {
	System string
	Value  string
}

// Kind reports how the ID names a person. Any system other than the two
// built-in ones is external.
func (id ID) Kind() Kind {
	switch id.System {
	case SystemCensus:
		return KindCensus
	case SystemDocumentID:
		return KindDocument
	}
	return KindExternal
}

// CensusNumber returns the registry number of a census ID. ok is false for
// any other kind, and for a census ID that did not come from Parse and is
// not in canonical form, so a hand-built ID cannot smuggle "007" or "-1"
// into a lookup.
func (id ID) CensusNumber() (n int64, ok bool) {
	if id.System != SystemCensus {
		return 0, false
	}
	n, err := parseCensus(id.Value)
	return n, err == nil
}

// String returns the canonical form "Value@System", which Parse maps back
// to the same ID.
func (id ID) String() string {
	return id.Value + "@" + id.System
}

// Census returns the qualified identifier of registry number n, for
// example Census(123) == "123@census". Registry numbers are positive; for
// n <= 0 the result is a string Parse rejects.
func Census(n int64) string {
	return strconv.FormatInt(n, 10) + "@" + SystemCensus
}

// Parse parses a qualified identifier "value@system".
//
// The input must contain exactly one '@'. Splitting at the last (or first)
// '@' would let external ids contain '@', but then "a@b@c" would silently
// mean something to one reader and something else to another; rejecting it
// keeps the syntax unambiguous, and no system we integrate with uses '@'
// in its ids.
//
// The system must match [a-z][a-z0-9_-]{0,31}; it is not lower-cased for
// the caller, because a system name is a key in externalIds and "NHS" and
// "nhs" would otherwise look like the same key to the user but not to the
// store. The value must be 1 to MaxValueLen bytes of printable ASCII
// without spaces, with these per-system rules:
//
//   - census: a positive decimal integer without sign or leading zeros that
//     fits in an int64, so each number has exactly one spelling.
//   - document_id: spaces and dashes are removed and letters upper-cased,
//     the same normalization ValidateDocument applies, so the value matches
//     the stored document however the user typed it. What remains must be
//     letters and digits, because every DNI, NIE and passport number is,
//     so anything else could never match. It is deliberately not checked
//     against the DNI/NIE/passport rules (the contract's own example is
//     "1R@document_id"): a well-formed number that is wrong is simply not
//     found.
//   - any other system must satisfy knownSystem, which is called only with
//     a well-formed system name. A nil knownSystem accepts every
//     well-formed system, for callers that check later.
//
// Errors wrap ErrMalformed or ErrUnknownSystem and have messages fit for an
// end user. On error the returned ID is the zero ID.
func Parse(s string, knownSystem func(string) bool) (ID, error) {
	if s == "" {
		return ID{}, malformed("identifier is required")
	}
	value, system, found := strings.Cut(s, "@")
	if !found {
		return ID{}, malformed("identifier must have the form value@system, for example 123@census")
	}
	if strings.Contains(system, "@") {
		return ID{}, malformed("identifier must contain exactly one '@'")
	}
	if value == "" {
		return ID{}, malformed("identifier has no value before the '@'")
	}
	if system == "" {
		return ID{}, malformed("identifier has no system after the '@'")
	}
	if !validSystem(system) {
		return ID{}, malformed("identifier system must start with a lower-case letter and have at most 32 lower-case letters, digits, '_' or '-'")
	}
	if len(value) > MaxValueLen {
		return ID{}, malformed("identifier value must be at most 64 characters")
	}

	switch system {
	case SystemCensus:
		if _, err := parseCensus(value); err != nil {
			return ID{}, err
		}
	case SystemDocumentID:
		var ok bool
		if value, ok = normalizeDocumentID(value); !ok {
			return ID{}, malformed("document number must contain only letters, digits, spaces and dashes")
		}
		if value == "" {
			return ID{}, malformed("document number is empty")
		}
	default:
		if !printableNoSpace(value) {
			return ID{}, malformed("identifier value must be printable ASCII without spaces")
		}
		if knownSystem != nil && !knownSystem(system) {
			// system is [a-z0-9_-] only, so echoing it is safe.
			return ID{}, &userError{msg: "unknown identifier system \"" + system + "\"", sentinel: ErrUnknownSystem}
		}
	}
	return ID{System: system, Value: value}, nil
}

// parseCensus accepts only the canonical spelling of a positive int64.
func parseCensus(v string) (int64, error) {
	if v == "" || v[0] < '1' || v[0] > '9' {
		return 0, malformed("census number must be a positive integer without leading zeros")
	}
	for i := 1; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, malformed("census number must be a positive integer without leading zeros")
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		// Only a range error is possible once the digits are checked.
		return 0, malformed("census number is too large")
	}
	return n, nil
}

// validSystem reports whether s matches [a-z][a-z0-9_-]{0,31}.
func validSystem(s string) bool {
	if len(s) == 0 || len(s) > maxSystemLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// printableNoSpace reports whether s is printable ASCII other than space.
// It works on bytes, so any non-ASCII (or invalid UTF-8) byte fails.
func printableNoSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// normalizeDocumentID drops the separators users type (spaces, dashes)
// and upper-cases ASCII letters; ok is false if anything left is not an
// ASCII letter or digit. Parse and ValidateDocument share it so a document
// stored through one is found through the other.
func normalizeDocumentID(s string) (norm string, ok bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return "", false
		}
		b = append(b, c)
	}
	return string(b), true
}
