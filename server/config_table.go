package main

import (
	"time"

	"coffer/server/internal/settings"
)

// configTable declares every setting of the server once, grouped by what uses it, each with its
// default, help (Markdown, also printed by --help), whether it is secret, and the check that
// stores it in c. Checks run in this order: PLAYGROUND and INTROSPECTION follow DEV, and
// STAFF_MAX_BODY_BYTES is compared with MAX_BODY_BYTES, both declared before them. The names are
// public: never rename one. docs/configuration.md holds the table this produces
// (TestSettings_docsTableIsTheDeclaredOne).
func configTable(c *Config) []settings.Group {
	return []settings.Group{
		httpSettings(c), graphqlSettings(&c.Hardening, &c.Dev), databaseSettings(c), bankSettings(c),
		authSettings(c), codeSettings(c), budgetSettings(&c.Budgets), liveSettings(c), observeSettings(&c.Observe),
	}
}

func httpSettings(c *Config) settings.Group {
	h := &c.Hardening
	return settings.Group{Name: "HTTP", Settings: []settings.Setting{
		{Env: "ADDR", Default: "127.0.0.1:8080", Help: "listen address", Set: settings.String(&c.Addr)},
		{Env: "DEV", Help: "`1`: development mode (cookies without `Secure`, Playground and introspection on, no HSTS); unset: production mode (`Strict-Transport-Security` on every answer)", Set: settings.Switch(&c.Dev)},
		{Env: "PLAYGROUND", Empty: "`true` with `DEV=1`, else `false`", Help: "`true` or `false`: serve the Playground at `/` and `/playground`", Set: boolOr(&c.Playground, &c.Dev)},
		{Env: "TRUSTED_PROXIES", Empty: "none, the client is the TCP peer", Help: "comma-separated CIDRs of proxies whose `X-Forwarded-For` is believed: the client is the first entry from the right that is not one of them ([operations.md](operations.md#behind-a-proxy-trusted_proxies))", Set: trustedProxies(&c.TrustedProxies)},
		{Env: "ALLOWED_ORIGINS", Empty: "same origin only", Help: "comma-separated origins trusted for cookie requests and WebSockets (`https://app.example.com`, no wildcards)", Set: allowedOrigins(&c.AllowedOrigins)},
		{Env: "MAX_BODY_BYTES", Default: "262144", Help: "largest request body", Set: settings.Size(&c.MaxBodyBytes)},
		{Env: "STAFF_MAX_BODY_BYTES", Default: "41943040", Help: "largest request body of a `STAFF` or `ADMIN` session (document uploads: 5 files of 5 MiB in base64); at least `MAX_BODY_BYTES`", Set: staffMaxBody(c)},
		{Env: "HTTP_READ_HEADER_TIMEOUT", Default: "5s", Help: "time to read a request's headers", Set: settings.Duration(&h.ReadHeaderTimeout)},
		{Env: "HTTP_READ_TIMEOUT", Default: "30s", Help: "time to read a whole request", Set: settings.Duration(&h.ReadTimeout)},
		{Env: "HTTP_WRITE_TIMEOUT", Default: "60s", Help: "time to write a response (WebSocket connections are exempt)", Set: settings.Duration(&h.WriteTimeout)},
		{Env: "HTTP_IDLE_TIMEOUT", Default: "120s", Help: "how long an idle keep-alive connection stays open", Set: settings.Duration(&h.IdleTimeout)},
		{Env: "REQUEST_TIMEOUT", Default: "30s", Help: "deadline of one request's work, database included (not WebSockets)", Set: settings.Duration(&h.RequestTimeout)},
		{Env: "SHUTDOWN_TIMEOUT", Default: "20s", Help: "on SIGTERM, how long running requests may take to finish", Set: settings.Duration(&h.ShutdownTimeout)},
	}}
}

