package coins

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"

	"coffer/graph/apperr"
	"coffer/graph/coalesce"
	"coffer/graph/iban"
	"coffer/graph/identity"
	"coffer/graph/ledger"
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

// byUsernameOnly reports whether r names its customer by username and in no other way.
func (r Recipient) byUsernameOnly() bool {
	return r.Username != "" && r.Email == "" && r.PublicKey == "" && r.IBAN == ""
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
//
// By username, the way sendCoins is benchmarked, the statement takes a set of names ($1: every
// name a round of concurrent sendCoins resolves, coalesce.In) and returns the name too.
var recipientSQL = [recipientWays]string{
	byUsername:  recipientFromUser(`u."username" = $1`), // replaced by usernamesSQL
	byEmail:     recipientFromUser(`u."email" = $1`),
	byPublicKey: recipientFromUser(`c."public_key" = $1`),
	byIBAN: `SELECT 'CUSTOMER', a."id" FROM "accounts" a WHERE a."iban" = $1 AND a."owner_id" IS NOT NULL
		AND a."kind" = 'MAIN' AND a."closed_at" IS NULL`,
}

// usernamesSQL is the by-username statement of a round. On PostgreSQL each name is an index
// probe (coalesce.EachKey): with `username = ANY($1)` the planner, once the table has statistics,
// prefers the trigram index of the search (gin_trgm_ops answers equality too), 3 ms for 5 names
// among 600 users where the unique index takes 0.2 ms (issue 20's profile).
func usernamesSQL(postgres bool) string {
	if postgres {
		return coalesce.EachKey("text", `SELECT k."key", u."role", a."id" FROM "users" u
			JOIN "customers" c ON c."user_id" = u."id"
			LEFT JOIN "accounts" a ON a."owner_id" = c."id" AND a."kind" = 'MAIN' AND a."closed_at" IS NULL
			WHERE u."username" = k."key"`)
	}
	return `SELECT u."username", u."role", a."id" FROM "users" u
		JOIN "customers" c ON c."user_id" = u."id"
		LEFT JOIN "accounts" a ON a."owner_id" = c."id" AND a."kind" = 'MAIN' AND a."closed_at" IS NULL
		WHERE ` + coalesce.In(false, `u."username"`)
}

func recipientFromUser(match string) string {
	return `SELECT u."role", a."id" FROM "users" u
		JOIN "customers" c ON c."user_id" = u."id"
		LEFT JOIN "accounts" a ON a."owner_id" = c."id" AND a."kind" = 'MAIN' AND a."closed_at" IS NULL
		WHERE ` + match
}

// recipientStatements are recipientSQL prepared on the pool, once per dialect they run in.
type recipientStatements struct {
	ways      [recipientWays]store.Prepared
	usernames store.Prepared
	// byUsername resolves the usernames of concurrent look-ups in one statement per round.
	byUsername coalesce.Loader[string, recipientRow]
	// available reads what the senders' accounts can pay (checkFunds), one statement per round.
	availableSQL store.Prepared
	available    coalesce.Loader[int64, int64]
	// payees resolves the usernames of a ledger batch's transfers (ledger.Payee).
	payees ledger.PayeeBook
}

// recipientRow is what a look-up found: the named user's role and their lowest main open
// account (NULL when none).
type recipientRow struct {
	role      string
	accountID sql.NullInt64
}

func newRecipientStatements(d string, db *sql.DB) *recipientStatements {
	s := &recipientStatements{}
	for way, q := range recipientSQL {
		if d != dialect.Postgres {
			q = strings.ReplaceAll(q, "$1", "?") // SQLite numbers nothing: one argument, one "?"
		}
		s.ways[way].Text = q
	}
	postgres := d == dialect.Postgres
	s.usernames.Text = usernamesSQL(postgres)
	s.byUsername.Fetch = func(ctx context.Context, names []string) (map[string]recipientRow, error) {
		return fetchRows(ctx, &s.usernames, db, postgres, names, scanUsername)
	}
	s.payees = UsernameBook(d)
	s.availableSQL.Text = `SELECT "id", "balance" + "debit_limit" - "reserved" FROM "accounts" WHERE ` + coalesce.In(postgres, `"id"`)
	s.available.Fetch = func(ctx context.Context, ids []int64) (map[int64]int64, error) {
		return fetchRows(ctx, &s.availableSQL, db, postgres, ids, func(rows *sql.Rows, found map[int64]int64) error {
			var id, availableMinor int64
			err := rows.Scan(&id, &availableMinor)
			found[id] = availableMinor
			return err
		})
	}
	return s
}

// UsernameBook is the book a batch resolves sendCoins' usernames with, in dialect d (make bench
// runs it in its batched limit).
func UsernameBook(d string) ledger.PayeeBook {
	postgres := d == dialect.Postgres
	return usernameBook{sql: usernamesSQL(postgres), postgres: postgres}
}

// usernameBook is the ledger.PayeeBook of transfers to a username: the same statement and the
// same rules as Resolve by username (customers only, their lowest main open account), run in
// the ledger batch's transaction for the names of all its transfers.
type usernameBook struct {
	sql      string
	postgres bool
}

func (b usernameBook) Resolve(ctx context.Context, q ledger.Querier, names []string) (map[string]int, error) {
	arg, err := coalesce.Keys(b.postgres, names)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, b.sql, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[string]recipientRow{}
	for rows.Next() {
		if err := scanUsername(rows, found); err != nil {
			return nil, err
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	ids := make(map[string]int, len(found))
	for name, r := range found {
		// A customer row of another role (none exists today) is no recipient either.
		if r.accountID.Valid && r.role == "CUSTOMER" {
			ids[name] = int(r.accountID.Int64)
		}
	}
	return ids, nil
}

// scanUsername reads a row of the by-username statement (usernamesSQL) into found.
func scanUsername(rows *sql.Rows, found map[string]recipientRow) error {
	var name string
	var r recipientRow
	err := rows.Scan(&name, &r.role, &r.accountID)
	found[name] = found[name].with(r)
	return err
}

// fetchRows runs p for a round's keys (coalesce.In) and scans each row into found.
func fetchRows[K string | int64, V any](ctx context.Context, p *store.Prepared, db *sql.DB, postgres bool, keys []K,
	scan func(rows *sql.Rows, found map[K]V) error) (map[K]V, error) {
	arg, err := coalesce.Keys(postgres, keys)
	if err != nil {
		return nil, err
	}
	rows, err := p.Query(ctx, db, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[K]V{}
	for rows.Next() {
		if err := scan(rows, found); err != nil {
			return nil, err
		}
	}
	return found, rows.Close()
}

// with is r after one more row of the look-up: a customer with two main accounts resolves to
// the lowest id, as authentication does.
func (r recipientRow) with(row recipientRow) recipientRow {
	r.role = row.role
	if row.accountID.Valid && (!r.accountID.Valid || row.accountID.Int64 < r.accountID.Int64) {
		r.accountID = row.accountID
	}
	return r
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
	s.recipientOnce.Do(func() { s.recipients = newRecipientStatements(s.Ledger.Dialect, s.SQL) })
	var found recipientRow
	var err error
	if way == byUsername {
		found, _, err = s.recipients.byUsername.Load(ctx, name.(string))
	} else {
		found, err = s.resolveOne(ctx, way, name)
	}
	if err != nil {
		return 0, fmt.Errorf("coins: resolve recipient: %w", err)
	}
	// A customer row of another role (none exists today) is no recipient either.
	if !found.accountID.Valid || found.role != "CUSTOMER" {
		return 0, errRecipientNotFound
	}
	return int(found.accountID.Int64), nil
}

// resolveOne runs the look-up of one name with way's own statement.
func (s *Service) resolveOne(ctx context.Context, way int, name any) (recipientRow, error) {
	rows, err := s.recipients.ways[way].Query(ctx, s.SQL, name)
	if err != nil {
		return recipientRow{}, err
	}
	defer rows.Close()
	var found recipientRow
	for rows.Next() {
		var r recipientRow
		if err := rows.Scan(&r.role, &r.accountID); err != nil {
			return recipientRow{}, err
		}
		found = found.with(r)
	}
	return found, rows.Close()
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
