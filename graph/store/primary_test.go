package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"coffer/graph/pgtest"
	"coffer/graph/store"
)

// TestOpen_standbyNamedFirst_writesGoToThePrimary names a hot standby before its primary in
// DATABASE_URL, without target_session_attrs: coffer still migrates and writes on the primary,
// and every pooled connection is there (lib/pq alone would settle on the standby, the first host
// that answers).
func TestOpen_standbyNamedFirst_writesGoToThePrimary(t *testing.T) {
	primary, err := pgtest.StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	if err := primary.CreateDatabase("coffer"); err != nil {
		t.Fatal(err)
	}
	standby, err := pgtest.StartStandby(primary)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Stop() })

	url := fmt.Sprintf("postgres://postgres@/coffer?host=%s,%s&port=%d,%d&sslmode=disable",
		standby.SocketDir(), primary.SocketDir(), standby.Port(), primary.Port())
	db, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.SQL.Exec(`CREATE TABLE probe (port int NOT NULL); INSERT INTO probe SELECT current_setting('port')::int`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var conns []*sql.Conn
	for range 4 {
		c, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var port int
		var recovery bool
		if err := c.QueryRowContext(ctx, `SELECT current_setting('port')::int, pg_is_in_recovery()`).Scan(&port, &recovery); err != nil {
			t.Fatal(err)
		}
		if port != primary.Port() || recovery {
			t.Errorf("connection %d: port %d (in recovery %v), want the primary's %d", i, port, recovery, primary.Port())
		}
		c.Close()
	}
	var stored int
	if err := db.SQL.QueryRow(`SELECT port FROM probe`).Scan(&stored); err != nil || stored != primary.Port() {
		t.Errorf("probe row written by port %d (%v), want %d", stored, err, primary.Port())
	}
}

// TestOpen_targetSessionAttrsThatAllowAStandby_refused: coffer writes, so a DATABASE_URL that
// would let it settle on a standby is a start-up error, before any connection.
func TestOpen_targetSessionAttrsThatAllowAStandby_refused(t *testing.T) {
	tests := []string{"any", "read-only", "standby", "prefer-standby"}
	for _, tt := range tests {
		t.Run(tt, func(t *testing.T) {
			url := "postgres://nobody@/coffer?host=/nonexistent&sslmode=disable&target_session_attrs=" + tt
			db, err := store.Open(context.Background(), url, store.Options{})
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), "target_session_attrs="+tt) {
				t.Fatalf("error %q does not name the setting", err)
			}
		})
	}
}
