package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"coffer/graph/generated"
)

// TestHelp_neverPrintsSecrets runs the flag parsing with every secret in the environment: --help
// names each setting and says it is set, but prints no value; the values still reach the Config,
// and a flag still wins over the environment.
func TestHelp_neverPrintsSecrets(t *testing.T) {
	env := map[string]string{
		"ADMIN_PASSWORD":  "hunter2-admin-secret",
		"LOOKUP_KEY":      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"SMTP_URL":        "smtp://mailer:smtp-secret@mail.example:587",
		"DATABASE_URL":    "postgres://coffer:db-secret@db.example/coffer",
		"SMS_WEBHOOK_URL": "https://sms.example/send?token=sms-secret",
	}
	getenv := func(k string) string { return env[k] }
	var out strings.Builder
	if _, err := parseConfigTo([]string{"--help"}, getenv, &out); err == nil {
		t.Fatal("--help did not stop")
	}
	help := out.String()
	for name, value := range env {
		if !strings.Contains(help, "("+name+") [set in the environment, not shown]") {
			t.Errorf("--help does not say that %s is set:\n%s", name, help)
		}
		for _, part := range []string{value, "secret", "hunter2", "0011223344"} {
			if strings.Contains(help, part) {
				t.Errorf("--help prints %q of %s:\n%s", part, name, help)
			}
		}
	}
	c, err := parseConfigTo(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminPassword != env["ADMIN_PASSWORD"] || c.LookupKey != env["LOOKUP_KEY"] || c.SMTPURL != env["SMTP_URL"] ||
		c.DatabaseURL != env["DATABASE_URL"] || c.SMSWebhookURL != env["SMS_WEBHOOK_URL"] {
		t.Errorf("the environment's secrets did not reach the config: %+v", c)
	}
	c, err = parseConfigTo([]string{"--admin-password=from-the-flag"}, getenv, io.Discard)
	if err != nil || c.AdminPassword != "from-the-flag" {
		t.Errorf("flag over environment: %q, %v", c.AdminPassword, err)
	}
}

// badBodies are request bodies a client can get wrong, each with the answer's message.
var badBodies = []struct {
	name, give, wantMessage string
}{
	{"not JSON", `{"query": "{ me { id } }" secret-body-marker`, "the request body is not valid JSON (at byte 27)"},
	{"truncated", `{"query": "{ me { secret-body-marker`, "the request body is not valid JSON (at byte 36)"},
	{"a string", `"secret-body-marker"`, "the request body must be a JSON object with a query"},
	{"null", `null`, "the request body must be a JSON object with a query"},
	{"query a number", `{"query": 42, "x": "secret-body-marker"}`, `"query" must be a string`},
	{"query an object", `{"query": {"secret-body-marker": 1}}`, `"query" must be a string`},
	{"variables a string", `{"query": "{ __typename }", "variables": "secret-body-marker"}`, `"variables" must be an object`},
	{"variables a list", `{"query": "{ __typename }", "variables": ["secret-body-marker"]}`, `"variables" must be an object`},
	{"operationName a number", `{"query": "{ __typename }", "operationName": 1}`, `"operationName" must be a string`},
	{"extensions a string", `{"query": "{ __typename }", "extensions": "secret-body-marker"}`, `"extensions" must be an object`},
}

// TestMalformedBody_badRequestSayingWhat sends bodies that are not valid JSON or whose members have
// the wrong type: each is the client's mistake, answered 400 BAD_REQUEST with what is wrong and
// without the body, never INTERNAL; a well-formed body with null members still runs.
func TestMalformedBody_badRequestSayingWhat(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite")
	for _, tt := range badBodies {
		t.Run(tt.name, func(t *testing.T) {
			res := hdRequest(t, s.URL, "POST", "/query", "application/json", tt.give, nil)
			if res.status != http.StatusBadRequest || res.body.code() != "BAD_REQUEST" || len(res.body.Errors) != 1 ||
				res.body.Errors[0].Message != tt.wantMessage {
				t.Errorf("status %d, %s; want 400 BAD_REQUEST %q", res.status, res.raw, tt.wantMessage)
			}
			if strings.Contains(res.raw, "secret-body-marker") {
				t.Errorf("the answer repeats the body: %s", res.raw)
			}
		})
	}
	res := hdRequest(t, s.URL, "POST", "/query", "application/json",
		`{"query": "{ __typename }", "variables": null, "operationName": null, "extensions": null}`, nil)
	if res.status != http.StatusOK || string(res.body.Data) != `{"__typename":"Query"}` {
		t.Errorf("a body with null members: status %d, %s", res.status, res.raw)
	}
}

// TestMalformedBody_loggedAtInfoWithoutTheBody checks the log of a malformed body: one INFO record
// that says what is wrong, no ERROR, and the body nowhere.
func TestMalformedBody_loggedAtInfoWithoutTheBody(t *testing.T) {
	var logged bytes.Buffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(previous)
	gate := queryGate(bodyLimits{max: 1 << 10, staffMax: 1 << 10, isStaff: func(*http.Request) bool { return false }},
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a malformed body reached GraphQL") }))
	for _, tt := range badBodies {
		logged.Reset()
		req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(tt.give))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		gate.ServeHTTP(rec, req)
		var record struct{ Level, Msg, Problem string }
		if err := json.Unmarshal(logged.Bytes(), &record); err != nil || record.Level != "INFO" ||
			record.Msg != "bad request body" || record.Problem != tt.wantMessage {
			t.Errorf("%s: log %q, want one INFO record saying %q", tt.name, logged.String(), tt.wantMessage)
		}
		if strings.Contains(logged.String(), "secret-body-marker") {
			t.Errorf("%s: the log repeats the body: %s", tt.name, logged.String())
		}
	}
}

// TestWideDocuments_refusedBeforeValidation sends documents whose validation would be quadratic
// (one selection set of many fields) or long: each is refused as GRAPHQL_VALIDATION_FAILED with
// the limit named, before authentication matters (the anonymous `me` answered UNAUTHENTICATED only
// after a quarter of a second of validation), and a refused transfer moves nothing.
func TestWideDocuments_refusedBeforeValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite", "GRAPHQL_MAX_FIELDS=400")
	p := hdSetUp(t, s)
	ids := func(n int) string { return strings.Repeat("id ", n) }
	tests := []struct {
		name, token, query, wantMessage string
	}{
		{"anonymous me with 1,990 ids", "", "{ me { " + ids(1990) + "} }", "a selection set has 1990 selections, over the limit of 100"},
		{"a transfer selecting 101 ids", p.ann, "mutation { " + hdSend + " { " + ids(101) + "} }", "a selection set has 101 selections, over the limit of 100"},
		{"inline fragments merge with their parent", p.ann, "{ me { ... on User { " + ids(50) + "} " + ids(51) + "} }", "a selection set has 101 selections, over the limit of 100"},
		{"101 spreads in one set", p.ann, "{ me { " + strings.Repeat("...F ", 101) + "} } fragment F on User { id }", "a selection set has 101 selections, over the limit of 100"},
		{"an unused fragment is validated too", p.ann, "{ me { id } } fragment F on User { " + ids(101) + "}", "a selection set has 101 selections, over the limit of 100"},
		{"402 fields in narrow sets", p.ann, "mutation { " + hdSend + " { id } } query Q { " + hdRepeat("a%d: me { "+ids(99)+"}", 4) + " }",
			"query has 402 fields, over the limit of 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers map[string]string
			if tt.token != "" {
				headers = hdBearer(tt.token)
			}
			res := hdRequest(t, s.URL, "POST", "/query", "application/json", hdJSON(tt.query), headers)
			if res.status != 422 || res.body.code() != "GRAPHQL_VALIDATION_FAILED" || res.body.Errors[0].Message != tt.wantMessage {
				t.Errorf("status %d, %.300s; want 422 GRAPHQL_VALIDATION_FAILED %q", res.status, res.raw, tt.wantMessage)
			}
			p.hdWantUnchanged(t)
		})
	}
	// At the limits the same shapes run.
	s.mustDo(p.ann, "{ me { "+ids(100)+"} }", nil, nil)
	s.mustDo(p.ann, "{ me { ...F } } fragment F on User { "+ids(100)+"}", nil, nil)
}

