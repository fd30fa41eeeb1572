package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"coffer/graph/pgtest"
)

// trStartTraced runs the app with spans going to an in-memory exporter, behind an httptest
// server whose Close waits for the requests' handlers (and so their spans) to end.
func trStartTraced(t *testing.T, store string) (*testServer, *httptest.Server, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	s, srv := trStartApp(t, store, exp)
	return s, srv, exp
}

// trStartApp runs the app in this process behind an httptest server, with exp (when not nil) as
// its span exporter and env added to the settings.
func trStartApp(t testing.TB, store string, exp sdktrace.SpanExporter, env ...string) (*testServer, *httptest.Server) {
	t.Helper()
	cfg := trConfig(t, store, exp, env...)
	a, err := newApp(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &testServer{t: t, URL: srv.URL, Outbox: cfg.OutboxFile, DatabaseURL: cfg.DatabaseURL}, srv
}

// trConfig is the settings of an app over a fresh database of the given store, with exp (when not
// nil) as its span exporter and env added.
func trConfig(t testing.TB, store string, exp sdktrace.SpanExporter, env ...string) Config {
	t.Helper()
	vars := map[string]string{"ADMIN_PASSWORD": adminPassword, "DEV": "1", "AUTH_RATE_LIMIT": "0",
		"AUTH_ACCOUNT_RATE_LIMIT": "0", "OUTBOX_FILE": filepath.Join(t.TempDir(), "outbox.jsonl")}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	if store == "postgres" {
		vars["DATABASE_URL"] = pgtest.NewDatabase(t)
	} else {
		vars["DATABASE_URL"] = filepath.Join(t.TempDir(), "coffer.db")
	}
	cfg, err := parseConfig(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if exp != nil {
		cfg.Observe.spanExporter = exp
	}
	return cfg
}

// BenchmarkTracing measures one authenticated query (a session look-up and a user read, SQLite)
// with tracing off, on for every request, and on with one request in ten sampled; spans go over
// OTLP/HTTP to a collector that discards them, as in production.
//
//	go test -run '^$' -bench Tracing -benchmem -count 5 ./server/
func BenchmarkTracing(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer collector.Close()
	previous := slog.Default() // the app logs each operation: not into the benchmark's output
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(previous)
	cases := []struct {
		name    string
		env     []string
		sampler string
	}{
		{name: "off"},
		{name: "on", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL}, sampler: "always_on"},
		{name: "sampled10pct", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL}, sampler: "traceidratio"},
	}
	for _, tt := range cases {
		b.Run(tt.name, func(b *testing.B) {
			if tt.sampler != "" { // the SDK reads them from the process environment
				b.Setenv("OTEL_TRACES_SAMPLER", tt.sampler)
				b.Setenv("OTEL_TRACES_SAMPLER_ARG", "0.1")
			}
			s, _ := trStartApp(b, "sqlite", nil, tt.env...)
			token := s.admin()
			body := []byte(`{"query":"query Me { me { username } }"}`)
			b.ReportAllocs()
			// CPU time of the process (server, client and collector alike) is steadier than the
			// wall clock on a machine shared with other builds.
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			n := 0
			for b.Loop() {
				n++
				req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/op")
		})
	}
}

// TestTracing_queryAndMutation_spansParentedWithoutSecrets checks the spans of a mutation (a
// login, its password in the variables) and a named query: the HTTP server span is the root, the
// operation span its child, the root field's span the operation's child, and SQL spans under the
// root field; no attribute carries the password, the token or the query text.
func TestTracing_queryAndMutation_spansParentedWithoutSecrets(t *testing.T) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			s, srv, exp := trStartTraced(t, store)
			admin := s.admin()
			s.customer(admin, "ann")
			exp.Reset()
			token := s.login("ann", "ann-password")
			s.mustDo(token, `query MyBalance { me { username customer { balance { amount } } } }`, nil, nil)
			srv.Close() // the handlers have returned: every span has ended
			spans := exp.GetSpans()

			byID := map[trace.SpanID]tracetest.SpanStub{}
			for _, sp := range spans {
				byID[sp.SpanContext.SpanID()] = sp
			}
			parentName := func(sp tracetest.SpanStub) string {
				if p, ok := byID[sp.Parent.SpanID()]; ok && sp.Parent.IsValid() {
					return p.Name
				}
				return ""
			}
			under := func(sp tracetest.SpanStub, ancestor string) bool {
				for p, ok := byID[sp.Parent.SpanID()]; ok; p, ok = byID[p.Parent.SpanID()] {
					if p.Name == ancestor {
						return true
					}
				}
				return false
			}
			want := map[string]string{ // span: its parent
				"POST /query": "", "mutation": "POST /query", "Mutation.login": "mutation",
				"query MyBalance": "POST /query", "Query.me": "query MyBalance",
			}
			found := map[string]int{}
			traces := map[trace.TraceID]bool{}
			sqlUnder := map[string]int{}
			for _, sp := range spans {
				traces[sp.SpanContext.TraceID()] = true
				if parent, ok := want[sp.Name]; ok {
					found[sp.Name]++
					if got := parentName(sp); got != parent {
						t.Errorf("span %q has parent %q, want %q", sp.Name, got, parent)
					}
				}
				if strings.HasPrefix(sp.Name, "sql.") {
					for _, root := range []string{"Mutation.login", "Query.me"} {
						if under(sp, root) {
							sqlUnder[root]++
						}
					}
					if sp.Parent.IsValid() && parentName(sp) == "" {
						t.Errorf("SQL span %q has a parent that is not among the spans", sp.Name)
					}
				}
				for _, kv := range sp.Attributes {
					// The password and token never; the document's words only in SQL text.
					v := kv.Value.Emit()
					if strings.Contains(v, "ann-password") || strings.Contains(v, token) ||
						(!strings.HasPrefix(sp.Name, "sql.") && strings.Contains(v, "username")) {
						t.Errorf("span %q attribute %s = %q carries a secret or the document", sp.Name, kv.Key, v)
					}
				}
			}
			if found["POST /query"] != 2 || found["mutation"] != 1 || found["Mutation.login"] != 1 ||
				found["query MyBalance"] != 1 || found["Query.me"] != 1 {
				t.Errorf("spans found %v, want one of each and two HTTP spans; all: %v", found, spanNames(spans))
			}
			if sqlUnder["Mutation.login"] == 0 || sqlUnder["Query.me"] == 0 {
				t.Errorf("SQL spans under the root fields: %v, want some under each; all: %v", sqlUnder, spanNames(spans))
			}
			if len(traces) != 2 {
				t.Errorf("%d traces, want one per request (2)", len(traces))
			}
		})
	}
}

func spanNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, sp := range spans {
		names = append(names, sp.Name)
	}
	return names
}

// TestTracing_off_installsNothing checks that without OTEL_EXPORTER_OTLP_ENDPOINT the server has
// no tracer provider, no traced driver and no traced handler: tracing off costs nothing.
func TestTracing_off_installsNothing(t *testing.T) {
	tr, err := newTracing(context.Background(), Observability{})
	if err != nil || tr != nil {
		t.Fatalf("newTracing without an endpoint = %v, %v; want nil, nil", tr, err)
	}
	h := http.NewServeMux()
	if tr.openSQL() != nil || tr.shutdown(context.Background()) != nil || tr.httpHandler(h) != http.Handler(h) {
		t.Error("tracing off still wraps the driver or the handler")
	}
}

// freeAddr is a loopback address whose port was free a moment ago (for a listener the test must
// know before the server starts).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestMetricsAddr_metricsAndPprofOnlyOnThePrivateListener checks METRICS_ADDR: /metrics (with
// the build info) and /debug/pprof/ answer there, and the public listener serves neither.
func TestMetricsAddr_metricsAndPprofOnlyOnThePrivateListener(t *testing.T) {
	t.Parallel()
	private := freeAddr(t)
	s := startServer(t, "sqlite", "METRICS_ADDR="+private)
	s.admin()
	status, body := getStatus(t, "http://"+private+"/metrics")
	if status != http.StatusOK || !strings.Contains(body, `coffer_build_info{go_version="go`) ||
		!strings.Contains(body, `coffer_graphql_operations_total{field="login",outcome="OK",type="mutation"} 1`) {
		t.Errorf("private /metrics: %d, lacks the build info or the operations:\n%.2000s", status, body)
	}
	if status, body := getStatus(t, "http://"+private+"/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("private /debug/pprof/: %d %.300s", status, body)
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine"} {
		if status, _ := getStatus(t, s.URL+path); status != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, status)
		}
	}
}

// TestMetricsAddr_unset_pprofNeverPublic checks the default: /metrics stays on the public
// listener as before, the profiler is served nowhere.
func TestMetricsAddr_unset_pprofNeverPublic(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite")
	if status, body := getStatus(t, s.URL+"/metrics"); status != http.StatusOK || !strings.Contains(body, "coffer_build_info{") {
		t.Errorf("public /metrics without METRICS_ADDR: %d, build info missing", status)
	}
	if status, _ := getStatus(t, s.URL+"/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("public /debug/pprof/: %d, want 404", status)
	}
}

