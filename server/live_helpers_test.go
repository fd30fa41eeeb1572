package main

// Helpers of the live tests (prefix "lv"): WebSocket clients of both subprotocols, balance
// subscriptions and their events, and statement reads to compare them with.

import (
	"coffer/graph/live"
	"coffer/graph/pgtest"
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
