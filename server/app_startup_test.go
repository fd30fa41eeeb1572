package main

import (
	"context"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"coffer/graph/ledger"
)

// shutdownCounter is a span exporter that drops spans and counts its shutdowns: shutting the
// tracer provider down shuts its span processor, and so its exporter, down.
type shutdownCounter struct{ shutdowns atomic.Int32 }

func (e *shutdownCounter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }

func (e *shutdownCounter) Shutdown(context.Context) error {
	e.shutdowns.Add(1)
	return nil
}

// A start-up that fails once the tracer runs stops the tracer again, whichever step fails: the
// store's opening, the services' start-up work or the ledger's poster.
func TestNewApp_failsAfterTheTracerStarted_tracerShutDown(t *testing.T) {
	cases := []struct {
		name        string
		breakConfig func(t *testing.T, cfg *Config)
	}{
		{"store does not open", func(t *testing.T, cfg *Config) {
			cfg.DatabaseURL = t.TempDir() // a directory, not a database file
		}},
		{"services fail to start", func(t *testing.T, cfg *Config) { cfg.LookupKey = "not hex" }},
		{"poster does not start", func(t *testing.T, cfg *Config) { cfg.LedgerBatchMax = ledger.MaxBatchMax + 1 }},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			exp := &shutdownCounter{}
			cfg := trConfig(t, "sqlite", exp)
			tt.breakConfig(t, &cfg)
			a, err := newApp(context.Background(), cfg)
			if err == nil {
				a.Close()
				t.Fatal("newApp started")
			}
			if n := exp.shutdowns.Load(); n != 1 {
				t.Errorf("after %v: the tracer was shut down %d times, want 1", err, n)
			}
		})
	}
}
