package pgtest

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func openDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("ping %s: %v", dsn, err)
	}
	return db
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestNewDatabase(t *testing.T) {
	start := time.Now()
	u1 := NewDatabase(t)
	t.Logf("first NewDatabase (includes cluster start unless %s is set): %v", EnvURL, time.Since(start))
	start = time.Now()
	u2 := NewDatabase(t)
	t.Logf("second NewDatabase: %v", time.Since(start))
	t.Logf("URL: %s", u1)
	if u1 == u2 {
		t.Fatalf("same URL twice: %s", u1)
	}
	if os.Getenv(EnvURL) == "" && !strings.HasPrefix(u1, "postgres://") {
		t.Errorf("URL %q does not start with postgres://", u1)
	}
	db1, db2 := openDB(t, u1), openDB(t, u2)

	var n1, n2 string
	if err := db1.QueryRow("SELECT current_database()").Scan(&n1); err != nil {
		t.Fatal(err)
	}
	if err := db2.QueryRow("SELECT current_database()").Scan(&n2); err != nil {
		t.Fatal(err)
	}
	if n1 == n2 || !strings.HasPrefix(n1, "t_") {
		t.Errorf("database names %q and %q: want distinct t_... names", n1, n2)
	}
	const userTables = `SELECT count(*) FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`
	for _, db := range []*sql.DB{db1, db2} {
		if n := queryInt(t, db, userTables); n != 0 {
			t.Errorf("new database has %d tables, want 0", n)
		}
	}
	if _, err := db1.Exec("CREATE TABLE item (id int PRIMARY KEY); INSERT INTO item VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db1, "SELECT count(*) FROM item"); n != 2 {
		t.Errorf("item has %d rows, want 2", n)
	}
	if n := queryInt(t, db2, userTables); n != 0 {
		t.Errorf("table created in one database is visible in the other")
	}
}

// The database is dropped at the end of the test, even with connections still open.
func TestNewDatabaseDropped(t *testing.T) {
	var name string
	var leftover *sql.DB
	t.Run("inner", func(t *testing.T) {
		u := NewDatabase(t)
		db, err := sql.Open("postgres", u)
		if err != nil {
			t.Fatal(err)
		}
		leftover = db // deliberately left open until after the drop
		if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	defer leftover.Close()
	db := openDB(t, NewDatabase(t))
	if n := queryInt(t, db, "SELECT count(*) FROM pg_database WHERE datname = $1", name); n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestNewDatabaseParallel(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db := openDB(t, NewDatabase(t))
			if _, err := db.Exec("CREATE TABLE x (id int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestClusterStopImmediateStart(t *testing.T) {
	start := time.Now()
	c, err := StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartCluster: %v", time.Since(start))
	t.Cleanup(func() { c.Stop() })
	if err := c.CreateDatabase("app"); err != nil {
		t.Fatal(err)
	}
	// Both connection string forms work, with a unix socket.
	t.Logf("URL: %s", c.URL("app"))
	t.Logf("DSN: %s", c.DSN("app"))
	openDB(t, c.DSN("app"))
	db := openDB(t, c.URL("app"))
	var addr sql.NullString
	if err := db.QueryRow("SELECT inet_server_addr()::text").Scan(&addr); err != nil || addr.Valid {
		t.Errorf("inet_server_addr() = %v, %v: want NULL (unix socket)", addr, err)
	}

	// Every acknowledged commit survives an immediate stop (a crash of the server).
	if _, err := db.Exec("CREATE TABLE item (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	const rows = 200
	for i := range rows {
		if _, err := db.Exec("INSERT INTO item VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
	}
	start = time.Now()
	if err := c.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("StopImmediate: %v", time.Since(start))
	if err := db.Ping(); err == nil {
		t.Fatal("ping succeeded with the server stopped")
	}
	if err := c.StopImmediate(); err == nil {
		t.Error("StopImmediate on a stopped cluster: want an error")
	}
	start = time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Start after StopImmediate (crash recovery): %v", time.Since(start))
	if err := c.Start(); err == nil {
		t.Error("Start on a running cluster: want an error")
	}
	db2 := openDB(t, c.URL("app"))
	if n := queryInt(t, db2, "SELECT count(*) FROM item"); n != rows {
		t.Errorf("after restart: %d rows, want %d", n, rows)
	}

	start = time.Now()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop: %v", time.Since(start))
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s (%v)", c.dir, err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := c.Start(); err == nil {
		t.Error("Start after Stop: want an error")
	}
}

func TestWithDBName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:p@db.example:5433/main?sslmode=disable", "postgres://u:p@db.example:5433/t_1?sslmode=disable"},
		{"postgresql://u@/main?host=/run/postgresql", "postgresql://u@/t_1?host=/run/postgresql"},
		{"postgres://u@h/?dbname=main", "postgres://u@h/t_1?dbname=t_1"},
		{"host=/run/postgresql user=u dbname=main", "host=/run/postgresql user=u dbname=main dbname=t_1"},
	} {
		if got := withDBName(tc.in, "t_1"); got != tc.want {
			t.Errorf("withDBName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The helper process starts a cluster, reports it, and waits to be killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("PGTEST_HELPER") != "1" {
		return
	}
	c, err := StartCluster()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(c.proc.Pid, c.dir)
	select {}
}

// A killed test process takes its postgres down with it (Linux), and the next StartCluster removes its directory.
func TestKilledProcessLeavesNoServer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Log("no parent-death signal outside Linux")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEST_HELPER=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	var pid int
	var dir string
	if _, err := fmt.Sscan(line, &pid, &dir); err != nil {
		t.Fatalf("helper said %q", line)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	start := time.Now()
	for running(pid) {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("postgres %d still running %v after its parent was killed", pid, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("postgres gone %v after its parent was killed", time.Since(start))

	// postmaster.pid may linger a moment after the process is gone: immediate shutdown leaves it anyway.
	sweepStale()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("sweep left %s (%v)", dir, err)
	}
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] != 'Z'
	}
	return true
}

func TestStartClusterWithSettings(t *testing.T) {
	c, err := StartClusterWith("work_mem=7MB", "max_connections=150", "shared_preload_libraries=pg_stat_statements")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	db := openDB(t, c.URL("postgres"))
	for _, tc := range []struct{ give, want string }{
		{"work_mem", "7MB"}, {"max_connections", "150"}, {"fsync", "off"},
		{"shared_preload_libraries", "pg_stat_statements"},
	} {
		var got string
		if err := db.QueryRow("SHOW " + tc.give).Scan(&got); err != nil || got != tc.want {
			t.Errorf("SHOW %s = %q, %v; want %q", tc.give, got, err, tc.want)
		}
	}
	// The settings survive a crash and restart.
	if err := c.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	db2 := openDB(t, c.URL("postgres"))
	var got string
	if err := db2.QueryRow("SHOW work_mem").Scan(&got); err != nil || got != "7MB" {
		t.Errorf("after restart: work_mem = %q, %v", got, err)
	}
}
