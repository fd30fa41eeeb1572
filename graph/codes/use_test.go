package codes_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/graph/codes"
	"coffer/graph/pgtest"
	"coffer/graph/store"
)

// A code is used up in the transaction of the change it authorises (Check, then Use in that
// transaction): a change that fails leaves the code usable, a wrong code's try is committed
// whatever the change does, and of parallel right codes one change commits.

var errInjected = errors.New("injected: connection reset by peer")

// change runs a change authorised by c: Use, then fail when it is given an error to fail with.
func change(ctx context.Context, s *codes.Service, c *ent.Challenge, fail error) error {
	_, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := s.Use(ctx, tx.Client(), c); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, fail
	})
	return err
}

// onStoresWithCode runs body on each store with a fresh service and a live LOGIN challenge.
func onStoresWithCode(t *testing.T, body func(t *testing.T, s *codes.Service, id, code string)) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			s, _, lastCode := newServiceOn(t, st)
			id := start(t, s, "user:1")
			body(t, s, id, lastCode())
		})
	}
}

func challengeOf(t *testing.T, s *codes.Service, id string) *ent.Challenge {
	t.Helper()
	c, err := s.Client.Challenge.Query().Where(challenge.PublicID(id)).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUse_changeFailsAfterTheCheck_codeStaysUsable(t *testing.T) {
	onStoresWithCode(t, func(t *testing.T, s *codes.Service, id, code string) {
		ctx := context.Background()
		c, err := s.Check(ctx, challenge.PurposeLOGIN, id, code)
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		if err := change(ctx, s, c, errInjected); !errors.Is(err, errInjected) {
			t.Fatalf("failed change: %v, want the injected error", err)
		}
		if got := challengeOf(t, s, id); got.UsedAt != nil || got.Attempts != 1 {
			t.Fatalf("after a failed change: used %v, %d tries; want unused, 1 try", got.UsedAt, got.Attempts)
		}
		c, err = s.Check(ctx, challenge.PurposeLOGIN, id, code)
		if err != nil {
			t.Fatalf("check again: %v", err)
		}
		if err := change(ctx, s, c, nil); err != nil {
			t.Fatalf("the change with the same code: %v", err)
		}
		if got := challengeOf(t, s, id); got.UsedAt == nil {
			t.Fatal("the code is not used up after its change committed")
		}
		if _, err := s.Check(ctx, challenge.PurposeLOGIN, id, code); !isInvalid(err) {
			t.Fatalf("check after the change: %v, want INVALID_CODE", err)
		}
	})
}

func TestCheck_wrongCode_tryCommittedAndNothingElse_fiveKillTheCode(t *testing.T) {
	onStoresWithCode(t, func(t *testing.T, s *codes.Service, id, code string) {
		ctx := context.Background()
		for i := 1; i <= codes.MaxAttempts; i++ {
			if _, err := s.Check(ctx, challenge.PurposeLOGIN, id, wrong(code)); !isInvalid(err) {
				t.Fatalf("wrong code %d: %v, want INVALID_CODE", i, err)
			}
			if got := challengeOf(t, s, id); got.Attempts != i || got.UsedAt != nil {
				t.Fatalf("after wrong code %d: %d tries, used %v; want %d tries, unused", i, got.Attempts, got.UsedAt, i)
			}
		}
		if _, err := s.Check(ctx, challenge.PurposeLOGIN, id, code); !isInvalid(err) {
			t.Fatalf("right code after %d wrong ones: %v, want INVALID_CODE", codes.MaxAttempts, err)
		}
	})
}

func TestUse_parallelRightCodes_oneChangeCommits(t *testing.T) {
	onStoresWithCode(t, func(t *testing.T, s *codes.Service, id, code string) {
		ctx := context.Background()
		const n = codes.MaxAttempts
		var committed, invalid atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.Check(ctx, challenge.PurposeLOGIN, id, code)
				if err == nil {
					err = change(ctx, s, c, nil)
				}
				switch {
				case err == nil:
					committed.Add(1)
				case isInvalid(err):
					invalid.Add(1)
				default:
					t.Errorf("a parallel confirmation: %v", err)
				}
			}()
		}
		wg.Wait()
		if committed.Load() != 1 || invalid.Load() != n-1 {
			t.Fatalf("%d changes committed, %d INVALID_CODE; want 1 and %d", committed.Load(), invalid.Load(), n-1)
		}
	})
}
