package census

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/ent/predicate"
	"coffer/graph/apperr"
)

// Limits on people(filter: {search}): a name and a surname or two, not a document.
const (
	MaxSearchLen   = 200
	MaxSearchWords = 5
)

// foldSpecial are letters that Unicode does not decompose into a base letter and marks.
var foldSpecial = map[rune]string{'ß': "ss", 'ø': "o", 'ł': "l", 'đ': "d", 'æ': "ae", 'œ': "oe", 'ı': "i"}

// Fold lower-cases s and strips its accents ("Lucía Núñez" → "lucia nunez"): the form both the
// stored search key and the searched words take, so that matching ignores case and accents on
// PostgreSQL and SQLite alike, decided here in Go rather than by each database's collation.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining mark: the accent NFD split from its letter
		}
		r = unicode.ToLower(r)
		if x, ok := foldSpecial[r]; ok {
			b.WriteString(x)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SearchKey is what people(filter: {search}) matches: the person's names, document id, e-mail
// and phone, folded, separated by spaces.
func SearchKey(p *ent.Person) string {
	parts := []string{p.FirstName, p.LastName1}
	for _, v := range []*string{p.LastName2, &p.DocumentID, p.Email, p.Phone} {
		if v != nil && *v != "" {
			parts = append(parts, *v)
		}
	}
	return Fold(strings.Join(parts, " "))
}

// SearchPredicate matches the people whose search key contains every word of text (folded). An
// empty text matches everyone (nil predicate); an over-long one is BAD_USER_INPUT (search).
func SearchPredicate(text string) (predicate.Person, error) {
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxSearchLen {
		return nil, apperr.Field("search", fmt.Sprintf("must be at most %d characters", MaxSearchLen))
	}
	words := strings.Fields(Fold(text))
	if len(words) > MaxSearchWords {
		return nil, apperr.Field("search", fmt.Sprintf("at most %d words", MaxSearchWords))
	}
	if len(words) == 0 {
		return nil, nil
	}
	ps := make([]predicate.Person, len(words))
	for i, w := range words {
		ps[i] = person.SearchKeyContains(w) // LIKE '%w%', with % and _ escaped
	}
	return person.And(ps...), nil
}

// searchKeyBatch is how many people one backfill transaction updates.
const searchKeyBatch = 500

// BackfillSearchKeys writes the search key of the people written before the column existed
// (an empty search_key): every person has a first name, so a real key is never empty. It runs at
// start-up, after the migrations, in batches; running it again, or on several instances at once,
// writes the same values.
func (s *Service) BackfillSearchKeys(ctx context.Context) (int, error) {
	total := 0
	for {
		batch, err := s.Client.Person.Query().Where(person.SearchKey("")).
			Order(ent.Asc(person.FieldID)).Limit(searchKeyBatch).All(ctx)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		tx, err := s.Client.Tx(ctx)
		if err != nil {
			return total, err
		}
		for _, p := range batch {
			if err := tx.Person.UpdateOneID(p.ID).SetSearchKey(SearchKey(p)).Exec(ctx); err != nil {
				_ = tx.Rollback()
				return total, fmt.Errorf("census: search key of person %d: %w", p.ID, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return total, err
		}
		total += len(batch)
	}
}
