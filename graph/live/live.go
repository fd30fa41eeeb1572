// Package live delivers committed account changes to subscribers: the fan-out behind the
// balanceChanged and transactionUpdated subscriptions.
//
// The design keeps the ledger's commit path free of it and never trusts a notification for
// completeness:
//
//   - Ledger.OnCommit hands changed account ids to a Notifier, which coalesces the changes of a few
//     milliseconds and publishes one small Batch (account ids, owners, versions) after the commit:
//     PostgreSQL NOTIFY (every instance's Listener receives it) or, on SQLite, straight to the Hub.
//   - A notification only wakes subscribers. Each subscriber then reads what it has not yet
//     delivered by account version (entries with version > the last one it sent), so a lost or
//     late notification delays an event but never drops or repeats one. The Hub also re-reads the
//     watched accounts periodically and wakes every subscriber when the listener reconnects.
//   - A subscriber's goroutine sleeps on its wake channel; idle subscribers cost no queries. Its
//     buffer is bounded, and one that stays full (the client does not read) ends the
//     subscription with ErrFellBehind instead of slowing anyone else.
package live

import (
	"context"
	"time"

	"coffer/ent"
	"coffer/graph/apperr"
)

// AccountChange says that an account reached at least Version. Owner is its customer (0 for the
// bank's own accounts), so that subscribers of "all my accounts" are found without a query.
type AccountChange struct {
	ID      int   `json:"i"`
	Owner   int   `json:"o,omitempty"`
	Version int64 `json:"v"`
}

// Batch is what one notification carries: the accounts changed and the transactions created or
// settled by the commits of a few milliseconds.
type Batch struct {
	Accounts     []AccountChange `json:"a,omitempty"`
	Transactions []int           `json:"t,omitempty"`
}

// Publisher carries a batch to the hub of every server instance.
type Publisher interface {
	Publish(ctx context.Context, b Batch) error
}

// BalanceEvent is one change of an account as a subscriber sees it. Balance and Version are the
// account's right after the change (the statement line's balanceAfter and version). Available is
// that balance plus the debit limit minus the reservations as read when the event was delivered:
// exact for the latest change, and for a replayed older one it counts today's reservations.
type BalanceEvent struct {
	// Account is the account as read when the event was delivered.
	Account *ent.Account
	// Entry is the statement line of the change; nil for a change that writes none (a payment
	// reserved or released, a new debit limit), which keeps the account's version.
	Entry          *ent.Entry
	BalanceMinor   int64
	AvailableMinor int64
	Version        int64
	At             time.Time
}

// ErrFellBehind ends a subscription whose client stopped reading: its buffer stayed full. The
// client may subscribe again at once (retryAfter 1 s), resuming from its last version.
var ErrFellBehind = apperr.TooMany(time.Second,
	"the subscription fell behind (the client did not read its events in time); subscribe again with afterVersion set to the last version received")

// ErrTooManySubscriptions refuses a subscription beyond the per-user or the global cap. A slot
// frees only when another subscription ends, so the client is asked to wait a little longer.
var ErrTooManySubscriptions = apperr.TooMany(subscriptionRetryAfter, "too many concurrent subscriptions")

// subscriptionRetryAfter is the extensions.retryAfter of a subscription refused by a cap.
const subscriptionRetryAfter = 5 * time.Second

// available is what the account can spend after a change that left balanceMinor.
func available(a *ent.Account, balanceMinor int64) int64 {
	return balanceMinor + a.DebitLimit - a.Reserved
}
