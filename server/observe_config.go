package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

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

type observabilityFlags struct {
	o                  *Observability
	level, metrics, ep string
}

// registerObservability declares the observability settings on fs with their environment defaults.
func registerObservability(fs *flag.FlagSet, getenv func(string) string, o *Observability) *observabilityFlags {
	of := &observabilityFlags{o: o}
	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ("+env+")")
	}
	str(&of.level, "log-level", "LOG_LEVEL", "info", "least severe log lines written: debug, info, warn or error")
	str(&of.metrics, "metrics-addr", "METRICS_ADDR", "", "private listen address for /metrics and /debug/pprof/ (then not served on ADDR); empty: /metrics on ADDR, no pprof")
	str(&of.ep, "otel-exporter-otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318); empty: tracing off")
	return of
}

// parse checks the parsed values and stores them.
func (of *observabilityFlags) parse() error {
	switch strings.ToLower(of.level) {
	case "debug":
		of.o.LogLevel = slog.LevelDebug
	case "info":
		of.o.LogLevel = slog.LevelInfo
	case "warn", "warning":
		of.o.LogLevel = slog.LevelWarn
	case "error":
		of.o.LogLevel = slog.LevelError
	default:
		return fmt.Errorf("LOG_LEVEL: not debug, info, warn or error: %q", of.level)
	}
	if of.metrics != "" {
		if _, _, err := net.SplitHostPort(of.metrics); err != nil {
			return fmt.Errorf("METRICS_ADDR: not host:port: %q", of.metrics)
		}
	}
	of.o.MetricsAddr = of.metrics
	if of.ep != "" {
		u, err := url.Parse(of.ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL: %q", of.ep)
		}
		if u.User != nil {
			// --help prints this setting: a collector's credentials go in OTEL_EXPORTER_OTLP_HEADERS.
			return fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: no credentials in the URL; use OTEL_EXPORTER_OTLP_HEADERS")
		}
	}
	of.o.OTLPEndpoint = of.ep
	return nil
}
