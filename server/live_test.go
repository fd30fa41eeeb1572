package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"coffer/graph/live"
	"coffer/graph/pgtest"
)

// The two subprotocols a client may speak.
const (
	lvTransportWS = "graphql-transport-ws"
	lvLegacyWS    = "graphql-ws"
)

const lvBalanceSub = `subscription($acc: ID, $after: Int) { balanceChanged(accountId: $acc, afterVersion: $after) {
	account { id kind } balance { amount currency } available { amount } version at
	entry { id version type amount { amount } balanceAfter { amount } } } }`

// lvEvent is one balanceChanged event as a client decodes it.
type lvEvent struct {
	Account   struct{ ID, Kind string }
	Balance   struct{ Amount, Currency string }
	Available struct{ Amount string }
	Version   int
	At        string
	Entry     *struct {
		ID           string
		Version      int
		Type         string
		Amount       struct{ Amount string }
		BalanceAfter struct{ Amount string }
	}
}

// lvMsg is one server message of either subprotocol.
type lvMsg struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// lvClient is a real WebSocket client (gorilla) speaking one subprotocol.
type lvClient struct {
	t     testing.TB
	proto string
	conn  *websocket.Conn
	wmu   sync.Mutex
	msgs  chan lvMsg
	// closeCode is the close code the server sent (0 until the connection ends, -1 without one).
	done      chan struct{}
	closeCode int
	nextID    int
	// held keeps messages of other operations read while waiting for one.
	held map[string][]lvMsg
}

func lvWSURL(s *testServer) string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/query" }

// lvDial opens a WebSocket to s without connection_init.
func lvDial(t testing.TB, s *testServer, proto string, header http.Header) (*lvClient, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(lvWSURL(s), header)
	if err != nil {
		return nil, resp, err
	}
	if conn.Subprotocol() != proto {
		t.Fatalf("negotiated %q, want %q", conn.Subprotocol(), proto)
	}
	c := &lvClient{t: t, proto: proto, conn: conn, msgs: make(chan lvMsg, 10_000), done: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { conn.Close(); <-c.done })
	return c, resp, nil
}

func (c *lvClient) read() {
	defer close(c.done)
	defer close(c.msgs)
	for {
		var m lvMsg
		if err := c.conn.ReadJSON(&m); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.closeCode = ce.Code
			} else {
				c.closeCode = -1
			}
			return
		}
		switch m.Type {
		case "ping":
			c.send(map[string]any{"type": "pong"})
		case "ka", "pong":
		default:
			c.msgs <- m
		}
	}
}

func (c *lvClient) send(v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.WriteJSON(v)
}

// init sends connection_init with payload and returns the server's answer type
// ("connection_ack", or "" when the server closed the connection instead).
func (c *lvClient) init(payload map[string]any) string {
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return ""
			}
			if m.Type == "connection_ack" {
				return m.Type
			}
		case <-time.After(10 * time.Second):
			c.t.Fatal("no answer to connection_init")
		}
	}
}

// lvConnect dials s and authenticates with token in the connection_init payload.
func lvConnect(t testing.TB, s *testServer, proto, token string) *lvClient {
	t.Helper()
	c, _, err := lvDial(t, s, proto, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if got := c.init(map[string]any{"authorization": "Bearer " + token}); got != "connection_ack" {
		t.Fatalf("connection_init refused (close code %d)", c.wait())
	}
	return c
}

// subscribe starts an operation and returns its id.
func (c *lvClient) subscribe(query string, vars map[string]any) string {
	c.nextID++
	id := fmt.Sprint(c.nextID)
	typ := "subscribe"
	if c.proto == lvLegacyWS {
		typ = "start"
	}
	c.send(map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query, "variables": vars}})
	return id
}

// next returns the next message of operation id: its data, or its errors. Messages of other
// operations read meanwhile are kept for them.
func (c *lvClient) next(id string, timeout time.Duration) (data json.RawMessage, errs []gqlError, ok bool) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		var m lvMsg
		if held := c.held[id]; len(held) > 0 {
			m, c.held[id] = held[0], held[1:]
		} else {
			select {
			case got, open := <-c.msgs:
				if !open {
					return nil, nil, false
				}
				if got.ID != id {
					if c.held == nil {
						c.held = map[string][]lvMsg{}
					}
					c.held[got.ID] = append(c.held[got.ID], got)
					continue
				}
				m = got
			case <-deadline:
				return nil, nil, false
			}
		}
		switch m.Type {
		case "next", "data":
			var p struct {
				Data   json.RawMessage
				Errors []gqlError
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				c.t.Fatalf("decode %s: %v", m.Payload, err)
			}
			return p.Data, p.Errors, true
		case "error":
			var errs []gqlError
			if err := json.Unmarshal(m.Payload, &errs); err != nil {
				var one gqlError // graphql-ws sends one error object
				_ = json.Unmarshal(m.Payload, &one)
				errs = []gqlError{one}
			}
			return nil, errs, true
		case "complete":
			return nil, nil, false
		}
	}
}

