package ratelimit

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand, so no test sleeps.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { return c.t }

// call is one Allow in a scripted sequence: the clock first moves by after.
type call struct {
	after time.Duration
	key   string
	want  bool
}

// repeat returns n calls on key, the first after first and the rest each
// after step.
func repeat(n int, key string, first, step time.Duration, want bool) []call {
	calls := make([]call, n)
	for i := range calls {
		calls[i] = call{after: step, key: key, want: want}
	}
	if n > 0 {
		calls[0].after = first
	}
	return calls
}

func concat(parts ...[]call) []call {
	var all []call
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

var allowTests = []struct {
	name       string
	giveLimit  int
	giveWindow time.Duration
	give       []call
}{
	{
		name:       "limit reached then refused",
		giveLimit:  5,
		giveWindow: time.Minute,
		give: concat(
			repeat(5, "ip:1", 0, time.Second, true),
			repeat(3, "ip:1", time.Second, time.Second, false),
		),
	},
	{
		name:       "independent keys",
		giveLimit:  5,
		giveWindow: time.Minute,
		give: concat(
			repeat(5, "ip:1", 0, time.Second, true),
			repeat(1, "ip:1", 0, time.Second, false),
			repeat(5, "ip:2", 0, time.Second, true),
			repeat(1, "ip:2", 0, time.Second, false),
			repeat(1, "account:1", 0, time.Second, true),
		),
	},
	{
		name:       "full window re-allows the whole burst",
		giveLimit:  5,
		giveWindow: time.Minute,
		give: concat(
			repeat(5, "ip:1", 0, time.Second, true),
			repeat(1, "ip:1", time.Second, time.Second, false),
			repeat(5, "ip:1", time.Minute, time.Second, true),
			repeat(1, "ip:1", 0, time.Second, false),
		),
	},
	{
		name:       "one event refills per window/limit",
		giveLimit:  5,
		giveWindow: time.Minute,
		give: []call{
			{after: 0, key: "ip:1", want: true},
			{after: 0, key: "ip:1", want: true},
			{after: 0, key: "ip:1", want: true},
			{after: 0, key: "ip:1", want: true},
			{after: 0, key: "ip:1", want: true},
			{after: 0, key: "ip:1", want: false},
			{after: 12*time.Second - 1, key: "ip:1", want: false},
			{after: 1, key: "ip:1", want: true},
			{after: 0, key: "ip:1", want: false},
		},
	},
	{
		name:       "refused calls are not counted",
		giveLimit:  2,
		giveWindow: time.Minute,
		give: concat(
			repeat(2, "ip:1", 0, 0, true),
			repeat(20, "ip:1", 0, 0, false),
			// One refill interval (window/limit = 30s) after the last
			// allowed call one more is allowed, however many refusals
			// happened in between.
			repeat(1, "ip:1", 30*time.Second-1, 0, false),
			repeat(1, "ip:1", 1, 0, true),
		),
	},
	{
		name:       "limit one",
		giveLimit:  1,
		giveWindow: time.Hour,
		give: []call{
			{after: 0, key: "k", want: true},
			{after: time.Hour - 1, key: "k", want: false},
			{after: 1, key: "k", want: true},
		},
	},
	{
		name:       "window not divisible by limit still bursts exactly limit",
		giveLimit:  3,
		giveWindow: 10 * time.Nanosecond,
		give: concat(
			repeat(3, "k", 0, 0, true),
			repeat(1, "k", 0, 0, false),
		),
	},
	{
		name:       "limit zero is unlimited",
		giveLimit:  0,
		giveWindow: time.Minute,
		give:       repeat(1000, "ip:1", 0, 0, true),
	},
	{
		name:       "negative limit is unlimited",
		giveLimit:  -1,
		giveWindow: 0,
		give:       repeat(1000, "ip:1", 0, 0, true),
	},
}

func TestAllow(t *testing.T) {
	for _, tt := range allowTests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := New(tt.giveLimit, tt.giveWindow, WithClock(clock.Now))
			for i, c := range tt.give {
				clock.t = clock.t.Add(c.after)
				if got := l.Allow(c.key); got != c.want {
					t.Fatalf("call %d: Allow(%q) = %v, want %v", i, c.key, got, c.want)
				}
			}
		})
	}
}

func TestEvictionBoundsMemory(t *testing.T) {
	tests := []struct {
		name        string
		giveMaxKeys int
		giveKeys    int
		giveStep    time.Duration // clock step between keys
	}{
		{name: "all keys live", giveMaxKeys: 16, giveKeys: 10_000, giveStep: 0},
		{name: "keys go stale", giveMaxKeys: 16, giveKeys: 10_000, giveStep: time.Second},
		{name: "cap of one", giveMaxKeys: 1, giveKeys: 1_000, giveStep: 0},
		{name: "default cap sweeps", giveMaxKeys: DefaultMaxKeys, giveKeys: 10_000, giveStep: time.Minute},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := New(5, time.Minute, WithClock(clock.Now), WithMaxKeys(tt.giveMaxKeys))
			for i := range tt.giveKeys {
				clock.t = clock.t.Add(tt.giveStep)
				key := fmt.Sprintf("ip:%d", i)
				if !l.Allow(key) {
					t.Fatalf("Allow(%q) = false for a new key, want true", key)
				}
				if got := l.Len(); got > tt.giveMaxKeys {
					t.Fatalf("after %d keys Len() = %d, want <= %d", i+1, got, tt.giveMaxKeys)
				}
			}
			// Keys idle for a window are swept within sweepEveryCalls calls.
			if tt.giveStep >= time.Minute {
				if got, want := l.Len(), sweepEveryCalls; got > want {
					t.Errorf("Len() = %d with every key stale, want <= %d", got, want)
				}
			}
		})
	}
}

