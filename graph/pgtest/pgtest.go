// Package pgtest gives tests a real PostgreSQL: never a mock, never a skip.
//
// NewDatabase returns the URL of a brand-new, empty database, dropped when the test ends. The databases live
// either in the server named by TEST_DATABASE_URL (which must allow CREATE DATABASE; PostgreSQL 13 or later for
// DROP DATABASE ... WITH (FORCE)) or, when that is unset, in a throwaway cluster that the first call in the
// process starts (initdb + postgres, about 1 s) and that Main stops when the tests are done.
//
// Usage:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		db, err := sql.Open("postgres", pgtest.NewDatabase(t))
//		...
//	}
//
// The throwaway cluster listens on a unix socket only (empty listen_addresses, socket in a private directory), so
// it never clashes with another server or with port 5432. The binaries (initdb, postgres) come from PATH, else
// from the highest version under /usr/lib/postgresql/*/bin (Debian's postgresql package). As root, initdb and
// postgres run as the "postgres" system user, since both refuse to run as root.
//
// Leftovers: postgres is started directly (not through pg_ctl) as a child of the test process with, on Linux,
// Pdeathsig=SIGQUIT, so it shuts down (immediate mode) when the test process dies by any means (panic in a test,
// -timeout, SIGKILL). The temporary directory (/tmp/coffer-pgtest-*) of a cluster whose process died that way is
// removed by the next StartCluster in any later test process. On other systems a cluster outlives a killed test
// process; Main still stops it on a normal exit.
//
// Windows is not supported.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// EnvURL names the environment variable that points NewDatabase at an existing server.
const EnvURL = "TEST_DATABASE_URL"

const (
	dirPrefix    = "coffer-pgtest-"
	ownerFile    = "owner.pid"
	readyTimeout = 30 * time.Second
)

// serverSettings are the postgres run-time settings of every cluster (besides port and socket settings).
//
// synchronous_commit stays on (the default): with fsync=off a commit only waits for a write() into the page
// cache, which costs next to nothing, and it keeps PostgreSQL's promise that an acknowledged commit survives a
// crash of the server (StopImmediate). With synchronous_commit=off, the last few hundred milliseconds of commits
// are lost by StopImmediate, which would make fault tests flaky.
var serverSettings = []string{
	"listen_addresses=",
	"fsync=off",
	"full_page_writes=off",
	"max_connections=200",
	"shared_buffers=128MB",
}

// Main wraps testing.M for a package's TestMain: it runs the tests, then stops every cluster this process
// started and still running (also when m.Run panics), and returns the exit code:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// A panic inside a test kills the process before Main can act: postgres then exits by its parent-death signal
// (Linux) and the next test process removes the leftover directory.
func Main(m *testing.M) int {
	defer stopAll()
	return m.Run()
}

// NewDatabase returns the URL of a brand-new, empty database created for this test, usable with
// sql.Open("postgres", url) (lib/pq), and drops it (WITH (FORCE), terminating leftover connections) in
// t.Cleanup. With the throwaway cluster the URL has the form
//
//	postgres://postgres@/t_<hex>?host=/tmp/coffer-pgtest-<n>/sock&port=<port>&sslmode=disable
//
// With TEST_DATABASE_URL it is that URL with the database name replaced. Any failure is fatal to the test.
func NewDatabase(t testing.TB) string {
	t.Helper()
	srv, err := sharedServer()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "t_" + randomHex(8)
	if err := srv.createDatabase(name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := srv.dropDatabase(name); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return srv.url(name)
}

// server is where NewDatabase creates databases: the shared throwaway cluster or TEST_DATABASE_URL.
type server interface {
	createDatabase(name string) error
	dropDatabase(name string) error
	url(dbname string) string
}

var sharedServer = sync.OnceValues(func() (server, error) {
	if u := os.Getenv(EnvURL); u != "" {
		return &externalServer{admin: u}, nil
	}
	c, err := StartCluster()
	if err != nil {
		return nil, err
	}
	return c, nil
})

type externalServer struct{ admin string }

func (s *externalServer) createDatabase(name string) error {
	return execAdmin(s.admin, "CREATE DATABASE "+pq.QuoteIdentifier(name))
}

func (s *externalServer) dropDatabase(name string) error {
	return execAdmin(s.admin, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
}

func (s *externalServer) url(dbname string) string { return withDBName(s.admin, dbname) }

// withDBName returns the connection string dsn (URL or key=value form) pointing at database dbname.
func withDBName(dsn, dbname string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.Path, u.RawPath = "/"+dbname, ""
			if q := u.Query(); q.Has("dbname") {
				q.Set("dbname", dbname)
				u.RawQuery = q.Encode()
			}
			return u.String()
		}
	}
	// key=value form: lib/pq keeps the last value of a repeated key.
	return dsn + " dbname=" + dbname
}

