package live

import (
	"context"
	"database/sql"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/graph/coalesce"
	"coffer/graph/store"

	"github.com/lib/pq"
)

// maxPendingIDs bounds what the notifier holds between two flushes; beyond it the oldest changes
// are still published, the rest wait for the next flush (the set of accounts is finite anyway).
const maxPendingIDs = 100_000

// flushTimeout bounds one publication (a query and a NOTIFY or two).
const flushTimeout = 2 * time.Second

// Notifier publishes committed changes after the commit, coalescing those of Window into one
// Batch: one NOTIFY per few milliseconds instead of one inside every ledger transaction (which
// would serialize PostgreSQL's commits). Its Run goroutine is the only one that publishes.
type Notifier struct {
	Client *ent.Client
	// SQL, when set (PostgreSQL), is the pool the changed accounts are read through, with one
	// prepared statement whatever their number: through Client each flush's IN list of another
	// length was a new text to plan, and building the query was most of the notifier's CPU.
	SQL       *sql.DB
	Publisher Publisher
	// Window is how long changes are gathered before one publication.
	Window time.Duration

	mu       sync.Mutex
	accounts map[int]struct{}
	txns     map[int]struct{}
	kick     chan struct{}
	once     sync.Once
	read     store.Prepared
}

func (n *Notifier) init() {
	n.once.Do(func() {
		n.accounts, n.txns = map[int]struct{}{}, map[int]struct{}{}
		n.kick = make(chan struct{}, 1)
		n.read.Text = changedAccountsSQL
	})
}

// AccountsChanged records committed account changes; it never blocks (Ledger.OnCommit).
func (n *Notifier) AccountsChanged(ids []int) { n.add(ids, nil) }

// TransactionsChanged records committed transaction status changes (Ledger.OnTransactionsCommit).
func (n *Notifier) TransactionsChanged(ids []int) { n.add(nil, ids) }

func (n *Notifier) add(accountIDs, txnIDs []int) {
	n.init()
	n.mu.Lock()
	for _, id := range accountIDs {
		if len(n.accounts) < maxPendingIDs {
			n.accounts[id] = struct{}{}
		}
	}
	for _, id := range txnIDs {
		if len(n.txns) < maxPendingIDs {
			n.txns[id] = struct{}{}
		}
	}
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends; it flushes what is pending on the way out.
func (n *Notifier) Run(ctx context.Context) {
	n.init()
	window := n.Window
	if window <= 0 {
		window = 5 * time.Millisecond
	}
	timer := time.NewTimer(window)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			n.flush(ctx) // the last changes committed: their subscribers should hear of them
			return
		case <-n.kick:
		}
		// Gather the changes of one window, then publish them together.
		timer.Reset(window)
		select {
		case <-ctx.Done():
			continue // the final flush above
		case <-timer.C:
		}
		n.flush(ctx)
	}
}

// flush publishes what is pending. It does not stop halfway when ctx ends (shutdown): the
// changes committed, so it runs to its end on a context of its own, bounded in time.
func (n *Notifier) flush(parent context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), flushTimeout)
	defer cancel()
	n.mu.Lock()
	accountIDs := sortedKeys(n.accounts)
	txnIDs := sortedKeys(n.txns)
	clear(n.accounts)
	clear(n.txns)
	n.mu.Unlock()
	if len(accountIDs) == 0 && len(txnIDs) == 0 {
		return
	}
	b := Batch{Transactions: txnIDs}
	if len(accountIDs) > 0 {
		changes, err := n.changedAccounts(ctx, accountIDs)
		if err != nil {
			// Without owners, still wake the subscribers of these accounts by id; the safety
			// re-read covers the rest.
			slog.Warn("live: reading changed accounts", "error", err)
			changes = make([]AccountChange, len(accountIDs))
			for i, id := range accountIDs {
				changes[i] = AccountChange{ID: id}
			}
		}
		b.Accounts = changes
	}
	if err := n.Publisher.Publish(ctx, b); err != nil {
		// Lost: subscribers catch up at the next safety re-read.
		slog.Warn("live: publishing changes", "error", err, "accounts", len(b.Accounts))
	}
}

// changedAccounts reads the owners and versions of ids after the commit: a version may already be
// a later one, which is fine because subscribers read everything up to the account's version.
func (n *Notifier) changedAccounts(ctx context.Context, ids []int) ([]AccountChange, error) {
	changes := make([]AccountChange, 0, len(ids))
	if n.SQL == nil {
		accs, err := n.Client.Account.Query().Where(account.IDIn(ids...)).
			Select(account.FieldID, account.FieldOwnerID, account.FieldVersion).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range accs {
			c := AccountChange{ID: a.ID, Version: a.Version}
			if a.OwnerID != nil {
				c.Owner = *a.OwnerID
			}
			changes = append(changes, c)
		}
		return changes, nil
	}
	rows, err := n.read.Query(ctx, n.SQL, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c AccountChange
		var owner sql.NullInt64
		if err := rows.Scan(&c.ID, &owner, &c.Version); err != nil {
			return nil, err
		}
		c.Owner = int(owner.Int64)
		changes = append(changes, c)
	}
	return changes, rows.Err()
}

// changedAccountsSQL is the PostgreSQL read of changedAccounts: one text for any number of ids,
// each id an index probe (coalesce.EachKey; with `= ANY($1)` the prepared statement's generic plan
// scanned a small accounts table whole and compared every row with every id).
var changedAccountsSQL = coalesce.EachKey("bigint", `SELECT a."`+account.FieldID+`", a."`+account.FieldOwnerID+`", a."`+
	account.FieldVersion+`" FROM "`+account.Table+`" a WHERE a."`+account.FieldID+`" = k."key"`)

// StatementPatterns match (SQL LIKE) what the notifier runs on PostgreSQL: the changed accounts'
// read and the NOTIFY. They belong to no request, and how many there are per request depends on
// timing, so statement counts per request leave them out.
// (pg_stat_statements shows the constant of the read's OFFSET 0 as a parameter.)
var StatementPatterns = []string{`SELECT pg_notify%`, strings.Replace(changedAccountsSQL, "OFFSET 0", "OFFSET %", 1)}

func sortedKeys(m map[int]struct{}) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}
