package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"

	"coffer/ent"
	"coffer/graph"
	"coffer/graph/cardnum"
	"coffer/graph/cashout"
	"coffer/graph/census"
	"coffer/graph/codes"
	"coffer/graph/coins"
	"coffer/graph/delivery"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/lookup"
	"coffer/graph/money"
	"coffer/graph/products"
	"coffer/graph/ratelimit"
	"coffer/graph/store"
	"coffer/graph/transport"
	"coffer/server/playground"
)

// app is the wired server: store, services and the GraphQL handler.
type app struct {
	cfg      Config
	db       *store.DB
	identity *identity.Service
	gql      *handler.Server
	// queue sends the codes of flows that must answer alike whether or not they sent one.
	queue   *delivery.Queue
	metrics *metrics
	live    *liveRuntime
	// poster batches the ledger's postings (nil with LEDGER_BATCH_MAX=0).
	poster *ledger.Batcher
	// products runs the autopay job (autopay.go).
	products *products.Service
	tracing  *tracing // nil when tracing is off
}

// newApp wires the server in steps: check the bank's settings, open the store, build the domain
// services and the resolver, then the GraphQL handler, the ledger's poster and the live fan-out.
// When a step fails, what the earlier ones started (tracer, store, queue, poster) is released.
func newApp(ctx context.Context, cfg Config) (_ *app, err error) {
	currency, limitMinor, err := bankCurrency(cfg)
	if err != nil {
		return nil, err
	}
	tr, err := newTracing(ctx, cfg.Observe)
	if err != nil {
		return nil, err
	}
	var (
		db     *store.DB
		svc    *services
		poster *ledger.Batcher
	)
	defer func() {
		if err == nil {
			return
		}
		if poster != nil {
			poster.Close()
		}
		if svc != nil {
			svc.queue.Close()
		}
		if db != nil {
			db.Close()
		}
		shutdownTracing(tr)
	}()
	dbOpts := dbOptions(cfg.Hardening)
	dbOpts.OpenSQL = tr.openSQL()
	if db, err = store.Open(ctx, cfg.DatabaseURL, dbOpts); err != nil {
		return nil, err
	}
	if svc, err = newServices(ctx, cfg, db, currency); err != nil {
		return nil, err
	}
	resolver := newResolver(cfg, db, svc, currency, limitMinor)
	gql := newGraphQL(cfg, resolver, tr, svc.metrics, db.Client)
	if cfg.LedgerBatchMax > 0 {
		if poster, err = svc.ledger.StartBatching(ledger.BatchConfig{Window: cfg.LedgerBatchWindow, Max: cfg.LedgerBatchMax,
			Observe: svc.metrics.ledgerBatch}); err != nil {
			return nil, err
		}
	}
	a := &app{cfg: cfg, db: db, identity: svc.identity, gql: gql, queue: svc.queue, metrics: svc.metrics,
		products: resolver.Products, tracing: tr, poster: poster}
	a.live = startLive(cfg, db, svc.ledger, svc.identity)
	resolver.Live = a.live.hub
	svc.metrics.countSubscriptions(a.live.hub.Open)
	gql.AddTransport(a.websocketTransport())
	gql.AroundOperations(a.websocketOperations)
	return a, nil
}

// bankCurrency checks the settings that the money and card packages judge: the currency, the card
// prefix and the monthly creation limit, answered in minor units.
func bankCurrency(cfg Config) (money.Currency, int64, error) {
	currency := money.Currency{Code: cfg.Currency, Scale: cfg.CurrencyScale}
	if err := currency.Validate(); err != nil {
		return currency, 0, fmt.Errorf("BANK_CURRENCY/BANK_CURRENCY_SCALE: %w", err)
	}
	if _, err := cardnum.Generate(cfg.CardPrefix, nil); err != nil {
		return currency, 0, fmt.Errorf("CARD_PREFIX: %w", err)
	}
	limitMinor, err := currency.ParseDecimal(fmt.Sprint(cfg.CreationMonthlyLimit))
	if err == nil {
		err = currency.WithinBound(limitMinor)
	}
	if err != nil {
		return currency, 0, fmt.Errorf("CREATION_MONTHLY_LIMIT: %w", err)
	}
	return currency, limitMinor, nil
}