// execAdmin runs one statement on a fresh connection to dsn.
func execAdmin(dsn, stmt string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// Cluster is a throwaway PostgreSQL cluster: a data directory and a unix socket in a private temporary
// directory, and a postgres process that is a child of this process. Its superuser is "postgres" with trust
// authentication. Methods are safe for concurrent use.
type Cluster struct {
	dir      string // temporary directory, removed by Stop
	dataDir  string
	sockDir  string
	logPath  string // postgres' stdout and stderr
	port     int
	postgres string              // path of the postgres binary
	cred     *syscall.Credential // user to run initdb and postgres as; nil: this process' user
	settings []string            // run-time settings after serverSettings (later ones win)

	mu      sync.Mutex
	proc    *os.Process   // nil when not running
	exited  chan struct{} // closed when proc has exited
	removed bool
}

// StartCluster initialises and starts a throwaway cluster (for benchmarks and for tests that stop and restart
// the server). Stop it with Stop; Main stops it too if it is still running then.
func StartCluster() (*Cluster, error) { return StartClusterWith() }

// StartClusterWith is StartCluster with extra postgres run-time settings ("name=value", as for
// postgres -c), applied after the defaults so that they override them; they stay in force across
// StopImmediate and Start. The benchmark uses it to preload pg_stat_statements.
func StartClusterWith(settings ...string) (*Cluster, error) {
	c, initdb, err := newCluster(settings)
	if err != nil {
		return nil, err
	}
	if err := c.setup(initdb, "-D", c.dataDir, "-A", "trust", "-U", "postgres",
		"--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	register(c)
	if err := c.Start(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// newCluster makes the temporary directory of a cluster and returns it, not yet set up, with the
// path of initdb.
func newCluster(settings []string) (*Cluster, string, error) {
	sweepOnce()
	initdb, postgres, err := findBinaries()
	if err != nil {
		return nil, "", err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, "", fmt.Errorf("running as root and no \"postgres\" system user to run PostgreSQL as (%v): install the postgresql package or create the user", err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, "", fmt.Errorf("user postgres: %v", err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}

	base := "/tmp"
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, "", err
	}
	c := &Cluster{
		dir:      dir,
		dataDir:  filepath.Join(dir, "data"),
		sockDir:  filepath.Join(dir, "sock"),
		logPath:  filepath.Join(dir, "postgres.log"),
		port:     20000 + mrand.IntN(40000), // names the socket file only: the socket directory is private
		postgres: postgres,
		cred:     cred,
		settings: slices.Clone(settings),
	}
	return c, initdb, nil
}

// setup creates the directories and fills the data directory with the command bin args (initdb,
// or pg_basebackup for a standby) run as the cluster's user.
func (c *Cluster) setup(bin string, args ...string) error {
	if err := os.WriteFile(filepath.Join(c.dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	for _, d := range []string{c.dataDir, c.sockDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return err
	}
	if c.cred != nil {
		for _, d := range []string{c.dir, c.dataDir, c.sockDir} {
			if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return err
			}
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s failed: %v\n%s", bin, err, out)
	}
	return nil
}

// URL returns the postgres:// URL of database dbname in this cluster, as the superuser "postgres", for lib/pq:
//
//	postgres://postgres@/<dbname>?host=<socket dir>&port=<port>&sslmode=disable
func (c *Cluster) URL(dbname string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + dbname}
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }
	u.RawQuery = "host=" + esc(c.sockDir) + "&port=" + strconv.Itoa(c.port) + "&sslmode=disable"
	return u.String()
}

// DSN returns the key=value connection string of database dbname in this cluster (same target as URL).
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.sockDir, c.port, dbname)
}

// SocketDir returns the directory of the cluster's unix socket, Port the port number naming it.
func (c *Cluster) SocketDir() string { return c.sockDir }

// Port returns the port number that names the unix socket (the cluster listens on no TCP port).
func (c *Cluster) Port() int { return c.port }

// PID returns the process id of the postmaster (0 while stopped): its children are the backends,
// whose CPU time the benchmark adds up.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return 0
	}
	return c.proc.Pid
}

// CreateDatabase creates an empty database.
func (c *Cluster) CreateDatabase(name string) error {
	return execAdmin(c.URL("postgres"), "CREATE DATABASE "+pq.QuoteIdentifier(name))
}

func (c *Cluster) createDatabase(name string) error { return c.CreateDatabase(name) }

func (c *Cluster) dropDatabase(name string) error {
	return execAdmin(c.URL("postgres"), "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
}

func (c *Cluster) url(dbname string) string { return c.URL(dbname) }

// Start starts postgres (again, after StopImmediate) on the same data directory, socket and port, and waits
// until it accepts connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return errors.New("pgtest: cluster already stopped and removed")
	}
	if c.proc != nil {
		return errors.New("pgtest: cluster already running")
	}
	logf, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{"-D", c.dataDir, "-p", strconv.Itoa(c.port), "-k", c.sockDir}
	for _, s := range slices.Concat(serverSettings, c.settings) {
		args = append(args, "-c", s)
	}
	cmd := exec.Command(c.postgres, args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(c.cred)

	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		// The parent-death signal fires when the thread that forked the child exits, not the process: hold
		// this thread for as long as postgres runs.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		logf.Close()
		started <- err
		if err == nil {
			cmd.Wait()
		}
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: start %s: %v", c.postgres, err)
	}
	c.proc, c.exited = cmd.Process, exited

	if err := c.waitReady(); err != nil {
		c.signalAndWait(syscall.SIGQUIT)
		return err
	}
	return nil
}

