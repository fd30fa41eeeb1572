package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"coffer/graph/transport"
)

// Config is the server's configuration: every setting is an environment variable and a flag of
// the same meaning (the flag wins); --help lists them with their defaults.
type Config struct {
	Addr                 string
	DatabaseURL          string
	AdminPassword        string
	Currency             string
	CurrencyScale        int
	OutboxFile           string
	SMTPURL              string
	SMSWebhookURL        string
	CodeTTL              time.Duration
	CreationMonthlyLimit int64
	Dev                  bool
	AuthRateLimit        int
	AllowedOrigins       []string
	MaxBodyBytes         int64
	// StaffMaxBodyBytes is the larger body a STAFF or ADMIN session may send (document uploads).
	StaffMaxBodyBytes int64
	// Identity settings beyond the contract's list.
	SMTPFrom           string
	CardPrefix         string
	LookupKey          string
	AccountRateLimit   int
	LoginMaxFailures   int
	LoginLockout       time.Duration
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	// Limits and timeouts against load, faults and hostile input (hardening_config.go).
	Hardening Hardening
	// Message and probing budgets (budgets_config.go).
	Budgets Budgets
	// Logs, metrics listener and tracing (observe_config.go).
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
	// Production defaults and proxies (production.go).
	Playground     bool
	TrustedProxies transport.TrustedProxies
}

// parseConfig reads the environment, then the flags.
func parseConfig(args []string, getenv func(string) string) (Config, error) {
	return parseConfigTo(args, getenv, os.Stderr)
}

