package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/XSAM/otelsql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracing is the server's OpenTelemetry tracer provider. It exists only when tracing is on
// (OTEL_EXPORTER_OTLP_ENDPOINT is set): when it is off the server installs none of the
// instrumentation below, so that tracing off costs nothing, not even no-op calls.
type tracing struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// tracerName names coffer's own spans (the GraphQL operations and root fields).
const tracerName = "coffer/server"

// newTracing starts the tracer provider, or returns nil when tracing is off. Spans leave in
// batches over OTLP/HTTP; the standard OTEL_* variables of the process environment choose the
// sampler (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG; default: every trace), the exporter's
// headers, timeout and certificates, and resource attributes (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES).
func newTracing(ctx context.Context, o Observability) (*tracing, error) {
	if o.spanExporter == nil && o.OTLPEndpoint == "" {
		return nil, nil
	}
	// The resource first: once the span processor exists (a batch one runs a goroutine), nothing
	// here may fail.
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "coffer"), attribute.String("service.version", buildVersion())))
	if err == nil {
		// The operator's OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults.
		res, err = resource.Merge(res, resource.Environment())
	}
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	var spans sdktrace.SpanProcessor
	if o.spanExporter != nil {
		// Tests: spans are exported as they end, and read back from memory.
		spans = sdktrace.NewSimpleSpanProcessor(o.spanExporter)
	} else {
		exp, err := otlptracehttp.New(ctx,
			otlptracehttp.WithEndpointURL(strings.TrimRight(o.OTLPEndpoint, "/")+"/v1/traces"))
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
		spans = sdktrace.NewBatchSpanProcessor(exp)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans), sdktrace.WithResource(res))
	return &tracing{provider: provider, tracer: provider.Tracer(tracerName)}, nil
}

// shutdown sends the spans still queued. Nil-safe: tracing off has nothing to send.
func (t *tracing) shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// httpHandler gives every HTTP request its server span. Each request starts a new trace: the
// API is public, and a client's traceparent header would let it choose trace ids and force
// sampling, so no propagator reads it. WebSocket upgrades get no span (a connection lives for
// hours; each of its operations gets a root span of its own), nor do health checks and scrapes.
func (t *tracing) httpHandler(next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return !isWebSocket(r)
		}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			// The path only when it is the API's: any other would let a client mint span names.
			if r.URL.Path == "/query" {
				return r.Method + " /query"
			}
			return r.Method
		}))
}

// openSQL is store.Options.OpenSQL: it wraps the driver so that every statement run within a
// traced request gets a span (its SQL text, which carries placeholders, never the arguments).
// Statements of background jobs, outside any request, get none.
func (t *tracing) openSQL() func(driverName, dsn string) (*sql.DB, error) {
	if t == nil {
		return nil
	}
	return func(driverName, dsn string) (*sql.DB, error) {
		system := "sqlite"
		if driverName == "postgres" {
			system = "postgresql"
		}
		return otelsql.Open(driverName, dsn,
			otelsql.WithTracerProvider(t.provider),
			otelsql.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelsql.WithAttributes(attribute.String("db.system.name", system)),
			otelsql.WithSpanOptions(otelsql.SpanOptions{
				// Row iteration and session resets double the spans and say little.
				OmitRows: true, OmitConnResetSession: true, DisableErrSkip: true,
				SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
					return trace.SpanContextFromContext(ctx).IsValid()
				},
			}))
	}
}

// graphqlTracing is the gqlgen extension that gives each query and mutation a span, named by the
// operation's name (or its type when it has none), and each of its root fields a child span. Not
// every field: a span costs about a microsecond and some allocations, and a statement lists
// hundreds of fields; the SQL spans under the root field say where the time went. Subscriptions
// get none (an event is not a request). Never the document nor the variables: they carry
// passwords, codes and personal data.
type graphqlTracing struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.RootFieldInterceptor
} = graphqlTracing{}

func (graphqlTracing) ExtensionName() string                   { return "CofferTracing" }
func (graphqlTracing) Validate(graphql.ExecutableSchema) error { return nil }

// maxSpanOperationName bounds the client-chosen part of a span name.
const maxSpanOperationName = 64

func (g graphqlTracing) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	typ := string(oc.Operation.Operation)
	name, opName := typ, oc.Operation.Name[:min(len(oc.Operation.Name), maxSpanOperationName)]
	if opName != "" {
		name = typ + " " + opName
	}
	ctx, span := g.tracer.Start(ctx, name, trace.WithAttributes(
		attribute.String("graphql.operation.type", typ), attribute.String("graphql.operation.name", opName)))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		code, _ := resp.Errors[0].Extensions["code"].(string)
		span.SetAttributes(attribute.String("coffer.error.code", code))
		// A client's mistake is an outcome, not a fault of the server.
		if code == "INTERNAL" || code == "" {
			span.SetStatus(codes.Error, code)
		}
	}
	return resp
}

func (g graphqlTracing) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return next(ctx) // a subscription's field: no operation span to hang it on
	}
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	typ := "Query"
	if graphql.GetOperationContext(ctx).Operation.Operation == ast.Mutation {
		typ = "Mutation"
	}
	ctx, span := g.tracer.Start(ctx, typ+"."+fc.Field.Name,
		trace.WithAttributes(attribute.String("graphql.field.name", fc.Field.Name)))
	defer span.End()
	return next(ctx)
}

// traceIDs are the trace and span ids of ctx's span as log attributes, none outside a trace.
func traceIDs(ctx context.Context) (traceID, spanID string, ok bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", "", false
	}
	return sc.TraceID().String(), sc.SpanID().String(), true
}
