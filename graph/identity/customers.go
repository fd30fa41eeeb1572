package identity

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"coffer/ent"
	"coffer/ent/customer"
	"coffer/ent/predicate"
	"coffer/ent/user"
	"coffer/graph/apperr"
)

// CustomerByUsername returns the customer whose login is username (administrators look customers
// up by it); nobody, or a user who is not a customer, is NOT_FOUND.
func (s *Service) CustomerByUsername(ctx context.Context, username string) (*ent.Customer, error) {
	c, err := s.Client.Customer.Query().Where(customer.HasUserWith(user.Username(NormalizeUsername(username)))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no customer %q", NormalizeUsername(username))
	}
	if err != nil {
		return nil, fmt.Errorf("identity: customer by username: %w", err)
	}
	return c, nil
}

// MaxSearchLen bounds the text of customers(search:).
const MaxSearchLen = 100

// SearchCustomers is the predicate of customers(search:): the customer's username, name, e-mail,
// phone or an IBAN of theirs contains text, ignoring case (PostgreSQL: ILIKE; SQLite: LIKE, which
// ignores the case of ASCII letters only). Spaces in text do not count for the IBAN, which is
// stored without them. On PostgreSQL each arm of the union is a look-up in its column's trigram
// index (ent/schema/search.go), so a term of three or more characters reads only its candidates.
// A blank text gives no predicate (every customer).
func SearchCustomers(d, text string) (predicate.Customer, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if len(text) > MaxSearchLen {
		return nil, apperr.Field("search", fmt.Sprintf("at most %d characters", MaxSearchLen))
	}
	like := "LIKE"
	if d == dialect.Postgres {
		like = "ILIKE"
	}
	pattern := "%" + escapeLike(text) + "%"
	ibanPattern := "%" + escapeLike(strings.ReplaceAll(text, " ", "")) + "%"
	cond := func(b *sql.Builder, column, pattern string) {
		b.WriteString(column + " " + like + " ").Arg(pattern).WriteString(` ESCAPE '\'`)
	}
	return predicate.Customer(func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C(customer.FieldID)).WriteString(" IN (SELECT id FROM customers WHERE ")
			cond(b, "name", pattern)
			b.WriteString(" UNION SELECT c.id FROM customers c JOIN users u ON u.id = c.user_id WHERE ")
			cond(b, "u.username", pattern)
			b.WriteString(" OR ")
			cond(b, "u.email", pattern)
			b.WriteString(" OR ")
			cond(b, "u.phone", pattern)
			b.WriteString(" UNION SELECT owner_id FROM accounts WHERE owner_id IS NOT NULL AND ")
			cond(b, "iban", ibanPattern)
			b.WriteString(")")
		}))
	}), nil
}

// escapeLike makes text match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(text string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
}

// Customers is the administrators' customer list, narrowed by search (nil or blank: everyone;
// SearchCustomers has the rule).
func (s *Service) Customers(search *string) (*ent.CustomerQuery, error) {
	q := s.Client.Customer.Query()
	if search == nil {
		return q, nil
	}
	p, err := SearchCustomers(s.Ledger.Dialect, *search)
	if err != nil || p == nil {
		return q, err
	}
	return q.Where(p), nil
}
