package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"coffer/graph/gid"
	"coffer/graph/live"
	"coffer/graph/pgtest"

	"github.com/lib/pq"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// stores are the two stores every behaviour test runs on.
var stores = []string{"postgres", "sqlite"}

const adminPassword = "admin-password-1"

// testServer is a coffer server started by a test, reached over real HTTP.
type testServer struct {
	t   testing.TB
	URL string
	// Outbox is the OUTBOX_FILE every code sent is written to.
	Outbox string
	// DatabaseURL is the server's DATABASE_URL, for tests that check what was stored.
	DatabaseURL string
}

// startServer boots the whole server on 127.0.0.1:0 over a fresh database of the given store.
func startServer(t testing.TB, store string, env ...string) *testServer {
	t.Helper()
	vars := map[string]string{
		"ADDR": "127.0.0.1:0", "ADMIN_PASSWORD": adminPassword, "DEV": "1",
		"AUTH_RATE_LIMIT": "0", "AUTH_ACCOUNT_RATE_LIMIT": "0",
		// The message and probing budgets are off unless a test turns one on (security_budgets_test.go).
		"SMS_PER_DESTINATION_PER_HOUR": "0", "SMS_GLOBAL_PER_HOUR": "0", "EMAIL_PER_DESTINATION_PER_HOUR": "0",
		"EMAIL_GLOBAL_PER_HOUR": "0", "CASHOUTS_PER_USER_PER_HOUR": "0",
		"PHONE_VERIFICATIONS_PER_STAFF_PER_HOUR": "0", "RECIPIENT_MISSES_PER_HOUR": "0",
		"OUTBOX_FILE": filepath.Join(t.TempDir(), "outbox.jsonl"),
	}
	switch store {
	case "postgres":
		vars["DATABASE_URL"] = pgtest.NewDatabase(t)
	case "sqlite":
		vars["DATABASE_URL"] = filepath.Join(t.TempDir(), "coffer.db")
	default:
		t.Fatalf("unknown store %q", store)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, ready) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("server stopped with %v", err)
			}
		})
		return &testServer{t: t, URL: "http://" + addr, Outbox: vars["OUTBOX_FILE"], DatabaseURL: vars["DATABASE_URL"]}
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start within 60s")
	}
	return nil
}

// gqlError is one GraphQL error as a client sees it.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
		// RetryAfter is the wait in seconds a TOO_MANY_REQUESTS asks for.
		RetryAfter int `json:"retryAfter"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// code is the first error's code, "" when there is none.
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

// do posts a GraphQL operation with an optional bearer token.
func (s *testServer) do(token, query string, vars map[string]any) gqlResponse {
	s.t.Helper()
	resp, err := s.post(token, query, vars)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

func (s *testServer) post(token, query string, vars map[string]any) (gqlResponse, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	defer res.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return gqlResponse{}, fmt.Errorf("status %d: decode: %w", res.StatusCode, err)
	}
	return out, nil
}

// mustDo is do that fails the test on any GraphQL error and decodes data into out.
func (s *testServer) mustDo(token, query string, vars map[string]any, out any) {
	s.t.Helper()
	r := s.do(token, query, vars)
	if len(r.Errors) > 0 {
		s.t.Fatalf("%s\nerrors: %+v", query, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			s.t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

func (s *testServer) login(username, password string) string {
	s.t.Helper()
	var out struct {
		Login struct {
			Status string
			Auth   struct{ Token string }
		}
	}
	s.mustDo("", `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status auth { token } } }`,
		map[string]any{"l": username, "p": password}, &out)
	if out.Login.Status != "AUTHENTICATED" || out.Login.Auth.Token == "" {
		s.t.Fatalf("login %s: %+v", username, out)
	}
	return out.Login.Auth.Token
}

func (s *testServer) admin() string { return s.login("admin", adminPassword) }

// customer creates a customer (password = username + "-password") and returns its login token.
func (s *testServer) customer(adminToken, username string) string {
	s.t.Helper()
	s.mustDo(adminToken, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": username, "password": username + "-password",
			"name": strings.ToUpper(username[:1]) + username[1:], "email": username + "@example.com"}}, nil)
	return s.login(username, username+"-password")
}

// mint creates coins for username, dated now.
func (s *testServer) mint(adminToken, username, amount string) {
	s.t.Helper()
	s.mustDo(adminToken, `mutation($u: String!, $a: Decimal!, $d: Time!) {
		createCoins(input: {recipient: {username: $u}, amount: $a, targetDate: $d}) { id } }`,
		map[string]any{"u": username, "a": amount, "d": time.Now().UTC().Format(time.RFC3339)}, nil)
}

// balance is the viewer's main balance as the API renders it.
func (s *testServer) balance(token string) string {
	s.t.Helper()
	var out struct {
		Me struct {
			Customer struct{ Balance struct{ Amount string } }
		}
	}
	s.mustDo(token, `{ me { customer { balance { amount } } } }`, nil, &out)
	return out.Me.Customer.Balance.Amount
}

// send sends coins by username and returns the response.
func (s *testServer) send(token, to, amount string, extra map[string]any) gqlResponse {
	in := map[string]any{"recipient": map[string]any{"username": to}, "amount": amount}
	for k, v := range extra {
		in[k] = v
	}
	return s.do(token, `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id status amount { amount } } }`,
		map[string]any{"in": in})
}

// wantError stops the test unless r failed with code and, when fields are given, unless
// extensions.fields names exactly those input fields.
func wantError(t *testing.T, r gqlResponse, code string, fields ...string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("no error, want %s; data = %s", code, r.Data)
	}
	if got := r.code(); got != code {
		t.Fatalf("extensions.code = %q (%q), want %s", got, r.Errors[0].Message, code)
	}
	if len(fields) == 0 {
		return
	}
	got := make([]string, 0, len(r.Errors[0].Extensions.Fields))
	for k := range r.Errors[0].Extensions.Fields {
		got = append(got, k)
	}
	sort.Strings(got)
	want := slices.Clone(fields)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("extensions.fields = %v, want exactly the keys %v", r.Errors[0].Extensions.Fields, want)
	}
}

// eaMadeUpID is a well-formed global ID that names nothing.
func eaMadeUpID() string { return gid.Encode(1<<40 + 7) }

func eaDecode(t *testing.T, r gqlResponse, out any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

const (
	eaLoginMutation          = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status auth { token } } }`
	eaCreateCustomerMutation = `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`
	eaDeleteCustomerMutation = `mutation($u: String!) { deleteCustomer(username: $u) }`
	eaChangePasswordMutation = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	eaCreateCoinsMutation    = `mutation($in: CreateCoinsInput!) { createCoins(input: $in) { id status amount { amount } } }`
	eaSendCoinsMutation      = `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id status amount { amount } } }`
	eaConfirmMutation        = `mutation($id: ID!, $sig: String) { confirmTransaction(id: $id, signature: $sig) { id status } }`
	eaCancelMutation         = `mutation($id: ID!) { cancelTransaction(id: $id) { id status } }`
	eaSetDebitLimitMutation  = `mutation($id: ID!, $l: Decimal!) { setDebitLimit(accountId: $id, limit: $l) { debitLimit { amount } } }`
	eaSetPublicKeyMutation   = `mutation($k: String!) { setPublicKey(publicKey: $k) { publicKey } }`
	eaMeQuery                = `{ me { username } }`
)

