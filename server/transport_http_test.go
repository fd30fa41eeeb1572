package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHTTP_playgroundHealthAndHeaders checks the endpoints around the API: the Playground page at
// / and /playground, /healthz and /readyz, the security headers on every response, and the body
// limit.
func TestHTTP_playgroundHealthAndHeaders(t *testing.T) {
	s := startServer(t, "postgres")
	tests := []struct {
		give       string
		wantStatus int
		wantBody   string
	}{
		{give: "/", wantStatus: 200, wantBody: "graphiql"},
		{give: "/playground", wantStatus: 200, wantBody: "graphiql"},
		{give: "/healthz", wantStatus: 200, wantBody: `"ok"`},
		{give: "/readyz", wantStatus: 200, wantBody: `"ready"`},
		{give: "/nope", wantStatus: 404},
	}
	for _, tt := range tests {
		res, err := http.Get(s.URL + tt.give)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
			t.Errorf("GET %s = %d %.80q, want %d containing %q", tt.give, res.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("GET %s: %s = %q, want %q", tt.give, h, got, want)
			}
		}
	}
	big := `{"query":"{ __typename }","pad":"` + strings.Repeat("x", 300<<10) + `"}`
	res, err := http.Post(s.URL+"/query", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 300 KiB body answered %d, want 413", res.StatusCode)
	}
}

// TestHelp_listsEverySetting checks that --help names every configuration variable.
func TestHelp_listsEverySetting(t *testing.T) {
	var out strings.Builder
	_, err := parseConfigTo([]string{"--help"}, func(string) string { return "" }, &out)
	if err == nil {
		t.Fatal("--help did not stop")
	}
	for _, v := range []string{"ADDR", "DATABASE_URL", "ADMIN_PASSWORD", "BANK_CURRENCY", "BANK_CURRENCY_SCALE",
		"OUTBOX_FILE", "SMTP_URL", "SMS_WEBHOOK_URL", "CODE_TTL", "CREATION_MONTHLY_LIMIT", "DEV",
		"AUTH_RATE_LIMIT", "ALLOWED_ORIGINS"} {
		if !strings.Contains(out.String(), "("+v+")") {
			t.Errorf("--help does not mention %s", v)
		}
	}
}
