package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/graph/pgtest"
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
		// The message and probing budgets are off unless a test turns one on (budgets_test.go).
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
