package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"coffer/graph/pgtest"
	childproc "coffer/server/internal/child"
)

const adminPassword = "sim-admin-password-1"

// env is the real thing under test: a database (a throwaway PostgreSQL cluster or a SQLite file)
// and one or two built server processes on it.
type env struct {
	store   string
	bin     string
	dir     string
	dbURL   string
	cluster *pgtest.Cluster // nil on SQLite
	db      *sql.DB         // the simulator's own connection, for the invariants
	outbox  *outbox

	mu      sync.Mutex
	servers []*server
	// faulting counts faults in progress; while it is above zero (and for a grace period after),
	// INTERNAL answers and transport failures are expected.
	faulting  atomic.Int32
	calmAfter atomic.Int64 // unix nanoseconds before which answers still count as during a fault
	epoch     atomic.Int64 // faults begun so far
}

// server is one coffer process; proc is nil while it is down.
type server struct {
	idx  int
	log  string
	mu   sync.Mutex
	proc *childproc.Process
	url  string
}

func startEnv(store, bin, dir string, servers int) (*env, error) {
	e := &env{store: store, bin: bin, dir: dir}
	switch store {
	case "postgres":
		c, err := pgtest.StartCluster()
		if err != nil {
			return nil, err
		}
		e.cluster = c
		if err := c.CreateDatabase("coffer"); err != nil {
			c.Stop()
			return nil, err
		}
		e.dbURL = c.URL("coffer")
	case "sqlite":
		e.dbURL = filepath.Join(dir, "coffer.db")
	default:
		return nil, fmt.Errorf("-store: %q is neither postgres nor sqlite", store)
	}
	e.outbox = &outbox{path: filepath.Join(dir, "outbox.jsonl"), codes: map[string][]string{}}
	for i := range servers {
		s := &server{idx: i, log: filepath.Join(dir, fmt.Sprintf("server%d.log", i))}
		e.servers = append(e.servers, s)
		if err := e.start(s); err != nil {
			e.stop()
			return nil, err
		}
	}
	var err error
	if store == "postgres" {
		e.db, err = sql.Open("postgres", e.dbURL)
	} else {
		e.db, err = sql.Open("sqlite", "file:"+e.dbURL+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&mode=ro")
	}
	if err != nil {
		e.stop()
		return nil, err
	}
	e.db.SetMaxOpenConns(2)
	return e, nil
}

// start runs server s (again, after a kill: same log, same database).
func (e *env) start(s *server) error {
	p, err := childproc.Coffer(e.bin, s.log,
		"ADDR=127.0.0.1:0", "DATABASE_URL="+e.dbURL, "ADMIN_PASSWORD="+adminPassword, "DEV=1",
		"OUTBOX_FILE="+e.outbox.path,
		// Actors log in from one address, and every customer is minted coins again and again.
		"AUTH_RATE_LIMIT=0", "AUTH_ACCOUNT_RATE_LIMIT=0", "CREATION_MONTHLY_LIMIT=1000000000",
		// The message and probing budgets are off, as in the wire tests: a seed sends far more
		// than an hour's worth to one address, and the junk recipients are misses on purpose.
		"SMS_PER_DESTINATION_PER_HOUR=0", "SMS_GLOBAL_PER_HOUR=0", "EMAIL_PER_DESTINATION_PER_HOUR=0",
		"EMAIL_GLOBAL_PER_HOUR=0", "CASHOUTS_PER_USER_PER_HOUR=0", "PHONE_VERIFICATIONS_PER_STAFF_PER_HOUR=0",
		"RECIPIENT_MISSES_PER_HOUR=0",
		// Bills with autopay are paid while the seed runs (the invariant "a bill agrees with its
		// payment" and the model's reads check them).
		"AUTOPAY_INTERVAL=200ms",
		// A fault stops the database; the server must answer cleanly and fast meanwhile.
		"DB_CONNECT_TIMEOUT=2s", "REQUEST_TIMEOUT=20s")
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc, s.url = p, "http://"+p.Addr
	s.mu.Unlock()
	return nil
}

// urls are the base URLs of the servers that are up.
func (e *env) urls() []string {
	var out []string
	for _, s := range e.servers {
		s.mu.Lock()
		if s.proc != nil {
			out = append(out, s.url)
		}
		s.mu.Unlock()
	}
	return out
}

// inFault says whether answers now may show a fault (INTERNAL, transport failures).
func (e *env) inFault() bool {
	return e.faulting.Load() > 0 || time.Now().UnixNano() < e.calmAfter.Load()
}

func (e *env) beginFault() { e.epoch.Add(1); e.faulting.Add(1) }

// crossed says whether a fault began since epoch was read, or is under way.
func (e *env) crossed(epoch int64) bool { return e.epoch.Load() != epoch || e.inFault() }

// endFault ends a fault; requests that were under way may still fail for a few seconds.
func (e *env) endFault() {
	e.calmAfter.Store(time.Now().Add(5 * time.Second).UnixNano())
	e.faulting.Add(-1)
}

func (e *env) stop() {
	for _, s := range e.servers {
		s.mu.Lock()
		if s.proc != nil {
			s.proc.Stop()
			s.proc = nil
		}
		s.mu.Unlock()
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.cluster != nil {
		e.cluster.Stop()
	}
}

// outbox reads OUTBOX_FILE as it grows: every code sent, by recipient.
type outbox struct {
	path   string
	mu     sync.Mutex
	offset int64
	codes  map[string][]string // recipient (e-mail or phone) -> codes, oldest first
}

// wait returns the n-th code (from 0) sent to to, waiting up to five seconds for it to arrive.
func (o *outbox) wait(to string, n int) (string, bool) {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if codes := o.read(to); len(codes) > n {
			return codes[n], true
		}
		if time.Now().After(deadline) {
			return "", false
		}
	}
}

// count is how many codes were sent to to so far.
func (o *outbox) count(to string) int { return len(o.read(to)) }

// read returns the codes sent to to, reading what was appended since the last call.
func (o *outbox) read(to string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if f, err := os.Open(o.path); err == nil {
		f.Seek(o.offset, io.SeekStart)
		br := bufio.NewReader(f)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				break // a partial last line is read again next time
			}
			o.offset += int64(len(line))
			var m struct{ To, Code string }
			if json.Unmarshal([]byte(strings.TrimSpace(line)), &m) == nil && m.Code != "" {
				o.codes[m.To] = append(o.codes[m.To], m.Code)
			}
		}
		f.Close()
	}
	return o.codes[to]
}