// services are the domain services over one store that the resolver and the app share.
type services struct {
	ledger   *ledger.Ledger
	metrics  *metrics
	key      lookup.Key
	budget   *delivery.Budget
	codes    *codes.Service
	identity *identity.Service
	census   *census.Service
	// queue sends the codes of flows that must answer alike whether or not they sent one.
	queue *delivery.Queue
}

// newServices builds the ledger, the look-up key, the message sender and the identity and census
// services, running their start-up work (issuer account, administrator, back-fills). The queue is
// started last, once nothing can fail.
func newServices(ctx context.Context, cfg Config, db *store.DB, currency money.Currency) (*services, error) {
	svc := &services{ledger: ledger.New(db.Client, db.Dialect, currency), metrics: newMetrics(db.SQL)}
	if db.Dialect == dialect.Postgres {
		svc.ledger.Statements = &store.TxStatements{DB: db.SQL}
	}
	svc.ledger.OnTransaction = svc.metrics.ledgerCommitted
	if _, err := svc.ledger.Issuer(ctx); err != nil {
		return nil, err
	}
	key, stored, err := lookup.Load(ctx, db.Client, cfg.LookupKey)
	if err != nil {
		return nil, err
	}
	if stored && !cfg.Dev {
		slog.Warn("LOOKUP_KEY is not set: the look-up key is kept in the database, next to what it protects")
	}
	svc.key = key
	sender, err := delivery.New(delivery.Config{
		SMTPURL: cfg.SMTPURL, SMSWebhookURL: cfg.SMSWebhookURL, OutboxFile: cfg.OutboxFile, From: cfg.SMTPFrom,
	})
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	// Every message, queued or not, leaves through the budgeted sender.
	svc.budget = delivery.NewBudget(delivery.BudgetConfig{
		SMSPerDestinationPerHour: cfg.Budgets.SMSPerDestinationPerHour, SMSGlobalPerHour: cfg.Budgets.SMSGlobalPerHour,
		EmailPerDestinationPerHour: cfg.Budgets.EmailPerDestinationPerHour, EmailGlobalPerHour: cfg.Budgets.EmailGlobalPerHour,
	})
	sender = delivery.WithBudget(sender, svc.budget)
	svc.codes = &codes.Service{Client: db.Client, Sender: sender, Key: key, TTL: cfg.CodeTTL, Now: time.Now, Budget: svc.budget}
	if svc.identity, err = newIdentity(ctx, cfg, db, svc); err != nil {
		return nil, err
	}
	if svc.census, err = newCensus(ctx, cfg, db, svc.codes); err != nil {
		return nil, err
	}
	svc.queue = delivery.NewQueue(sender, 1024, 4, 30*time.Second)
	svc.codes.Queue = svc.queue
	return svc, nil
}

// newIdentity builds the identity service with the session and login settings, creates or updates
// the administrator when ADMIN_PASSWORD is set, and fills the look-alike keys older rows lack.
func newIdentity(ctx context.Context, cfg Config, db *store.DB, svc *services) (*identity.Service, error) {
	ids := identity.NewService(db.Client, svc.ledger, identity.NewHasher(0), svc.codes, svc.key)
	ids.SessionIdle, ids.SessionMaxAge = cfg.SessionIdleTimeout, cfg.SessionMaxAge
	ids.SQL = db.SQL // authentication runs as a prepared statement
	ids.MaxFailedLogins, ids.LockoutDuration = cfg.LoginMaxFailures, cfg.LoginLockout
	ids.RequireTwoFactor = cfg.RequireTwoFactor
	if cfg.AdminPassword != "" {
		if err := ids.BootstrapAdmin(ctx, cfg.AdminPassword); err != nil {
			return nil, fmt.Errorf("bootstrap admin: %w", err)
		}
	}
	if err := ids.BackfillLookalikeKeys(ctx); err != nil {
		return nil, err
	}
	return ids, nil
}

