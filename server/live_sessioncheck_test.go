package main

import (
	"testing"
	"time"
)

// The session check queries the sessions of the sockets open when it starts; a socket opened
// while that query runs was not part of it and must not be closed as if its session had ended.
// With a check every 2 ms, opening forty sockets (each with a session of its own) one after
// another lands several of them inside a running check. The bench's 2,000 subscribers found
// this: two dozen of them were closed with 4401 while they opened.
func TestLive_sessionCheck_sparesSocketsOpenedWhileItRuns(t *testing.T) {
	s := startServer(t, "postgres", "LIVE_SESSION_CHECK=2ms", "LIVE_MAX_SUBSCRIPTIONS_PER_USER=100", "WS_MAX_CONNECTIONS_PER_USER=100",
		"AUTH_RATE_LIMIT=0", "AUTH_ACCOUNT_RATE_LIMIT=0")
	admin := s.admin()
	first := s.customer(admin, "alice")
	mainID, _ := lvStatement(t, s, first, 1)

	const n = 40
	tokens := []string{first}
	for len(tokens) < n {
		tokens = append(tokens, s.login("alice", "alice-password"))
	}
	clients := make([]*lvClient, n)
	ids := make([]string, n)
	for i := range clients {
		clients[i] = lvConnect(t, s, lvTransportWS, tokens[i])
		ids[i] = clients[i].subscribe(lvBalanceSub, map[string]any{"acc": mainID})
	}
	time.Sleep(100 * time.Millisecond) // many more checks, now with every socket known
	for i, c := range clients {
		select {
		case <-c.done:
			t.Fatalf("socket %d of %d closed (code %d) although its session is valid", i, n, c.closeCode)
		default:
		}
	}
	// Every one delivers.
	lvMintN(t, s, admin, "alice", 1)
	for i, c := range clients {
		if ev := c.event(ids[i]); ev.Version != 1 || ev.Balance.Amount != "1.00" {
			t.Fatalf("socket %d: event version %d balance %s, want 1 and 1.00", i, ev.Version, ev.Balance.Amount)
		}
	}
	// The check still ends the socket of a session that ended, and only that one.
	s.mustDo(tokens[0], `mutation { logout }`, nil, nil)
	if code := clients[0].wait(); code != wsCloseUnauth {
		t.Fatalf("after logout: close code %d, want %d", code, wsCloseUnauth)
	}
	time.Sleep(50 * time.Millisecond)
	for i, c := range clients[1:] {
		select {
		case <-c.done:
			t.Fatalf("socket %d closed (code %d) by another session's logout", i+1, c.closeCode)
		default:
		}
	}
}
