package coins

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"

	"coffer/graph/apperr"
	"coffer/graph/iban"
	"coffer/graph/identity"
	"coffer/graph/store"
)

// Recipient names a customer in exactly one way.
type Recipient struct {
	Email, Username, PublicKey, IBAN string
}

// fingerprint is the recipient as part of an idempotency fingerprint.
func (r Recipient) fingerprint() string {
	return r.Email + "\x00" + r.Username + "\x00" + r.PublicKey + "\x00" + r.IBAN
}

// The ways of naming a recipient, each with its own statement.
const (
	byUsername = iota
	byEmail
	byPublicKey
	byIBAN
	recipientWays
)

// recipientSQL finds, for each way of naming a recipient, the id of the main open account of the
// customer named (NULL when the customer has none). $1 is the name.
//
// Every statement looks among customers only: staff, administrators and the bank's own users
// named by e-mail, IBAN or key are NOT_FOUND exactly as nobody is, or the answer would tell
// which addresses belong to the bank's staff. The institutional usernames (admin, bank) are
// refused by name before any statement: they are public knowledge (API.md), so FORBIDDEN there
// tells nothing. Should a customer ever have two main accounts, Resolve takes the lowest id, as
// authentication does; the statements leave the choice to Go rather than sort, which PostgreSQL
// would set up on every run.
var recipientSQL = [recipientWays]string{
	byUsername:  recipientFromUser(`u."username" = $1`),
	byEmail:     recipientFromUser(`u."email" = $1`),
	byPublicKey: recipientFromUser(`c."public_key" = $1`),
	byIBAN: `SELECT 'CUSTOMER', a."id" FROM "accounts" a WHERE a."iban" = $1 AND a."owner_id" IS NOT NULL
		AND a."kind" = 'MAIN' AND a."closed_at" IS NULL`,
}

func recipientFromUser(match string) string {
	return `SELECT u."role", a."id" FROM "users" u
		JOIN "customers" c ON c."user_id" = u."id"
		LEFT JOIN "accounts" a ON a."owner_id" = c."id" AND a."kind" = 'MAIN' AND a."closed_at" IS NULL
		WHERE ` + match
}

// recipientStatements are recipientSQL prepared on the pool, once per dialect they run in.
type recipientStatements [recipientWays]store.Prepared

func newRecipientStatements(d string) *recipientStatements {
	var s recipientStatements
	for way, q := range recipientSQL {
		if d != dialect.Postgres {
			q = strings.ReplaceAll(q, "$1", "?") // SQLite numbers nothing: one argument, one "?"
		}
		s[way].Text = q
	}
	return &s
}

// Resolve finds the id of the main account of the customer r names. It reads outside any
// transaction, with a prepared statement: sendCoins runs it on every transfer, and the
// transaction that follows must not wait on it. The credit that transaction makes re-checks that
// the account is still open.
func (s *Service) Resolve(ctx context.Context, r Recipient) (int, error) {
	given := 0
	for _, v := range []string{r.Email, r.Username, r.PublicKey, r.IBAN} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return 0, apperr.Field("recipient", "give exactly one of email, username, publicKey, iban")
	}
	var way int
	var name any
	switch {
	case r.Username != "":
		if identity.IsInstitutional(r.Username) {
			return 0, institutional()
		}
		way, name = byUsername, identity.NormalizeUsername(r.Username)
	case r.Email != "":
		email, ok := identity.NormalizeEmail(r.Email)
		if !ok {
			return 0, apperr.Field("recipient", "not a valid e-mail address")
		}
		way, name = byEmail, email
	case r.PublicKey != "":
		key, err := ParsePublicKey(r.PublicKey)
		if err != nil {
			return 0, apperr.Field("recipient", "publicKey must be 64 hexadecimal characters")
		}
		way, name = byPublicKey, key
	default:
		norm, err := iban.Normalize(r.IBAN)
		if err != nil {
			return 0, apperr.Field("recipient", "iban: "+err.Error())
		}
		way, name = byIBAN, norm
	}
	s.recipientOnce.Do(func() { s.recipients = newRecipientStatements(s.Ledger.Dialect) })
	rows, err := s.recipients[way].Query(ctx, s.SQL, name)
	if err != nil {
		return 0, fmt.Errorf("coins: resolve recipient: %w", err)
	}
	defer rows.Close()
	var role string
	var accountID sql.NullInt64
	for rows.Next() {
		var id sql.NullInt64
		if err := rows.Scan(&role, &id); err != nil {
			return 0, fmt.Errorf("coins: resolve recipient: %w", err)
		}
		if id.Valid && (!accountID.Valid || id.Int64 < accountID.Int64) {
			accountID = id
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("coins: resolve recipient: %w", err)
	}
	// A customer row of another role (none exists today) is no recipient either.
	if !accountID.Valid || role != "CUSTOMER" {
		return 0, errRecipientNotFound
	}
	return int(accountID.Int64), nil
}

var errRecipientNotFound = apperr.New(apperr.NotFound, "recipient not found")

// IsLookupMiss reports whether err is a recipient look-up that named nobody who can receive:
// what the failed look-up budget counts (a malformed name is not a look-up).
func IsLookupMiss(err error) bool {
	return apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden)
}

func institutional() error {
	return apperr.New(apperr.Forbidden, "institutional users cannot receive coins")
}
