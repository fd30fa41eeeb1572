package identity_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"

	"coffer/ent/user"
	"coffer/graph/identity"
	"coffer/graph/pgtest"
)

// heldRounds holds the first `hold` rounds of e's shared session look-up after their statement
// ran, until release is closed, and records how many tokens each round read.
type heldRounds struct {
	mu      sync.Mutex
	tokens  []int
	entered chan struct{}
	release chan struct{}
}

func holdAuthRounds(e *env, hold int) *heldRounds {
	h := &heldRounds{entered: make(chan struct{}, hold), release: make(chan struct{})}
	e.SQL = e.db.SQL // the pooled path, the one that shares rounds
	identity.AfterAuthRounds(e.Service, func(tokens int) {
		h.mu.Lock()
		h.tokens = append(h.tokens, tokens)
		n := len(h.tokens)
		h.mu.Unlock()
		if n <= hold {
			h.entered <- struct{}{}
			<-h.release
		}
	})
	return h
}

// authenticateAll authenticates each token on a goroutine of its own; wait returns the viewers.
func authenticateAll(t *testing.T, e *env, tokens ...string) (wait func() []*identity.Viewer) {
	viewers := make([]*identity.Viewer, len(tokens))
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, token := range tokens {
		wg.Add(1)
		go func() { defer wg.Done(); viewers[i], errs[i] = e.Authenticate(context.Background(), token) }()
	}
	return func() []*identity.Viewer {
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("token %d: %v", i, err)
			}
		}
		return viewers
	}
}

// waitForLookups returns once n look-ups wait for the next round.
func waitForLookups(e *env, n int) {
	for identity.AuthLookupsWaiting(e.Service) != n {
		runtime.Gosched()
	}
}

func username(v *identity.Viewer) string {
	if v == nil {
		return "UNAUTHENTICATED"
	}
	return v.Username
}

// TestAuthenticate_concurrentTokens_shareOneRound_eachGetsItsOwnSession: look-ups made while
// rounds are in flight share one statement, and each token gets its own session, or none when it
// is revoked, its user locked, or unknown, whatever the others in the round are.
func TestAuthenticate_concurrentTokens_shareOneRound_eachGetsItsOwnSession(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			e, ctx := open(t, st), context.Background()
			tokens := map[string]string{}
			var bobViewer *identity.Viewer
			for _, name := range []string{"ann", "bob", "cid", "dan"} {
				e.customer(t, name)
				var v *identity.Viewer
				tokens[name], v = e.login(t, name)
				if name == "bob" {
					bobViewer = v
				}
			}
			if err := e.Logout(ctx, bobViewer); err != nil {
				t.Fatal(err)
			}
			if err := e.Client.User.Update().Where(user.Username("dan")).SetStatus(user.StatusLOCKED).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			h := holdAuthRounds(e, 2)
			blockers := authenticateAll(t, e, tokens["ann"], tokens["cid"])
			<-h.entered
			<-h.entered
			round := authenticateAll(t, e, tokens["ann"], tokens["bob"], tokens["cid"], tokens["dan"], "no-such-token", tokens["ann"])
			waitForLookups(e, 6)
			close(h.release)
			blockers()
			got := []string{}
			for _, v := range round() {
				got = append(got, username(v))
			}
			want := []string{"ann", "UNAUTHENTICATED", "cid", "UNAUTHENTICATED", "UNAUTHENTICATED", "ann"}
			if !slices.Equal(got, want) {
				t.Errorf("viewers %v, want %v", got, want)
			}
			if !slices.Equal(h.tokens, []int{1, 1, 5}) {
				t.Errorf("tokens per round %v, want two rounds of one, then one round of the 5 distinct tokens", h.tokens)
			}
			if v := e.viewer(t, tokens["cid"]); v == nil || v.CustomerID == 0 || v.MainAccountID == 0 {
				t.Errorf("cid's viewer after the rounds: %+v", v)
			}
		})
	}
}

// TestAuthenticate_roundInFlight_neverAnswersALaterLookup: a session revoked while a round that
// read it as valid is still answering is refused to the look-up made after the revocation: that
// look-up waits for a round of its own.
func TestAuthenticate_roundInFlight_neverAnswersALaterLookup(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			e, ctx := open(t, st), context.Background()
			e.customer(t, "ann")
			token, v := e.login(t, "ann")
			h := holdAuthRounds(e, 2)
			early := authenticateAll(t, e, token, token)
			<-h.entered
			<-h.entered // both rounds read the session as valid
			if err := e.Logout(ctx, v); err != nil {
				t.Fatal(err)
			}
			late := authenticateAll(t, e, token)
			waitForLookups(e, 1)
			close(h.release)
			for i, v := range early() {
				if v == nil {
					t.Errorf("look-up %d, made before the logout: UNAUTHENTICATED", i)
				}
			}
			if v := late()[0]; v != nil {
				t.Errorf("the look-up made after the logout authenticated %s", v.Username)
			}
			if !slices.Equal(h.tokens, []int{1, 1, 1}) {
				t.Errorf("tokens per round %v, want three rounds of one", h.tokens)
			}
		})
	}
}
