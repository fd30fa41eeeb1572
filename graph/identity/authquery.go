package identity

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/customer"
	"coffer/ent/session"
	"coffer/ent/user"
	"coffer/graph/coalesce"
)

// authRow is what authentication reads in one statement: the session, its user, the user's
// customer (nil for staff and administrators) and that customer's main account id (0 if none).
type authRow struct {
	session       *ent.Session
	user          *ent.User
	customer      *ent.Customer
	mainAccountID int
}

// sessionColumns are the session's columns authentication reads: all but the token hash, which
// the statement matches on and nobody needs back.
var sessionColumns = slices.DeleteFunc(slices.Clone(session.Columns), func(c string) bool { return c == session.FieldTokenHash })

// authStatement is built once per dialect: every request runs it, and building SQL text (quoting
// each identifier) is a measurable part of a request's CPU.
var authStatement = struct {
	sync.Mutex
	text map[string]string
}{text: map[string]string{}}

// authSQL is the statement: the sessions of a set of token hashes (one parameter: every token a
// round of concurrent requests authenticates, or the one of a lone request; coalesce.EachKey on
// PostgreSQL, coalesce.InBytes on SQLite), each joined with its user and (left) with the user's customer, and the customer's
// main account id as a scalar subquery; the token hash last, to tell the rows apart. Every column
// of the user and the customer is read, through ent's generated column lists, so that the
// entities it fills are the ones ent's own queries return, whatever fields the schema gains.
func authSQL(d string) string {
	authStatement.Lock()
	defer authStatement.Unlock()
	if q, ok := authStatement.text[d]; ok {
		return q
	}
	cols := func(alias string, names []string) string {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = alias + `."` + n + `"`
		}
		return strings.Join(quoted, ", ")
	}
	q := `SELECT ` + cols("s", sessionColumns) + `, ` + cols("u", user.Columns) + `, ` + cols("c", customer.Columns) +
		`, c."` + customer.FieldID + `", (SELECT MIN(a."` + account.FieldID + `") FROM "` + account.Table + `" a WHERE a."` +
		account.FieldOwnerID + `" = c."` + customer.FieldID + `" AND a."` + account.FieldKind + `" = '` + account.KindMAIN.String() + `')` +
		`, s."` + session.FieldTokenHash + `"` +
		` FROM "` + session.Table + `" s JOIN "` + user.Table + `" u ON u."` + user.FieldID + `" = s."` + session.FieldUserID + `"` +
		` LEFT JOIN "` + customer.Table + `" c ON c."` + customer.FieldUserID + `" = u."` + user.FieldID + `"` +
		` WHERE `
	if d == dialect.Postgres {
		// One index probe a token (coalesce.EachKey): for the set, the planner would join the
		// sessions it finds with the users scanned from the first row.
		q = coalesce.EachKey("bytea", q+`s."`+session.FieldTokenHash+`" = k."key"`)
	} else {
		q += coalesce.InBytes(false, `s."`+session.FieldTokenHash+`"`)
	}
	authStatement.text[d] = q
	return q
}

// loadAuth reads the session of tokenHash: nil when no session has it. With the pool (s.SQL) the
// statement is prepared, and concurrent look-ups share it (coalesce.Loader: one runs at once when
// no round is in flight, the others join the next round, which starts after they were made, so
// each reads the database as of its own request). Without the pool it runs alone through the
// client.
func (s *Service) loadAuth(ctx context.Context, tokenHash []byte) (*authRow, error) {
	if s.SQL != nil {
		s.authOnce.Do(s.initAuth)
		row, _, err := s.auth.Load(ctx, string(tokenHash))
		if row == nil || err != nil {
			return nil, err
		}
		return row.own(), nil
	}
	found, err := s.fetchAuth(ctx, []string{string(tokenHash)}, func(ctx context.Context, arg any) (*sql.Rows, error) {
		return s.Client.QueryContext(ctx, authSQL(s.dialect()), arg)
	})
	return found[string(tokenHash)], err
}

// initAuth prepares the shared look-up: its statement's text and its round's fetch.
func (s *Service) initAuth() {
	s.authStmt.Text = authSQL(s.dialect())
	s.auth.Fetch = func(ctx context.Context, hashes []string) (map[string]*authRow, error) {
		return s.fetchAuth(ctx, hashes, func(ctx context.Context, arg any) (*sql.Rows, error) {
			return s.authStmt.Query(ctx, s.SQL, arg)
		})
	}
}

// fetchAuth runs the statement through query for the token hashes given (each a string of the
// hash's bytes) and returns the row of each one that has a session.
func (s *Service) fetchAuth(ctx context.Context, hashes []string,
	query func(ctx context.Context, arg any) (*sql.Rows, error)) (map[string]*authRow, error) {
	arg, err := coalesce.BytesKeys(s.dialect() == dialect.Postgres, hashes)
	if err != nil {
		return nil, err
	}
	rows, err := query(ctx, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[string]*authRow, len(hashes))
	for rows.Next() {
		hash, r, err := s.scanAuth(rows)
		if err != nil {
			return nil, err
		}
		// token_hash is unique: a second row would be a broken database, not a second session.
		if found[hash] != nil {
			return nil, fmt.Errorf("more than one session for a token hash")
		}
		found[hash] = r
	}
	return found, rows.Close()
}

// scanAuth fills one row's session, user and customer the way ent's own queries do.
func (s *Service) scanAuth(rows *sql.Rows) (string, *authRow, error) {
	client := s.Client
	r := &authRow{session: &ent.Session{}, user: &ent.User{}, customer: &ent.Customer{}}
	sv, err := r.session.ScanValues(sessionColumns)
	if err != nil {
		return "", nil, err
	}
	uv, err := r.user.ScanValues(user.Columns)
	if err != nil {
		return "", nil, err
	}
	cv, err := r.customer.ScanValues(customer.Columns)
	if err != nil {
		return "", nil, err
	}
	var customerID, mainID sql.NullInt64
	var hash []byte
	dest := slices.Concat(sv, uv, cv, []any{&customerID, &mainID, &hash})
	if err := rows.Scan(dest...); err != nil {
		return "", nil, fmt.Errorf("scan: %w", err)
	}
	if err := client.Session.AssignValues(r.session, sessionColumns, sv); err != nil {
		return "", nil, err
	}
	if err := client.User.AssignValues(r.user, user.Columns, uv); err != nil {
		return "", nil, err
	}
	if customerID.Valid {
		if err := client.Customer.AssignValues(r.customer, customer.Columns, cv); err != nil {
			return "", nil, err
		}
		r.mainAccountID = int(mainID.Int64)
	} else {
		r.customer = nil
	}
	return string(hash), r.linked(), nil
}

// own is a copy of r for one request: a round answers every look-up of the same token with the
// same row, and a request may change its entities (the edges it loads).
func (r *authRow) own() *authRow {
	c := *r
	sess, u := *r.session, *r.user
	c.session, c.user = &sess, &u
	if r.customer != nil {
		cu := *r.customer
		c.customer = &cu
	}
	return c.linked()
}

// linked is r with both edges between its user and customer loaded: resolvers that follow them
// in this request need no statement.
func (r *authRow) linked() *authRow {
	if r.customer != nil {
		r.user.Edges.Customer = r.customer
		r.customer.Edges.User = r.user
	}
	return r
}