// parseConfigTo is parseConfig with the usage text written to out.
func parseConfigTo(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("coffer", flag.ContinueOnError)
	fs.SetOutput(out)
	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ("+env+")")
	}
	// A secret's environment value is never a flag default: --help prints defaults, and its
	// output ends up in terminals, CI logs and bug reports. The value is applied after parsing,
	// unless the flag itself was given.
	var secrets []secretFlag
	secret := func(p *string, name, env, usage string) {
		usage += " (" + env + ")"
		if getenv(env) != "" {
			usage += " [set in the environment, not shown]"
		}
		fs.StringVar(p, name, "", usage)
		secrets = append(secrets, secretFlag{name: name, env: env, dst: p})
	}
	var scale, rate, limit, ttl, dev, origins, body string
	var accountRate, maxFailures, lockout, idle, maxAge string
	str(&c.Addr, "addr", "ADDR", "127.0.0.1:8080", "listen address")
	secret(&c.DatabaseURL, "database-url", "DATABASE_URL", "postgres:// URL, or a SQLite file (sqlite://PATH, file:PATH, or a path ending in .db); empty: ./data/coffer.db")
	secret(&c.AdminPassword, "admin-password", "ADMIN_PASSWORD", "creates or updates the administrator 'admin' at start-up")
	str(&c.Currency, "bank-currency", "BANK_CURRENCY", "EUR", "the bank's currency code")
	str(&scale, "bank-currency-scale", "BANK_CURRENCY_SCALE", "2", "fractional digits of the currency")
	str(&c.OutboxFile, "outbox-file", "OUTBOX_FILE", "", "append every code sent, one JSON object a line")
	secret(&c.SMTPURL, "smtp-url", "SMTP_URL", "smtp://user:pass@host:port for e-mail")
	secret(&c.SMSWebhookURL, "sms-webhook-url", "SMS_WEBHOOK_URL", "URL that receives SMS as a JSON POST (may carry a token)")
	str(&ttl, "code-ttl", "CODE_TTL", "10m", "lifetime of one-time codes")
	str(&limit, "creation-monthly-limit", "CREATION_MONTHLY_LIMIT", "1000", "coins mintable per recipient and month")
	str(&dev, "dev", "DEV", "", "1 for development mode (cookies without Secure)")
	str(&rate, "auth-rate-limit", "AUTH_RATE_LIMIT", "60", "authentication operations per minute per client address; 0 turns it off")
	str(&origins, "allowed-origins", "ALLOWED_ORIGINS", "", "comma-separated origins allowed for CORS and WebSockets")
	str(&body, "max-body-bytes", "MAX_BODY_BYTES", "262144", "largest accepted request body")
	var staffBody string
	str(&staffBody, "staff-max-body-bytes", "STAFF_MAX_BODY_BYTES", "41943040", "largest request body of a STAFF or ADMIN session (document uploads: 5 files of 5 MiB in base64)")
	str(&c.CardPrefix, "card-prefix", "CARD_PREFIX", "400000", "the digits new card numbers start with (1 to 15)")
	str(&c.SMTPFrom, "smtp-from", "SMTP_FROM", "", "the From of e-mails (default coffer <no-reply@localhost>)")
	secret(&c.LookupKey, "lookup-key", "LOOKUP_KEY", "hex key (32+ bytes) for hashing social security and card numbers; empty: generated and kept in the database")
	str(&accountRate, "auth-account-rate-limit", "AUTH_ACCOUNT_RATE_LIMIT", "30", "authentication operations per 15 minutes per account and operation; 0 turns it off")
	str(&maxFailures, "login-max-failures", "LOGIN_MAX_FAILURES", "5", "consecutive failed logins that lock an account")
	str(&lockout, "login-lockout", "LOGIN_LOCKOUT", "15m", "how long failed logins lock an account")
	str(&idle, "session-idle-timeout", "SESSION_IDLE_TIMEOUT", "30m", "a session ends after this long without a request")
	str(&maxAge, "session-max-age", "SESSION_MAX_AGE", "12h", "a session ends this long after login in any case")
	var twoFactor string
	str(&twoFactor, "require-two-factor", "REQUIRE_TWO_FACTOR", "", "1: every customer login takes two steps (the chosen method, else e-mail)")
	harden := registerHardening(fs, getenv, &c.Hardening)
	budgets := registerBudgets(fs, getenv, &c.Budgets)
	observe := registerObservability(fs, getenv, &c.Observe)
	var liveMax, livePerUser, liveCheck string
	str(&liveMax, "live-max-subscriptions", "LIVE_MAX_SUBSCRIPTIONS", "10000", "concurrent subscriptions per server instance")
	str(&livePerUser, "live-max-subscriptions-per-user", "LIVE_MAX_SUBSCRIPTIONS_PER_USER", "20", "concurrent subscriptions per user and instance")
	var wsOps, wsConns string
	str(&wsOps, "ws-max-operations-in-flight", "WS_MAX_OPERATIONS_IN_FLIGHT", "10", "queries and mutations running at once on one WebSocket; more are TOO_MANY_REQUESTS")
	str(&wsConns, "ws-max-connections-per-user", "WS_MAX_CONNECTIONS_PER_USER", "10", "open WebSockets per user and instance; more are closed with 4429")
	prod := registerProduction(fs, getenv)
	str(&liveCheck, "live-session-check", "LIVE_SESSION_CHECK", "2s", "how often open WebSockets re-check their session (a logout closes them)")
	var batchWindow, batchMax string
	str(&batchWindow, "ledger-batch-window", "LEDGER_BATCH_WINDOW", "1ms", "how long the ledger's poster collects postings while a batch is in flight (0 to 100ms)")
	str(&batchMax, "ledger-batch-max", "LEDGER_BATCH_MAX", "64", "the most postings in one batch (1 to 1000); 0 posts each in a transaction of its own")
	var autopay string
	str(&autopay, "autopay-interval", "AUTOPAY_INTERVAL", "1m", "how often bills with autopay that are due are paid")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range secrets {
		if !given[s.name] {
			*s.dst = getenv(s.env)
		}
	}
	c.Dev = dev == "1" || strings.EqualFold(dev, "true")
	if err := harden.parse(); err != nil {
		return c, err
	}
	if err := prod.parse(&c); err != nil {
		return c, err
	}
	if err := budgets.parse(); err != nil {
		return c, err
	}
	if err := observe.parse(); err != nil {
		return c, err
	}
	var err error
	if c.CurrencyScale, err = strconv.Atoi(scale); err != nil {
		return c, fmt.Errorf("BANK_CURRENCY_SCALE: %w", err)
	}
	if c.AuthRateLimit, err = strconv.Atoi(rate); err != nil || c.AuthRateLimit < 0 {
		return c, fmt.Errorf("AUTH_RATE_LIMIT: not a count: %q", rate)
	}
	if c.AccountRateLimit, err = strconv.Atoi(accountRate); err != nil || c.AccountRateLimit < 0 {
		return c, fmt.Errorf("AUTH_ACCOUNT_RATE_LIMIT: not a count: %q", accountRate)
	}
	if c.LoginMaxFailures, err = strconv.Atoi(maxFailures); err != nil || c.LoginMaxFailures < 1 {
		return c, fmt.Errorf("LOGIN_MAX_FAILURES: not a positive count: %q", maxFailures)
	}
	for _, d := range []struct {
		name, value string
		dst         *time.Duration
	}{
		{"CODE_TTL", ttl, &c.CodeTTL}, {"LOGIN_LOCKOUT", lockout, &c.LoginLockout},
		{"SESSION_IDLE_TIMEOUT", idle, &c.SessionIdleTimeout}, {"SESSION_MAX_AGE", maxAge, &c.SessionMaxAge},
		{"AUTOPAY_INTERVAL", autopay, &c.AutopayInterval},
	} {
		if *d.dst, err = time.ParseDuration(d.value); err != nil || *d.dst <= 0 {
			return c, fmt.Errorf("%s: not a duration: %q", d.name, d.value)
		}
	}
	if c.MaxBodyBytes, err = strconv.ParseInt(body, 10, 64); err != nil || c.MaxBodyBytes <= 0 {
		return c, fmt.Errorf("MAX_BODY_BYTES: not a size: %q", body)
	}
	if c.StaffMaxBodyBytes, err = strconv.ParseInt(staffBody, 10, 64); err != nil || c.StaffMaxBodyBytes < c.MaxBodyBytes {
		return c, fmt.Errorf("STAFF_MAX_BODY_BYTES: not a size of at least MAX_BODY_BYTES: %q", staffBody)
	}
	// The limit is in the currency's units ("1000" coins), checked exactly by the money package later.
	c.CreationMonthlyLimit, err = strconv.ParseInt(limit, 10, 64)
	if err != nil || c.CreationMonthlyLimit < 0 {
		return c, fmt.Errorf("CREATION_MONTHLY_LIMIT: not a whole amount: %q", limit)
	}
	if c.LiveMaxSubscriptions, err = strconv.Atoi(liveMax); err != nil || c.LiveMaxSubscriptions < 1 {
		return c, fmt.Errorf("LIVE_MAX_SUBSCRIPTIONS: not a positive count: %q", liveMax)
	}
	if c.LiveMaxPerUser, err = strconv.Atoi(livePerUser); err != nil || c.LiveMaxPerUser < 1 {
		return c, fmt.Errorf("LIVE_MAX_SUBSCRIPTIONS_PER_USER: not a positive count: %q", livePerUser)
	}
	if c.WSMaxOperations, err = strconv.Atoi(wsOps); err != nil || c.WSMaxOperations < 1 {
		return c, fmt.Errorf("WS_MAX_OPERATIONS_IN_FLIGHT: not a positive count: %q", wsOps)
	}
	if c.WSMaxConnectionsPerUser, err = strconv.Atoi(wsConns); err != nil || c.WSMaxConnectionsPerUser < 1 {
		return c, fmt.Errorf("WS_MAX_CONNECTIONS_PER_USER: not a positive count: %q", wsConns)
	}
	if c.LiveSessionCheck, err = time.ParseDuration(liveCheck); err != nil || c.LiveSessionCheck <= 0 {
		return c, fmt.Errorf("LIVE_SESSION_CHECK: not a duration: %q", liveCheck)
	}
	if c.LedgerBatchWindow, err = time.ParseDuration(batchWindow); err != nil || c.LedgerBatchWindow < 0 || c.LedgerBatchWindow > 100*time.Millisecond {
		return c, fmt.Errorf("LEDGER_BATCH_WINDOW: not a duration from 0 to 100ms: %q", batchWindow)
	}
	if c.LedgerBatchMax, err = strconv.Atoi(batchMax); err != nil || c.LedgerBatchMax < 0 || c.LedgerBatchMax > 1000 {
		return c, fmt.Errorf("LEDGER_BATCH_MAX: not a count from 0 to 1000: %q", batchMax)
	}
	c.RequireTwoFactor = twoFactor == "1" || strings.EqualFold(twoFactor, "true")
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if err := checkOrigins(c.AllowedOrigins); err != nil {
		return c, err
	}
	return c, nil
}

// secretFlag is a setting whose value must never be printed (passwords, keys, URLs with
// credentials).
type secretFlag struct {
	name, env string
	dst       *string
}
