package identity

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"coffer/graph/apperr"
	"coffer/graph/iban"
)

// Institutional usernames belong to the bank: they cannot be registered, deleted, sent to or used
// for cash-out.
var institutional = map[string]bool{"admin": true, "bank": true}

// IsInstitutional reports whether username is one of the bank's own.
func IsInstitutional(username string) bool { return institutional[strings.ToLower(username)] }

var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)
	phonePattern    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	ssnPattern      = regexp.MustCompile(`^[A-Za-z0-9-]{4,20}$`)
)

const (
	minPasswordLen = 8
	maxPasswordLen = 128
)

// NormalizeUsername lower-cases a username; usernames are unique regardless of case.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func checkUsername(f apperr.Fields, field, username string) {
	if !usernamePattern.MatchString(username) {
		f.Add(field, "3 to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit")
	}
}

// NormalizeEmail validates an e-mail address and lower-cases it.
func NormalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 254 {
		return "", false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return "", false
	}
	return strings.ToLower(s), true
}

// ValidPhone reports whether s is an E.164 phone number such as +34600111222.
func ValidPhone(s string) bool { return phonePattern.MatchString(s) }

// ValidSocialSecurity reports whether s is 4 to 20 letters, digits or dashes.
func ValidSocialSecurity(s string) bool { return ssnPattern.MatchString(s) }

// checkPassword applies the password rules and names the one broken.
func checkPassword(f apperr.Fields, field, password, username, email string) {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		f.Add(field, "must be at least 8 characters")
	case n > maxPasswordLen:
		f.Add(field, "must be at most 128 characters")
	case username != "" && strings.EqualFold(password, username):
		f.Add(field, "must not equal the username")
	case email != "" && strings.EqualFold(password, email):
		f.Add(field, "must not equal the e-mail address")
	}
}

// NormalizeCashoutAddress checks a payto URI (payto://iban/<IBAN>?receiver-name=...) and returns
// it with the IBAN normalized.
func NormalizeCashoutAddress(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme != "payto" || u.Host != "iban" {
		return "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	// payto://iban/<BIC>/<IBAN> is also allowed by RFC 8905.
	ib := parts[len(parts)-1]
	if len(parts) > 2 || ib == "" {
		return "", false
	}
	norm, err := iban.Normalize(ib)
	if err != nil {
		return "", false
	}
	parts[len(parts)-1] = norm
	u.Path = "/" + strings.Join(parts, "/")
	return u.String(), true
}