// obProc is the server binary run with a chosen environment, its log in a file.
type obProc struct {
	*testServer
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// obStart runs bin (ftBuild) on SQLite with env added, on an address chosen here (its "serving"
// line may be below LOG_LEVEL), and waits until /healthz answers.
func obStart(t *testing.T, bin string, env ...string) *obProc {
	t.Helper()
	addr := freeAddr(t)
	dir := t.TempDir()
	p := &obProc{log: filepath.Join(dir, "server.log"), done: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(append(os.Environ(), "ADDR="+addr, "DATABASE_URL="+filepath.Join(dir, "coffer.db"),
		"ADMIN_PASSWORD="+adminPassword, "AUTH_RATE_LIMIT=0", "AUTH_ACCOUNT_RATE_LIMIT=0",
		"OUTBOX_FILE="+filepath.Join(dir, "outbox.jsonl")), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	p.testServer = &testServer{t: t, URL: "http://" + addr}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("server exited during start-up:\n%s", b)
		default:
		}
		if res, err := http.Get(p.URL + "/healthz"); err == nil {
			res.Body.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not start within 60s")
	return nil
}

// stop ends the server with SIGTERM (it shuts down, flushing its spans) and returns its log lines.
func (p *obProc) stop() []map[string]any {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatal("server did not stop within 60s of SIGTERM")
	}
	f, err := os.Open(p.log)
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			lines = append(lines, l)
		} else if bytes.Contains(sc.Bytes(), []byte("DATA RACE")) {
			p.t.Errorf("the server reported a data race (log %s)", p.log)
		}
	}
	return lines
}

// TestLogLevel_warn_hidesInfoLines runs the binary with LOG_LEVEL=warn outside development mode:
// its warning (no LOOKUP_KEY) is written, none of its info lines (start-up, every operation).
func TestLogLevel_warn_hidesInfoLines(t *testing.T) {
	t.Parallel()
	p := obStart(t, ftBuild(t), "LOG_LEVEL=warn", "DEV=")
	p.admin()
	eaWantError(t, p.do("", `mutation { login(input: {login: "admin", password: "wrong-password"}) { status } }`, nil), "UNAUTHENTICATED")
	levels := map[string]int{}
	for _, l := range p.stop() {
		level, _ := l["level"].(string)
		levels[level]++
	}
	if levels["INFO"] != 0 || levels["DEBUG"] != 0 || levels["WARN"] == 0 {
		t.Errorf("log levels written with LOG_LEVEL=warn: %v, want WARN lines and no INFO or DEBUG", levels)
	}
}

// otlpCollector is an OTLP/HTTP trace receiver: it keeps the spans the server exports.
type otlpCollector struct {
	mu    sync.Mutex
	spans map[string][]string // trace id: span names
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				id := hex.EncodeToString(sp.TraceId)
				c.spans[id] = append(c.spans[id], sp.Name)
			}
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// TestTracing_traceIDInLogLines_spansExportedOverOTLP runs the binary with
// OTEL_EXPORTER_OTLP_ENDPOINT naming a collector: the log line of an operation carries a trace id,
// and that trace reached the collector with its HTTP, operation and SQL spans.
func TestTracing_traceIDInLogLines_spansExportedOverOTLP(t *testing.T) {
	t.Parallel()
	collector := &otlpCollector{spans: map[string][]string{}}
	cs := httptest.NewServer(collector)
	defer cs.Close()
	p := obStart(t, ftBuild(t), "OTEL_EXPORTER_OTLP_ENDPOINT="+cs.URL, "DEV=1")
	p.admin()
	var traceID string
	for _, l := range p.stop() {
		if l["msg"] == "graphql" && l["fields"] == "login" {
			traceID, _ = l["trace_id"].(string)
			if spanID, _ := l["span_id"].(string); len(spanID) != 16 {
				t.Errorf("log line %v: span_id %q", l, spanID)
			}
		}
	}
	if len(traceID) != 32 {
		t.Fatalf("the login's log line has trace_id %q, want a trace id", traceID)
	}
	collector.mu.Lock()
	names := strings.Join(collector.spans[traceID], ",")
	collector.mu.Unlock()
	for _, want := range []string{"POST /query", "mutation", "Mutation.login", "sql."} {
		if !strings.Contains(names, want) {
			t.Errorf("trace %s at the collector: spans %s, lacks %q", traceID, names, want)
		}
	}
}

// TestObservabilityConfig_badValuesRefused checks that a mistyped setting stops the start-up
// instead of logging at a level nobody chose or sending spans nowhere.
func TestObservabilityConfig_badValuesRefused(t *testing.T) {
	tests := []struct{ give, want string }{
		{give: "LOG_LEVEL=verbose", want: "LOG_LEVEL"},
		{give: "METRICS_ADDR=9090", want: "METRICS_ADDR"},
		{give: "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318", want: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{give: "OTEL_EXPORTER_OTLP_ENDPOINT=https://user:secret@collector:4318", want: "no credentials"},
	}
	for _, tt := range tests {
		k, v, _ := strings.Cut(tt.give, "=")
		_, err := parseConfigTo(nil, func(name string) string {
			if name == k {
				return v
			}
			return ""
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %v, want one naming %s (without the secret)", tt.give, err, tt.want)
		}
	}
	cfg, err := parseConfigTo(nil, func(string) string { return "" }, io.Discard)
	if err != nil || cfg.Observe.LogLevel != slog.LevelInfo || cfg.Observe.MetricsAddr != "" || cfg.Observe.OTLPEndpoint != "" {
		t.Errorf("defaults: %+v, %v; want info, no metrics listener, tracing off", cfg.Observe, err)
	}
}
