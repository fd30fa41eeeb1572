// Package ratelimit limits how often an in-memory key (a client address, an
// account) may do something expensive or guessable: logging in, confirming a
// login, pre-registering, requesting a password reset, confirming a code.
//
// The algorithm is a token bucket holding limit tokens that refills at limit
// tokens per window, implemented as GCRA (the generic cell rate algorithm):
// per key it stores only the bucket's "theoretical arrival time" (TAT), the
// instant at which the bucket would be full again. That is one integer per
// key, exact (integer nanoseconds, no float drift) and cheap to compare.
//
// A token bucket rather than two weighted fixed windows because its answers
// are exact where tests and users can see them: a burst of exactly limit
// events is allowed, and once a key has been idle for one window it has its
// full burst again (two weighted windows need up to two windows to forget).
// The price is that in the worst case about 2×limit events pass in the first
// window (a full burst, then the refill); the long-run rate is limit/window.
//
// One Limiter serves one server instance; limits are not shared across
// instances, which is acceptable for brute-force protection because each
// instance still bounds what one key can try against it.
package ratelimit

import (
	"crypto/sha256"
	"sync"
	"time"
)

const (
	// DefaultMaxKeys bounds the keys a Limiter tracks unless WithMaxKeys says
	// otherwise. At a few hundred bytes per key this is tens of megabytes at
	// most, and far more distinct clients than one instance sees per window.
	DefaultMaxKeys = 100_000

	// maxKeyBytes bounds the bytes stored per key: a longer key is stored as
	// its SHA-256 digest instead. Keys may carry attacker-chosen text (an
	// e-mail address typed into a login form), so without this the memory
	// bound would depend on the caller rather than on the Limiter.
	maxKeyBytes = 256

	// sweepEveryCalls is how many Allow calls pass between sweeps of stale
	// keys. A sweep walks every key, so with DefaultMaxKeys this costs on the
	// order of a hundred map visits per call, amortized.
	sweepEveryCalls = 1024

	// evictSampleKeys is how many keys are looked at to choose a victim when
	// the Limiter is full; see evict.
	evictSampleKeys = 8
)

// Limiter answers whether a key is within limit events per window. The zero
// value is not usable; call New. A Limiter is safe for concurrent use.
type Limiter struct {
	limit  int
	window time.Duration
	// interval is the cost of one event and the time one token takes to
	// refill: window/limit, at least one nanosecond.
	interval time.Duration
	// burst is how far a key's TAT may run ahead of now: limit×interval,
	// which is at most window, so a burst is exactly limit events even when
	// window/limit does not divide evenly.
	burst   time.Duration
	maxKeys int
	now     func() time.Time
	// epoch is the origin of the stored TATs; measuring from it with
	// time.Time.Sub keeps the monotonic clock reading of time.Now.
	epoch time.Time

	mu sync.Mutex
	// tat maps a key to its theoretical arrival time since epoch. A key
	// whose TAT is not after now has a full bucket and is stale: deleting it
	// changes no answer, which is what makes eviction by sweep lossless.
	tat map[string]time.Duration
	// callsSinceSweep counts Allow calls since the last sweep of stale keys.
	callsSinceSweep int
}

// Option configures a Limiter in New.
type Option func(*Limiter)

// WithClock makes the Limiter read the time from now instead of time.Now, so
// tests can move time without sleeping.
func WithClock(now func() time.Time) Option {
	return func(l *Limiter) { l.now = now }
}

// WithMaxKeys bounds how many keys the Limiter tracks at once; it must be
// positive. The default is DefaultMaxKeys.
func WithMaxKeys(maxKeys int) Option {
	return func(l *Limiter) { l.maxKeys = maxKeys }
}

