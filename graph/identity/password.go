package identity

import (
	"context"
	"fmt"
	"runtime"

	"github.com/alexedwards/argon2id"
)

// hashParams follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane).
var hashParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hasher hashes and checks passwords. Each hash takes 19 MiB for tens of milliseconds, so a
// semaphore bounds how many run at once: a login flood queues instead of exhausting memory.
type Hasher struct {
	slots chan struct{}
	// dummy is verified against for unknown users, so that they cost the same time as known ones.
	dummy string
}

// NewHasher allows concurrency hashes at once (0: one per CPU).
func NewHasher(concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{slots: make(chan struct{}, concurrency)}
	dummy, err := argon2id.CreateHash("coffer-dummy-password", hashParams)
	if err != nil {
		panic(fmt.Sprintf("identity: dummy hash: %v", err)) // only fails if crypto/rand does
	}
	h.dummy = dummy
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return argon2id.CreateHash(password, hashParams)
}

// Verify reports whether password matches hash. An empty hash (unknown user) is checked against
// the dummy hash and never matches.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
		return false, nil
	}
	return argon2id.ComparePasswordAndHash(password, hash)
}