// event returns the next balanceChanged event of id, failing the test on anything else.
func (c *lvClient) event(id string) lvEvent {
	c.t.Helper()
	data, errs, ok := c.next(id, 10*time.Second)
	if !ok || len(errs) > 0 {
		c.t.Fatalf("want an event, got ok=%v errors=%+v", ok, errs)
	}
	var out struct{ BalanceChanged lvEvent }
	if err := json.Unmarshal(data, &out); err != nil {
		c.t.Fatalf("decode %s: %v", data, err)
	}
	return out.BalanceChanged
}

// quiet asserts that operation id delivers nothing for d.
func (c *lvClient) quiet(id string, d time.Duration) {
	c.t.Helper()
	if data, errs, ok := c.next(id, d); ok {
		c.t.Fatalf("unexpected message: %s %+v", data, errs)
	}
}

// wait returns the close code once the server ended the connection (fails after 10s).
func (c *lvClient) wait() int {
	select {
	case <-c.done:
		return c.closeCode
	case <-time.After(10 * time.Second):
		c.t.Fatal("the server did not close the connection")
		return 0
	}
}

// lvStatement is the viewer's newest statement lines of account (its main account when empty).
type lvLine struct {
	Version      int
	BalanceAfter struct{ Amount string }
}

func lvStatement(t testing.TB, s *testServer, token string, n int) (mainID string, lines []lvLine) {
	t.Helper()
	var out struct {
		Me struct {
			Customer struct {
				Account struct {
					ID      string
					Entries struct{ Edges []struct{ Node lvLine } }
				}
			}
		}
	}
	s.mustDo(token, `query($n: Int) { me { customer { account { id entries(first: $n) { edges { node { version balanceAfter { amount } } } } } } } }`,
		map[string]any{"n": n}, &out)
	for _, e := range out.Me.Customer.Account.Entries.Edges {
		lines = append(lines, e.Node)
	}
	return out.Me.Customer.Account.ID, lines
}

// lvWant checks an event against the statement's newest line.
func lvWant(t testing.TB, ev lvEvent, version int, balance, available string) {
	t.Helper()
	if ev.Version != version || ev.Balance.Amount != balance || ev.Available.Amount != available {
		t.Fatalf("event version %d balance %s available %s; want %d %s %s",
			ev.Version, ev.Balance.Amount, ev.Available.Amount, version, balance, available)
	}
}

func TestLive_bothSubprotocols_deliverEveryKindOfMove(t *testing.T) {
	// PostgreSQL: NOTIFY and LISTEN; SQLite: the in-process broker.
	for _, st := range stores {
		t.Run(st, func(t *testing.T) { lvEveryKindOfMove(t, st) })
	}
}

func lvEveryKindOfMove(t *testing.T, st string) {
	s := startServer(t, st)
	admin := s.admin()
	alice := ptCustomerWithAddress(t, s, admin, "alice", "")
	s.customer(admin, "bob")
	clients := map[string]*lvClient{}
	subs := map[string]string{}
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		clients[proto] = lvConnect(t, s, proto, alice)
		// afterVersion 0: whatever happens after this line is delivered, however late the
		// subscription is registered.
		subs[proto] = clients[proto].subscribe(lvBalanceSub, map[string]any{"after": 0})
	}
	// Both subscribers see the same event; the statement shows the same balance and version.
	expect := func(step string, check func(ev lvEvent)) {
		t.Helper()
		for proto, c := range clients {
			ev := c.event(subs[proto])
			t.Logf("%s over %s: %+v", step, proto, ev)
			check(ev)
		}
	}
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
	expect("createCoins", onMain(1, "100.00", "100.00"))

	if r := s.send(alice, "bob", "10", nil); r.code() != "" {
		t.Fatal(r.Errors)
	}
	expect("sendCoins", onMain(2, "90.00", "90.00"))

	var card struct {
		CreateCard struct{ Card struct{ ID string } }
	}
	s.mustDo(alice, ptCreateCardMutation, nil, &card)
	s.mustDo(alice, ptFundCardMutation, map[string]any{"in": map[string]any{"cardId": card.CreateCard.Card.ID, "amount": "25"}}, nil)
	// The main account's line, and the card account (opened after subscribing) from its version 1.
	for proto, c := range clients {
		got := map[string]lvEvent{}
		for range 2 {
			ev := c.event(subs[proto])
			got[ev.Account.Kind] = ev
		}
		lvWant(t, got["MAIN"], 3, "65.00", "65.00")
		lvWant(t, got["CARD"], 1, "25.00", "25.00")
	}

	var co struct{ CreateCashout struct{ ID string } }
	s.mustDo(alice, ptCreateCashoutMutation, map[string]any{"in": map[string]any{"amount": "15", "channel": "EMAIL"}}, &co)
	// A reservation: what is available changes, the balance and the version do not.
	expect("createCashout", func(ev lvEvent) {
		lvWant(t, ev, 3, "65.00", "50.00")
		if ev.Entry != nil {
			t.Fatalf("a reservation carries no entry: %+v", ev.Entry)
		}
	})
	s.mustDo(alice, ptAbortCashoutMutation, map[string]any{"id": co.CreateCashout.ID}, nil)
	expect("abortCashout", func(ev lvEvent) { lvWant(t, ev, 3, "65.00", "65.00") })

	// A refused move commits nothing and publishes nothing.
	if r := s.send(alice, "bob", "1000", nil); r.code() != "INSUFFICIENT_FUNDS" {
		t.Fatalf("want INSUFFICIENT_FUNDS, got %+v", r.Errors)
	}
	for proto, c := range clients {
		c.quiet(subs[proto], 500*time.Millisecond)
	}
}

