package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// StartStandby makes a streaming-replication standby of primary and starts it: pg_basebackup -R
// copies the primary's data directory (and its postgresql.auto.conf, so settings made with ALTER
// SYSTEM on the primary hold on the standby too) and writes standby.signal and primary_conninfo,
// which points at the primary's unix socket. Replication connects as "postgres" through the
// "local replication all trust" line that initdb -A trust writes into pg_hba.conf; wal_level
// (replica), max_wal_senders and hot_standby keep their PostgreSQL 10+ defaults.
//
// For a synchronous standby, set synchronous_standby_names on the primary (ALTER SYSTEM, then
// pg_reload_conf) before calling StartStandby, and wait with WaitSynchronous.
func StartStandby(primary *Cluster, settings ...string) (*Cluster, error) {
	c, _, err := newCluster(settings)
	if err != nil {
		return nil, err
	}
	if err := c.setup(c.tool("pg_basebackup"), "-D", c.dataDir, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
		"-h", primary.sockDir, "-p", strconv.Itoa(primary.port), "-U", "postgres"); err != nil {
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

// WaitSynchronous waits until a standby streams from c as a synchronous standby (sync_state
// "sync" in pg_stat_replication), for at most readyTimeout.
func (c *Cluster) WaitSynchronous() error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	for deadline := time.Now().Add(readyTimeout); ; time.Sleep(20 * time.Millisecond) {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'`).Scan(&n)
		if err == nil && n > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: no synchronous standby streaming after %v (%v)", readyTimeout, err)
		}
	}
}

// Promote turns a standby into a primary with pg_ctl promote and waits until it accepts writes
// (pg_ctl -w).
func (c *Cluster) Promote() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.tool("pg_ctl"), "promote", "-w",
		"-t", strconv.Itoa(int(readyTimeout/time.Second)), "-D", c.dataDir)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: pg_ctl promote: %v\n%s\nlog:\n%s", err, out, c.logTail())
	}
	return nil
}

// tool returns the path of a PostgreSQL client program of the same version as the server: next
// to postgres, next to its symlink's target, else from PATH.
func (c *Cluster) tool(name string) string {
	for _, dir := range []string{filepath.Dir(c.postgres), dirOfTarget(c.postgres)} {
		if p := filepath.Join(dir, name); dir != "" && isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

// LogTail returns the end of the cluster's server log (for a failing test to show).
func (c *Cluster) LogTail() string { return c.logTail() }
