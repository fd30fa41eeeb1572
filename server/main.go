// Command server runs coffer: `go run ./server` serves the GraphQL API, the Playground and the
// health endpoints. Configuration comes from the environment and flags (--help).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
)

var setDefaultLogger sync.Once

// defaultGCPercent is the Go collector's target when the GOGC variable is not set. A request
// leaves short-lived garbage (JSON, GraphQL documents, rows) and little of it survives, so
// collecting at twice Go's default target of 100 trades some memory for less collector CPU, on
// cores the server shares with PostgreSQL: make bench measured 3.5% more transfers at
// 32 clients, for a peak of 406 MiB instead of 295 MiB with 2,000 subscriptions open (server/bench/
// README.md).
const defaultGCPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "coffer:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. When ready is not nil it receives the bound address once the server
// accepts connections (tests start the server on 127.0.0.1:0).
func run(ctx context.Context, args []string, getenv func(string) string, ready chan<- string) error {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	logger := slog.New(requestIDLogs{slog.NewJSONHandler(os.Stderr, nil)})
	// The process-wide default is set once: tests run several servers in one process.
	setDefaultLogger.Do(func() { slog.SetDefault(logger) })

	app, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	jobs, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); app.cleanupHourly(jobs) }()
	autopayDone := make(chan struct{})
	go func() { defer close(autopayDone); app.autopayEvery(jobs, cfg.AutopayInterval) }()
	defer func() { stopJobs(); <-jobsDone; <-autopayDone }()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: cfg.Hardening.ReadHeaderTimeout,
		ReadTimeout:       cfg.Hardening.ReadTimeout,
		WriteTimeout:      cfg.Hardening.WriteTimeout,
		IdleTimeout:       cfg.Hardening.IdleTimeout,
	}
	logger.Info("serving", "addr", ln.Addr().String(), "store", app.db.Dialect)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let running requests finish, then (deferred above) stop the jobs and close
	// the pool. Requests still running after SHUTDOWN_TIMEOUT are cut.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Hardening.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
