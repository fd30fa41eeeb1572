package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// knownBugs leaves out, in make test, operations that reproduce bugs still open ("name=0" weights;
// docs/simulator.md lists each with the seeds that found it). Every bug found so far is fixed, so
// the list is empty and the fixed seeds run the regress.* operations too; when the simulator finds
// a new bug, add its operation here until the fix is merged.
var knownBugs []string

// TestSimulate_fixedSeeds runs the simulator on both stores with two fixed seeds each, with every
// fault, and wants no violation: no INTERNAL outside a fault, money conserved, the model equal to
// the server, the state machines in agreement, every subscriber complete and in order.
func TestSimulate_fixedSeeds(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "coffer")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var log strings.Builder
	o := options{
		server: bin, store: "postgres,sqlite", dir: t.TempDir(), seed: 1, seeds: 2, steps: 500,
		servers: 2, workers: 4, customers: 10, subscribers: 2, checkEvery: 200,
		weights: strings.Join(knownBugs, ","), faults: "all", faultSteps: 120, out: &log,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sum, err := simulate(ctx, o)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, log.String())
	}
	if sum.Violations > 0 || sum.InternalErrors > 0 {
		t.Errorf("%d violations, %d INTERNAL outside faults:\n%s", sum.Violations, sum.InternalErrors, log.String())
	}
	if sum.Ops < 4*o.steps {
		t.Errorf("%d operations over %d seeds of %d steps: the simulation stopped early\n%s", sum.Ops, 4, o.steps, log.String())
	}
	t.Logf("%d operations, %d checks, faults %v, %.1f s", sum.Ops, sum.Checks, sum.Faults, sum.Seconds)
}