// wideQuery is the request of the finding: an anonymous `me` with 1,990 ids (6 KB).
var wideQuery = "{ me { " + strings.Repeat("id ", 1990) + "} }"

// BenchmarkWideDocument compares the refusal of wideQuery with parsing it, and with what it cost
// before: parsing and validating it.
func BenchmarkWideDocument(b *testing.B) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: wideQuery}, 2000); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refuse", func(b *testing.B) {
		for b.Loop() {
			if checkDocumentSize(wideQuery, 2000, 100, 2000) == nil {
				b.Fatal("not refused")
			}
		}
	})
	b.Run("parse and validate", func(b *testing.B) {
		for b.Loop() {
			doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: wideQuery}, 2000)
			if err != nil {
				b.Fatal(err)
			}
			_ = validator.Validate(schema, doc)
		}
	})
}

// TestControlCharacters_refusedInEveryTextInput sends NULs, escapes, newlines and bidirectional
// overrides in the inputs of the finding, anonymous and logged in, literal and in variables: each
// is BAD_USER_INPUT naming the bare field, the same on both stores (PostgreSQL answered INTERNAL
// for a NUL, SQLite stored it), and nothing is stored or moved. Free-form JSON still takes
// newlines, and strings inside a JSON scalar are free.
func TestControlCharacters_refusedInEveryTextInput(t *testing.T) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, store)
			p := hdSetUp(t, s)
			soon := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			tests := []struct {
				name, token, query string
				vars               map[string]any
				wantField          string
			}{
				{"login with a NUL", "", `mutation($l: String!) { login(input: {login: $l, password: "x"}) { status } }`,
					map[string]any{"l": "ann\x00"}, "login"},
				{"login with a NUL, literal", "", `mutation { login(input: {login: "ann\u0000", password: "x"}) { status } }`, nil, "login"},
				{"confirmLogin", "", `mutation($c: String!) { confirmLogin(challengeId: $c, code: "123456") { token } }`,
					map[string]any{"c": "abc\x00"}, "challengeId"},
				{"resetPassword", "", `mutation($t: String!) { resetPassword(token: $t, newPassword: "a-new-password-1") }`,
					map[string]any{"t": "tok\x00en"}, "token"},
				{"confirmSelfRegistration", "", `mutation($r: String!) { confirmSelfRegistration(requestId: $r, authenticationToken: "1") { __typename } }`,
					map[string]any{"r": "\x00"}, "requestId"},
				{"a memo with an escape", p.ann, `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"recipient": map[string]any{"username": "ben"}, "amount": "1", "memo": "\x1b[2Jpaid"}}, "memo"},
				{"a memo with a newline", p.ann, `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"recipient": map[string]any{"username": "ben"}, "amount": "1", "memo": "Refund\nplease return 50.00"}}, "memo"},
				{"a recipient with a right-to-left override", p.ann, `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"recipient": map[string]any{"username": "\u202eneb"}, "amount": "1"}}, "username"},
				{"a bill name with a NUL", p.ann, `mutation($in: CreateBillInput!) { createBill(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"name": "rent\x00", "amount": "1", "dueDate": soon}}, "name"},
				{"a customer name with an isolate", p.admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"username": "cid", "password": "cid-password-1", "name": "Cid \u2067Smith", "email": "cid@example.com"}}, "name"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := (&testServer{t: t, URL: s.URL}).do(tt.token, tt.query, tt.vars)
					if r.code() != "BAD_USER_INPUT" || len(r.Errors) != 1 || len(r.Errors[0].Extensions.Fields) != 1 ||
						r.Errors[0].Extensions.Fields[tt.wantField] == "" {
						t.Errorf("%+v, want BAD_USER_INPUT naming only %s", r.Errors, tt.wantField)
					}
					p.hdWantUnchanged(t)
				})
			}
			var stored struct {
				Bills, Customers struct{ TotalCount int }
			}
			s.mustDo(p.ann, `{ bills { totalCount } }`, nil, &stored)
			s.mustDo(p.admin, `{ customers { totalCount } }`, nil, &stored)
			if stored.Bills.TotalCount != 0 || stored.Customers.TotalCount != 2 {
				t.Errorf("after the refusals: %+v, want no bill and only ann and ben", stored)
			}
			// Legitimate text still passes: other scripts, marks, and the right-to-left mark.
			if r := s.send(p.ann, "ben", "1", map[string]any{"memo": "Zoë — 山田 مرحبا\u200f"}); len(r.Errors) > 0 {
				t.Errorf("a memo of plain text: %+v", r.Errors)
			}
		})
	}
}

