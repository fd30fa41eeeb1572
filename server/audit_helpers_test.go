package main

// Helpers of the audit tests (prefix "au"): the audit log's rows as a test reads them, parallel
// logins, and requests that carry a client request id.

import (
	"bytes"
	"coffer/graph/store"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/lib/pq"
)

const (
	auLoginMutation     = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status auth { token } } }`
	auTwoFactorMutation = `mutation($m: TwoFactorMethod!, $p: String) {
		setTwoFactor(method: $m, currentPassword: $p) { twoFactor } }`
	auChangePasswordMutation = `mutation($u: String, $n: String!, $c: String) {
		changePassword(input: {username: $u, newPassword: $n, confirmPassword: $n, currentPassword: $c}) }`
)

// auRow is one audit_events row.
type auRow struct {
	ActorID                            sql.NullInt64
	Actor, Role, Action, Outcome, Addr string
	Target, TargetName                 sql.NullString
	RequestID, ClientRequestID         sql.NullString
}

// auOpen opens the database of s (either store) for reading what the server stored.
func auOpen(t testing.TB, s *testServer) *sql.DB {
	t.Helper()
	driver, dsn := "postgres", s.DatabaseURL
	if !store.IsPostgres(dsn) {
		driver, dsn = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// auRows is the audit log of s, oldest first.
func auRows(t testing.TB, s *testServer) []auRow {
	t.Helper()
	rows, err := auOpen(t, s).Query(`SELECT actor_id, actor_username, actor_role, action, outcome, client_addr,
		target, target_name, request_id, client_request_id FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auRow
	for rows.Next() {
		var r auRow
		if err := rows.Scan(&r.ActorID, &r.Actor, &r.Role, &r.Action, &r.Outcome, &r.Addr,
			&r.Target, &r.TargetName, &r.RequestID, &r.ClientRequestID); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// auEvents are the rows of action (all of them when action is ""), as "actor outcome target name".
func auEvents(rows []auRow, action string) []string {
	var out []string
	for _, r := range rows {
		if r.Action == action {
			out = append(out, strings.TrimSpace(r.Actor+" "+r.Outcome+" "+r.Target.String+" "+r.TargetName.String))
		}
	}
	return out
}

// auDo posts an operation with the client's X-Request-Id clientID and returns the response and
// the request id the server answered.
func auDo(t testing.TB, s *testServer, token, clientID, query string, vars map[string]any) (gqlResponse, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", clientID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out, res.Header.Get("X-Request-Id")
}

// auParallelLogins sends n logins at once and counts the answers by error code ("" for none).
func auParallelLogins(t *testing.T, s *testServer, n int, login, password string) map[string]int {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[string]int{}
	for range n {
		wg.Go(func() {
			r, err := s.post("", auLoginMutation, map[string]any{"l": login, "p": password})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			counts[r.code()]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return counts
}

// auTwoFactor is the viewer's second factor.
func auTwoFactor(s *testServer, token string) string {
	var me struct{ Me struct{ TwoFactor string } }
	s.mustDo(token, `{ me { twoFactor } }`, nil, &me)
	return me.Me.TwoFactor
}

// auRequests remembers the client's and the server's id of each request a test sent with auDo.
type auRequests struct {
	t        *testing.T
	s        *testServer
	clientOf map[string]string // the server's request id → the client's
}

var auServerRequestID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// auRepeat is n copies of s.
func auRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// auIDs maps each username to its user id and "c:"+username to its customer id, as strings.
func auIDs(t testing.TB, s *testServer) map[string]string {
	t.Helper()
	rows, err := auOpen(t, s).Query(`SELECT u.username, u.id, COALESCE(c.id, 0) FROM users u LEFT JOIN customers c ON c.user_id = u.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name string
		var userID, customerID int
		if err := rows.Scan(&name, &userID, &customerID); err != nil {
			t.Fatal(err)
		}
		out[name] = strconv.Itoa(userID)
		if customerID != 0 {
			out["c:"+name] = strconv.Itoa(customerID)
		}
	}
	return out
}

// auCustomerOf is the customer id that the customer.created row of username names.
func auCustomerOf(rows []auRow, username string) string {
	for _, r := range rows {
		if r.Action == "customer.created" && r.TargetName.String == username {
			return strings.TrimPrefix(r.Target.String, "customer:")
		}
	}
	return "none"
}

// auAccountID is the id of the account with number.
func auAccountID(t testing.TB, s *testServer, number string) string {
	t.Helper()
	var id int
	if err := auOpen(t, s).QueryRow(`SELECT id FROM accounts WHERE number = '` + number + `'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(id)
}

// auPersonID is the id of the person with the qualified id "<census number>@census".
func auPersonID(t testing.TB, s *testServer, qualifiedID string) string {
	t.Helper()
	number, _, _ := strings.Cut(qualifiedID, "@")
	var id int
	if err := auOpen(t, s).QueryRow(`SELECT id FROM persons WHERE census_number = '` + number + `'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(id)
}

// do is auDo with a fresh client request id, remembered.
func (a *auRequests) do(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	client := "client-" + strconv.Itoa(len(a.clientOf)+1) + "-chosen"
	r, server := auDo(a.t, a.s, token, client, query, vars)
	if server == client || !auServerRequestID.MatchString(server) {
		a.t.Fatalf("X-Request-Id answered %q for the client's %q, want the server's own", server, client)
	}
	a.clientOf[server] = client
	return r
}

// mustDo is do that fails on an error and decodes data into out.
func (a *auRequests) mustDo(token, query string, vars map[string]any, out any) {
	a.t.Helper()
	r := a.do(token, query, vars)
	if len(r.Errors) > 0 {
		a.t.Fatalf("%s: %+v", query, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			a.t.Fatal(err)
		}
	}
}

// wantRequests checks every row's address and request ids: the server's own id always, and the
// client's kept apart, exactly on the rows of requests that sent one. No row holds a password.
func (a *auRequests) wantRequests(rows []auRow, passwords ...string) {
	a.t.Helper()
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Addr != "127.0.0.1" || !auServerRequestID.MatchString(r.RequestID.String) {
			a.t.Errorf("%s row from %q with request id %q: want 127.0.0.1 and the server's id", r.Action, r.Addr, r.RequestID.String)
		}
		want, ok := a.clientOf[r.RequestID.String]
		if r.ClientRequestID.String != want || r.ClientRequestID.Valid != ok {
			a.t.Errorf("%s row of request %s: client request id %q, want %q", r.Action, r.RequestID.String, r.ClientRequestID.String, want)
		}
		seen[r.RequestID.String] = true
		for _, p := range passwords {
			if strings.Contains(fmt.Sprintf("%v", r), p) {
				a.t.Errorf("%s row holds a password: %+v", r.Action, r)
			}
		}
	}
	for server, client := range a.clientOf {
		if !seen[server] {
			a.t.Errorf("request %s (client %s) left no row", server, client)
		}
	}
}
