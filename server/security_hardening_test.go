package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"coffer/graph"
	"coffer/graph/pgtest"
	"coffer/graph/transport"
)

// hdAuth is how a hostile request carries ann's session.
type hdAuth int

const (
	hdAuthBearer hdAuth = iota
	hdAuthCookie
	hdAuthCrossSiteCookie
)

// headers are the request headers that carry token as a.
func (a hdAuth) headers(token string) map[string]string {
	switch a {
	case hdAuthCookie:
		return map[string]string{"Cookie": transport.CookieName + "=" + token}
	case hdAuthCrossSiteCookie:
		return map[string]string{"Cookie": transport.CookieName + "=" + token,
			"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	}
	return hdBearer(token)
}

// hdCostly is a selection that is legal in every way but its cost: two nested pages of 100.
const hdCostly = "mutation { " + hdSend + ` { entries { account { entries(first: 100) { edges { node {
	account { entries(first: 100) { totalCount } } } } } } } } }`

// hdFragmentBomb is a fragment bomb: each fragment spreads the previous one twice, 2^30 expansions.
func hdFragmentBomb() string {
	var bomb strings.Builder
	bomb.WriteString("mutation { ...F30 } fragment F0 on Mutation { " + hdSend + " { id } }\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&bomb, "fragment F%d on Mutation { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return bomb.String()
}

var hostileQueryTests = []struct {
	name        string
	method      string
	path        string
	contentType string
	body        string
	auth        hdAuth
	wantStatus  int
	wantCode    string
	wantMessage string
}{
	{"depth 11", "POST", "/query", "application/json", hdJSON(hdDeep(11)), hdAuthBearer,
		422, "GRAPHQL_VALIDATION_FAILED", "query depth 11 is over the limit of 10"},
	{"16 aliases", "POST", "/query", "application/json",
		hdJSON("mutation { " + hdRepeat("a%d: "+hdSend+" { id }", 16) + " }"), hdAuthBearer,
		422, "GRAPHQL_VALIDATION_FAILED", "16 aliases, over the limit of 15"},
	{"51 directives", "POST", "/query", "application/json",
		hdJSON("mutation { " + hdSend + " { " + strings.Repeat("id @skip(if: false) ", 51) + " } }"), hdAuthBearer,
		422, "GRAPHQL_VALIDATION_FAILED", "51 directives, over the limit of 50"},
	{"2,100 tokens", "POST", "/query", "application/json",
		hdJSON("mutation { " + hdSend + " { " + strings.Repeat("id ", 2100) + "} }"), hdAuthBearer,
		422, "GRAPHQL_PARSE_FAILED", "exceeded token limit of 2000"},
	{"complexity of two nested pages", "POST", "/query", "application/json", hdJSON(hdCostly), hdAuthBearer,
		422, "COMPLEXITY_LIMIT_EXCEEDED", "over the limit of 5000"},
	{"fragment bomb", "POST", "/query", "application/json", hdJSON(hdFragmentBomb()), hdAuthBearer,
		422, "COMPLEXITY_LIMIT_EXCEEDED", "over 5000"},
	{"15,001 characters (a comment: few tokens)", "POST", "/query", "application/json",
		hdJSON("mutation { " + hdSend + " { id } }\n#" + strings.Repeat("x", 15000)), hdAuthBearer,
		422, "GRAPHQL_PARSE_FAILED", "over the limit of 15000"},
	{"body over 256 KiB", "POST", "/query", "application/json",
		`{"query":"mutation { ` + strings.ReplaceAll(hdSend, `"`, `\"`) + ` { id } }","pad":"` + strings.Repeat("x", 256<<10) + `"}`,
		hdAuthBearer, 413, "PAYLOAD_TOO_LARGE", "too large"},
	{"JSON array batch", "POST", "/query", "application/json",
		"[" + hdJSON("mutation { "+hdSend+" { id } }") + "]", hdAuthBearer,
		400, "BAD_REQUEST", "batched operations are not supported"},
	{"JSON array batch after white space", "POST", "/query", "application/json",
		" \n\t[" + hdJSON("mutation { "+hdSend+" { id } }") + "]", hdAuthBearer,
		400, "BAD_REQUEST", "batched operations are not supported"},
	{"mutation over GET", "GET", "/query?" + hdSendForm, "", "", hdAuthBearer,
		405, "BAD_REQUEST", "POST with Content-Type: application/json"},
	{"text/plain POST with the session cookie", "POST", "/query", "text/plain",
		hdJSON("mutation { " + hdSend + " { id } }"), hdAuthCookie,
		415, "BAD_REQUEST", "application/json"},
	{"cross-site text/plain POST with the session cookie", "POST", "/query", "text/plain;charset=UTF-8",
		hdJSON("mutation { " + hdSend + " { id } }"),
		hdAuthCrossSiteCookie,
		415, "BAD_REQUEST", "application/json"},
	{"form POST with the session cookie", "POST", "/query", "application/x-www-form-urlencoded", hdSendForm,
		hdAuthCookie, 415, "BAD_REQUEST", "application/json"},
	{"form POST with a bearer token", "POST", "/query", "application/x-www-form-urlencoded", hdSendForm,
		hdAuthBearer, 415, "BAD_REQUEST", "application/json"},
	{"cross-site JSON POST with the session cookie", "POST", "/query", "application/json",
		hdJSON("mutation { " + hdSend + " { id } }"),
		hdAuthCrossSiteCookie,
		403, "", ""},
}

// TestHostileQueries_refusedBeforeAnyResolver sends each kind of hostile request with a transfer
// inside and checks the refusal, its error, and that no coin moved.
func TestHostileQueries_refusedBeforeAnyResolver(t *testing.T) {
	s := startServer(t, "postgres", "DEV=")
	p := hdSetUp(t, s)
	for _, tt := range hostileQueryTests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := hdRequest(t, s.URL, tt.method, tt.path, tt.contentType, tt.body, tt.auth.headers(p.ann))
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d; body %.300s", res.status, tt.wantStatus, res.raw)
			}
			if tt.wantCode != "" && (res.body.code() != tt.wantCode || !strings.Contains(res.body.Errors[0].Message, tt.wantMessage)) {
				t.Errorf("errors %+v, want %s containing %q", res.body.Errors, tt.wantCode, tt.wantMessage)
			}
			if strings.Contains(res.raw, `"sendCoins"`) || strings.Contains(res.raw, `"a0"`) {
				t.Errorf("the answer carries data: %.300s", res.raw)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("refused after %v: the refusal must come before the work", d)
			}
			p.hdWantUnchanged(t)
		})
	}

	t.Run("the README's examples are refused", func(t *testing.T) { hdHostileReadmeExamples(t, s, p) })
	t.Run("at the limits the same operations run", func(t *testing.T) { hdHostileAtTheLimits(t, s, p) })
	t.Run("a page of 100 with a small selection is within the cost", func(t *testing.T) { hdHostileSmallPage(t, s, p) })
	t.Run("cost multiplies by first and last, variables included", func(t *testing.T) { hdHostileCostMultiplies(t, s, p) })
}

