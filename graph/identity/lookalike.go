package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"coffer/ent"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/store"
)

// Look-alike identities (issue 15.5): a username or an e-mail address that renders like a
// reserved name or like another user's is refused, so that a statement line cannot pass for the
// bank's or for another customer's.
//
// Skeleton follows Unicode TR39's skeleton (a string's "prototype" under the confusables
// mapping) with a compact table instead of the full confusables.txt: no maintained Go module in
// the module proxy provides TR39 skeletons (golang.org/x/text has none; the only candidate,
// github.com/mtibben/confusables, is an untagged 2021 snapshot of Unicode 13 data). The table
// covers what can reach it: usernames are ASCII (usernamePattern), and e-mail parts that mix
// scripts are refused before any skeleton is taken (mixedScript), so what remains is whole-script
// Cyrillic or Greek look-alikes of Latin text and the few ASCII confusables.

// confusable maps a lower-case rune to the Latin prototype it is mistaken for.
var confusable = map[rune]string{
	// ASCII
	'0': "o", '1': "l", '|': "l", 'ı': "i",
	// Cyrillic
	'а': "a", 'в': "b", 'с': "c", 'ԁ': "d", 'е': "e", 'ё': "ë", 'һ': "h", 'і': "i", 'ї': "ï",
	'ј': "j", 'к': "k", 'ӏ': "l", 'м': "m", 'н': "h", 'о': "o", 'р': "p", 'ԛ': "q", 'г': "r",
	'ѕ': "s", 'т': "t", 'ц': "u", 'ѵ': "v", 'ԝ': "w", 'х': "x", 'у': "y", 'ү': "y", 'з': "3",
	'ь': "b", 'п': "n", 'л': "n", 'и': "u", 'ɡ': "g",
	// Greek
	'α': "a", 'β': "b", 'ε': "e", 'η': "n", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p",
	'τ': "t", 'υ': "u", 'χ': "x", 'γ': "y", 'ω': "w", 'μ': "u", 'ϲ': "c", 'ϳ': "j", 'ѡ': "w",
}

// confusablePairs are the multi-letter Latin confusables of TR39 that matter for names.
var confusablePairs = strings.NewReplacer("rn", "m", "vv", "w", "cl", "d")

// Skeleton returns the key under which look-alikes collide: NFKC (full-width and mathematical
// letters become plain ones), lower case, each confusable rune replaced by its prototype, then the
// multi-letter confusables. Two strings with one skeleton are confusable.
func Skeleton(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	var b strings.Builder
	for _, r := range s {
		if p, ok := confusable[r]; ok {
			b.WriteString(p)
		} else {
			b.WriteRune(r)
		}
	}
	return confusablePairs.Replace(norm.NFC.String(b.String()))
}

// mixedScript reports whether s holds letters of more than one script (Latin, Cyrillic, Greek or
// any other): "exаmple" with a Cyrillic "а" does; digits and punctuation belong to none.
func mixedScript(s string) bool {
	seen := ""
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		script := scriptOf(r)
		if seen != "" && script != seen {
			return true
		}
		seen = script
	}
	return false
}

var scripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Arabic", unicode.Arabic}, {"Hebrew", unicode.Hebrew}, {"Armenian", unicode.Armenian},
	{"Han", unicode.Han}, {"Hiragana", unicode.Hiragana}, {"Katakana", unicode.Katakana},
	{"Hangul", unicode.Hangul}, {"Devanagari", unicode.Devanagari}, {"Thai", unicode.Thai},
	{"Georgian", unicode.Georgian}, {"Cherokee", unicode.Cherokee},
}

func scriptOf(r rune) string {
	for _, s := range scripts {
		if unicode.Is(s.table, r) {
			return s.name
		}
	}
	// A letter of any other script counts as its own: mixing it with Latin is refused too.
	return "other"
}

// reservedWords are the bank's own names. A customer's username may not start with a prefix one
// (adminX, bank.security), nor be, or hold as a dot-, dash- or underscore-separated part, any of
// them (support, alice.support), compared by skeleton (adm1n, bαnk).
var (
	reservedPrefixes = []string{"admin", "bank", "coffer", "support", "security", "system"}
	reservedWords    = []string{"admin", "bank", "coffer", "support", "security", "system", "root", "help", "helpdesk", "staff", "official", "refund", "refunds"}
)

// IsReservedName reports whether username is, starts with, or holds a part that is (by
// skeleton) one of the bank's own names: such names are for the bank's staff, never customers.
func IsReservedName(username string) bool {
	sk := Skeleton(username)
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(sk, Skeleton(p)) {
			return true
		}
	}
	for _, part := range strings.FieldsFunc(sk, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		for _, w := range reservedWords {
			if part == Skeleton(w) {
				return true
			}
		}
	}
	return false
}

