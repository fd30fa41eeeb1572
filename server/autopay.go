package main

import (
	"context"
	"log/slog"
	"time"

	"coffer/graph/products"
	"coffer/graph/store"
)

// autopayLockID is the advisory lock that lets one instance at a time run the autopay job.
const autopayLockID = 0x636f66666572_02 // "coffer", job 2

// autopayEvery pays the bills due for autopay every interval (AUTOPAY_INTERVAL) until ctx ends.
// The first run is one interval after start. Two instances never run it at the same time (the
// advisory lock), and even if they did a bill would be paid once (products.RunAutopay's claim).
func (a *app) autopayEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var run products.AutopayRun
		ran, err := store.ExclusiveRun(ctx, a.db, autopayLockID, func(ctx context.Context) (err error) {
			run, err = a.products.RunAutopay(ctx)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			slog.Error("autopay run failed", "error", err, "paid", run.Paid, "failed", run.Failed)
		case ran && run.Paid+run.Failed > 0:
			slog.Info("autopay run", "paid", run.Paid, "failed", run.Failed)
		}
	}
}