// onStores runs body once per store, the stores in parallel, each on its own fresh server.
func onStores(t *testing.T, body func(t *testing.T, s *testServer)) {
	t.Helper()
	onStoresWith(t, nil, body)
}

// onStoresWith is onStores with servers started with env.
func onStoresWith(t *testing.T, env []string, body func(t *testing.T, s *testServer)) {
	t.Helper()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			body(t, startServer(t, st, env...))
		})
	}
}

// onT returns s bound to t (with its outbox and database), so that a failing helper call stops
// the subtest t, not its parent.
func onT(t *testing.T, s *testServer) *testServer {
	c := *s
	c.t = t
	return &c
}

// hdResult is one raw answer of the server.
type hdResult struct {
	status int
	header http.Header
	raw    string
	body   gqlResponse
}

// hdRequest sends one request: method, path (with query string), content type, body and headers.
func hdRequest(t *testing.T, base, method, path, contentType, body string, headers map[string]string) hdResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := hdResult{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body) // every refusal is JSON; the Playground page is not
	return out
}

func hdJSON(query string) string {
	b, _ := json.Marshal(map[string]any{"query": query})
	return string(b)
}

func hdBearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// hdSend is a mutation that moves one coin from the viewer to ben: if any refused request ran it,
// the balances would show.
const hdSend = `sendCoins(input: {recipient: {username: "ben"}, amount: "1"})`

// hdParties are a bank with ann (100 coins) and ben (none).
type hdParties struct {
	s               *testServer
	admin, ann, ben string
}

func hdSetUp(t *testing.T, s *testServer) hdParties {
	t.Helper()
	p := hdParties{s: s, admin: s.admin()}
	p.ann = s.customer(p.admin, "ann")
	p.ben = s.customer(p.admin, "ben")
	s.mint(p.admin, "ann", "100")
	return p
}

// hdDeep nests Transaction.entries and Entry.transaction until the selection is depth levels deep
// (sendCoins itself is level 1).
func hdDeep(depth int) string {
	var b strings.Builder
	b.WriteString("mutation { " + hdSend + " { ")
	open := 1
	for level := 2; level < depth; level++ {
		if level%2 == 0 {
			b.WriteString("entries { ")
		} else {
			b.WriteString("transaction { ")
		}
		open++
	}
	b.WriteString("id")
	b.WriteString(strings.Repeat(" }", open+1)) // and the operation's
	return b.String()
}

func hdRepeat(format string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, " ")
}

