package main

import (
	"encoding/json"
	"slices"
	"testing"
)

// Tests of TRUSTED_PROXIES through the wire: the test's own requests come from 127.0.0.1, which
// plays the proxy, and name the client in X-Forwarded-For. Helpers are prefixed px.

// pxLogin logs in with the given X-Forwarded-For (none when empty) and returns the answer.
func pxLogin(t *testing.T, s *testServer, forwardedFor, username, password string) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": auLoginMutation, "variables": map[string]any{"l": username, "p": password}})
	headers := map[string]string{}
	if forwardedFor != "" {
		headers["X-Forwarded-For"] = forwardedFor
	}
	return hdRequest(t, s.URL, "POST", "/query", "application/json", string(body), headers).body
}

// pxLoginAddrs are the client addresses the audit log recorded for logins of username, oldest first.
func pxLoginAddrs(t *testing.T, s *testServer, username string) []string {
	t.Helper()
	var addrs []string
	for _, r := range auRows(t, s) {
		if r.Action == "login.succeeded" && r.Actor == username {
			addrs = append(addrs, r.Addr)
		}
	}
	return addrs
}

// TestTrustedProxies_rateLimitAndAuditPerForwardedClient: behind a trusted proxy each forwarded
// client has its own AUTH_RATE_LIMIT budget and its own address in the audit log; a client cannot
// escape its budget by writing X-Forwarded-For itself.
func TestTrustedProxies_rateLimitAndAuditPerForwardedClient(t *testing.T) {
	s := startServer(t, "postgres", "TRUSTED_PROXIES=127.0.0.1/32", "AUTH_RATE_LIMIT=2")
	const ann, ben = "198.51.100.1", "198.51.100.2"
	for i := range 2 {
		if r := pxLogin(t, s, ann, "admin", adminPassword); r.code() != "" {
			t.Fatalf("ann's login %d: %+v", i+1, r.Errors)
		}
	}
	if r := pxLogin(t, s, ann, "admin", adminPassword); r.code() != "TOO_MANY_REQUESTS" {
		t.Errorf("ann's third login: %+v, want TOO_MANY_REQUESTS", r.Errors)
	}
	// Ann writes an address of her choice left of what the proxy appends: still ann.
	if r := pxLogin(t, s, "203.0.113.50, "+ann, "admin", adminPassword); r.code() != "TOO_MANY_REQUESTS" {
		t.Errorf("ann with a spoofed entry: %+v, want TOO_MANY_REQUESTS", r.Errors)
	}
	if r := pxLogin(t, s, ben, "admin", adminPassword); r.code() != "" {
		t.Errorf("ben's login after ann's budget is spent: %+v, want it accepted", r.Errors)
	}
	want := []string{ann, ann, ben}
	if got := pxLoginAddrs(t, s, "admin"); !slices.Equal(got, want) {
		t.Errorf("audit log addresses %q, want %q", got, want)
	}
}

// TestTrustedProxies_unsetIgnoresTheHeader: without TRUSTED_PROXIES the TCP peer is the client,
// whatever X-Forwarded-For says, so the header buys no fresh budget.
func TestTrustedProxies_unsetIgnoresTheHeader(t *testing.T) {
	s := startServer(t, "sqlite", "AUTH_RATE_LIMIT=2")
	for i, xff := range []string{"198.51.100.1", "198.51.100.2"} {
		if r := pxLogin(t, s, xff, "admin", adminPassword); r.code() != "" {
			t.Fatalf("login %d: %+v", i+1, r.Errors)
		}
	}
	if r := pxLogin(t, s, "198.51.100.3", "admin", adminPassword); r.code() != "TOO_MANY_REQUESTS" {
		t.Errorf("a third forwarded address: %+v, want TOO_MANY_REQUESTS (one budget: the peer's)", r.Errors)
	}
	want := []string{"127.0.0.1", "127.0.0.1"}
	if got := pxLoginAddrs(t, s, "admin"); !slices.Equal(got, want) {
		t.Errorf("audit log addresses %q, want %q", got, want)
	}
}

// TestTrustedProxies_otherPeersAreNotBelieved: a proxy list that does not name the peer leaves the
// header unread.
func TestTrustedProxies_otherPeersAreNotBelieved(t *testing.T) {
	s := startServer(t, "sqlite", "TRUSTED_PROXIES=10.0.0.0/8, 192.168.0.0/16")
	if r := pxLogin(t, s, "198.51.100.1", "admin", adminPassword); r.code() != "" {
		t.Fatalf("login: %+v", r.Errors)
	}
	if got := pxLoginAddrs(t, s, "admin"); !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("audit log addresses %q, want the peer 127.0.0.1", got)
	}
}