// newCensus builds the people register, seeds its scopes and fills the search keys older rows lack.
func newCensus(ctx context.Context, cfg Config, db *store.DB, codeService *codes.Service) (*census.Service, error) {
	people := &census.Service{Client: db.Client, Dialect: db.Dialect, Codes: codeService,
		PhoneStartsPerStaff: ratelimit.New(cfg.Budgets.PhoneStartsPerStaffPerHour, time.Hour)}
	if err := people.SeedScopes(ctx); err != nil {
		return nil, fmt.Errorf("census scopes: %w", err)
	}
	if _, err := people.BackfillSearchKeys(ctx); err != nil {
		return nil, fmt.Errorf("census search keys: %w", err)
	}
	return people, nil
}

// newResolver gives the resolvers their services and the limits of the operations they guard.
func newResolver(cfg Config, db *store.DB, svc *services, currency money.Currency, limitMinor int64) *graph.Resolver {
	// One budget of failed recipient look-ups per user, whether by address (sendCoins) or by
	// card number (transferBetweenCards).
	recipientMisses := ratelimit.New(cfg.Budgets.RecipientMissesPerHour, time.Hour)
	return &graph.Resolver{
		Client: db.Client, Currency: currency, Ledger: svc.ledger, Identity: svc.identity,
		Coins: &coins.Service{Ledger: svc.ledger, SQL: db.SQL, MonthlyLimitMinor: limitMinor, Identity: svc.identity,
			KeyChallengeTTL: cfg.CodeTTL, FailedLookups: recipientMisses},
		Products: &products.Service{Ledger: svc.ledger, Key: svc.key, CardPrefix: cfg.CardPrefix, FailedLookups: recipientMisses},
		Cashouts: &cashout.Service{Ledger: svc.ledger, Codes: svc.codes,
			PerUser: ratelimit.New(cfg.Budgets.CashoutsPerUserPerHour, time.Hour)},
		Census: svc.census,
		Limits: graph.AuthLimits{
			PerAddress: ratelimit.New(cfg.AuthRateLimit, time.Minute),
			PerAccount: ratelimit.New(cfg.AccountRateLimit, 15*time.Minute),
		},
	}
}

// newGraphQL is gqlgen's handler over HTTP with coffer's extensions, in order: persisted queries,
// the limits, tracing, the operations' metrics and log line, the data loaders. The WebSocket
// transport is added once the app exists.
func newGraphQL(cfg Config, resolver *graph.Resolver, tr *tracing, m *metrics, client *ent.Client) *handler.Server {
	gql := handler.New(graph.NewExecutableSchema(resolver))
	gql.AddTransport(gqltransport.Options{})
	gql.AddTransport(gqltransport.POST{})
	gql.Use(newPersistedQueries()) // before the limits: they check the text a hash stands for
	hardenGraphQL(gql, cfg.Hardening, cfg.Dev)
	if tr != nil {
		gql.Use(graphqlTracing{tracer: tr.tracer}) // outermost: the operations' log line is in its span
	}
	gql.Use(operations{metrics: m, client: client})
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(resolver.WithLoaders(ctx))
	})
	gql.SetErrorPresenter(graph.ErrorPresenter)
	gql.SetQueryCache(newQueryCache())
	return gql
}

// Close posts what the ledger's poster holds, stops the live fan-out, sends what is queued, then closes the database.
func (a *app) Close() {
	if a.poster != nil {
		a.poster.Close() // its last batches commit and notify before the fan-out stops
	}
	a.live.stop()
	a.queue.Close()
	a.db.Close()
	shutdownTracing(a.tracing)
}

