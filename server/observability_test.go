package main

import (
	"database/sql"
	"io"
	"net/http"
	"strings"
	"testing"

	_ "github.com/lib/pq"
)

func TestMetrics_operationsLedgerAndPool_exposedForPrometheus(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres")
	admin := s.admin()
	s.customer(admin, "ann")
	s.mint(admin, "ann", "10")
	wantError(t, s.do("", `mutation { login(input: {login: "ann", password: "wrong-password"}) { status } }`, nil), "UNAUTHENTICATED")

	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`coffer_graphql_operations_total{field="login",outcome="OK",type="mutation"} 2`,
		`coffer_graphql_operations_total{field="login",outcome="UNAUTHENTICATED",type="mutation"} 1`,
		`coffer_graphql_operations_total{field="createCoins",outcome="OK",type="mutation"} 1`,
		`coffer_graphql_operation_seconds_count{field="createCustomer",type="mutation"} 1`,
		`coffer_ledger_transactions_total{kind="CREATION",status="POSTED"} 1`,
		// The creation went through the ledger's poster: a batch of one.
		`coffer_ledger_batch_postings_count 1`,
		`coffer_ledger_batch_postings_sum 1`,
		`coffer_ledger_batch_seconds_count 1`,
		`coffer_subscriptions_open 0`,
		`go_sql_max_open_connections{db_name="coffer"}`,
		`go_sql_in_use_connections{db_name="coffer"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(body), "wrong-password") || strings.Contains(string(body), "ann-password") {
		t.Error("/metrics shows a password")
	}
}

func TestRequestID_alwaysTheServersOwn_clientsKeptApart(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite")
	seen := map[string]bool{}
	for _, give := range []string{"client-chosen-id-123", "client-chosen-id-123", "", "bad id with spaces", strings.Repeat("x", 65)} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/healthz", nil)
		if give != "" {
			req.Header.Set("X-Request-Id", give)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get("X-Request-Id")
		if got == give || len(got) != 24 || seen[got] {
			t.Errorf("X-Request-Id %q answered %q, want a fresh id of the server's", give, got)
		}
		seen[got] = true
	}
}

func TestAuditLog_everyAdminMutationRecorded_customersNot(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres")
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "10")
	wantError(t, s.do(admin, `mutation { deleteCustomer(username: "nobody") }`, nil), "NOT_FOUND")
	s.mustDo(ann, `mutation { setTwoFactor(method: EMAIL) { twoFactor } }`, nil, nil)
	s.mustDo(admin, `query { customers { totalCount } }`, nil, nil)

	db, err := sql.Open("postgres", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT actor_username, actor_role, action, outcome, client_addr, request_id FROM audit_events WHERE action NOT LIKE '%.%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var who, role, action, outcome, addr, reqID string
		if err := rows.Scan(&who, &role, &action, &outcome, &addr, &reqID); err != nil {
			t.Fatal(err)
		}
		if addr != "127.0.0.1" || len(reqID) != 24 {
			t.Errorf("record %s %s from %q, request %q: want the client address and request id", action, outcome, addr, reqID)
		}
		got = append(got, who+" "+role+" "+action+" "+outcome)
	}
	// The admin's own login happened before it was an admin session; the customer's mutation and
	// the admin's query are not actions to audit. (The security events, actions with a dot, are
	// audit_test.go's.)
	want := []string{
		"admin ADMIN createCustomer OK",
		"admin ADMIN createCoins OK",
		"admin ADMIN deleteCustomer NOT_FOUND",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMetrics_openSubscriptionsCounted(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres")
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "1")
	c := lvConnect(t, s, lvTransportWS, ann)
	id := c.subscribe(`subscription { balanceChanged(afterVersion: 0) { version } }`, nil)
	c.event(id) // the replayed mint: the subscription is open
	scrape := func() string {
		res, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	if body := scrape(); !strings.Contains(body, "coffer_subscriptions_open 1\n") {
		t.Errorf("with one subscription open /metrics lacks coffer_subscriptions_open 1")
	}
}

func TestMetrics_fieldLabel_boundedWhateverTheClientSelects(t *testing.T) {
	tests := []struct {
		give []string
		want string
	}{
		{give: []string{"login"}, want: "login"},
		{give: []string{"a", "b"}, want: "multiple"},
		{give: []string{"none"}, want: "none"},
	}
	for _, tt := range tests {
		if got := fieldLabel(tt.give); got != tt.want {
			t.Errorf("fieldLabel(%v) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