// lvMintN creates n coins of 1 for username, one createCoins each (n changes of the account).
func lvMintN(t testing.TB, s *testServer, admin, username string, n int) {
	t.Helper()
	for range n {
		s.mint(admin, username, "1")
	}
}

// lvExpectRun reads n events of id and checks they are versions from+1 .. from+n in order, each
// with the balance of n coins of 1 minted on top of baseCoins.
func lvExpectRun(t testing.TB, c *lvClient, id string, from, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		ev := c.event(id)
		want := from + i
		if ev.Version != want || ev.Entry == nil || ev.Entry.Version != want || ev.Balance.Amount != fmt.Sprintf("%d.00", want) {
			t.Fatalf("event %d: version %d balance %s; want version %d balance %d.00", i, ev.Version, ev.Balance.Amount, want, want)
		}
	}
}

func TestLive_resume_deliversExactlyTheMissedChangesInOrderThenLive(t *testing.T) {
	s := startServer(t, "postgres")
	admin := s.admin()
	alice := s.customer(admin, "alice")
	mainID, _ := lvStatement(t, s, alice, 1)
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		t.Run(proto, func(t *testing.T) {
			s := ptOn(t, s)
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

// lvSharedServers starts two server instances on one PostgreSQL database: two hubs, two
// notifiers, two LISTEN connections.
func lvSharedServers(t *testing.T) (a, b *testServer, url string) {
	url = pgtest.NewDatabase(t)
	// The store argument only picks the harness's default URL, which DATABASE_URL replaces.
	return startServer(t, "sqlite", "DATABASE_URL="+url), startServer(t, "sqlite", "DATABASE_URL="+url), url
}

// lvKillListeners terminates the LISTEN connections of every instance on url's database.
func lvKillListeners(t *testing.T, url string) int {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, live.ListenerAppName).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
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

	t.Run("no token closes with 4403", func(t *testing.T) {
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
	})
	t.Run("an unknown token closes with 4403", func(t *testing.T) {
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
	})
	t.Run("the session cookie authenticates", func(t *testing.T) {
		c, _, err := lvDial(t, s, lvTransportWS, http.Header{"Cookie": {"session=" + alice}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.init(nil); got != "connection_ack" {
			t.Fatalf("cookie session refused (close %d)", c.wait())
		}
	})
	t.Run("logout closes the socket with 4401 within seconds", func(t *testing.T) {
		for _, proto := range []string{lvTransportWS, lvLegacyWS} {
			s := ptOn(t, s)
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
	})
	t.Run("disabling the user closes the socket with 4401", func(t *testing.T) {
		s := ptOn(t, s)
		dave := s.customer(admin, "dave")
		c := lvConnect(t, s, lvLegacyWS, dave)
		c.quiet(c.subscribe(lvBalanceSub, nil), 200*time.Millisecond)
		s.mustDo(admin, `mutation { setUserStatus(username: "dave", status: DISABLED) { status } }`, nil, nil)
		if code := c.wait(); code != 4401 {
			t.Fatalf("close code %d, want 4401", code)
		}
	})
	t.Run("a message over the read limit closes the socket", func(t *testing.T) {
		c := lvConnect(t, s, lvTransportWS, alice)
		c.subscribe(strings.Repeat(" ", 100<<10)+lvBalanceSub, nil)
		if code := c.wait(); code != websocket.CloseMessageTooBig {
			t.Fatalf("close code %d, want %d", code, websocket.CloseMessageTooBig)
		}
	})
	t.Run("another customer's account is NOT_FOUND", func(t *testing.T) {
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
	})
	t.Run("a foreign Origin is refused before the upgrade", func(t *testing.T) {
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
	})
	t.Run("the per-user cap refuses a third subscription", func(t *testing.T) {
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
	})
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
