package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// gqlError is one GraphQL error as a client sees it.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"extensions"`
}

// reply is a GraphQL response, or a transport failure (err: no answer, the outcome unknown).
type reply struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
	err    error
}

// code is the first error's code, "" on success, "TRANSPORT" when no answer came.
func (r reply) code() string {
	if r.err != nil {
		return "TRANSPORT"
	}
	if len(r.Errors) == 0 {
		return ""
	}
	if c := r.Errors[0].Extensions.Code; c != "" {
		return c
	}
	return "NO_CODE"
}

func (r reply) ok() bool { return r.err == nil && len(r.Errors) == 0 }

// decode unmarshals data into out; a response that does not decode is reported as a violation by
// the caller through the returned error.
func (r reply) decode(out any) error {
	if err := json.Unmarshal(r.Data, out); err != nil {
		return fmt.Errorf("decode %.200s: %w", r.Data, err)
	}
	return nil
}

// post sends one GraphQL request to baseURL (http://host:port) with an optional bearer token.
func post(ctx context.Context, hc *http.Client, baseURL, token, query string, vars map[string]any) reply {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return reply{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{err: err}
	}
	var out reply
	if err := json.Unmarshal(b, &out); err != nil {
		// A body that is not GraphQL: a proxy or a crash page would be a finding, but a server
		// going down mid-answer is a transport failure.
		return reply{status: res.StatusCode, err: fmt.Errorf("status %d: not a GraphQL response: %.200s", res.StatusCode, b)}
	}
	out.status = res.StatusCode
	return out
}

// leakPatterns are what no error message may carry: SQL, driver and runtime details, stack
// traces, connection strings, the admin password.
var leakPatterns = regexp.MustCompile(`(?i)\bselect\b.*\bfrom\b|\binsert into\b|\bupdate\b.*\bset\b|\bdelete from\b|` +
	`\bpq:|sqlstate|sqlite|postgres://|violates|constraint|duplicate key|syntax error|goroutine \d|\.go:\d+|` +
	`runtime error|nil pointer|panic|` + regexp.QuoteMeta(adminPassword))

// leak returns the first error message that carries something it must not, "" when none does.
func (r reply) leak() string {
	for _, e := range r.Errors {
		if leakPatterns.MatchString(e.Message) {
			return e.Message
		}
	}
	return ""
}

// Money in minor units of a scale-2 currency (the simulator runs the server with the defaults).
func dec(minor int64) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := fmt.Sprintf("%d.%02d", minor/100, minor%100)
	if neg {
		s = "-" + s
	}
	return s
}

// parseDec reads an API decimal of scale 2 into minor units.
func parseDec(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	for len(frac) < 2 {
		frac += "0"
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a decimal: %q", s)
	}
	if neg {
		v = -v
	}
	return v, nil
}