// shutdownTracing sends the spans still queued, waiting at most 5 seconds, and stops the tracer.
func shutdownTracing(tr *tracing) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.shutdown(ctx); err != nil {
		slog.Warn("spans not exported at shutdown", "error", err)
	}
}

// cleanupLockID is the advisory lock that lets one instance at a time run the hourly clean-up.
const cleanupLockID = 0x636f66666572_01 // "coffer", job 1

// cleanupHourly deletes unverified registrations every hour until ctx ends.
func (a *app) cleanupHourly(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var n int
		ran, err := store.Exclusive(ctx, a.db, cleanupLockID, func(c *ent.Client) (err error) {
			n, err = a.identity.CleanupUnverified(ctx, c)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			slog.Error("cleanup of unverified registrations failed", "error", err)
		case ran:
			slog.Info("cleaned up unverified registrations", "count", n)
		}
	}
}

// Handler routes the API, the Playground and the health checks.
func (a *app) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/query", a.websocketGate(a.graphqlHandler()))
	if a.cfg.Playground {
		pg := playground.Handler("coffer", "/query")
		mux.Handle("GET /{$}", pg)
		mux.Handle("GET /playground", pg)
		mux.Handle("GET "+playground.AssetPrefix, pg)
	}
	if a.cfg.Observe.MetricsAddr == "" {
		mux.Handle("GET /metrics", a.metrics.handler()) // else on the private listener only
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.db.SQL.PingContext(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	return a.tracing.httpHandler(requestIDs(securityHeaders(strictTransport(a.cfg.Dev, a.guard(mux)))))
}

// graphqlHandler authenticates the request, bounds its body and protects cookie sessions from
// cross-site requests before gqlgen sees it.
func (a *app) graphqlHandler() http.Handler {
	csrf := http.NewCrossOriginProtection()
	for _, o := range a.cfg.AllowedOrigins {
		_ = csrf.AddTrustedOrigin(o)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// After a WebSocket upgrade the ResponseWriter belongs to the hijacked connection, and the
		// socket's operations run concurrently: none may write headers (a cookie), so they get no
		// writer. Login over a WebSocket answers the token and sets no cookie.
		var cookies http.ResponseWriter = w
		if isWebSocket(r) {
			cookies = nil
		}
		ctx := transport.With(r.Context(), cookies, a.clientAddr(r), !a.cfg.Dev)
		token, fromCookie := bearerToken(r)
		if fromCookie {
			// A browser sends cookies on cross-site requests too: only same-origin (or allowed)
			// requests may use them.
			if err := csrf.Check(r); err != nil {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
		}
		if token != "" {
			v, err := a.identity.Authenticate(ctx, token)
			if err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]any{"errors": []map[string]any{{
					"message": "internal error", "extensions": map[string]string{"code": "INTERNAL"}}}})
				return
			}
			if v != nil {
				ctx = identity.WithRequestViewer(ctx, v)
			}
		}
		a.gql.ServeHTTP(w, r.WithContext(ctx))
	})
}

// staffRequest reports whether r carries the session of a STAFF or ADMIN user.
func (a *app) staffRequest(r *http.Request) bool {
	token, _ := bearerToken(r)
	if token == "" {
		return false
	}
	v, err := a.identity.Authenticate(r.Context(), token)
	return err == nil && v.IsStaff()
}

// bearerToken reads the session token from the Authorization header, else the session cookie.
func bearerToken(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t), false
		}
		return "", false
	}
	if c, err := r.Cookie(transport.CookieName); err == nil {
		return c.Value, true
	}
	return "", false
}

// clientAddr is the address of the request's client: the TCP peer, or behind a trusted proxy the
// address it forwarded (TRUSTED_PROXIES). Rate limits, the audit log and the logs all use it; a
// WebSocket's operations keep the address of its upgrade request.
func (a *app) clientAddr(r *http.Request) string {
	return a.cfg.TrustedProxies.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