func graphqlSettings(h *Hardening, dev *bool) settings.Group {
	return settings.Group{Name: "GraphQL", Settings: []settings.Setting{
		{Env: "GRAPHQL_MAX_QUERY_LENGTH", Default: "15000", Help: "longest query text, in characters", Set: settings.PositiveCount(&h.MaxQueryLength)},
		{Env: "GRAPHQL_MAX_TOKENS", Default: "2000", Help: "most parser tokens in one query", Set: settings.PositiveCount(&h.MaxTokens)},
		{Env: "GRAPHQL_MAX_DEPTH", Default: "10", Help: "deepest selection nesting (introspection: 20)", Set: settings.PositiveCount(&h.MaxDepth)},
		{Env: "GRAPHQL_MAX_ALIASES", Default: "15", Help: "most aliased fields in one operation", Set: settings.PositiveCount(&h.MaxAliases)},
		{Env: "GRAPHQL_MAX_DIRECTIVES", Default: "50", Help: "most directives in one operation", Set: settings.PositiveCount(&h.MaxDirectives)},
		{Env: "GRAPHQL_MAX_SELECTIONS", Default: "100", Help: "most selections (fields, fragment spreads) in one selection set, refused before validation", Set: settings.PositiveCount(&h.MaxSelections)},
		{Env: "GRAPHQL_MAX_FIELDS", Default: "2000", Help: "most fields written in one document (each fragment definition once), refused before validation", Set: settings.PositiveCount(&h.MaxFields)},
		{Env: "GRAPHQL_MAX_COMPLEXITY", Default: "5000", Help: "highest operation cost: one a field, a page's selection times `first`/`last` (50 when neither)", Set: settings.PositiveCount(&h.MaxComplexity)},
		{Env: "INTROSPECTION", Empty: "`true` with `DEV=1`, else `false`", Help: "`true` or `false`: answer introspection (`__schema`, `__type`; `__typename` always works)", Set: boolOr(&h.Introspection, dev)},
	}}
}

func databaseSettings(c *Config) settings.Group {
	h := &c.Hardening
	return settings.Group{Name: "Database", Settings: []settings.Setting{
		{Env: "DATABASE_URL", Secret: true, Empty: "`./data/coffer.db` (SQLite)", Help: "`postgres://...` for PostgreSQL (may name a primary and its standbys; `target_session_attrs` defaults to `read-write`: [failover.md](failover.md)); a SQLite file as `sqlite://PATH`, `file:PATH` or a path ending in `.db`, `.sqlite`, `.sqlite3`; anything else refuses to start", Set: databaseURL(&c.DatabaseURL)},
		{Env: "DB_MAX_OPEN_CONNS", Default: "20", Help: "PostgreSQL pool size; lowered with a warning when not under the server's `max_connections`", Set: settings.PositiveCount(&h.DBMaxOpenConns)},
		{Env: "DB_CONNECT_TIMEOUT", Default: "5s", Help: "PostgreSQL `connect_timeout` (whole seconds)", Set: settings.Duration(&h.DBConnectTimeout)},
		{Env: "DB_STATEMENT_TIMEOUT", Default: "15s", Help: "PostgreSQL `statement_timeout` of every session", Set: settings.Duration(&h.DBStatementTimeout)},
		{Env: "DB_LOCK_TIMEOUT", Default: "5s", Help: "PostgreSQL `lock_timeout`", Set: settings.Duration(&h.DBLockTimeout)},
		{Env: "DB_IDLE_IN_TRANSACTION_TIMEOUT", Default: "60s", Help: "PostgreSQL `idle_in_transaction_session_timeout`", Set: settings.Duration(&h.DBIdleInTxTimeout)},
	}}
}

