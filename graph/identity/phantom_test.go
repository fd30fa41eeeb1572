package identity

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPhantomLockout_locksForTheWholePeriodLikeARealAccount(t *testing.T) {
	p := newPhantomLockout(5, 15*time.Minute)
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i := range 4 {
		p.fail("nobody", t0.Add(time.Duration(i)*time.Second))
		if p.locked("nobody", t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("locked after %d failures, want 5", i+1)
		}
	}
	p.fail("nobody", t0.Add(4*time.Second))
	tests := []struct {
		give time.Duration
		want bool
	}{
		{give: 5 * time.Second, want: true},
		{give: 5 * time.Minute, want: true},
		{give: 15*time.Minute + 3*time.Second, want: true},
		{give: 15*time.Minute + 4*time.Second, want: false},
	}
	for _, tt := range tests {
		if got := p.locked("nobody", t0.Add(tt.give)); got != tt.want {
			t.Errorf("locked at +%v = %v, want %v", tt.give, got, tt.want)
		}
	}
	if p.locked("somebody-else", t0.Add(time.Minute)) {
		t.Error("another name is locked too")
	}
	// After the lockout the count starts from zero, as recordFailure's does.
	after := t0.Add(time.Hour)
	for range 4 {
		p.fail("nobody", after)
	}
	if p.locked("nobody", after) {
		t.Error("locked again after 4 failures")
	}
	p.fail("nobody", after)
	if !p.locked("nobody", after) {
		t.Error("not locked again after 5 failures")
	}
}

func TestPhantomLockout_memoryBounded_lockedNamesKeptOverIdleOnes(t *testing.T) {
	p := newPhantomLockout(1, time.Minute)
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	p.fail("locked-one", t0.Add(time.Hour)) // locked until +61m
	for i := range maxPhantomNames + 10 {
		p.fail(fmt.Sprintf("name-%d", i), t0)
	}
	if n := len(p.names); n > maxPhantomNames {
		t.Fatalf("%d names remembered, want at most %d", n, maxPhantomNames)
	}
	if !p.locked("locked-one", t0.Add(time.Hour+30*time.Second)) {
		t.Error("a locked name was evicted before idle ones")
	}
}

func TestPhantomLockout_parallelClaims_exactlyMaxBeforeTheLock(t *testing.T) {
	p := newPhantomLockout(5, 15*time.Minute)
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var claimed atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if p.claim("nobody", t0) {
				claimed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := claimed.Load(); n != 5 || !p.locked("nobody", t0) {
		t.Errorf("%d of 50 parallel claims went through (locked %v), want 5 and locked", n, p.locked("nobody", t0))
	}
}
