package coalesce

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestLoader_concurrentLookups_shareRounds: look-ups made while rounds are in flight share the
// next round's statement, and each gets its own key's value.
func TestLoader_concurrentLookups_shareRounds(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var rounds [][]int
	l := &Loader[int, int]{Fetch: func(_ context.Context, keys []int) (map[int]int, error) {
		mu.Lock()
		rounds = append(rounds, slices.Clone(keys))
		n := len(rounds)
		mu.Unlock()
		if n <= roundsInFlight {
			<-release // the first rounds wait, so that the rest collect
		}
		found := map[int]int{}
		for _, k := range keys {
			if k%2 == 0 {
				found[k] = 10 * k
			}
		}
		return found, nil
	}}
	var wg sync.WaitGroup
	results := make([]int, 20)
	oks := make([]bool, 20)
	// The first two start rounds of their own.
	for i := range roundsInFlight {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], oks[i], _ = l.Load(context.Background(), i) }()
	}
	for {
		mu.Lock()
		n := len(rounds)
		mu.Unlock()
		if n == roundsInFlight {
			break
		}
		runtime.Gosched()
	}
	for i := roundsInFlight; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], oks[i], _ = l.Load(context.Background(), i%10) }()
	}
	for {
		l.mu.Lock()
		n := 0
		if l.next != nil {
			n = l.next.calls
		}
		l.mu.Unlock()
		if n == 20-roundsInFlight {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if len(rounds) != roundsInFlight+1 || len(rounds[roundsInFlight]) != 10 {
		t.Fatalf("rounds %v, want %d of one key then one of the 10 distinct keys", rounds, roundsInFlight)
	}
	for i, v := range results {
		k := i
		if i >= roundsInFlight {
			k = i % 10
		}
		if want := k%2 == 0; oks[i] != want || (want && v != 10*k) {
			t.Errorf("look-up %d of key %d: %d, %v", i, k, v, oks[i])
		}
	}
}

// TestLoader_roundError_failsItsLookups: a failed round answers each of its look-ups with its
// error, and the next look-up runs a round of its own.
func TestLoader_roundError_failsItsLookups(t *testing.T) {
	fail := true
	l := &Loader[string, int]{Fetch: func(_ context.Context, keys []string) (map[string]int, error) {
		if fail {
			return nil, errors.New("database down")
		}
		return map[string]int{"a": 1}, nil
	}}
	if _, _, err := l.Load(context.Background(), "a"); err == nil {
		t.Fatal("want the round's error")
	}
	fail = false
	if v, ok, err := l.Load(context.Background(), "a"); err != nil || !ok || v != 1 {
		t.Errorf("after the failure: %d %v %v", v, ok, err)
	}
}
