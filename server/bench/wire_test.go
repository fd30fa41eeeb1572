package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestWireClient drives wireClient against a real net/http server: keep-alive reuse, chunked and
// Content-Length bodies, Connection: close, a connection the server dropped while idle, and the
// GraphQL error checks.
func TestWireClient(t *testing.T) {
	var dials atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"message":"who","extensions":{"code":"UNAUTHENTICATED"}}]}`)
			return
		}
		switch string(b) {
		case `{"q":"chunked"}`:
			io.WriteString(w, `{"data":`)
			w.(http.Flusher).Flush() // forces a chunked body
			io.WriteString(w, `{"n":2}}`)
		case `{"q":"close"}`:
			w.Header().Set("Connection", "close")
			io.WriteString(w, `{"data":{"n":3}}`)
		case `{"q":"fail"}`:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `oops`)
		case `{"q":"status"}`:
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `{"data":null}`)
		default:
			io.WriteString(w, `{"data":{"n":1}}`)
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	w, err := newWireClient(srv.URL+"/query", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	ctx := context.Background()
	post := func(client int, token, body string) (string, error) {
		r, err := w.post(ctx, client, token, []byte(body))
		if err == nil {
			err = r.err()
		}
		return string(r.Data), err
	}
	want := func(client int, body, data string) {
		t.Helper()
		got, err := post(client, "tok", body)
		if err != nil || got != data {
			t.Fatalf("%s: got %q, %v; want %q", body, got, err, data)
		}
	}

	for range 5 {
		want(0, `{"q":"plain"}`, `{"n":1}`)
	}
	want(0, `{"q":"chunked"}`, `{"n":2}`)
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d connections for 6 requests of one client, want 1", n)
	}
	want(1, `{"q":"plain"}`, `{"n":1}`)
	if n := dials.Load(); n != 2 {
		t.Fatalf("%d connections for two clients, want 2", n)
	}
	want(0, `{"q":"close"}`, `{"n":3}`)
	want(0, `{"q":"plain"}`, `{"n":1}`)
	if n := dials.Load(); n != 3 {
		t.Fatalf("%d connections after Connection: close, want 3", n)
	}
	// The server drops every idle connection: the next requests go out again on new ones.
	srv.CloseClientConnections()
	want(0, `{"q":"plain"}`, `{"n":1}`)
	want(1, `{"q":"plain"}`, `{"n":1}`)
	if n := dials.Load(); n != 5 {
		t.Fatalf("%d connections after the server dropped them, want 5", n)
	}

	if _, err := post(0, "other", `{"q":"plain"}`); err == nil || !strings.Contains(err.Error(), "UNAUTHENTICATED") {
		t.Fatalf("wrong token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := post(0, "tok", `{"q":"fail"}`); err == nil || !strings.Contains(err.Error(), "status 500") {
		t.Fatalf("non-JSON 500: %v, want status 500", err)
	}
	if _, err := post(0, "tok", `{"q":"status"}`); err == nil || !strings.Contains(err.Error(), "status 502") {
		t.Fatalf("502 without errors: %v, want status 502", err)
	}
	// The token is back after another one: the request head follows it.
	want(0, `{"q":"plain"}`, `{"n":1}`)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.post(cancelled, 0, "tok", []byte(`{}`)); err != context.Canceled {
		t.Fatalf("cancelled context: %v, want context.Canceled", err)
	}
}
