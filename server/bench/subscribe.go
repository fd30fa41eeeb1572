package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lib/pq"

	"coffer/graph/identity"
)

// The subscription case: many customers each hold one WebSocket with one balanceChanged
// subscription on their main account while senders send coins to them. It measures how long a
// committed transfer takes to reach its subscriber, what an open subscriber costs the server in
// memory, and that every transfer produces exactly one event on its subscriber.

// balanceSub is what every subscriber runs: afterVersion 0 replays anything committed before
// the subscription was in place, so an event can arrive late but never be missed.
const balanceSub = `subscription($acc: ID) { balanceChanged(accountId: $acc, afterVersion: 0) {
	version balance { amount } available { amount } entry { transaction { id } } } }`

// subResult is the case's full result (bench.json "subscriptions").
type subResult struct {
	Subscribers int     `json:"subscribers"`
	OpenSeconds float64 `json:"open_seconds"`
	// Server memory with nothing open and with every subscriber open and idle (VmRSS, and the Go
	// heap in use and goroutines from /metrics), each the median of a few samples after settling.
	RSSBeforeMiB     float64  `json:"rss_before_mib"`
	RSSOpenMiB       float64  `json:"rss_open_mib"`
	KiBPerSubscriber float64  `json:"kib_per_subscriber"`
	HeapBeforeMiB    *float64 `json:"heap_inuse_before_mib"`
	HeapOpenMiB      *float64 `json:"heap_inuse_open_mib"`
	HeapKiBPerSub    *float64 `json:"heap_kib_per_subscriber"`
	GoroutinesPerSub *float64 `json:"goroutines_per_subscriber"`
	// The measured phase (after one warm-up transfer per subscriber).
	Clients            int      `json:"clients"`
	Transfers          int      `json:"transfers"`
	TransferErrors     int      `json:"transfer_errors"`
	FirstError         string   `json:"first_error,omitempty"`
	TransfersPerSecond float64  `json:"transfers_per_second"`
	TransferP50Ms      float64  `json:"transfer_p50_ms"`
	TransferP99Ms      float64  `json:"transfer_p99_ms"`
	CPU                cpuShare `json:"cpu_percent"`
	// SendToEvent: from just before the sendCoins request left to the event's arrival (an upper
	// bound of commit-to-client: the commit happens after the request was sent).
	SendToEventP50Ms float64 `json:"send_to_event_p50_ms"`
	SendToEventP99Ms float64 `json:"send_to_event_p99_ms"`
	SendToEventMaxMs float64 `json:"send_to_event_max_ms"`
	// ResponseToEvent: from the sendCoins response's arrival to the event's (a lower bound: the
	// commit happened before the response); negative when the event came first.
	ResponseToEventP50Ms float64 `json:"response_to_event_p50_ms"`
	ResponseToEventP99Ms float64 `json:"response_to_event_p99_ms"`
	EventsBeforeResponse float64 `json:"events_before_response_fraction"`
	// Over warm-up and measured phase: every successful transfer must produce exactly one event
	// on its recipient's subscriber.
	Expected     int `json:"events_expected"`
	Received     int `json:"events_received"`
	Lost         int `json:"events_lost"`
	Duplicated   int `json:"events_duplicated"`
	Unexpected   int `json:"events_unexpected"`
	OutOfOrder   int `json:"events_out_of_order"`
	StreamErrors int `json:"stream_errors"`
	// FirstStreamError is the first subscription that ended early (error, complete, close).
	FirstStreamError string `json:"first_stream_error,omitempty"`
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE to at least need (up to the hard limit) before any
// child starts: the server inherits it and holds one socket per subscriber, as does this process.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= need {
		// Set it anyway: Go lowers a raised limit back for children unless Setrlimit was called.
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Max < need {
		return fmt.Errorf("open files: hard limit %d, the subscription case needs %d (ulimit -Hn, or -subscribers)", lim.Max, need)
	}
	lim.Cur = need
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// seedSubscribers creates n customers through the API (one password hash each, as the server's
// hasher allows two at a time) and opens a session for each directly in the database: exactly
// the row a login writes (the SHA-256 of a random token, identity.NewToken), without a second
// argon2 verification per customer, which would double the seeding time and measures nothing
// here. Then it reads each one's main account id through the API, with its own token.
func seedSubscribers(ctx context.Context, c *gqlClient, db *sql.DB, n int) ([]customer, []string, error) {
	admin, err := c.login(ctx, "admin", adminPassword)
	if err != nil {
		return nil, nil, fmt.Errorf("admin login: %w", err)
	}
	subs := make([]customer, n)
	for i := range subs {
		subs[i].username = fmt.Sprintf("subscriber%04d", i)
	}
	err = parallel(ctx, n, 4, func(i int) error {
		u := subs[i].username
		return c.do(ctx, admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"username": u, "password": u + "-password",
				"name": "Bench " + u, "email": u + "@bench.example"}}, nil)
	})
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, n)
	for i := range subs {
		names[i] = subs[i].username
	}
	rows, err := db.QueryContext(ctx, `SELECT u.username, u.id, a.id FROM users u JOIN customers c ON c.user_id = u.id
		JOIN accounts a ON a.owner_id = c.id AND a.kind = 'MAIN' WHERE u.username = ANY($1)`, pq.Array(names))
	if err != nil {
		return nil, nil, err
	}
	byName := map[string][2]int{}
	for rows.Next() {
		var name string
		var uid, aid int
		if err := rows.Scan(&name, &uid, &aid); err != nil {
			rows.Close()
			return nil, nil, err
		}
		byName[name] = [2]int{uid, aid}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	hashes := make([][]byte, n)
	users := make([]int64, n)
	for i := range subs {
		ids, ok := byName[subs[i].username]
		if !ok {
			return nil, nil, fmt.Errorf("no main account for %s", subs[i].username)
		}
		subs[i].userID, subs[i].accountID = ids[0], ids[1]
		if subs[i].token, hashes[i], err = identity.NewToken(); err != nil {
			return nil, nil, err
		}
		users[i] = int64(ids[0])
	}
	now := time.Now().UTC()
	if _, err := db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
		SELECT unnest($1::bytea[]), unnest($2::bigint[]), $3, $3, $4`,
		pq.ByteaArray(hashes), pq.Int64Array(users), now, now.Add(12*time.Hour)); err != nil {
		return nil, nil, fmt.Errorf("sessions: %w", err)
	}
	accountIDs := make([]string, n)
	err = parallel(ctx, n, 16, func(i int) error {
		var out struct {
			Me struct {
				Customer struct{ Account struct{ ID string } }
			}
		}
		if err := c.do(ctx, subs[i].token, accountQuery, nil, &out); err != nil {
			return fmt.Errorf("%s: %w", subs[i].username, err)
		}
		accountIDs[i] = out.Me.Customer.Account.ID
		return nil
	})
	return subs, accountIDs, err
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// subEvent is one balanceChanged event as received.
type subEvent struct {
	at      time.Time
	version int
	txn     string // the entry's transaction id; "" for a change without an entry
}

// subscriber is one WebSocket client (graphql-transport-ws) with one subscription.
type subscriber struct {
	conn   *websocket.Conn
	wmu    sync.Mutex
	mu     sync.Mutex
	events []subEvent
	ended  string // why the stream ended early, "" while it runs
	done   chan struct{}
}

func (s *subscriber) write(v any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.conn.WriteJSON(v)
}

type wsMsg struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// openSubscriber dials, authenticates in connection_init, waits for the ack and subscribes to
// accountID's changes; its reader then records every event with its arrival time.
func openSubscriber(url, token, accountID string, received *atomic.Int64, closing *atomic.Bool) (*subscriber, error) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 20 * time.Second,
		ReadBufferSize: 2048, WriteBufferSize: 2048}
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	s := &subscriber{conn: conn, done: make(chan struct{})}
	if err := s.write(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}}); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var m wsMsg
		if err := conn.ReadJSON(&m); err != nil {
			conn.Close()
			return nil, fmt.Errorf("connection_init: %w", err)
		}
		if m.Type == "connection_ack" {
			break
		}
	}
	conn.SetReadDeadline(time.Time{})
	if err := s.write(map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": balanceSub, "variables": map[string]any{"acc": accountID}}}); err != nil {
		conn.Close()
		return nil, err
	}
	go s.read(received, closing)
	return s, nil
}

func (s *subscriber) read(received *atomic.Int64, closing *atomic.Bool) {
	defer close(s.done)
	end := func(why string) {
		s.mu.Lock()
		if s.ended == "" {
			s.ended = why
		}
		s.mu.Unlock()
	}
	for {
		_, b, err := s.conn.ReadMessage()
		at := time.Now() // first, so that decoding is not part of the latency
		if err != nil {
			if !closing.Load() {
				end("connection: " + err.Error())
			}
			return
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			end(fmt.Sprintf("undecodable message %.100s", b))
			continue
		}
		switch m.Type {
		case "ping":
			_ = s.write(map[string]any{"type": "pong"})
		case "next":
			var p struct {
				Data struct {
					BalanceChanged struct {
						Version int
						Entry   *struct{ Transaction struct{ ID string } }
					}
				}
				Errors []struct{ Message string }
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
				end(fmt.Sprintf("next with errors: %.200s", m.Payload))
				continue
			}
			ev := subEvent{at: at, version: p.Data.BalanceChanged.Version}
			if e := p.Data.BalanceChanged.Entry; e != nil {
				ev.txn = e.Transaction.ID
			}
			s.mu.Lock()
			s.events = append(s.events, ev)
			s.mu.Unlock()
			received.Add(1)
		case "error", "complete":
			end(fmt.Sprintf("%s: %.200s", m.Type, m.Payload))
		}
	}
}

// sentTransfer is one successful sendCoins of the case.
type sentTransfer struct {
	sub    int
	sent   time.Time // just before the request left
	answer time.Time // when the response had arrived
	warmup bool
}

// subscriptionCase runs the whole case: memory before, open every subscriber, memory with them
// idle, one warm-up transfer per subscriber, perRound transfers per subscriber measured, wait for
// the events, match them, close.
func subscriptionCase(ctx context.Context, srv *child, coffer *wireClient, pop *population, subs []customer, accountIDs []string,
	clients, perSub int, m meter, logf func(string, ...any)) (*subResult, error) {
	n := len(subs)
	res := &subResult{Subscribers: n, Clients: clients}
	metricsURL := "http://" + srv.Addr + "/metrics"
	var err error
	before := settle(srv.PID(), metricsURL)
	if before.err != nil {
		return nil, before.err
	}

	var received atomic.Int64
	var closing atomic.Bool
	wsURL := "ws://" + srv.Addr + "/query"
	conns := make([]*subscriber, n)
	start := time.Now()
	err = parallel(ctx, n, 32, func(i int) error {
		s, err := openSubscriber(wsURL, subs[i].token, accountIDs[i], &received, &closing)
		if err != nil {
			return fmt.Errorf("subscriber %d: %w", i, err)
		}
		conns[i] = s
		return nil
	})
	defer func() {
		closing.Store(true)
		for _, s := range conns {
			if s != nil {
				s.conn.Close()
			}
		}
		for _, s := range conns {
			if s != nil {
				<-s.done
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	res.OpenSeconds = round1(time.Since(start).Seconds())
	logf("subscriptions: %d open in %.1fs; letting the server settle", n, time.Since(start).Seconds())
	open := settle(srv.PID(), metricsURL)
	if open.err != nil {
		return nil, open.err
	}
	res.RSSBeforeMiB, res.RSSOpenMiB = round1(before.rssKiB/1024), round1(open.rssKiB/1024)
	res.KiBPerSubscriber = round1((open.rssKiB - before.rssKiB) / float64(n))
	if before.heap > 0 && open.heap > 0 {
		b, o, per := round1(before.heap/(1<<20)), round1(open.heap/(1<<20)), round1((open.heap-before.heap)/1024/float64(n))
		res.HeapBeforeMiB, res.HeapOpenMiB, res.HeapKiBPerSub = &b, &o, &per
	}
	if before.goroutines > 0 && open.goroutines > 0 {
		g := float64(int((open.goroutines-before.goroutines)/float64(n)*100+0.5)) / 100
		res.GoroutinesPerSub = &g
	}

	var mu sync.Mutex
	sent := map[string]sentTransfer{}
	var sendLatencies []time.Duration
	drive := func(rounds int, warmup bool) (ok, failed int, firstErr string, took time.Duration) {
		var next atomic.Int64
		total := int64(rounds * n)
		var wg sync.WaitGroup
		t0 := time.Now()
		for c := range clients {
			wg.Go(func() {
				token := pop.senders[c].token
				for {
					j := next.Add(1) - 1
					if j >= total || ctx.Err() != nil {
						return
					}
					sub := int(j % int64(n))
					b := body(sendCoinsQuery, map[string]any{"in": map[string]any{
						"recipient": map[string]any{"username": subs[sub].username}, "amount": "0.01", "autoSign": true}})
					at := time.Now()
					r, err := coffer.post(ctx, c, token, b)
					answer := time.Now()
					if err == nil {
						err = r.err()
					}
					var out struct{ SendCoins struct{ ID string } }
					if err == nil {
						if err = json.Unmarshal(r.Data, &out); err == nil && out.SendCoins.ID == "" {
							err = errors.New("sendCoins answered without a transaction id")
						}
					}
					mu.Lock()
					if err != nil {
						failed++
						if firstErr == "" {
							firstErr = err.Error()
						}
					} else {
						ok++
						sent[out.SendCoins.ID] = sentTransfer{sub: sub, sent: at, answer: answer, warmup: warmup}
						if !warmup {
							sendLatencies = append(sendLatencies, answer.Sub(at))
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return ok, failed, firstErr, time.Since(t0)
	}
	// waitEvents waits until want events have arrived (the hub re-reads every account every 5 s,
	// so even a lost notification is delivered well within the timeout), then a little longer
	// for any duplicate.
	waitEvents := func(want int64, timeout time.Duration) {
		deadline := time.Now().Add(timeout)
		for received.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Second)
	}

	logf("subscriptions: warm-up, one transfer to each of %d subscribers from %d clients", n, clients)
	warmOK, warmFailed, warmErr, _ := drive(1, true)
	if warmFailed > 0 {
		return nil, fmt.Errorf("warm-up: %d of %d transfers failed: %s", warmFailed, n, warmErr)
	}
	waitEvents(int64(warmOK), 30*time.Second)
	logf("subscriptions: warm-up done (%d events); measuring %d transfers per subscriber", received.Load(), perSub)
	cpu0 := m.sample()
	measuredOK, measuredFailed, firstErr, took := drive(perSub, false)
	cpu1 := m.sample()
	waitEvents(int64(warmOK+measuredOK), 30*time.Second)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Transfers, res.TransferErrors, res.FirstError = measuredOK, measuredFailed, firstErr
	res.TransfersPerSecond = round1(float64(measuredOK) / took.Seconds())
	res.CPU = m.share(cpu0, cpu1, took)
	slices.Sort(sendLatencies)
	res.TransferP50Ms, res.TransferP99Ms = quantileMs(sendLatencies, 0.5), quantileMs(sendLatencies, 0.99)

	// Match every event to its transfer by the entry's transaction id, on the subscriber of the
	// transfer's recipient.
	closing.Store(true)
	seen := map[string]int{}
	var fromSend, fromAnswer []time.Duration
	early := 0
	for i, s := range conns {
		s.mu.Lock()
		events, ended := slices.Clone(s.events), s.ended
		s.mu.Unlock()
		if ended != "" {
			res.StreamErrors++
			if res.FirstStreamError == "" {
				res.FirstStreamError = fmt.Sprintf("subscriber %d: %s", i, ended)
			}
		}
		for k, ev := range events {
			res.Received++
			if k > 0 && ev.version != events[k-1].version+1 {
				res.OutOfOrder++
			}
			t, ok := sent[ev.txn]
			if !ok || t.sub != i {
				res.Unexpected++
				continue
			}
			if seen[ev.txn]++; seen[ev.txn] > 1 {
				res.Duplicated++
				continue
			}
			if t.warmup {
				continue
			}
			fromSend = append(fromSend, ev.at.Sub(t.sent))
			d := ev.at.Sub(t.answer)
			fromAnswer = append(fromAnswer, d)
			if d < 0 {
				early++
			}
		}
	}
	res.Expected = len(sent)
	for id := range sent {
		if seen[id] == 0 {
			res.Lost++
		}
	}
	slices.Sort(fromSend)
	slices.Sort(fromAnswer)
	res.SendToEventP50Ms, res.SendToEventP99Ms = quantileMs(fromSend, 0.5), quantileMs(fromSend, 0.99)
	res.SendToEventMaxMs = quantileMs(fromSend, 1)
	res.ResponseToEventP50Ms, res.ResponseToEventP99Ms = quantileMs(fromAnswer, 0.5), quantileMs(fromAnswer, 0.99)
	if len(fromAnswer) > 0 {
		res.EventsBeforeResponse = float64(int(float64(early)/float64(len(fromAnswer))*1000+0.5)) / 1000
	}
	return res, nil
}

// serverMemory is one settled reading of the server's memory.
type serverMemory struct {
	rssKiB     float64
	heap       float64 // go_memstats_heap_inuse_bytes, 0 when /metrics did not say
	goroutines float64
	err        error
}

// settle waits for the server to go quiet (the garbage of what just happened is collected and
// returned only gradually) and takes the median of five readings half a second apart.
func settle(pid int, metricsURL string) serverMemory {
	time.Sleep(3 * time.Second)
	var rss, heap, gor []float64
	for range 5 {
		kib, err := statusKiB(pid, "VmRSS")
		if err != nil {
			return serverMemory{err: err}
		}
		rss = append(rss, kib)
		if v := scrape(metricsURL); v != nil {
			heap = append(heap, v["go_memstats_heap_inuse_bytes"])
			gor = append(gor, v["go_goroutines"])
		}
		time.Sleep(500 * time.Millisecond)
	}
	med := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return serverMemory{rssKiB: med(rss), heap: med(heap), goroutines: med(gor)}
}

// scrape reads the unlabelled samples of the server's /metrics; nil when it cannot.
func scrape(url string) map[string]float64 {
	res, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// statusKiB reads a "kB" field of /proc/<pid>/status (VmRSS, VmHWM).
func statusKiB(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %q", field, v)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