// TestEvictionSparesLimitedKey checks that flooding a full Limiter with new
// keys evicts the least limited keys, not one that has used its burst.
func TestEvictionSparesLimitedKey(t *testing.T) {
	clock := newFakeClock()
	l := New(5, time.Minute, WithClock(clock.Now), WithMaxKeys(16))
	for range 5 {
		if !l.Allow("attacker") {
			t.Fatal("Allow(attacker) = false within the burst, want true")
		}
	}
	for i := range 10_000 {
		l.Allow(fmt.Sprintf("flood:%d", i))
	}
	if l.Allow("attacker") {
		t.Error("Allow(attacker) = true after a flood of new keys, want false")
	}
}

func TestLongKeysAreBounded(t *testing.T) {
	clock := newFakeClock()
	l := New(1, time.Minute, WithClock(clock.Now))
	long := strings.Repeat("a", 10_000)
	tests := []struct {
		name string
		give string
		want bool
	}{
		{name: "first long key", give: long + "1", want: true},
		{name: "same long key again", give: long + "1", want: false},
		{name: "long key differing at the end", give: long + "2", want: true},
		{name: "key at the bound", give: strings.Repeat("b", maxKeyBytes), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.Allow(tt.give); got != tt.want {
				t.Errorf("Allow(%d bytes) = %v, want %v", len(tt.give), got, tt.want)
			}
		})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for key := range l.tat {
		if len(key) > maxKeyBytes {
			t.Errorf("stored key of %d bytes, want <= %d", len(key), maxKeyBytes)
		}
	}
}

func TestAllowConcurrent(t *testing.T) {
	tests := []struct {
		name           string
		giveLimit      int
		giveGoroutines int
		want           int64
	}{
		{name: "one key limit 10", giveLimit: 10, giveGoroutines: 50, want: 10},
		{name: "unlimited", giveLimit: 0, giveGoroutines: 50, want: 50},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock() // never moved: no data race on it
			l := New(tt.giveLimit, time.Minute, WithClock(clock.Now))
			var (
				allowed atomic.Int64
				start   sync.WaitGroup
				done    sync.WaitGroup
			)
			start.Add(1)
			for range tt.giveGoroutines {
				done.Go(func() {
					start.Wait()
					if l.Allow("ip:1") {
						allowed.Add(1)
					}
				})
			}
			start.Done()
			done.Wait()
			if got := allowed.Load(); got != tt.want {
				t.Errorf("allowed %d of %d concurrent calls, want %d", got, tt.giveGoroutines, tt.want)
			}
		})
	}
}

func TestNewPanics(t *testing.T) {
	tests := []struct {
		name       string
		giveLimit  int
		giveWindow time.Duration
		giveOpts   []Option
	}{
		{name: "zero window", giveLimit: 5, giveWindow: 0},
		{name: "negative window", giveLimit: 5, giveWindow: -time.Second},
		{name: "zero max keys", giveLimit: 5, giveWindow: time.Minute, giveOpts: []Option{WithMaxKeys(0)}},
		{name: "nil clock", giveLimit: 5, giveWindow: time.Minute, giveOpts: []Option{WithClock(nil)}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d, %v) did not panic", tt.giveLimit, tt.giveWindow)
				}
			}()
			New(tt.giveLimit, tt.giveWindow, tt.giveOpts...)
		})
	}
}

func TestTryAndPeek_sayHowLongToWait_peekCountsNothing(t *testing.T) {
	now := time.Unix(0, 0)
	l := New(2, time.Hour, WithClock(func() time.Time { return now }))
	for range 5 {
		if ok, _ := l.Peek("k"); !ok {
			t.Fatal("Peek refused a fresh key")
		}
	}
	if l.Len() != 0 {
		t.Errorf("Peek stored %d keys, want 0", l.Len())
	}
	l.Try("k")
	l.Try("k")
	ok, wait := l.Try("k")
	if ok || wait != 30*time.Minute {
		t.Errorf("third Try = %v, %v; want refused, 30m", ok, wait)
	}
	if ok, wait := l.Peek("k"); ok || wait != 30*time.Minute {
		t.Errorf("Peek when spent = %v, %v; want refused, 30m", ok, wait)
	}
	now = now.Add(30 * time.Minute)
	if ok, _ := l.Try("k"); !ok {
		t.Error("Try refused after the wait it named")
	}
}