// New returns a Limiter allowing limit events per window for each key, with a
// burst of limit. A limit of zero or less disables limiting: Allow then
// always reports true and tracks nothing. New panics if limit is positive
// and window is not, or if WithMaxKeys was given a non-positive bound: both
// are programming errors, not runtime conditions.
func New(limit int, window time.Duration, opts ...Option) *Limiter {
	l := &Limiter{
		limit:   limit,
		window:  window,
		maxKeys: DefaultMaxKeys,
		now:     time.Now,
	}
	for _, opt := range opts {
		opt(l)
	}
	if l.maxKeys <= 0 {
		panic("ratelimit: maxKeys must be positive")
	}
	if l.now == nil {
		panic("ratelimit: clock must not be nil")
	}
	if limit <= 0 {
		return l
	}
	if window <= 0 {
		panic("ratelimit: window must be positive when limit is")
	}
	l.interval = max(window/time.Duration(limit), 1)
	l.burst = l.interval * time.Duration(limit)
	l.epoch = l.now()
	l.tat = make(map[string]time.Duration)
	return l
}

// Allow counts one event for key and reports whether it is within the limit.
// A refused event is not counted: a client that keeps being refused regains
// one event per window/limit, so a limited client is slowed, never locked
// out for longer than one window.
func (l *Limiter) Allow(key string) bool {
	ok, _ := l.Try(key)
	return ok
}

// Try is Allow that also says, when it refuses, how long until key has a
// token again (the value of a Retry-After).
func (l *Limiter) Try(key string) (ok bool, retryAfter time.Duration) {
	return l.take(key, true)
}

// Peek answers as Try would, without counting an event: for a budget that is
// spent only when something fails, checked before the attempt.
func (l *Limiter) Peek(key string) (ok bool, retryAfter time.Duration) {
	return l.take(key, false)
}

func (l *Limiter) take(key string, count bool) (bool, time.Duration) {
	if l.limit <= 0 {
		return true, 0
	}
	if len(key) > maxKeyBytes {
		sum := sha256.Sum256([]byte(key))
		key = string(sum[:])
	}
	now := l.now().Sub(l.epoch)

	l.mu.Lock()
	defer l.mu.Unlock()

	l.callsSinceSweep++
	if l.callsSinceSweep >= sweepEveryCalls {
		l.callsSinceSweep = 0
		l.sweep(now)
	}

	tat, ok := l.tat[key]
	if !ok && count && len(l.tat) >= l.maxKeys {
		l.evict(now)
	}
	// A missing key, or one idle long enough, has a full bucket.
	if !ok || tat < now {
		tat = now
	}
	next := tat + l.interval
	if next-now > l.burst {
		return false, next - now - l.burst
	}
	if count {
		l.tat[key] = next
	}
	return true, 0
}

// Len reports how many keys the Limiter tracks now, stale ones included; it
// is never more than the WithMaxKeys bound. Meant for metrics and tests.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}

// sweep deletes every stale key: one idle for at least the time its bucket
// takes to refill, which is at most one window. l.mu must be held.
func (l *Limiter) sweep(now time.Duration) {
	for key, tat := range l.tat {
		if tat <= now {
			delete(l.tat, key)
		}
	}
}

// evict makes room for one new key when the Limiter is full. l.mu must be
// held.
//
// When full, the Limiter evicts rather than refusing new keys (fail closed)
// or not tracking them (fail open). Failing closed would let anyone who can
// invent keys (spoofed addresses, made-up e-mail addresses) fill the table
// and lock every real user out of logging in. Failing open would let the
// same flood switch limiting off for everyone. Evicting keeps limiting on for
// all keys and lets a flood reset at most some keys' limits, at the cost of
// the flood itself being maxKeys requests per reset.
//
// The victim is the key with the earliest TAT among a few sampled ones (Go
// randomizes where map iteration starts): the one closest to a full bucket,
// whose deletion loses the least, and likely a stale one if any are stale. A
// sample keeps eviction O(1) where an exact choice would walk the whole table
// on every new key once it is full, under a flood exactly when it hurts.
func (l *Limiter) evict(now time.Duration) {
	var (
		victim    string
		victimTAT time.Duration
		seen      int
	)
	for key, tat := range l.tat {
		if seen == 0 || tat < victimTAT {
			victim, victimTAT = key, tat
		}
		seen++
		if seen >= evictSampleKeys || victimTAT <= now {
			break
		}
	}
	if seen > 0 {
		delete(l.tat, victim)
	}
}