func bankSettings(c *Config) settings.Group {
	return settings.Group{Name: "Ledger and products", Settings: []settings.Setting{
		{Env: "BANK_CURRENCY", Default: "EUR", Help: "the bank's one currency", Set: settings.String(&c.Currency)},
		{Env: "BANK_CURRENCY_SCALE", Default: "2", Help: "its fractional digits (e.g. `GDD` with 4)", Set: currencyScale(&c.CurrencyScale)},
		{Env: "CREATION_MONTHLY_LIMIT", Default: "1000", Help: "coins mintable per recipient and calendar month (UTC) of the target date; at most 10^15 minor units (10000000000000 at scale 2)", Set: wholeAmount(&c.CreationMonthlyLimit)},
		{Env: "CARD_PREFIX", Default: "400000", Help: "the digits new card numbers start with (1 to 15)", Set: settings.String(&c.CardPrefix)},
		{Env: "LEDGER_BATCH_WINDOW", Default: "1ms", Help: "while a batch of postings is in flight, how long the next collects (0 to `100ms`; a lone posting never waits: [ledger.md](ledger.md))", Set: settings.DurationIn(&c.LedgerBatchWindow, 0, 100*time.Millisecond)},
		{Env: "LEDGER_BATCH_MAX", Default: "64", Help: "the most postings in one batch (1 to 1000); `0` posts each in a transaction of its own", Set: settings.CountIn(&c.LedgerBatchMax, 0, 1000)},
		{Env: "AUTOPAY_INTERVAL", Default: "1m", Help: "how often bills with autopay whose due date (UTC) has come are paid (one instance at a time)", Set: settings.Duration(&c.AutopayInterval)},
	}}
}

func authSettings(c *Config) settings.Group {
	return settings.Group{Name: "Authentication", Settings: []settings.Setting{
		{Env: "ADMIN_PASSWORD", Secret: true, Help: "creates or updates the administrator `admin` at start-up", Set: settings.String(&c.AdminPassword)},
		{Env: "LOOKUP_KEY", Secret: true, Empty: "generated once, kept in the database", Help: "hex, 32 bytes or more: the HMAC key for social security numbers, card numbers and codes", Set: settings.String(&c.LookupKey)},
		{Env: "AUTH_RATE_LIMIT", Default: "60", Help: "authentication and code operations per minute per client address; `0` off", Set: settings.Count(&c.AuthRateLimit)},
		{Env: "AUTH_ACCOUNT_RATE_LIMIT", Default: "30", Help: "the same per 15 minutes per operation and account (login name, e-mail, challenge); `0` off", Set: settings.Count(&c.AccountRateLimit)},
		{Env: "LOGIN_MAX_FAILURES", Default: "5", Help: "consecutive failed logins that lock an account", Set: settings.PositiveCount(&c.LoginMaxFailures)},
		{Env: "LOGIN_LOCKOUT", Default: "15m", Help: "how long they lock it", Set: settings.Duration(&c.LoginLockout)},
		{Env: "SESSION_IDLE_TIMEOUT", Default: "30m", Help: "a session ends after this long without a request", Set: settings.Duration(&c.SessionIdleTimeout)},
		{Env: "SESSION_MAX_AGE", Default: "12h", Help: "and this long after login in any case", Set: settings.Duration(&c.SessionMaxAge)},
		{Env: "REQUIRE_TWO_FACTOR", Empty: "off", Help: "`1`: every customer login takes two steps (the chosen method, else e-mail)", Set: settings.Switch(&c.RequireTwoFactor)},
	}}
}

func codeSettings(c *Config) settings.Group {
	return settings.Group{Name: "Codes and delivery", Settings: []settings.Setting{
		{Env: "CODE_TTL", Default: "10m", Help: "lifetime of one-time codes and reset tokens", Set: settings.Duration(&c.CodeTTL)},
		{Env: "OUTBOX_FILE", Empty: "none (`make run`: `data/outbox.jsonl`)", Help: "append every code sent, one JSON object a line", Set: settings.String(&c.OutboxFile)},
		{Env: "SMTP_URL", Secret: true, Empty: "no e-mail", Help: "`smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://...:465`; e-mail codes", Set: settings.String(&c.SMTPURL)},
		{Env: "SMTP_FROM", Empty: "`coffer <no-reply@localhost>`", Help: "the `From` of those e-mails", Set: settings.String(&c.SMTPFrom)},
		{Env: "SMS_WEBHOOK_URL", Secret: true, Empty: "no SMS", Help: "receives each SMS as a JSON POST `{\"to\": ..., \"text\": ...}` (may carry a token)", Set: settings.String(&c.SMSWebhookURL)},
	}}
}

