package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProductionDefaults_noPlaygroundNoIntrospectionHSTS: outside development (DEV unset) the
// Playground is not served, introspection is refused and every answer carries HSTS; DEV=1 turns
// the first two on and sends no HSTS; PLAYGROUND and INTROSPECTION choose either way.
func TestProductionDefaults_noPlaygroundNoIntrospectionHSTS(t *testing.T) {
	tests := []struct {
		name                             string
		env                              []string
		wantPlayground, wantIntrospected bool
		wantHSTS                         bool
	}{
		{"production", []string{"DEV="}, false, false, true},
		{"development", []string{"DEV=1"}, true, true, false},
		{"production, both chosen", []string{"DEV=", "PLAYGROUND=true", "INTROSPECTION=true"}, true, true, true},
		{"development, both refused", []string{"DEV=1", "PLAYGROUND=false", "INTROSPECTION=false"}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, "sqlite", tt.env...)
			for _, path := range []string{"/", "/playground"} {
				res := hdRequest(t, s.URL, "GET", path, "", "", nil)
				if got := res.status == 200 && strings.Contains(res.raw, "graphiql"); got != tt.wantPlayground {
					t.Errorf("GET %s: %d, Playground served %v, want %v", path, res.status, got, tt.wantPlayground)
				}
			}
			res := hdRequest(t, s.URL, "POST", "/query", "application/json", hdJSON(`{ __schema { queryType { name } } }`), nil)
			if got := res.body.code() == "" && strings.Contains(res.raw, `"Query"`); got != tt.wantIntrospected {
				t.Errorf("introspection answered %v (%s), want %v", got, res.raw, tt.wantIntrospected)
			}
			if !tt.wantIntrospected && (res.body.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(res.raw, "introspection is disabled")) {
				t.Errorf("introspection refused with %s, want GRAPHQL_VALIDATION_FAILED", res.raw)
			}
			if r := hdRequest(t, s.URL, "POST", "/query", "application/json", hdJSON(`{ __typename }`), nil); r.body.code() != "" {
				t.Errorf("__typename: %s", r.raw)
			}
			for _, path := range []string{"/query", "/healthz", "/nope"} {
				got := hdRequest(t, s.URL, "GET", path, "", "", nil).header.Get("Strict-Transport-Security")
				if want := map[bool]string{true: hstsValue, false: ""}[tt.wantHSTS]; got != want {
					t.Errorf("GET %s: Strict-Transport-Security %q, want %q", path, got, want)
				}
			}
		})
	}
}

// TestDatabaseURL_neitherPostgresNorSQLite_refusesToStart: a DATABASE_URL that names no store
// explicitly stops the start-up with an error that says what is accepted, without quoting the
// value (it may hold a password) and without creating a database file.
func TestDatabaseURL_neitherPostgresNorSQLite_refusesToStart(t *testing.T) {
	dir := t.TempDir()
	refused := []string{
		filepath.Join(dir, "coffer"),                  // a path without a SQLite extension
		"postgress://coffer:s3cret-pw@db/coffer",      // a mistyped scheme
		"mysql://coffer:s3cret-pw@db/coffer",          // another database
		"host=db user=coffer password=s3cret-pw",      // a key=value connection string
		"sqlite:" + filepath.Join(dir, "x.db"),        // sqlite: without //
		"file:" + filepath.Join(dir, "x.db") + "?a=b", // options the store would break on
		"sqlite://",
	}
	for _, give := range refused {
		getenv := func(k string) string {
			return map[string]string{"ADDR": "127.0.0.1:0", "DATABASE_URL": give, "DEV": "1"}[k]
		}
		err := runUntilReady(getenv)
		if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "postgres://") {
			t.Errorf("DATABASE_URL=%q: %v, want a start-up error naming DATABASE_URL and the accepted forms", give, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("DATABASE_URL=%q: the error quotes the password: %v", give, err)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("refused URLs left files in %s: %v %v", dir, entries, err)
	}

	accepted := []string{"", "postgres://coffer@db/coffer", "postgresql://db/coffer?sslmode=require",
		filepath.Join(dir, "a.db"), "relative/b.sqlite", "c.SQLITE3", "sqlite://" + filepath.Join(dir, "d.db"),
		"sqlite://e", "file:" + filepath.Join(dir, "f")}
	for _, give := range accepted {
		if _, err := parseConfigTo(nil, func(k string) string {
			return map[string]string{"DATABASE_URL": give}[k]
		}, io.Discard); err != nil {
			t.Errorf("DATABASE_URL=%q refused: %v", give, err)
		}
	}
	// The explicit SQLite forms open the file they name.
	for _, give := range []string{"sqlite://" + filepath.Join(dir, "g.db"), "file:" + filepath.Join(dir, "h")} {
		startServer(t, "sqlite", "DATABASE_URL="+give)
		name := strings.TrimPrefix(strings.TrimPrefix(give, "sqlite://"), "file:")
		if _, err := os.Stat(name); err != nil {
			t.Errorf("DATABASE_URL=%q: %v", give, err)
		}
	}
}

// TestProductionConfig_badSwitchesRefused: PLAYGROUND, INTROSPECTION and TRUSTED_PROXIES refuse
// what they cannot read.
func TestProductionConfig_badSwitchesRefused(t *testing.T) {
	for _, bad := range []string{"PLAYGROUND=maybe", "INTROSPECTION=yes please", "TRUSTED_PROXIES=10.0.0.0/8,proxy.example",
		"TRUSTED_PROXIES=*"} {
		k, v, _ := strings.Cut(bad, "=")
		_, err := parseConfigTo(nil, func(name string) string { return map[string]string{k: v}[name] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s: %v, want refused naming %s", bad, err, k)
		}
	}
	var errHelp strings.Builder
	if _, err := parseConfigTo([]string{"--help"}, func(string) string { return "" }, &errHelp); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, v := range []string{"PLAYGROUND", "INTROSPECTION", "TRUSTED_PROXIES"} {
		if !strings.Contains(errHelp.String(), "("+v+")") {
			t.Errorf("--help does not mention %s", v)
		}
	}
}

// runUntilReady runs the server and stops it as soon as it serves: nil when it started, else the
// error that stopped its start-up.
func runUntilReady(getenv func(string) string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, nil, getenv, ready) }()
	select {
	case <-ready:
		cancel()
		<-done
		return nil
	case err := <-done:
		return err
	}
}
