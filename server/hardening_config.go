package main

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"coffer/graph/store"
)

// Hardening holds the limits that keep one client, one query or one slow database from taking the
// server down: GraphQL shape limits, HTTP timeouts and the database session settings. Each is an
// environment variable and a flag (see registerHardening).
type Hardening struct {
	MaxQueryLength int // characters of query text
	MaxTokens      int // parser tokens
	MaxDepth       int // nested selections
	MaxAliases     int
	MaxDirectives  int
	MaxSelections  int // selections in one selection set, checked before validation
	MaxFields      int // fields written in the document, checked before validation
	MaxComplexity  int // cost with lists multiplied by first/last
	Introspection  bool

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	RequestTimeout    time.Duration
	ShutdownTimeout   time.Duration

	DBMaxOpenConns     int
	DBConnectTimeout   time.Duration
	DBStatementTimeout time.Duration
	DBLockTimeout      time.Duration
	DBIdleInTxTimeout  time.Duration
}

// hardeningFlags are the raw values until the flags are parsed.
type hardeningFlags struct {
	h         *Hardening
	ints      []*hardeningInt // pointers: the flags write into them
	durations []*hardeningDuration
}

type hardeningInt struct {
	env, value string
	dst        *int
}

type hardeningDuration struct {
	env, value string
	dst        *time.Duration
}

// registerHardening declares the hardening settings on fs with their environment defaults.
func registerHardening(fs *flag.FlagSet, getenv func(string) string, h *Hardening) *hardeningFlags {
	hf := &hardeningFlags{h: h}
	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ("+env+")")
	}
	ints := []struct {
		name, env, def, usage string
		dst                   *int
	}{
		{"graphql-max-query-length", "GRAPHQL_MAX_QUERY_LENGTH", "15000", "longest accepted query text, in characters", &h.MaxQueryLength},
		{"graphql-max-tokens", "GRAPHQL_MAX_TOKENS", "2000", "most parser tokens in one query", &h.MaxTokens},
		{"graphql-max-depth", "GRAPHQL_MAX_DEPTH", "10", "deepest selection nesting", &h.MaxDepth},
		{"graphql-max-aliases", "GRAPHQL_MAX_ALIASES", "15", "most aliased fields in one operation", &h.MaxAliases},
		{"graphql-max-directives", "GRAPHQL_MAX_DIRECTIVES", "50", "most directives in one operation", &h.MaxDirectives},
		{"graphql-max-selections", "GRAPHQL_MAX_SELECTIONS", "100", "most selections (fields, fragment spreads) in one selection set, refused before validation", &h.MaxSelections},
		{"graphql-max-fields", "GRAPHQL_MAX_FIELDS", "2000", "most fields written in one document (each fragment once), refused before validation", &h.MaxFields},
		{"graphql-max-complexity", "GRAPHQL_MAX_COMPLEXITY", "5000", "highest operation cost (one a field, connections times first/last)", &h.MaxComplexity},
		{"db-max-open-conns", "DB_MAX_OPEN_CONNS", "20", "PostgreSQL connections this server opens at most (kept under the server's max_connections)", &h.DBMaxOpenConns},
	}
	for _, i := range ints {
		hi := &hardeningInt{env: i.env, dst: i.dst}
		hf.ints = append(hf.ints, hi)
		str(&hi.value, i.name, i.env, i.def, i.usage)
	}
	durations := []struct {
		name, env, def, usage string
		dst                   *time.Duration
	}{
		{"http-read-header-timeout", "HTTP_READ_HEADER_TIMEOUT", "5s", "time to read a request's headers", &h.ReadHeaderTimeout},
		{"http-read-timeout", "HTTP_READ_TIMEOUT", "30s", "time to read a whole request", &h.ReadTimeout},
		{"http-write-timeout", "HTTP_WRITE_TIMEOUT", "60s", "time to write a response (WebSocket connections are exempt)", &h.WriteTimeout},
		{"http-idle-timeout", "HTTP_IDLE_TIMEOUT", "120s", "how long an idle keep-alive connection stays open", &h.IdleTimeout},
		{"request-timeout", "REQUEST_TIMEOUT", "30s", "deadline of one HTTP request's work, database included (not WebSockets)", &h.RequestTimeout},
		{"shutdown-timeout", "SHUTDOWN_TIMEOUT", "20s", "on SIGTERM, how long running requests may take to finish", &h.ShutdownTimeout},
		{"db-connect-timeout", "DB_CONNECT_TIMEOUT", "5s", "PostgreSQL connect_timeout (whole seconds)", &h.DBConnectTimeout},
		{"db-statement-timeout", "DB_STATEMENT_TIMEOUT", "15s", "PostgreSQL statement_timeout", &h.DBStatementTimeout},
		{"db-lock-timeout", "DB_LOCK_TIMEOUT", "5s", "PostgreSQL lock_timeout", &h.DBLockTimeout},
		{"db-idle-in-transaction-timeout", "DB_IDLE_IN_TRANSACTION_TIMEOUT", "60s", "PostgreSQL idle_in_transaction_session_timeout", &h.DBIdleInTxTimeout},
	}
	for _, d := range durations {
		hd := &hardeningDuration{env: d.env, dst: d.dst}
		hf.durations = append(hf.durations, hd)
		str(&hd.value, d.name, d.env, d.def, d.usage)
	}
	return hf
}

// parse checks the parsed values and stores them.
func (hf *hardeningFlags) parse() error {
	for _, i := range hf.ints {
		n, err := strconv.Atoi(i.value)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s: not a positive count: %q", i.env, i.value)
		}
		*i.dst = n
	}
	for _, d := range hf.durations {
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 {
			return fmt.Errorf("%s: not a duration: %q", d.env, d.value)
		}
		*d.dst = v
	}
	return nil
}

// checkOrigins refuses allowed origins that are not exactly scheme://host[:port]: CORS compares
// origins as strings, and a wildcard would hand every site the credentials of a logged-in user.
func checkOrigins(origins []string) error {
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(o, "*") {
			return fmt.Errorf("ALLOWED_ORIGINS: %q is not an origin like https://app.example.com (no wildcards)", o)
		}
	}
	return nil
}

// dbOptions are the pool and session settings for store.Open.
func dbOptions(h Hardening) store.Options {
	return store.Options{
		MaxOpenConns: h.DBMaxOpenConns, ConnectTimeout: h.DBConnectTimeout,
		StatementTimeout: h.DBStatementTimeout, LockTimeout: h.DBLockTimeout, IdleInTxTimeout: h.DBIdleInTxTimeout,
	}
}
