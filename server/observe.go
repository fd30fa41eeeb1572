package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"coffer/ent"
	"coffer/graph/audit"
	"coffer/graph/identity"
	"coffer/graph/transport"
)

// metrics are one server's Prometheus metrics, on a registry of its own (tests run several
// servers in one process). Label values come from the schema, never from the client, so that
// their number stays bounded.
type metrics struct {
	reg        *prometheus.Registry
	operations *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	ledger     *prometheus.CounterVec
	// The ledger's poster: postings per batch, and each batch's time.
	batchSize, batchTime prometheus.Histogram
}

func newMetrics(db *sql.DB) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_graphql_operations_total",
			Help: "GraphQL operations by type, top-level field and outcome (OK or the error code).",
		}, []string{"type", "field", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coffer_graphql_operation_seconds",
			Help:    "Time to answer a GraphQL query or mutation, by type and top-level field.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"type", "field"}),
		ledger: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_ledger_transactions_total",
			Help: "Ledger transactions committed, by kind and status at creation (POSTED or PENDING).",
		}, []string{"kind", "status"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "coffer_ledger_batch_postings",
			Help:    "Postings per batch of the ledger's poster (LEDGER_BATCH_MAX bounds it).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000},
		}),
		batchTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "coffer_ledger_batch_seconds",
			Help:    "Time of a batch of the ledger's poster, from its start to every posting answered.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	m.reg.MustRegister(m.operations, m.latency, m.ledger, m.batchSize, m.batchTime,
		collectors.NewDBStatsCollector(db, "coffer"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo())
	return m
}

// version is the release, set at build time (-ldflags "-X main.version=v1.0.0"); without it the
// module version that the Go toolchain recorded, "(devel)" in a build from a checkout.
var version string

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

// buildInfo is coffer_build_info: always 1, its labels say which build runs (the version, the VCS
// revision the toolchain recorded, the Go version), so that a dashboard can show a rollout.
func buildInfo() prometheus.Collector {
	revision, goVersion := "unknown", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "coffer_build_info",
		Help:        "Always 1; the labels say which build of coffer is running.",
		ConstLabels: prometheus.Labels{"version": buildVersion(), "revision": revision, "go_version": goVersion},
	})
	g.Set(1)
	return g
}

// privateHandler serves the metrics and Go's profiler on METRICS_ADDR, a listener that only the
// operators' network reaches: profiles show the code's behaviour, and a CPU profile costs CPU.
func (m *metrics) privateHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// countSubscriptions reports open() as the gauge of open subscriptions, read at each scrape.
func (m *metrics) countSubscriptions(open func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coffer_subscriptions_open",
		Help: "GraphQL subscriptions open on this instance.",
	}, func() float64 { return float64(open()) }))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ledgerBatch records a batch of the ledger's poster.
func (m *metrics) ledgerBatch(postings int, took time.Duration) {
	m.batchSize.Observe(float64(postings))
	m.batchTime.Observe(took.Seconds())
}

// ledgerCommitted counts a committed ledger transaction.
func (m *metrics) ledgerCommitted(t *ent.Transaction) {
	m.ledger.WithLabelValues(string(t.Kind), string(t.Status)).Inc()
}

// operations is the gqlgen extension that measures every query and mutation, logs it, and records
// what administrators and staff users change in the audit log.
type operations struct {
	metrics *metrics
	client  *ent.Client
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = operations{}

func (operations) ExtensionName() string                   { return "CofferOperations" }
func (operations) Validate(graphql.ExecutableSchema) error { return nil }
func (o operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	var op *ast.OperationDefinition
	var name string
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		op, name = oc.Operation, oc.OperationName
	}
	if op != nil && op.Operation == ast.Subscription {
		return resp // measured per event would say nothing; the gauge counts them
	}
	typ, fields := "invalid", []string{"none"}
	if op != nil {
		typ, fields = string(op.Operation), topLevelFields(op)
	}
	outcome := "OK"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "ERROR"
		if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
			outcome = code
		}
	}
	elapsed := time.Since(start)
	field := strings.Join(fields, ",")
	o.metrics.operations.WithLabelValues(typ, fieldLabel(fields), outcome).Inc()
	o.metrics.latency.WithLabelValues(typ, fieldLabel(fields)).Observe(elapsed.Seconds())
	v := identity.ViewerFrom(ctx)
	userID := 0
	if v != nil {
		userID = v.UserID
	}
	// Never the variables or the query text: they carry passwords, codes and personal data.
	slog.InfoContext(ctx, "graphql", "type", typ, "fields", field, "outcome", outcome,
		"ms", float64(elapsed.Microseconds())/1000, "user_id", userID, "client_addr", transport.From(ctx).ClientAddr)
	if typ == string(ast.Mutation) && v != nil && audit.Audited(string(v.Role)) {
		err := audit.Record(context.WithoutCancel(ctx), o.client, audit.Request{
			Actor: v.Actor(), Fields: fields, OperationName: name, Outcome: outcome, At: start.UTC(),
		})
		if err != nil {
			slog.ErrorContext(ctx, "audit record not written", "error", err)
		}
	}
	return resp
}

// fieldLabel is the metrics' field label: the operation's one top-level field, or "multiple".
// Naming combinations would let a client create a new time series with every set of fields it
// selects together, and grow the server's memory without bound.
func fieldLabel(fields []string) string {
	if len(fields) == 1 {
		return fields[0]
	}
	return "multiple"
}

// maxLogFields bounds the fields named in a log line or an audit record.
const maxLogFields = 5

// topLevelFields are the schema names (not aliases) of an operation's top-level fields, sorted.
func topLevelFields(op *ast.OperationDefinition) []string {
	seen := map[string]bool{}
	var out []string
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	if len(out) > maxLogFields {
		out = append(out[:maxLogFields], "more")
	}
	if len(out) == 0 {
		out = []string{"none"}
	}
	return out
}

// requestIDs gives every request the server's own id, fresh and unique, answered in the response's
// X-Request-Id and quoted by every log line of the request and by its audit records. The client's
// X-Request-Id, when it is short and plain, is kept apart (logs and audit records quote it as
// client_request_id): anybody may choose it, so it may collide with another request's or forge one.
func requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		ctx := transport.WithRequestID(r.Context(), id)
		if client := r.Header.Get("X-Request-Id"); plainRequestID.MatchString(client) {
			ctx = transport.WithClientRequestID(ctx, client)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

var plainRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestIDLogs adds the request id of a record's context to every log line, and the trace and
// span ids when the request is traced.
type requestIDLogs struct{ slog.Handler }

func (h requestIDLogs) Handle(ctx context.Context, r slog.Record) error {
	if id := transport.RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if id := transport.ClientRequestID(ctx); id != "" {
		r.AddAttrs(slog.String("client_request_id", id))
	}
	if traceID, spanID, ok := traceIDs(ctx); ok {
		r.AddAttrs(slog.String("trace_id", traceID), slog.String("span_id", spanID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDLogs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDLogs{h.Handler.WithAttrs(attrs)}
}

func (h requestIDLogs) WithGroup(name string) slog.Handler {
	return requestIDLogs{h.Handler.WithGroup(name)}
}
