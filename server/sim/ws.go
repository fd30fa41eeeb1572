package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// subscriber is a customer's balanceChanged subscription to its main account, over its own
// session: it must receive every committed version of the account exactly once, in order, across
// reconnections (after a dropped socket or a killed server it resumes with afterVersion).
type subscriber struct {
	c     *customer
	token string

	mu       sync.Mutex
	conn     *websocket.Conn
	versions []int // versions of the changes with a statement line, as received
	problems []string
	resumes  int
	// pauseUntil (unix nanoseconds): the subscriber reads nothing before it.
	pauseUntil atomic.Int64
	stop       chan struct{}
	done       chan struct{}
}

const qBalanceChanged = `subscription($a: ID, $v: Int) { balanceChanged(accountId: $a, afterVersion: $v) { version balance { amount } entry { id balanceAfter { amount } } } }`

// startSubscribers opens -subscribers subscriptions, each for one of the first customers.
func (s *sim) startSubscribers(w *worker) error {
	s.mu.Lock()
	var cs []*customer
	for _, c := range s.customers {
		if len(cs) < s.o.subscribers && c.username != s.victim {
			c.subscribed = true
			cs = append(cs, c)
		}
	}
	s.mu.Unlock()
	for _, c := range cs {
		tok, _ := s.login(w, "subscriber.login", c, c.username, c.password)
		if tok == "" {
			return fmt.Errorf("subscriber %s: login failed", c.username)
		}
		sub := &subscriber{c: c, token: tok, stop: make(chan struct{}), done: make(chan struct{})}
		s.subs = append(s.subs, sub)
		go s.follow(sub)
	}
	return nil
}

// follow keeps sub subscribed until it is stopped, resuming after every disconnect.
func (s *sim) follow(sub *subscriber) {
	defer close(sub.done)
	for {
		err := s.subscribeOnce(sub)
		select {
		case <-sub.stop:
			return
		default:
		}
		sub.mu.Lock()
		sub.resumes++
		sub.mu.Unlock()
		if err != nil {
			time.Sleep(300 * time.Millisecond)
		}
	}
}

// subscribeOnce connects to a running server, subscribes after the last version received, and
// reads until the connection ends.
func (s *sim) subscribeOnce(sub *subscriber) error {
	urls := s.e.urls()
	if len(urls) == 0 {
		return fmt.Errorf("no server")
	}
	sub.mu.Lock()
	after := 0
	if n := len(sub.versions); n > 0 {
		after = sub.versions[n-1]
	}
	sub.mu.Unlock()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(urls[int(time.Now().UnixNano())%len(urls)], "http")+"/query", nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	sub.mu.Lock()
	sub.conn = conn
	sub.mu.Unlock()
	var wmu sync.Mutex
	send := func(v any) error { wmu.Lock(); defer wmu.Unlock(); return conn.WriteJSON(v) }
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + sub.token}}); err != nil {
		return err
	}
	if err := send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": qBalanceChanged,
		"variables": map[string]any{"a": sub.c.main.id, "v": after}}}); err != nil {
		return err
	}
	for {
		select {
		case <-sub.stop:
			return nil
		default:
		}
		// A slow client (the slowsub fault) stops reading for a while.
		if d := time.Until(time.Unix(0, sub.pauseUntil.Load())); d > 0 {
			time.Sleep(d)
		}
		var m struct {
			Type    string
			Payload json.RawMessage
		}
		if err := conn.ReadJSON(&m); err != nil {
			return err
		}
		switch m.Type {
		case "ping":
			send(map[string]any{"type": "pong"})
		case "next":
			sub.receive(m.Payload)
		case "error":
			s.subscriptionError(sub, m.Payload)
			return fmt.Errorf("subscription error")
		case "complete":
			return fmt.Errorf("completed")
		}
	}
}

// subscriptionError judges an error that ended a subscription: a client that fell behind is ended
// with TOO_MANY_REQUESTS and resumes; during a fault (the database down) INTERNAL is expected, and
// it resumes as well; anything else is a problem.
func (s *sim) subscriptionError(sub *subscriber, payload json.RawMessage) {
	var errs []gqlError
	var code string
	if json.Unmarshal(payload, &errs) == nil && len(errs) > 0 {
		code = errs[0].Extensions.Code
	}
	switch {
	case code == "TOO_MANY_REQUESTS":
	case code == "INTERNAL" && s.e.inFault():
		s.countFaultAnswer()
	default:
		sub.problem(fmt.Sprintf("subscription error: %s", payload))
	}
}

func (sub *subscriber) receive(payload json.RawMessage) {
	var p struct {
		Data struct {
			BalanceChanged struct {
				Version int
				Balance struct{ Amount string }
				Entry   *struct {
					ID           string
					BalanceAfter struct{ Amount string }
				}
			}
		}
		Errors []gqlError
	}
	if err := json.Unmarshal(payload, &p); err != nil || len(p.Errors) > 0 {
		if len(p.Errors) > 0 && p.Errors[0].Extensions.Code == "TOO_MANY_REQUESTS" {
			return // fell behind: the connection ends and resumes with afterVersion
		}
		sub.problem(fmt.Sprintf("event %.200s", payload))
		return
	}
	ev := p.Data.BalanceChanged
	if ev.Entry == nil {
		return // a reservation or a new limit: no statement line, the version stays
	}
	if ev.Entry.BalanceAfter.Amount != ev.Balance.Amount {
		sub.problem(fmt.Sprintf("version %d: balance %s, its entry's balanceAfter %s", ev.Version, ev.Balance.Amount, ev.Entry.BalanceAfter.Amount))
	}
	sub.mu.Lock()
	sub.versions = append(sub.versions, ev.Version)
	sub.mu.Unlock()
}

func (sub *subscriber) problem(p string) {
	sub.mu.Lock()
	sub.problems = append(sub.problems, p)
	sub.mu.Unlock()
}

// drop closes the socket under the subscription without a close frame, as a network does.
func (sub *subscriber) drop() {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.conn != nil {
		sub.conn.NetConn().Close()
	}
}

// checkSubscribers waits until each subscriber has caught up with its account's version, then
// checks that it received exactly 1..version, in order.
func (s *sim) checkSubscribers(w *worker) {
	for _, sub := range s.subs {
		s.countCheck("subscribers received every version once, in order")
		r := s.call(w, true, s.admin, `query($id: ID!) { node(id: $id) { ... on Account { version } } }`, map[string]any{"id": sub.c.main.id})
		var out struct{ Node struct{ Version int } }
		if !r.ok() || r.decode(&out) != nil {
			s.violate(w.step, "subscriber", sub.c, fmt.Sprintf("reading the account's version: %s", r.code()))
			continue
		}
		want := out.Node.Version
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			sub.mu.Lock()
			n := len(sub.versions)
			sub.mu.Unlock()
			if n >= want {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		close(sub.stop)
		sub.drop()
		<-sub.done
		sub.mu.Lock()
		got, problems := sub.versions, sub.problems
		sub.mu.Unlock()
		ok := len(got) == want
		for i := 0; ok && i < len(got); i++ {
			ok = got[i] == i+1
		}
		if !ok {
			show := fmt.Sprint(got)
			if len(show) > 400 {
				show = show[:400] + "..."
			}
			s.violate(w.step, "subscriber", sub.c, fmt.Sprintf("received versions %s, want 1..%d (resumed %d times)", show, want, sub.resumes))
		}
		for _, p := range problems {
			s.violate(w.step, "subscriber", sub.c, p)
		}
	}
}