func budgetSettings(b *Budgets) settings.Group {
	return settings.Group{Name: "Message and probing budgets", Settings: []settings.Setting{
		{Env: "SMS_PER_DESTINATION_PER_HOUR", Default: "5", Help: "SMS to one phone number per hour; `0` off", Set: settings.Count(&b.SMSPerDestinationPerHour)},
		{Env: "SMS_GLOBAL_PER_HOUR", Default: "500", Help: "SMS in all per hour and instance; `0` off", Set: settings.Count(&b.SMSGlobalPerHour)},
		{Env: "EMAIL_PER_DESTINATION_PER_HOUR", Default: "10", Help: "e-mails to one address per hour; `0` off", Set: settings.Count(&b.EmailPerDestinationPerHour)},
		{Env: "EMAIL_GLOBAL_PER_HOUR", Default: "5000", Help: "e-mails in all per hour and instance; `0` off", Set: settings.Count(&b.EmailGlobalPerHour)},
		{Env: "CASHOUTS_PER_USER_PER_HOUR", Default: "10", Help: "`createCashout` calls per customer per hour; `0` off", Set: settings.Count(&b.CashoutsPerUserPerHour)},
		{Env: "PHONE_VERIFICATIONS_PER_STAFF_PER_HOUR", Default: "30", Help: "`startPhoneVerification` calls per staff user per hour; `0` off", Set: settings.Count(&b.PhoneStartsPerStaffPerHour)},
		{Env: "RECIPIENT_MISSES_PER_HOUR", Default: "10", Help: "`sendCoins` recipients not found per customer per hour; `0` off", Set: settings.Count(&b.RecipientMissesPerHour)},
	}}
}

func liveSettings(c *Config) settings.Group {
	return settings.Group{Name: "Live updates (WebSocket)", Settings: []settings.Setting{
		{Env: "LIVE_MAX_SUBSCRIPTIONS", Default: "10000", Help: "concurrent subscriptions per server instance", Set: settings.PositiveCount(&c.LiveMaxSubscriptions)},
		{Env: "LIVE_MAX_SUBSCRIPTIONS_PER_USER", Default: "20", Help: "concurrent subscriptions per user and instance", Set: settings.PositiveCount(&c.LiveMaxPerUser)},
		{Env: "LIVE_SESSION_CHECK", Default: "2s", Help: "how often open WebSockets re-check their session (a logout closes them with `4401`)", Set: settings.Duration(&c.LiveSessionCheck)},
		{Env: "WS_MAX_OPERATIONS_IN_FLIGHT", Default: "10", Help: "queries and mutations running at once on one WebSocket; more are `TOO_MANY_REQUESTS`", Set: settings.PositiveCount(&c.WSMaxOperations)},
		{Env: "WS_MAX_CONNECTIONS_PER_USER", Default: "10", Help: "open WebSockets per user and instance; more are closed with 4429", Set: settings.PositiveCount(&c.WSMaxConnectionsPerUser)},
	}}
}

func observeSettings(o *Observability) settings.Group {
	return settings.Group{Name: "Observability", Settings: []settings.Setting{
		{Env: "LOG_LEVEL", Default: "info", Help: "least severe log lines written: `debug`, `info`, `warn`, `error`", Set: logLevel(&o.LogLevel)},
		{Env: "METRICS_ADDR", Empty: "`/metrics` on `ADDR`, no profiler", Help: "private listener (`host:port`) for `/metrics` and `/debug/pprof/`; `/metrics` then leaves `ADDR`", Set: metricsAddr(&o.MetricsAddr)},
		{Env: "OTEL_EXPORTER_OTLP_ENDPOINT", Empty: "tracing off", Help: "OTLP/HTTP collector base URL (`http://collector:4318`, no credentials); the other `OTEL_*` variables (sampler, headers) are read as the OpenTelemetry SDK documents", Set: otlpEndpoint(&o.OTLPEndpoint)},
	}}
}