const errReservedLocal = "the part before @ is one of the bank's reserved names"

// checkEmailLookalike names what is wrong with a normalized e-mail address's look: a local part
// or a domain label that mixes scripts, a domain label that looks like (but is not) a reserved
// name, or a local part that is a reserved name.
func checkEmailLookalike(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	local, domain := email[:at], email[at+1:]
	if mixedScript(local) {
		return "the part before @ mixes letters of different scripts"
	}
	for _, label := range strings.Split(domain, ".") {
		if mixedScript(label) {
			return "the domain mixes letters of different scripts"
		}
		// c0ffer.com imitates the bank; bank.com itself is somebody's real domain.
		if sk := Skeleton(label); sk != label && slices.ContainsFunc(reservedWords, func(w string) bool { return sk == w }) {
			return "the domain looks like one of the bank's reserved names"
		}
	}
	sk := Skeleton(local)
	for _, w := range reservedWords {
		if sk == Skeleton(w) {
			return errReservedLocal
		}
	}
	return ""
}

// refuseReserved refuses, as FORBIDDEN, a customer's username that belongs to the bank: the
// institutional "admin" and "bank", and every reserved name (IsReservedName).
func refuseReserved(username string) error {
	if IsInstitutional(username) || IsReservedName(username) {
		return apperr.New(apperr.Forbidden, "%q is reserved for the bank", username)
	}
	return nil
}

// checkEmailLook adds to f, under field, what is wrong with how a normalized e-mail address
// looks. forCustomer also refuses reserved names before the @: staff may be support@ or security@.
func checkEmailLook(f apperr.Fields, field, email string, forCustomer bool) {
	if email == "" {
		return
	}
	if msg := checkEmailLookalike(email); msg != "" && (forCustomer || msg != errReservedLocal) {
		f.Add(field, msg)
	}
}

// lookalikeKeys sets a new user's look-alike keys, so that later users are compared with them.
func lookalikeKeys(uc *ent.UserCreate, username, email string) *ent.UserCreate {
	uc.SetUsernameSkeleton(Skeleton(username))
	if email != "" {
		uc.SetEmailSkeleton(Skeleton(email))
	}
	return uc
}

// checkUsernameFree answers CONFLICT {username} when username is taken by, or looks like the
// username of, a user other than exceptUserID: one query on the two unique indexes.
func (s *Service) checkUsernameFree(ctx context.Context, username string, exceptUserID int) error {
	taken, err := s.Client.User.Query().
		Where(user.IDNEQ(exceptUserID), user.Or(user.Username(username), user.UsernameSkeleton(Skeleton(username)))).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("identity: check username: %w", err)
	}
	if taken {
		return apperr.ConflictOn("username", "already taken, or too like another user's")
	}
	return nil
}

// backfillBatch bounds how many users one step of BackfillLookalikeKeys loads.
const backfillBatch = 500

// BackfillLookalikeKeys gives the look-alike keys to users written before they existed (run at
// start-up), in batches by id. A user whose key another already holds keeps none: both stay, as
// they were.
func (s *Service) BackfillLookalikeKeys(ctx context.Context) error {
	for after := 0; ; {
		users, err := s.Client.User.Query().
			Where(user.IDGT(after), user.Or(user.UsernameSkeletonIsNil(), user.And(user.EmailNotNil(), user.EmailSkeletonIsNil()))).
			Order(ent.Asc(user.FieldID)).Limit(backfillBatch).All(ctx)
		if err != nil {
			return fmt.Errorf("identity: backfill look-alike keys: %w", err)
		}
		for _, u := range users {
			if err := s.backfillUser(ctx, u); err != nil {
				return err
			}
			after = u.ID
		}
		if len(users) < backfillBatch {
			return nil
		}
	}
}

func (s *Service) backfillUser(ctx context.Context, u *ent.User) error {
	up := []*ent.UserUpdateOne{s.Client.User.UpdateOneID(u.ID).SetUsernameSkeleton(Skeleton(u.Username))}
	if u.Email != nil {
		up = append(up, s.Client.User.UpdateOneID(u.ID).SetEmailSkeleton(Skeleton(*u.Email)))
	}
	for _, q := range up {
		if err := q.Exec(ctx); err != nil && !store.IsUniqueViolation(err) {
			return fmt.Errorf("identity: backfill look-alike keys: %w", err)
		}
	}
	return nil
}