func hdHostileReadmeExamples(t *testing.T, s *testServer, p hdParties) {
	for q, want := range map[string]string{
		`{ me { customer { account { entries { edges { node { transaction { entries { account { owner { name } } } } } } } } } } }`: "GRAPHQL_VALIDATION_FAILED",
		`{ customers(first: 100) { edges { node { account { entries(first: 100) { edges { node { id } } } } } } } }`:                "COMPLEXITY_LIMIT_EXCEEDED",
	} {
		if r := s.do(p.admin, q, nil); r.code() != want {
			t.Errorf("%s: %+v, want %s", q, r.Errors, want)
		}
	}
}

func hdHostileAtTheLimits(t *testing.T, s *testServer, p hdParties) {
	for _, q := range []string{
		hdDeep(10),
		"mutation { " + hdRepeat("a%d: "+hdSend+" { id }", 15) + " }",
	} {
		r := s.do(p.ann, q, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%.120s...: %+v", q, r.Errors)
		}
	}
	if got := s.balance(p.ann); got != "84.00" {
		t.Errorf("ann has %s after 16 transfers of 1, want 84.00", got)
	}
}

func hdHostileSmallPage(t *testing.T, s *testServer, p hdParties) {
	r := s.do(p.admin, `{ customers(first: 100) { totalCount edges { node { id name } } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("%+v", r.Errors)
	}
}

func hdHostileCostMultiplies(t *testing.T, s *testServer, p hdParties) {
	q := `query($n: Int) { customers(first: $n) { edges { node { account { entries(last: $n) { totalCount } } } } } }`
	if r := s.do(p.admin, q, map[string]any{"n": 80}); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("80 × 80 entries: %+v, want COMPLEXITY_LIMIT_EXCEEDED", r.Errors)
	}
	if r := s.do(p.admin, q, map[string]any{"n": 10}); len(r.Errors) > 0 {
		t.Errorf("10 × 10 entries: %+v", r.Errors)
	}
}

// TestIntrospection_onWhenChosen_offWithTheSwitch_noSuggestionsOutsideDev checks introspection and
// field suggestions, which tell a client what the schema holds (the defaults: config_production_test.go).
func TestIntrospection_onWhenChosen_offWithTheSwitch_noSuggestionsOutsideDev(t *testing.T) {
	on := startServer(t, "sqlite", "DEV=", "INTROSPECTION=true")
	off := startServer(t, "sqlite", "INTROSPECTION=false", "DEV=1")

	t.Run("the Playground's introspection query runs when chosen", func(t *testing.T) {
		var out struct {
			Schema struct{ Types []struct{ Name string } } `json:"__schema"`
		}
		on.mustDo("", hdIntrospectionQuery, nil, &out)
		if len(out.Schema.Types) < 20 {
			t.Errorf("introspection returned %d types", len(out.Schema.Types))
		}
	})
	t.Run("recursive introspection is refused", func(t *testing.T) {
		q := `{ __type(name: "Query") { fields { type { fields { type { fields { name } } } } } } }`
		if r := on.do("", q, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "introspection") {
			t.Errorf("%+v, want GRAPHQL_VALIDATION_FAILED", r.Errors)
		}
	})
	for _, q := range []string{`{ __schema { types { name } } }`, `{ __type(name: "Query") { name } }`,
		`query { ...F } fragment F on Query { __schema { queryType { name } } }`} {
		t.Run("INTROSPECTION=false refuses "+q, func(t *testing.T) {
			r := off.do("", q, nil)
			if r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "introspection is disabled") || string(r.Data) != "" && string(r.Data) != "null" {
				t.Errorf("%+v data %s, want GRAPHQL_VALIDATION_FAILED", r.Errors, r.Data)
			}
		})
	}
	t.Run("INTROSPECTION=false still answers __typename", func(t *testing.T) {
		var out struct {
			Typename string `json:"__typename"`
		}
		off.mustDo("", `{ __typename }`, nil, &out)
		if out.Typename != "Query" {
			t.Errorf("__typename = %q", out.Typename)
		}
	})
	t.Run("no field suggestions when DEV is unset, suggestions in DEV", func(t *testing.T) {
		for _, q := range []string{
			`{ mee { id } }`, `{ me { usernam } }`, `{ me }`,
			`mutation { login(inpt: {login: "a", password: "b"}) { status } }`,
			`query($x: LoginInpt) { __typename }`,
			`mutation { login(input: {logn: "a", password: "b"}) { status } }`,
			`{ me { customer { account { entries(order: ASCC) { totalCount } } } } }`,
		} {
			r := on.do("", q, nil)
			if r.code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("%s: %+v, want GRAPHQL_VALIDATION_FAILED", q, r.Errors)
			}
			for _, e := range r.Errors {
				if strings.Contains(e.Message, "Did you mean") {
					t.Errorf("%s: %q suggests fields outside DEV", q, e.Message)
				}
			}
		}
		if r := off.do("", `{ mee { id } }`, nil); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Errorf("DEV=1: %+v, want a suggestion (else this test proves nothing)", r.Errors)
		}
	})
}

var securityHeaderTests = []struct {
	name, method, path, contentType, body string
	wantStatus                            int
}{
	{"POST /query", "POST", "/query", "application/json", hdJSON("{ __typename }"), 200},
	{"a refused POST /query", "POST", "/query", "text/plain", hdJSON("{ __typename }"), 415},
	{"GET /", "GET", "/", "", "", 200},
	{"GET /playground", "GET", "/playground", "", "", 200},
	{"GET /healthz", "GET", "/healthz", "", "", 200},
	{"GET /nope", "GET", "/nope", "", "", 404},
}

// TestSecurityHeadersAndCORS checks the headers of every kind of answer, and CORS from the
// allow-list only.
func TestSecurityHeadersAndCORS(t *testing.T) {
	const app = "https://app.example"
	s := startServer(t, "sqlite", "ALLOWED_ORIGINS=https://other.example, "+app)
	for _, tt := range securityHeaderTests {
		t.Run(tt.name, func(t *testing.T) {
			res := hdRequest(t, s.URL, tt.method, tt.path, tt.contentType, tt.body, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d", res.status, tt.wantStatus)
			}
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
				"X-Frame-Options": "DENY",
			} {
				if got := res.header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			// The Playground's page carries a fuller policy (scripts from 'self' only); every
			// response forbids framing.
			if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none' in it", csp)
			}
		})
	}

	preflight := func(origin string) hdResult {
		return hdRequest(t, s.URL, "OPTIONS", "/query", "", "", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, authorization"})
	}
	t.Run("an allowed origin's preflight and request get the CORS headers", func(t *testing.T) {
		res := preflight(app)
		if res.status != http.StatusNoContent || res.header.Get("Access-Control-Allow-Origin") != app ||
			res.header.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(res.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(res.header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight: %d %v", res.status, res.header)
		}
		res = hdRequest(t, s.URL, "POST", "/query", "application/json", hdJSON("{ __typename }"), map[string]string{"Origin": app})
		if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(res.header.Get("Vary"), "Origin") {
			t.Errorf("request: %d %v", res.status, res.header)
		}
	})
	for _, origin := range []string{"https://evil.example", "https://app.example.evil.example", "null", "http://app.example"} {
		t.Run("a foreign origin gets no CORS headers: "+origin, func(t *testing.T) {
			res := preflight(origin)
			if res.status != http.StatusForbidden || res.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("preflight: %d %v, want 403 without Access-Control-Allow-Origin", res.status, res.header)
			}
			res = hdRequest(t, s.URL, "POST", "/query", "application/json", hdJSON("{ __typename }"), map[string]string{"Origin": origin})
			if h := res.header.Get("Access-Control-Allow-Origin"); h != "" || res.header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("request: Access-Control-Allow-Origin %q", h)
			}
		})
	}
	t.Run("a wildcard or malformed origin is refused at start-up", func(t *testing.T) {
		for _, give := range []string{"*", "https://*.example", "app.example", "https://app.example/path", "https://app.example,null"} {
			_, err := parseConfigTo(nil, func(k string) string {
				if k == "ALLOWED_ORIGINS" {
					return give
				}
				return ""
			}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "ALLOWED_ORIGINS") {
				t.Errorf("ALLOWED_ORIGINS=%q: %v, want refused", give, err)
			}
		}
	})
}

// TestInternalError_leaksNoSQL breaks the database under a running server (a table renamed away)
// and checks that the client learns only INTERNAL, quickly, and that the server recovers when
// the table returns.
func TestInternalError_leaksNoSQL(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	s := startServer(t, "postgres", "DEV=", "DATABASE_URL="+dbURL)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`ALTER TABLE accounts RENAME TO accounts_away`)
	start := time.Now()
	res := hdRequest(t, s.URL, "POST", "/query", "application/json", hdJSON(`{ me { customer { balance { amount } } } }`), hdBearer(ann))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failure took %v", d)
	}
	if res.body.code() != "INTERNAL" || res.body.Errors[0].Message != "internal error" {
		t.Errorf("errors %+v, want INTERNAL", res.body.Errors)
	}
	for _, leak := range []string{"pq:", "relation", "accounts", "SELECT", "select", "sql", "goroutine", ".go:"} {
		if strings.Contains(res.raw, leak) {
			t.Errorf("the answer contains %q: %s", leak, res.raw)
		}
	}
	exec(`ALTER TABLE accounts_away RENAME TO accounts`)
	if got := s.balance(ann); got != "0.00" {
		t.Errorf("after the repair the balance reads %q", got)
	}
}

// TestPanics_becomeInternalWithoutStack checks both recoveries: gqlgen's, for resolvers (through
// the error presenter), and the HTTP one around everything else.
func TestPanics_becomeInternalWithoutStack(t *testing.T) {
	t.Run("a resolver's panic", func(t *testing.T) {
		ctx := context.Background()
		err := recoverToInternal(ctx, errors.New(`pq: relation "accounts" does not exist`))
		got := graph.ErrorPresenter(ctx, err)
		if got.Message != "internal error" || got.Extensions["code"] != "INTERNAL" {
			t.Errorf("presented %+v, want INTERNAL", got)
		}
	})
	t.Run("a panic in the HTTP layer", func(t *testing.T) {
		h := recoverHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(`pq: syntax error at or near "SELECT"`)
		}))
		srv := &http.Server{Handler: h}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		res := hdRequest(t, "http://"+ln.Addr().String(), "GET", "/", "", "", nil)
		if res.status != 500 || res.body.code() != "INTERNAL" || strings.Contains(res.raw, "pq:") || strings.Contains(res.raw, "SELECT") {
			t.Errorf("%d %s, want 500 INTERNAL without the panic's text", res.status, res.raw)
		}
	})
}

// TestPageSize_everyConnectionRefusesOver100 asks every field that takes first/last for 101 items,
// and checks by introspection that the list of such fields is complete.
func TestPageSize_everyConnectionRefusesOver100(t *testing.T) {
	s := startServer(t, "sqlite")
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "10")
	s.mustDo(ann, `mutation { createCard { card { id } } }`, nil, nil)
	person, _ := (&ppCensus{testServer: s, admin: admin, staff: admin}).register(t, nil)
	tests := map[string]struct {
		token, query string
	}{
		"Query.customers":       {admin, `{ customers(%s) { totalCount } }`},
		"Query.transactions":    {admin, `{ transactions(%s) { totalCount } }`},
		"Query.bills":           {ann, `{ bills(%s) { totalCount } }`},
		"Query.cashouts":        {ann, `{ cashouts(%s) { totalCount } }`},
		"Account.entries":       {ann, `{ me { customer { account { entries(%s) { totalCount } } } } }`},
		"Customer.bills":        {ann, `{ me { customer { bills(%s) { totalCount } } } }`},
		"Card.history":          {ann, `{ cards { history(%s) { totalCount } } }`},
		"Query.people":          {admin, `{ people(%s) { totalCount } }`},
		"Query.procedures":      {admin, `{ procedures(%s) { totalCount } }`},
		"Person.versions":       {admin, `{ person(id: "` + person.QualifiedID + `") { versions(%s) { totalCount } } }`},
		"Customer.transactions": {ann, `{ me { customer { transactions(%s) { totalCount } } } }`},
	}
	var schema struct {
		Schema struct {
			Types []struct {
				Name   string
				Fields []struct {
					Name string
					Args []struct{ Name string }
				}
			}
		} `json:"__schema"`
	}
	s.mustDo("", `{ __schema { types { name fields { name args { name } } } } }`, nil, &schema)
	for _, typ := range schema.Schema.Types {
		for _, f := range typ.Fields {
			for _, a := range f.Args {
				if a.Name == "first" || a.Name == "last" {
					if _, ok := tests[typ.Name+"."+f.Name]; !ok {
						t.Errorf("%s.%s takes %s but has no page-size case here", typ.Name, f.Name, a.Name)
					}
				}
			}
		}
	}
	for name, tt := range tests {
		for _, args := range []string{"first: 101", "last: 101", "first: -1"} {
			t.Run(name+" "+args, func(t *testing.T) {
				r := s.do(tt.token, fmt.Sprintf(tt.query, args), nil)
				if r.code() != "BAD_USER_INPUT" {
					t.Errorf("%+v, want BAD_USER_INPUT", r.Errors)
				}
			})
		}
		t.Run(name+" first: 100", func(t *testing.T) {
			if r := s.do(tt.token, fmt.Sprintf(tt.query, "first: 100"), nil); len(r.Errors) > 0 {
				t.Errorf("%+v", r.Errors)
			}
		})
	}
}

// TestMalformedCursorsAndIDs_badUserInput checks that opaque strings a client made up are its
// error, not the server's.
func TestMalformedCursorsAndIDs_badUserInput(t *testing.T) {
	s := startServer(t, "sqlite")
	admin := s.admin()
	for _, give := range []string{"!!!", "gaFp", "3f////8", "", "gaF2gaFhAQ"} {
		t.Run("cursor "+give, func(t *testing.T) {
			r := s.do(admin, `query($c: Cursor) { customers(first: 1, after: $c) { totalCount } }`, map[string]any{"c": give})
			if r.code() == "INTERNAL" {
				t.Errorf("after %q: %+v, want a client error", give, r.Errors)
			}
		})
	}
	for _, give := range []string{"!!!", "YzE6MQ\n", "YzE6MDE", ""} {
		t.Run(fmt.Sprintf("id %q", give), func(t *testing.T) {
			r := s.do(admin, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": give})
			if r.code() != "BAD_USER_INPUT" {
				t.Errorf("node(%q): %+v, want BAD_USER_INPUT", give, r.Errors)
			}
		})
	}
}

// TestWebSocketUpgrade_outlivesTheTimeouts checks that the deadline guard gives an upgrading
// connection no request deadline (its context lives as long as the connection) and that the
// connection outlives the server's read and write timeouts, while a plain request's context ends
// at REQUEST_TIMEOUT.
func TestWebSocketUpgrade_outlivesTheTimeouts(t *testing.T) {
	const timeout = 200 * time.Millisecond
	// A stand-in for the WebSocket transport: it takes over the connection, waits past every
	// timeout, then reports whether its request context still lives and echoes a line.
	hijacker := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		time.Sleep(3 * timeout)
		state := "alive"
		if err := r.Context().Err(); err != nil {
			state = err.Error()
		}
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + state + "\n")
		_ = rw.Flush()
		if line, err := rw.ReadString('\n'); err == nil {
			_, _ = rw.WriteString("echo " + line)
			_ = rw.Flush()
		}
	})
	srv := &http.Server{Handler: withDeadline(timeout, hijacker), ReadTimeout: timeout, WriteTimeout: timeout}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if got, err := hdTalk(ln.Addr().String(), timeout, true); err != nil || got != "alive\necho ping\n" {
		t.Errorf("upgraded connection: %q, %v; want its context alive and the echo after every timeout", got, err)
	}
	if got, _ := hdTalk(ln.Addr().String(), timeout, false); !strings.HasPrefix(got, context.DeadlineExceeded.Error()) {
		t.Errorf("plain request: %q, want its context ended by the request deadline", got)
	}
}

// hdTalk sends a GET to addr (with the upgrade headers when upgrade), waits past the timeouts,
// sends a line and returns the two lines read after the headers.
func hdTalk(addr string, timeout time.Duration, upgrade bool) (string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET /query HTTP/1.1\r\nHost: x\r\n"
	if upgrade {
		req += "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return "", err
	}
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if line == "\r\n" {
			break
		}
	}
	time.Sleep(2 * timeout)
	if _, err := io.WriteString(conn, "ping\n"); err != nil {
		return "", err
	}
	var got strings.Builder
	for range 2 {
		line, err := br.ReadString('\n')
		if err != nil {
			return got.String(), err
		}
		got.WriteString(line)
	}
	return got.String(), nil
}

// TestHardeningConfig_everySettingAFlag checks --help and the refusal of bad values.
func TestHardeningConfig_everySettingAFlag(t *testing.T) {
	var out strings.Builder
	if _, err := parseConfigTo([]string{"--help"}, func(string) string { return "" }, &out); err == nil {
		t.Fatal("--help did not stop")
	}
	vars := []string{"GRAPHQL_MAX_QUERY_LENGTH", "GRAPHQL_MAX_TOKENS", "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_ALIASES",
		"GRAPHQL_MAX_DIRECTIVES", "GRAPHQL_MAX_COMPLEXITY", "INTROSPECTION", "MAX_BODY_BYTES",
		"HTTP_READ_HEADER_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_WRITE_TIMEOUT", "HTTP_IDLE_TIMEOUT",
		"REQUEST_TIMEOUT", "SHUTDOWN_TIMEOUT", "DB_MAX_OPEN_CONNS", "DB_CONNECT_TIMEOUT",
		"DB_STATEMENT_TIMEOUT", "DB_LOCK_TIMEOUT", "DB_IDLE_IN_TRANSACTION_TIMEOUT"}
	for _, v := range vars {
		if !strings.Contains(out.String(), "("+v+")") {
			t.Errorf("--help does not mention %s", v)
		}
	}
	defaults, err := parseConfigTo(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h := defaults.Hardening
	if h.MaxDepth != 10 || h.MaxAliases != 15 || h.MaxDirectives != 50 || h.MaxTokens != 2000 ||
		h.MaxQueryLength != 15000 || h.MaxComplexity != 5000 || h.Introspection || defaults.MaxBodyBytes != 256<<10 {
		t.Errorf("defaults %+v", h)
	}
	flagged, err := parseConfigTo([]string{"--graphql-max-depth=7", "--introspection=false", "--db-statement-timeout=2s"},
		func(k string) string { return map[string]string{"GRAPHQL_MAX_DEPTH": "9"}[k] }, io.Discard)
	if err != nil || flagged.Hardening.MaxDepth != 7 || flagged.Hardening.Introspection || flagged.Hardening.DBStatementTimeout != 2*time.Second {
		t.Errorf("flags over environment: %+v, %v", flagged.Hardening, err)
	}
	for _, bad := range []string{"GRAPHQL_MAX_DEPTH=0", "GRAPHQL_MAX_TOKENS=many", "DB_LOCK_TIMEOUT=5", "INTROSPECTION=maybe", "REQUEST_TIMEOUT=-1s"} {
		k, v, _ := strings.Cut(bad, "=")
		if _, err := parseConfigTo(nil, func(name string) string {
			if name == k {
				return v
			}
			return ""
		}, io.Discard); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s: %v, want refused naming %s", bad, err, k)
		}
	}
}

// TestShutdown_finishesRunningRequestsRefusesNewOnes starts a request, begins the shutdown while
// its body is still on the way, and checks that the request is answered, that new connections
// are refused, and that run returns cleanly.
func TestShutdown_finishesRunningRequestsRefusesNewOnes(t *testing.T) {
	vars := map[string]string{"ADDR": "127.0.0.1:0", "DATABASE_URL": t.TempDir() + "/coffer.db", "DEV": "1", "SHUTDOWN_TIMEOUT": "10s"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}

	body := hdJSON("{ __typename }")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body[:5])
	time.Sleep(200 * time.Millisecond) // the server has read the headers: the connection is active
	cancel()                           // SIGTERM
	time.Sleep(200 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted during the shutdown")
	}
	if _, err := io.WriteString(conn, body[5:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the running request got no answer: %v", err)
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(raw), `"__typename":"Query"`) {
		t.Errorf("the running request: %d %s", res.StatusCode, raw)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after the shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("run did not return after the shutdown")
	}
}

// TestDatabaseRefusing_answersInternalQuicklyThenRecovers closes the database to every connection
// (its sessions killed, new ones refused) under a running server: requests answer INTERNAL within
// seconds, /readyz says unavailable, and once the database takes connections again the server
// serves without a restart.
func TestDatabaseRefusing_answersInternalQuicklyThenRecovers(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	s := startServer(t, "postgres", "DEV=", "DATABASE_URL="+dbURL)
	admin := s.admin()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	dbname := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	super, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := super.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	allow := `ALTER DATABASE "` + dbname + `" ALLOW_CONNECTIONS true`
	defer super.Exec(allow) // the database must be droppable at clean-up
	exec(`ALTER DATABASE "` + dbname + `" ALLOW_CONNECTIONS false`)
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + dbname + `'`)

	for i := range 3 {
		start := time.Now()
		res := hdRequest(t, s.URL, "POST", "/query", "application/json", hdJSON(`{ customers { totalCount } }`), hdBearer(admin))
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("request %d took %v while the database refused", i, d)
		}
		if res.body.code() != "INTERNAL" || strings.Contains(res.raw, "pq:") || strings.Contains(res.raw, dbname) {
			t.Errorf("request %d: %d %s, want INTERNAL without driver text", i, res.status, res.raw)
		}
	}
	if res := hdRequest(t, s.URL, "GET", "/readyz", "", "", nil); res.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while the database refuses, want 503", res.status)
	}

	exec(allow)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := s.post(admin, `{ customers { totalCount } }`, nil)
		if err == nil && len(r.Errors) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not recover: %+v, %v", r.Errors, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res := hdRequest(t, s.URL, "GET", "/readyz", "", "", nil); res.status != http.StatusOK {
		t.Errorf("/readyz = %d after the database returned, want 200", res.status)
	}
}
