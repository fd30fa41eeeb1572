// Package coalesce merges the same look-up made by concurrent requests into one set-based
// statement (a dataloader across requests, where gqlgen's dataloaders work within one). It
// follows the ledger's poster (docs/ledger.md): a look-up made while no round is in flight runs
// at once, alone, so a quiet system pays no delay; while rounds are in flight, the look-ups that
// arrive wait for the next round and share its statement. A look-up always runs after it was
// made, never answered from an earlier round, so what it reads is as fresh as a statement of its
// own would have read.
package coalesce

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/lib/pq"
)

// roundsInFlight bounds the rounds running at once: with two, the next round starts while the
// previous one waits on the database.
const roundsInFlight = 2

// roundTimeout bounds a round's statement: it serves many requests, so no one request's context
// may cancel it.
const roundTimeout = 30 * time.Second

// Loader looks keys up in rounds. Fetch returns the value of each key found; a key it leaves
// out is not found. Fetch gets the keys of a round without duplicates.
type Loader[K comparable, V any] struct {
	Fetch func(ctx context.Context, keys []K) (map[K]V, error)

	mu      sync.Mutex
	running int
	next    *round[K, V]
}

type round[K comparable, V any] struct {
	keys  []K
	seen  map[K]bool
	calls int // look-ups waiting on the round
	done  chan struct{}
	found map[K]V
	err   error
}

// Load returns k's value, whether it was found, or the round's error. When ctx ends first, Load
// returns ctx's error; the round still runs for the others.
func (l *Loader[K, V]) Load(ctx context.Context, k K) (V, bool, error) {
	l.mu.Lock()
	if l.next == nil {
		l.next = &round[K, V]{seen: map[K]bool{}, done: make(chan struct{})}
	}
	r := l.next
	r.calls++
	if !r.seen[k] {
		r.seen[k] = true
		r.keys = append(r.keys, k)
	}
	start := l.running < roundsInFlight
	if start {
		l.next = nil
		l.running++
	}
	l.mu.Unlock()
	if start {
		l.run(r)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
	v, ok := r.found[k]
	return v, ok, r.err
}

// Waiting is how many look-ups wait on the next round, the one not started yet (for tests that
// hold rounds to see them fill).
func (l *Loader[K, V]) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next == nil {
		return 0
	}
	return l.next.calls
}

// run fetches r, answers its look-ups, then starts the round that collected meanwhile, if any,
// on a goroutine of its own (the caller's request is answered and returns).
func (l *Loader[K, V]) run(r *round[K, V]) {
	ctx, cancel := context.WithTimeout(context.Background(), roundTimeout)
	r.found, r.err = l.Fetch(ctx, r.keys)
	cancel()
	close(r.done)
	l.mu.Lock()
	next := l.next
	if next != nil {
		l.next = nil
	} else {
		l.running--
	}
	l.mu.Unlock()
	if next != nil {
		go l.run(next)
	}
}

// In is the condition "column is one of the keys given as one parameter", preparable once for
// any number of keys: `= ANY($1)` with an array on PostgreSQL, json_each of a JSON array on
// SQLite. Keys gives the parameter for it.
func In(postgres bool, column string) string {
	if postgres {
		return column + " = ANY($1)"
	}
	return column + " IN (SELECT value FROM json_each(?))"
}

// EachKey is a round's statement on PostgreSQL that looks each key up on its own: perKey, a
// SELECT that names the key as k."key", runs once per key given as one parameter (an array of
// pgType, Keys or BytesKeys), in a LATERAL subquery that OFFSET 0 keeps from being merged into
// the outer query. Each key is then an index probe whatever the tables' statistics say, where
// `= ANY($1)` lets the planner pick a plan for the set: a trigram index that answers equality by
// rechecking every row sharing a trigram with any key (the recipients by username), or a join
// that scans a table from its first row (the sessions), both far slower than one probe a key.
func EachKey(pgType, perKey string) string {
	return `SELECT x.* FROM unnest($1::` + pgType + `[]) k("key") CROSS JOIN LATERAL (` + perKey + ` OFFSET 0) x`
}

// Keys is In's parameter for keys (strings or integers).
func Keys[K string | int | int64](postgres bool, keys []K) (any, error) {
	if postgres {
		return pq.Array(keys), nil
	}
	b, err := json.Marshal(keys)
	return string(b), err
}

// InBytes is In for keys that are byte strings (a bytea or BLOB column): SQLite's JSON has no
// bytes, so there they travel hex-encoded and the statement decodes them (unhex, SQLite 3.41).
// BytesKeys gives the parameter for it.
func InBytes(postgres bool, column string) string {
	if postgres {
		return In(true, column)
	}
	return column + " IN (SELECT unhex(value) FROM json_each(?))"
}

// BytesKeys is InBytes's parameter for keys, each a string holding raw bytes.
func BytesKeys(postgres bool, keys []string) (any, error) {
	if postgres {
		b := make([][]byte, len(keys))
		for i, k := range keys {
			b[i] = []byte(k)
		}
		return pq.Array(b), nil
	}
	h := make([]string, len(keys))
	for i, k := range keys {
		h[i] = hex.EncodeToString([]byte(k))
	}
	return Keys(false, h)
}