// TestControlCharacters_freeFormJSONStillWorks checks the exceptions: pretty-printed JSON text in
// setAdditionalInformation and newlines inside a JSON scalar are kept; a NUL is refused in both
// (PostgreSQL's jsonb cannot hold one), naming the field.
func TestControlCharacters_freeFormJSONStillWorks(t *testing.T) {
	c := ppStart(t)
	person := c.enabled(t, map[string]any{"additionalInformation": map[string]any{"note": "line one\nline two"}})
	if got := person.AdditionalInformation["note"]; got != "line one\nline two" {
		t.Errorf("additionalInformation.note = %q", got)
	}
	var out struct{ SetAdditionalInformation ppPerson }
	c.mustDo(c.staff, ppInfo, map[string]any{"p": person.QualifiedID, "k": "pretty", "v": "{\n\t\"a\": \"x\\ny\"\r\n}"}, &out)
	if got, _ := out.SetAdditionalInformation.AdditionalInformation["pretty"].(map[string]any); got["a"] != "x\ny" {
		t.Errorf("pretty-printed jsonValue stored as %v", out.SetAdditionalInformation.AdditionalInformation)
	}
	wantError(t, c.do(c.staff, ppInfo, map[string]any{"p": person.QualifiedID, "k": "nul", "v": "\"a\x00\""}), "BAD_USER_INPUT", "jsonValue")
	wantError(t, c.do(c.staff, ppInfo, map[string]any{"p": person.QualifiedID, "k": "nul\x00", "v": "1"}), "BAD_USER_INPUT", "key")
	wantError(t, c.do(c.staff, ppRegister, map[string]any{"in": ppInput(map[string]any{
		"additionalInformation": map[string]any{"note": "a\x00b"}})}), "BAD_USER_INPUT", "additionalInformation")
	if got := c.person(t, person.QualifiedID).AdditionalInformation; len(got) != 2 {
		t.Errorf("additional information after the refusals: %v, want note and pretty only", got)
	}
}

