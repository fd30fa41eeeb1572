package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestLive_bothSubprotocols_deliverEveryKindOfMove(t *testing.T) {
	// PostgreSQL: NOTIFY and LISTEN; SQLite: the in-process broker.
	for _, st := range stores {
		t.Run(st, func(t *testing.T) { lvEveryKindOfMove(t, st) })
	}
}

func TestLive_resume_deliversExactlyTheMissedChangesInOrderThenLive(t *testing.T) {
	s := startServer(t, "postgres")
	admin := s.admin()
	alice := s.customer(admin, "alice")
	mainID, _ := lvStatement(t, s, alice, 1)
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		t.Run(proto, func(t *testing.T) {
			s := onT(t, s)
			_, lines := lvStatement(t, s, alice, 1)
			start := 0
			if len(lines) > 0 {
				start = lines[0].Version
			}
			c := lvConnect(t, s, proto, alice)
			id := c.subscribe(lvBalanceSub, map[string]any{"acc": mainID, "after": start})
			lvMintN(t, s, admin, "alice", 3)
			lvExpectRun(t, c, id, start, 3)
			last := start + 3
			// The phone drops its connection; 50 changes happen meanwhile.
			c.conn.Close()
			lvMintN(t, s, admin, "alice", 50)
			c = lvConnect(t, s, proto, alice)
			id = c.subscribe(lvBalanceSub, map[string]any{"acc": mainID, "after": last})
			lvExpectRun(t, c, id, last, 50)
			// Then live ones, and nothing twice.
			lvMintN(t, s, admin, "alice", 2)
			lvExpectRun(t, c, id, last+50, 2)
			c.quiet(id, 300*time.Millisecond)
		})
	}
}

func TestLive_twoInstances_deliverEachOthersChanges_andSurviveAListenerKill(t *testing.T) {
	one, two, url := lvSharedServers(t)
	admin := one.admin()
	alice := one.customer(admin, "alice")
	mainID, _ := lvStatement(t, one, alice, 1)

	// A subscriber on instance two; every change goes through instance one.
	c := lvConnect(t, two, lvTransportWS, alice)
	id := c.subscribe(lvBalanceSub, map[string]any{"acc": mainID, "after": 0})
	lvMintN(t, one, admin, "alice", 3)
	lvExpectRun(t, c, id, 0, 3)

	// Both listeners die; changes made right then still arrive, in order, none twice.
	if n := lvKillListeners(t, url); n != 2 {
		t.Fatalf("terminated %d listener connections, want 2 (one per instance)", n)
	}
	lvMintN(t, one, admin, "alice", 5)
	lvExpectRun(t, c, id, 3, 5)

	// A resuming client loses nothing either: disconnected, listeners killed again, changes made.
	c.conn.Close()
	lvKillListeners(t, url)
	lvMintN(t, one, admin, "alice", 5)
	c = lvConnect(t, two, lvLegacyWS, alice)
	id = c.subscribe(lvBalanceSub, map[string]any{"acc": mainID, "after": 8})
	lvExpectRun(t, c, id, 8, 5)
	lvMintN(t, one, admin, "alice", 1)
	lvExpectRun(t, c, id, 13, 1)
	c.quiet(id, 300*time.Millisecond)
}

func TestLive_rejections(t *testing.T) {
	s := startServer(t, "postgres", "ALLOWED_ORIGINS=https://app.example.com", "LIVE_MAX_SUBSCRIPTIONS_PER_USER=2")
	admin := s.admin()
	alice := s.customer(admin, "alice")
	bob := s.customer(admin, "bob")
	bobMain, _ := lvStatement(t, s, bob, 1)

	t.Run("no token closes with 4403", func(t *testing.T) { lvRejectedNoToken(t, s) })
	t.Run("an unknown token closes with 4403", func(t *testing.T) { lvRejectedUnknownToken(t, s) })
	t.Run("the session cookie authenticates", func(t *testing.T) { lvRejectedCookie(t, s, alice) })
	t.Run("logout closes the socket with 4401 within seconds", func(t *testing.T) { lvRejectedLogout(t, s) })
	t.Run("disabling the user closes the socket with 4401", func(t *testing.T) { lvRejectedDisabled(t, s, admin) })
	t.Run("a message over the read limit closes the socket", func(t *testing.T) { lvRejectedReadLimit(t, s, alice) })
	t.Run("another customer's account is NOT_FOUND", func(t *testing.T) { lvRejectedOthersAccount(t, s, admin, alice, bobMain) })
	t.Run("a foreign Origin is refused before the upgrade", func(t *testing.T) { lvRejectedForeignOrigin(t, s, alice) })
	t.Run("the per-user cap refuses a third subscription", func(t *testing.T) { lvRejectedPerUserCap(t, s, admin, bob) })
}

