package main

import (
	"io"
	"log/slog"
	"os"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"coffer/graph/store"
	"coffer/graph/transport"
	"coffer/server/internal/settings"
)

// Config is the server's configuration. Every setting is declared once, in config_table.go: its
// environment variable, flag, default, help and check; --help and the table in
// docs/configuration.md come from there.
type Config struct {
	Addr          string
	DatabaseURL   string
	AdminPassword string
	Currency      string
	CurrencyScale int
	OutboxFile    string
	SMTPURL       string
	SMSWebhookURL string
	CodeTTL       time.Duration
	// CreationMonthlyLimit is in the currency's units ("1000" coins), checked exactly by the money
	// package when the app starts.
	CreationMonthlyLimit int64
	Dev                  bool
	AuthRateLimit        int
	AllowedOrigins       []string
	MaxBodyBytes         int64
	// StaffMaxBodyBytes is the larger body a STAFF or ADMIN session may send (document uploads).
	StaffMaxBodyBytes  int64
	SMTPFrom           string
	CardPrefix         string
	LookupKey          string
	AccountRateLimit   int
	LoginMaxFailures   int
	LoginLockout       time.Duration
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	// Limits and timeouts against load, faults and hostile input.
	Hardening Hardening
	// Message and probing budgets.
	Budgets Budgets
	// Logs, metrics listener and tracing.
	Observe Observability
	// Live updates (subscriptions over WebSocket).
	LiveMaxSubscriptions int
	LiveMaxPerUser       int
	LiveSessionCheck     time.Duration
	// WebSocket bounds: queries and mutations in flight on one connection, connections per user.
	WSMaxOperations         int
	WSMaxConnectionsPerUser int
	// Ledger batching (docs/ledger.md): how long the poster collects while a batch is in flight,
	// and the most postings a batch holds (0: every posting in a transaction of its own).
	LedgerBatchWindow time.Duration
	LedgerBatchMax    int
	// AutopayInterval is how often the autopay job pays the bills that are due.
	AutopayInterval time.Duration
	// RequireTwoFactor makes every customer login two-step (REQUIRE_TWO_FACTOR=1).
	RequireTwoFactor bool
	// Playground and TrustedProxies: production defaults and proxies (production.go).
	Playground     bool
	TrustedProxies transport.TrustedProxies
}

// Hardening holds the limits that keep one client, one query or one slow database from taking the
// server down: GraphQL shape limits, HTTP timeouts and the database session settings.
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

// Budgets are the hourly counts that bound messages and the operations that send them or probe
// who banks here (docs/security.md, "Codes, SMS and e-mail budgets"). Zero turns one off.
type Budgets struct {
	SMSPerDestinationPerHour   int
	SMSGlobalPerHour           int
	EmailPerDestinationPerHour int
	EmailGlobalPerHour         int
	CashoutsPerUserPerHour     int
	PhoneStartsPerStaffPerHour int
	RecipientMissesPerHour     int
}

// Observability is how the server can be watched: its log level, the private listener of its
// metrics and profiles, and where its traces go (docs/observability.md).
type Observability struct {
	LogLevel slog.Level
	// MetricsAddr, when set, serves /metrics and /debug/pprof/ on a listener of their own, and
	// /metrics leaves the public one.
	MetricsAddr string
	// OTLPEndpoint turns tracing on: the base URL of an OTLP/HTTP collector (/v1/traces is added).
	OTLPEndpoint string

	// spanExporter, set only by tests, replaces the OTLP exporter (and turns tracing on).
	spanExporter sdktrace.SpanExporter
}

// parseConfig reads the flags, then the environment, then the defaults; --help goes to stderr.
func parseConfig(args []string, getenv func(string) string) (Config, error) {
	return parseConfigTo(args, getenv, os.Stderr)
}

// parseConfigTo is parseConfig with the usage text written to out.
func parseConfigTo(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var c Config
	err := settings.Parse("coffer", configTable(&c), args, getenv, out)
	return c, err
}

// dbOptions are the pool and session settings for store.Open.
func dbOptions(h Hardening) store.Options {
	return store.Options{
		MaxOpenConns: h.DBMaxOpenConns, ConnectTimeout: h.DBConnectTimeout,
		StatementTimeout: h.DBStatementTimeout, LockTimeout: h.DBLockTimeout, IdleInTxTimeout: h.DBIdleInTxTimeout,
	}
}
