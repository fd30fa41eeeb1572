// Command e2eenv gives the end-to-end suite (e2e/) the same throwaway PostgreSQL that the Go tests
// use (graph/pgtest): it starts a cluster, creates the database "coffer", prints its URL as one
// line on stdout, and stops the cluster when stdin closes or a signal arrives. The cluster's
// postgres dies with this process in any case (pgtest's parent-death signal).
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"coffer/graph/pgtest"
)

func main() {
	c, err := pgtest.StartCluster()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2eenv:", err)
		os.Exit(1)
	}
	defer c.Stop()
	if err := c.CreateDatabase("coffer"); err != nil {
		fmt.Fprintln(os.Stderr, "e2eenv:", err)
		c.Stop()
		os.Exit(1)
	}
	fmt.Println(c.URL("coffer"))
	// The parent holds our stdin open for as long as it needs the database.
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
}