// waitReady polls until the server accepts connections, the process exits or readyTimeout passes.
func (c *Cluster) waitReady() error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("pgtest: postgres exited during startup (%v); log %s:\n%s", err, c.logPath, c.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not accepting connections after %v (%v); log %s:\n%s",
				readyTimeout, err, c.logPath, c.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// signalAndWait sends sig to postgres and waits for it to exit, escalating to SIGQUIT (immediate shutdown)
// and then SIGKILL. c.mu must be held.
func (c *Cluster) signalAndWait(sig syscall.Signal) {
	if c.proc == nil {
		return
	}
	for _, s := range []syscall.Signal{sig, syscall.SIGQUIT, syscall.SIGKILL} {
		c.proc.Signal(s)
		select {
		case <-c.exited:
			c.proc = nil
			return
		case <-time.After(10 * time.Second):
		}
	}
	<-c.exited
	c.proc = nil
}

// Stop shuts postgres down (fast mode: open sessions are terminated) and removes the temporary directory with
// the data. The cluster cannot be started again. Stopping twice is harmless.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	unregister(c)
	c.signalAndWait(syscall.SIGINT)
	if c.removed {
		return nil
	}
	c.removed = true
	return os.RemoveAll(c.dir)
}

// StopImmediate stops postgres in immediate mode, as a crash would (the equivalent of pg_ctl stop -m immediate:
// SIGQUIT to the postmaster), and keeps the data: Start recovers it from the WAL like after a crash.
func (c *Cluster) StopImmediate() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return errors.New("pgtest: cluster not running")
	}
	c.signalAndWait(syscall.SIGQUIT)
	return nil
}

// registry of clusters to stop in Main.
var (
	regMu    sync.Mutex
	clusters = map[*Cluster]bool{}
)

func register(c *Cluster) {
	regMu.Lock()
	defer regMu.Unlock()
	clusters[c] = true
}

func unregister(c *Cluster) {
	regMu.Lock()
	defer regMu.Unlock()
	delete(clusters, c)
}

func stopAll() {
	regMu.Lock()
	var cs []*Cluster
	for c := range clusters {
		cs = append(cs, c)
	}
	regMu.Unlock()
	for _, c := range cs {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop cluster %s: %v\n", c.dir, err)
		}
	}
}

// findBinaries returns the paths of initdb and postgres: from PATH, else from the highest version under
// /usr/lib/postgresql/*/bin.
func findBinaries() (initdb, postgres string, err error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Prefer the postgres next to initdb (same version), also next to a symlink's target.
		for _, dir := range []string{filepath.Dir(p), dirOfTarget(p)} {
			if pg := filepath.Join(dir, "postgres"); dir != "" && isExecutable(pg) {
				return p, pg, nil
			}
		}
		if pg, err := exec.LookPath("postgres"); err == nil {
			return p, pg, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return -cmpFloat(version(a), version(b)) })
	for _, dir := range dirs {
		i, pg := filepath.Join(dir, "initdb"), filepath.Join(dir, "postgres")
		if isExecutable(i) && isExecutable(pg) {
			return i, pg, nil
		}
	}
	return "", "", errors.New("PostgreSQL server binaries not found (initdb and postgres, on PATH or under /usr/lib/postgresql/*/bin): install the postgresql package, or set " + EnvURL + " to a server that allows CREATE DATABASE")
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func dirOfTarget(p string) string {
	t, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return filepath.Dir(t)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var sweepOnce = sync.OnceFunc(sweepStale)

// sweepStale removes the temporary directories of clusters whose test process and postgres are both gone
// (the test process was killed before it could stop its cluster).
func sweepStale() {
	for _, base := range []string{"/tmp", os.TempDir()} {
		dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
		for _, dir := range dirs {
			owner := readPID(filepath.Join(dir, ownerFile)) // 0: not ours, or still being created
			if owner == 0 || pidAlive(owner) || pidAlive(readPID(filepath.Join(dir, "data", "postmaster.pid"))) {
				continue
			}
			os.RemoveAll(dir)
		}
	}
}

// readPID returns the number on the first line of file, or 0.
func readPID(file string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
