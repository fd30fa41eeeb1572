package identity

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxPhantomNames bounds the names nobody has that the phantom lockout remembers: 32 bytes of
// digest plus a small record each, a few megabytes at most whatever an attacker types.
const maxPhantomNames = 50_000

// phantomLockout makes a login name that nobody has behave like a real account under failed
// logins: after max consecutive failures it answers ACCOUNT_LOCKED for the lockout period, then
// counts from zero again, exactly as recordFailure does for a real user. Without it, a name that
// never locks would tell an attacker that nobody has it.
type phantomLockout struct {
	max     int
	lockout time.Duration

	mu    sync.Mutex
	names map[[sha256.Size]byte]*phantomName
}

type phantomName struct {
	failures    int
	lockedUntil time.Time
	lastSeen    time.Time
}

func newPhantomLockout(max int, lockout time.Duration) *phantomLockout {
	return &phantomLockout{max: max, lockout: lockout, names: make(map[[sha256.Size]byte]*phantomName)}
}

// locked reports whether name is in its lockout period at now.
func (p *phantomLockout) locked(name string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.names[sha256.Sum256([]byte(name))]
	return n != nil && now.Before(n.lockedUntil)
}

// claim counts an attempt at name's password before the (dummy) password is checked, as
// claimAttempt does for a real account: false when name is locked, else the attempt is counted as
// a failure, and the one that reaches the threshold starts the lockout. Checking and counting
// under one lock keeps parallel attempts from outrunning it, as they cannot for a real account.
func (p *phantomLockout) claim(name string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.names[sha256.Sum256([]byte(name))]; n != nil && now.Before(n.lockedUntil) {
		return false
	}
	p.failLocked(name, now)
	return true
}

// fail counts one failed login for name and starts the lockout at the threshold.
func (p *phantomLockout) fail(name string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failLocked(name, now)
}

// failLocked is fail with p.mu held.
func (p *phantomLockout) failLocked(name string, now time.Time) {
	if p.max <= 0 {
		return
	}
	key := sha256.Sum256([]byte(name))
	n := p.names[key]
	if n == nil {
		if len(p.names) >= maxPhantomNames {
			p.evict(now)
		}
		n = &phantomName{}
		p.names[key] = n
	}
	n.lastSeen = now
	n.failures++
	if n.failures >= p.max {
		n.failures = 0
		n.lockedUntil = now.Add(p.lockout)
	}
}

// evict makes room: first every name whose lockout is over and that has not failed for a lockout
// period (forgetting a few failures of a name nobody has costs nothing), else the longest idle.
func (p *phantomLockout) evict(now time.Time) {
	var oldestKey [sha256.Size]byte
	var oldest time.Time
	for k, n := range p.names {
		if !now.Before(n.lockedUntil) && now.Sub(n.lastSeen) > p.lockout {
			delete(p.names, k)
			continue
		}
		if oldest.IsZero() || n.lastSeen.Before(oldest) {
			oldestKey, oldest = k, n.lastSeen
		}
	}
	if len(p.names) >= maxPhantomNames {
		delete(p.names, oldestKey)
	}
}