func lvRejectedNoToken(t *testing.T, s *testServer) {
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		c, _, err := lvDial(t, s, proto, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.init(nil); got != "" {
			t.Fatalf("%s: connection_init without a token was acknowledged", proto)
		}
		if code := c.wait(); code != 4403 {
			t.Fatalf("%s: close code %d, want 4403", proto, code)
		}
	}
}

func lvRejectedUnknownToken(t *testing.T, s *testServer) {
	c, _, err := lvDial(t, s, lvTransportWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.init(map[string]any{"token": "not-a-session"}); got != "" {
		t.Fatal("an unknown token was acknowledged")
	}
	if code := c.wait(); code != 4403 {
		t.Fatalf("close code %d, want 4403", code)
	}
}

func lvRejectedCookie(t *testing.T, s *testServer, alice string) {
	c, _, err := lvDial(t, s, lvTransportWS, http.Header{"Cookie": {"session=" + alice}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.init(nil); got != "connection_ack" {
		t.Fatalf("cookie session refused (close %d)", c.wait())
	}
}

func lvRejectedLogout(t *testing.T, s *testServer) {
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		s = onT(t, s)
		token := s.login("alice", "alice-password")
		c := lvConnect(t, s, proto, token)
		id := c.subscribe(lvBalanceSub, nil)
		c.quiet(id, 200*time.Millisecond) // subscribed, nothing to say
		start := time.Now()
		s.mustDo(token, `mutation { logout }`, nil, nil)
		if code := c.wait(); code != 4401 {
			t.Fatalf("%s: close code %d, want 4401", proto, code)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Fatalf("%s: closed %v after logout", proto, waited)
		}
		// The revoked token cannot open a new socket either.
		c2, _, err := lvDial(t, s, proto, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c2.init(map[string]any{"authorization": "Bearer " + token}); got != "" || c2.wait() != 4403 {
			t.Fatalf("%s: a revoked token opened a socket", proto)
		}
	}
}

func lvRejectedDisabled(t *testing.T, s *testServer, admin string) {
	s = onT(t, s)
	dave := s.customer(admin, "dave")
	c := lvConnect(t, s, lvLegacyWS, dave)
	c.quiet(c.subscribe(lvBalanceSub, nil), 200*time.Millisecond)
	s.mustDo(admin, `mutation { setUserStatus(username: "dave", status: DISABLED) { status } }`, nil, nil)
	if code := c.wait(); code != 4401 {
		t.Fatalf("close code %d, want 4401", code)
	}
}

func lvRejectedReadLimit(t *testing.T, s *testServer, alice string) {
	c := lvConnect(t, s, lvTransportWS, alice)
	c.subscribe(strings.Repeat(" ", 100<<10)+lvBalanceSub, nil)
	if code := c.wait(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want %d", code, websocket.CloseMessageTooBig)
	}
}

func lvRejectedOthersAccount(t *testing.T, s *testServer, admin string, alice string, bobMain string) {
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		c := lvConnect(t, s, proto, alice)
		id := c.subscribe(lvBalanceSub, map[string]any{"acc": bobMain})
		_, errs, ok := c.next(id, 5*time.Second)
		if !ok || len(errs) == 0 || errs[0].Extensions.Code != "NOT_FOUND" {
			t.Fatalf("%s: want NOT_FOUND, got ok=%v %+v", proto, ok, errs)
		}
		// And bob's changes never reach alice's socket.
		all := c.subscribe(lvBalanceSub, nil)
		s.mint(admin, "bob", "5")
		c.quiet(all, 500*time.Millisecond)
	}
	// An administrator may name any account.
	c := lvConnect(t, s, lvTransportWS, admin)
	id := c.subscribe(lvBalanceSub, map[string]any{"acc": bobMain, "after": 0})
	if ev := c.event(id); ev.Account.ID != bobMain || ev.Version != 1 {
		t.Fatalf("admin got %+v", ev)
	}
}

func lvRejectedForeignOrigin(t *testing.T, s *testServer, alice string) {
	_, resp, err := lvDial(t, s, lvTransportWS, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v, response %v", err, resp)
	}
	for _, origin := range []string{"https://app.example.com", s.URL} {
		c, _, err := lvDial(t, s, lvTransportWS, http.Header{"Origin": {origin}})
		if err != nil {
			t.Fatalf("origin %s refused: %v", origin, err)
		}
		if c.init(map[string]any{"token": alice}) != "connection_ack" {
			t.Fatalf("origin %s: init refused", origin)
		}
	}
}

func lvRejectedPerUserCap(t *testing.T, s *testServer, admin string, bob string) {
	_, lines := lvStatement(t, s, bob, 1)
	after := map[string]any{"after": lines[0].Version} // the mint below reaches them however late they start
	c := lvConnect(t, s, lvTransportWS, bob)
	ids := []string{c.subscribe(lvBalanceSub, after), c.subscribe(lvBalanceSub, after), c.subscribe(lvBalanceSub, after)}
	// Exactly one of the three (whichever the server started last) is refused.
	var refused string
	for deadline := time.Now().Add(10 * time.Second); refused == "" && time.Now().Before(deadline); {
		for _, id := range ids {
			if _, errs, ok := c.next(id, 50*time.Millisecond); ok {
				if len(errs) == 0 || errs[0].Extensions.Code != "TOO_MANY_REQUESTS" || errs[0].Extensions.RetryAfter <= 0 {
					t.Fatalf("subscription %s: %+v", id, errs)
				}
				refused = id
				break
			}
		}
	}
	if refused == "" {
		t.Fatal("no subscription was refused")
	}
	// The other two still work.
	s.mint(admin, "bob", "1")
	for _, id := range ids {
		if id == refused {
			continue
		}
		if ev := c.event(id); ev.Balance.Amount != "11.00" {
			t.Fatalf("got %+v", ev)
		}
	}
}

func TestLive_transactionUpdated_followsTheViewersTransactions(t *testing.T) {
	s := startServer(t, "postgres")
	admin := s.admin()
	alice := s.customer(admin, "alice")
	bob := s.customer(admin, "bob")
	carol := s.customer(admin, "carol")
	s.mint(admin, "alice", "100")
	const sub = `subscription { transactionUpdated { id kind status amount { amount } } }`
	type txn struct{ ID, Kind, Status string }
	// next skips the mint's update: updates are live only, and the mint's may still be on its way
	// (a few milliseconds) when the subscriptions start.
	next := func(c *lvClient, id string) txn {
		t.Helper()
		for {
			data, errs, ok := c.next(id, 10*time.Second)
			if !ok || len(errs) > 0 {
				t.Fatalf("want an update, got ok=%v %+v", ok, errs)
			}
			var out struct{ TransactionUpdated txn }
			if err := json.Unmarshal(data, &out); err != nil {
				t.Fatal(err)
			}
			if out.TransactionUpdated.Kind != "CREATION" {
				return out.TransactionUpdated
			}
		}
	}
	ca, cb, cc := lvConnect(t, s, lvTransportWS, alice), lvConnect(t, s, lvLegacyWS, bob), lvConnect(t, s, lvTransportWS, carol)
	ia, ib, ic := ca.subscribe(sub, nil), cb.subscribe(sub, nil), cc.subscribe(sub, nil)
	// Updates are live only: give the three subscriptions time to be registered (alice's may
	// see the mint's update, which next skips).
	cb.quiet(ib, 300*time.Millisecond)
	cc.quiet(ic, 300*time.Millisecond)

	var pending struct{ SendCoins struct{ ID, Status string } }
	s.mustDo(alice, `mutation { sendCoins(input: {recipient: {username: "bob"}, amount: "7", autoSign: false}) { id status } }`, nil, &pending)
	for _, c := range []struct {
		c  *lvClient
		id string
	}{{ca, ia}, {cb, ib}} {
		if got := next(c.c, c.id); got.ID != pending.SendCoins.ID || got.Status != "PENDING" {
			t.Fatalf("got %+v, want %s PENDING", got, pending.SendCoins.ID)
		}
	}
	s.mustDo(alice, `mutation($id: ID!) { cancelTransaction(id: $id) { id } }`, map[string]any{"id": pending.SendCoins.ID}, nil)
	if got := next(ca, ia); got.ID != pending.SendCoins.ID || got.Status != "VOIDED" {
		t.Fatalf("got %+v, want VOIDED", got)
	}
	if got := next(cb, ib); got.Status != "VOIDED" {
		t.Fatalf("bob got %+v, want VOIDED", got)
	}
	if r := s.send(alice, "bob", "3", nil); r.code() != "" {
		t.Fatal(r.Errors)
	}
	if got := next(ca, ia); got.Status != "POSTED" || got.Kind != "TRANSFER" {
		t.Fatalf("got %+v, want a POSTED TRANSFER", got)
	}
	if got := next(cb, ib); got.Status != "POSTED" {
		t.Fatalf("bob got %+v", got)
	}
	// Carol is party to none of it.
	cc.quiet(ic, 300*time.Millisecond)
	ca.quiet(ia, 10*time.Millisecond)
}

func lvEveryKindOfMove(t *testing.T, st string) {
	s := startServer(t, st)
	admin := s.admin()
	alice := ptCustomerWithAddress(t, s, admin, "alice", "")
	s.customer(admin, "bob")
	subs := lvSubscribeBoth(t, s, alice)
	mainID, _ := lvStatement(t, s, alice, 1)
	onMain := func(version int, balance, available string) func(lvEvent) {
		return func(ev lvEvent) {
			t.Helper()
			_, lines := lvStatement(t, s, alice, 1)
			if ev.Account.ID != mainID || ev.Entry == nil || ev.Entry.Version != version ||
				lines[0].Version != version || lines[0].BalanceAfter.Amount != balance {
				t.Fatalf("event %+v, statement %+v; want version %d balance %s", ev, lines[0], version, balance)
			}
			lvWant(t, ev, version, balance, available)
		}
	}

	s.mint(admin, "alice", "100")
	subs.expect(t, "createCoins", onMain(1, "100.00", "100.00"))

	if r := s.send(alice, "bob", "10", nil); r.code() != "" {
		t.Fatal(r.Errors)
	}
	subs.expect(t, "sendCoins", onMain(2, "90.00", "90.00"))

	var card struct {
		CreateCard struct{ Card struct{ ID string } }
	}
	s.mustDo(alice, ptCreateCardMutation, nil, &card)
	s.mustDo(alice, ptFundCardMutation, map[string]any{"in": map[string]any{"cardId": card.CreateCard.Card.ID, "amount": "25"}}, nil)
	// The main account's line, and the card account (opened after subscribing) from its version 1.
	for proto, c := range subs.clients {
		got := map[string]lvEvent{}
		for range 2 {
			ev := c.event(subs.ids[proto])
			got[ev.Account.Kind] = ev
		}
		lvWant(t, got["MAIN"], 3, "65.00", "65.00")
		lvWant(t, got["CARD"], 1, "25.00", "25.00")
	}

	var co struct{ CreateCashout struct{ ID string } }
	s.mustDo(alice, ptCreateCashoutMutation, map[string]any{"in": map[string]any{"amount": "15", "channel": "EMAIL"}}, &co)
	// A reservation: what is available changes, the balance and the version do not.
	subs.expect(t, "createCashout", func(ev lvEvent) {
		lvWant(t, ev, 3, "65.00", "50.00")
		if ev.Entry != nil {
			t.Fatalf("a reservation carries no entry: %+v", ev.Entry)
		}
	})
	s.mustDo(alice, ptAbortCashoutMutation, map[string]any{"id": co.CreateCashout.ID}, nil)
	subs.expect(t, "abortCashout", func(ev lvEvent) { lvWant(t, ev, 3, "65.00", "65.00") })

	// A refused move commits nothing and publishes nothing.
	if r := s.send(alice, "bob", "1000", nil); r.code() != "INSUFFICIENT_FUNDS" {
		t.Fatalf("want INSUFFICIENT_FUNDS, got %+v", r.Errors)
	}
	for proto, c := range subs.clients {
		c.quiet(subs.ids[proto], 500*time.Millisecond)
	}
}

// lvBoth is one balance subscription of the same viewer over each subprotocol.
type lvBoth struct {
	clients map[string]*lvClient
	ids     map[string]string
}

// lvSubscribeBoth subscribes token's balances over both subprotocols, from version 0: whatever
// happens after this call is delivered, however late the subscription is registered.
func lvSubscribeBoth(t *testing.T, s *testServer, token string) lvBoth {
	t.Helper()
	b := lvBoth{clients: map[string]*lvClient{}, ids: map[string]string{}}
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		b.clients[proto] = lvConnect(t, s, proto, token)
		b.ids[proto] = b.clients[proto].subscribe(lvBalanceSub, map[string]any{"after": 0})
	}
	return b
}

// expect checks the next event of each subscription: both subscribers see the same event.
func (b lvBoth) expect(t *testing.T, step string, check func(ev lvEvent)) {
	t.Helper()
	for proto, c := range b.clients {
		ev := c.event(b.ids[proto])
		t.Logf("%s over %s: %+v", step, proto, ev)
		check(ev)
	}
}
