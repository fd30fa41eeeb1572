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

// authSQL is the statement: the session by token hash, joined with its user and (left) with the
// user's customer, and the customer's main account id as a scalar subquery. Every column of the
// user and the customer is read, through ent's generated column lists, so that the entities it
// fills are the ones ent's own queries return, whatever fields the schema gains.
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
	// Arguments are numbered in the order they appear: SQLite's "?" are positional.
	arg := func(n int) string {
		if d == dialect.Postgres {
			return fmt.Sprintf("$%d", n)
		}
		return "?"
	}
	q := `SELECT ` + cols("s", sessionColumns) + `, ` + cols("u", user.Columns) + `, ` + cols("c", customer.Columns) +
		`, c."` + customer.FieldID + `", (SELECT MIN(a."` + account.FieldID + `") FROM "` + account.Table + `" a WHERE a."` +
		account.FieldOwnerID + `" = c."` + customer.FieldID + `" AND a."` + account.FieldKind + `" = ` + arg(1) + `)` +
		` FROM "` + session.Table + `" s JOIN "` + user.Table + `" u ON u."` + user.FieldID + `" = s."` + session.FieldUserID + `"` +
		` LEFT JOIN "` + customer.Table + `" c ON c."` + customer.FieldUserID + `" = u."` + user.FieldID + `"` +
		` WHERE s."` + session.FieldTokenHash + `" = ` + arg(2)
	authStatement.text[d] = q
	return q
}

// loadAuth runs the statement (prepared on db when the service has the pool, else through the
// client); nil when no session has the token hash.
func (s *Service) loadAuth(ctx context.Context, tokenHash []byte) (*authRow, error) {
	args := []any{account.KindMAIN.String(), tokenHash}
	var rows *sql.Rows
	var err error
	if s.SQL != nil {
		s.authOnce.Do(func() { s.authStmt.Text = authSQL(s.dialect()) })
		rows, err = s.authStmt.Query(ctx, s.SQL, args...)
	} else {
		rows, err = s.Client.QueryContext(ctx, authSQL(s.dialect()), args...)
	}
	if err != nil {
		return nil, err
	}
	client := s.Client
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	r := &authRow{session: &ent.Session{}, user: &ent.User{}, customer: &ent.Customer{}}
	sv, err := r.session.ScanValues(sessionColumns)
	if err != nil {
		return nil, err
	}
	uv, err := r.user.ScanValues(user.Columns)
	if err != nil {
		return nil, err
	}
	cv, err := r.customer.ScanValues(customer.Columns)
	if err != nil {
		return nil, err
	}
	var customerID, mainID sql.NullInt64
	dest := slices.Concat(sv, uv, cv, []any{&customerID, &mainID})
	if err := rows.Scan(dest...); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	if err := client.Session.AssignValues(r.session, sessionColumns, sv); err != nil {
		return nil, err
	}
	if err := client.User.AssignValues(r.user, user.Columns, uv); err != nil {
		return nil, err
	}
	if customerID.Valid {
		if err := client.Customer.AssignValues(r.customer, customer.Columns, cv); err != nil {
			return nil, err
		}
		// Both edges are loaded: resolvers that follow them in this request need no statement.
		r.user.Edges.Customer = r.customer
		r.customer.Edges.User = r.user
		r.mainAccountID = int(mainID.Int64)
	} else {
		r.customer = nil
	}
	// token_hash is unique: a second row would be a broken database, not a second session.
	if rows.Next() {
		return nil, fmt.Errorf("more than one session for a token hash")
	}
	return r, rows.Close()
}
