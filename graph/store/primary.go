package store

import (
	"fmt"
	neturl "net/url"

	"github.com/lib/pq"
)

// Failover. DATABASE_URL may name a primary and its standbys: lib/pq v1.12 takes several hosts
// (host=/a,/b or host1,host2, with one port or one per host) and, with
// target_session_attrs=read-write, tries them in order and keeps the first that accepts writes,
// for every new connection of the pool and for the LISTEN connection alike (pq.Listener re-dials
// through the same DSN). That is all a failover needs here: promoting a standby or demoting a
// primary restarts PostgreSQL, which ends every session; lib/pq marks a connection whose socket
// broke as bad and database/sql drops it, so the pool refills on the new primary.
//
// A primary "fenced" with default_transaction_read_only while its sessions stay open is no fence
// for coffer: lib/pq begins every transaction with BEGIN READ WRITE, which overrides that default.
// docs/failover.md says to stop the old primary instead.

// requirePrimary makes every session land on a host that accepts writes: it sets
// target_session_attrs=read-write unless the URL asks for read-write or primary already, and
// refuses the values that would let coffer settle on a standby.
func requirePrimary(q neturl.Values) error {
	switch v := q.Get("target_session_attrs"); v {
	case "":
		q.Set("target_session_attrs", string(pq.TargetSessionAttrsReadWrite))
	case string(pq.TargetSessionAttrsReadWrite), string(pq.TargetSessionAttrsPrimary):
	default:
		return fmt.Errorf("store: DATABASE_URL: target_session_attrs=%s: coffer writes, use read-write (the default) or primary", v)
	}
	return nil
}
