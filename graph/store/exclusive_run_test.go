package store_test

import (
	"context"
	"testing"

	"coffer/graph/pgtest"
	"coffer/graph/store"
)

// TestExclusiveRun_secondInstanceSkipsWhileTheFirstRuns: two pools on one PostgreSQL database (two
// server instances); while one runs the job, the other's ExclusiveRun does not run it, and once
// the first has finished (and unlocked) the lock is free again.
func TestExclusiveRun_secondInstanceSkipsWhileTheFirstRuns(t *testing.T) {
	url := pgtest.NewDatabase(t)
	one, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	two, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	const lockID = 0x7465737401
	ctx := context.Background()
	var secondRan, secondGot bool
	ran, err := store.ExclusiveRun(ctx, one, lockID, func(ctx context.Context) error {
		var err error
		secondGot, err = store.ExclusiveRun(ctx, two, lockID, func(context.Context) error {
			secondRan = true
			return nil
		})
		return err
	})
	if err != nil || !ran || secondGot || secondRan {
		t.Fatalf("first ran %v (%v); second ran %v/%v, want only the first", ran, err, secondGot, secondRan)
	}
	again, err := store.ExclusiveRun(ctx, two, lockID, func(context.Context) error { return nil })
	if err != nil || !again {
		t.Fatalf("after the first finished: ran %v, %v; want the lock free", again, err)
	}
}