// hdIntrospectionQuery is the introspection query of graphql-js (getIntrospectionQuery), which
// GraphiQL and the Playground send, with its TypeRef nested nine levels as in recent versions.
var hdIntrospectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {` + strings.Repeat(" kind name ofType {", 9) + " kind name" + strings.Repeat(" }", 9) + " }"

// abError is one GraphQL error with the parts these tests look at.
type abError struct {
	Message    string
	Path       []any
	Extensions struct {
		Code       string
		RetryAfter int
	}
}

// abPost posts an operation and returns its data and errors, keeping each error's path and
// extensions.retryAfter (gqlResponse keeps neither).
func abPost(t *testing.T, s *testServer, token, query string, vars map[string]any) (json.RawMessage, []abError) {
	t.Helper()
	_, body := (&idServer{testServer: s}).idRaw(token, query, vars)
	var out struct {
		Data   json.RawMessage
		Errors []abError
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return out.Data, out.Errors
}

// abWantTooMany asserts one TOO_MANY_REQUESTS error that says how long to wait.
func abWantTooMany(t *testing.T, errs []abError, what string) {
	t.Helper()
	if len(errs) != 1 || errs[0].Extensions.Code != "TOO_MANY_REQUESTS" {
		t.Fatalf("%s: errors = %+v, want one TOO_MANY_REQUESTS", what, errs)
	}
	if errs[0].Extensions.RetryAfter <= 0 {
		t.Errorf("%s: extensions.retryAfter = %d, want a positive number of seconds", what, errs[0].Extensions.RetryAfter)
	}
}

// statementCounter counts the SQL statements a server's database executes, with
// pg_stat_statements, the method of `make bench`: what PostgreSQL ran (BEGIN and COMMIT included),
// so nothing a library sends behind the resolvers' back escapes it.
type statementCounter struct {
	t  *testing.T
	db *sql.DB
}

// newCountedServer starts a server over a database of a cluster of its own that preloads
// pg_stat_statements (the shared test cluster does not).
func newCountedServer(t *testing.T) (*testServer, *statementCounter) {
	t.Helper()
	cluster, err := pgtest.StartClusterWith("shared_preload_libraries=pg_stat_statements")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	if err := cluster.CreateDatabase("counted"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", cluster.URL("counted"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE EXTENSION pg_stat_statements"); err != nil {
		t.Fatal(err)
	}
	// Registered after the cluster's clean-up, so the server stops before the cluster does.
	s := startServer(t, "postgres", "DATABASE_URL="+cluster.URL("counted"))
	return s, &statementCounter{t: t, db: db}
}

// hdWantUnchanged checks that no coin moved and no transfer was recorded.
func (p hdParties) hdWantUnchanged(t *testing.T) {
	t.Helper()
	s := &testServer{t: t, URL: p.s.URL}
	if a, b := s.balance(p.ann), s.balance(p.ben); a != "100.00" || b != "0.00" {
		t.Errorf("balances ann=%s ben=%s, want 100.00 and 0.00: a refused mutation ran", a, b)
	}
	var out struct {
		Transactions struct{ TotalCount int }
	}
	s.mustDo(p.admin, `{ transactions { totalCount } }`, nil, &out)
	if out.Transactions.TotalCount != 1 {
		t.Errorf("%d transactions, want only the creation", out.Transactions.TotalCount)
	}
}

// perRequest runs op n times, one after another, and returns the statements per run with the
// statement list for the failure message.
func (c *statementCounter) perRequest(n int, op func()) (float64, string) {
	c.t.Helper()
	if _, err := c.db.Exec("SELECT pg_stat_statements_reset()"); err != nil {
		c.t.Fatal(err)
	}
	for range n {
		op()
	}
	rows, err := c.db.Query(`SELECT query, calls FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND query NOT LIKE '%pg_stat_statements%'
		AND NOT (query LIKE ANY ($1)) ORDER BY calls DESC, query`, pq.Array(live.StatementPatterns))
	if err != nil {
		c.t.Fatal(err)
	}
	defer rows.Close()
	var total int64
	var list strings.Builder
	for rows.Next() {
		var q string
		var calls int64
		if err := rows.Scan(&q, &calls); err != nil {
			c.t.Fatal(err)
		}
		total += calls
		list.WriteString("\n  " + strings.Join(strings.Fields(q), " "))
	}
	if err := rows.Err(); err != nil {
		c.t.Fatal(err)
	}
	return float64(total) / float64(n), list.String()
}

// hdSendForm is hdSend as a form-encoded query.
var hdSendForm = url.Values{"query": {"mutation { " + hdSend + " { id } }"}}.Encode()

// trConfig is the settings of an app over a fresh database of the given store, with exp (when not
// nil) as its span exporter and env added.
func trConfig(t testing.TB, store string, exp sdktrace.SpanExporter, env ...string) Config {
	t.Helper()
	vars := map[string]string{"ADMIN_PASSWORD": adminPassword, "DEV": "1", "AUTH_RATE_LIMIT": "0",
		"AUTH_ACCOUNT_RATE_LIMIT": "0", "OUTBOX_FILE": filepath.Join(t.TempDir(), "outbox.jsonl")}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	if store == "postgres" {
		vars["DATABASE_URL"] = pgtest.NewDatabase(t)
	} else {
		vars["DATABASE_URL"] = filepath.Join(t.TempDir(), "coffer.db")
	}
	cfg, err := parseConfig(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if exp != nil {
		cfg.Observe.spanExporter = exp
	}
	return cfg
}