// calls is how many times statements matching the LIKE pattern ran since the last reset.
func (c *statementCounter) calls(like string) int64 {
	c.t.Helper()
	var n sql.NullInt64
	err := c.db.QueryRow(`SELECT sum(calls) FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query LIKE $1`, like).Scan(&n)
	if err != nil {
		c.t.Fatal(err)
	}
	return n.Int64
}

// nodesRepeat is n copies of id.
func nodesRepeat(id any, n int) []any {
	ids := make([]any, n)
	for i := range ids {
		ids[i] = id
	}
	return ids
}

// The nodes(ids:) queries of TestNodes_costByIDCount_entriesInOneQuery: the finding's (entries of
// an account's entries), a nested one and a flat one.
const nodesFinding = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Account { entries(first: 100) {
	edges { node { transaction { entries { id amount { amount } } } } } } } } }`
const nodesNested = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Transaction { entries { counterparty { name }
	transaction { entries { counterparty { name } transaction { entries { counterparty { name } } } } } } } } }`
const nodesFlat = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Transaction { entries { id amount { amount } } } } }`

// TestNodes_costByIDCount_entriesInOneQuery proves the nodes(ids:) finding with the statements
// PostgreSQL ran. The request of the finding — a hundred copies of an account id, each with a page
// of entries and each entry's transaction's entries — was priced as one copy and ran a statement
// per transaction per copy; it is now priced per id and refused before any resolver. Within the
// limit, transactions' entries, entries' transactions and counterparties are read in batches and
// once per operation (duplicates are free), and more than 100 ids are refused.
func TestNodes_costByIDCount_entriesInOneQuery(t *testing.T) {
	t.Parallel()
	s, counter := newCountedServer(t)
	admin := s.admin()
	alice := s.customer(admin, "alice")
	s.customer(admin, "bob")
	s.mint(admin, "alice", "100")
	var txIDs []any
	for range 10 {
		var out struct{ SendCoins struct{ ID string } }
		s.mustDo(alice, `mutation { sendCoins(input: {recipient: {username: "bob"}, amount: "1"}) { id } }`, nil, &out)
		txIDs = append(txIDs, out.SendCoins.ID)
	}
	var me struct {
		Me struct {
			Customer struct{ Account struct{ ID string } }
		}
	}
	s.mustDo(alice, `{ me { customer { account { id } } } }`, nil, &me)
	aliceAccount := me.Me.Customer.Account.ID

	t.Run("the request of the finding is priced per id and refused", func(t *testing.T) { nodesFindingRefused(t, s, counter, admin, aliceAccount) })
	t.Run("duplicates are read once", func(t *testing.T) { nodesDuplicatesReadOnce(t, s, counter, admin, txIDs) })
	t.Run("entries of many transactions in one query, each distinct node once", func(t *testing.T) { nodesEntriesInOneQuery(t, s, counter, alice, txIDs) })
	t.Run("more than 100 ids are refused", func(t *testing.T) { nodesOver100Refused(t, s, admin, txIDs) })
}

func nodesFindingRefused(t *testing.T, s *testServer, counter *statementCounter, admin string, aliceAccount string) {
	var r gqlResponse
	got, list := counter.perRequest(1, func() { r = s.do(admin, nodesFinding, map[string]any{"ids": nodesRepeat(aliceAccount, 100)}) })
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("%+v, want COMPLEXITY_LIMIT_EXCEEDED", r.Errors)
	}
	if got > 1 { // authentication
		t.Errorf("the refused request ran %.0f statements:%s", got, list)
	}
	got, _ = counter.perRequest(1, func() { s.mustDo(admin, nodesFinding, map[string]any{"ids": nodesRepeat(aliceAccount, 1)}, nil) })
	// The page, the entries field collection eager-loads under its transactions, and the
	// batch of Transaction.entries (which applies the viewer's rule): not one a transaction.
	if entryReads := counter.calls(`SELECT %FROM "entries"%`); entryReads > 3 {
		t.Errorf("one copy read entries with %d statements, want at most 3", entryReads)
	}
	t.Logf("one copy: %.0f statements", got)
}

func nodesDuplicatesReadOnce(t *testing.T, s *testServer, counter *statementCounter, admin string, txIDs []any) {
	got, list := counter.perRequest(1, func() { s.mustDo(admin, nodesNested, map[string]any{"ids": nodesRepeat(txIDs[0], 100)}, nil) })
	// Authentication, the node (type and row), its entries, their transaction, the two
	// counterparty accounts with owner and user (three statements a batch): at most 12 however
	// the batches fall.
	if got > 12 {
		t.Errorf("a hundred copies of one transaction ran %.0f statements:%s", got, list)
	}
}

func nodesEntriesInOneQuery(t *testing.T, s *testServer, counter *statementCounter, alice string, txIDs []any) {
	for _, tt := range []struct {
		name      string
		ids       []any
		wantNodes int
	}{
		{"ten distinct", txIDs, 10},
		{"a hundred copies", nodesRepeat(txIDs[1], 100), 100},
	} {
		var out struct {
			Nodes []struct {
				ID      string
				Entries []struct{ ID string }
			}
		}
		got, list := counter.perRequest(1, func() { s.mustDo(alice, nodesFlat, map[string]any{"ids": tt.ids}, &out) })
		entryReads := counter.calls(`SELECT %FROM "entries"%`)
		t.Logf("%s: %.0f statements, %d reading entries", tt.name, got, entryReads)
		if entryReads != 1 {
			t.Errorf("%s: %d statements read entries, want 1:%s", tt.name, entryReads, list)
		}
		if len(out.Nodes) != tt.wantNodes {
			t.Fatalf("%s: %d nodes, want %d", tt.name, len(out.Nodes), tt.wantNodes)
		}
		for _, n := range out.Nodes {
			if len(n.Entries) != 1 { // alice sees her own line only
				t.Errorf("%s: node %s shows %d entries to alice, want her own one", tt.name, n.ID, len(n.Entries))
			}
		}
	}
}

func nodesOver100Refused(t *testing.T, s *testServer, admin string, txIDs []any) {
	r := s.do(admin, nodesFlat, map[string]any{"ids": nodesRepeat(txIDs[0], 101)})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions.Fields["ids"] == "" {
		t.Errorf("%+v, want BAD_USER_INPUT {ids}", r.Errors)
	}
}
