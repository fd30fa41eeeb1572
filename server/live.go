package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"

	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/live"
	"coffer/graph/store"
)

// notifyWindow is how long the notifier gathers committed changes into one publication.
const notifyWindow = 5 * time.Millisecond

// liveRuntime is the live-update machinery of one instance: the hub, the post-commit notifier,
// on PostgreSQL the LISTEN connection, and the watcher that closes sockets of ended sessions.
// Its goroutines run from start to stop.
type liveRuntime struct {
	hub     *live.Hub
	sockets *sockets
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startLive(cfg Config, db *store.DB, l *ledger.Ledger, ids *identity.Service) *liveRuntime {
	hub := live.NewHub(db.Client, live.Limits{
		MaxSubscriptions: cfg.LiveMaxSubscriptions, MaxPerUser: cfg.LiveMaxPerUser,
	})
	notifier := &live.Notifier{Client: db.Client, Publisher: hub, Window: notifyWindow} // SQLite: one process, the in-process broker
	if store.IsPostgres(db.URL) {
		notifier.Publisher, notifier.SQL = live.PGPublisher{DB: db.SQL}, db.SQL
	}
	l.OnCommit = notifier.AccountsChanged
	l.OnTransactionsCommit = notifier.TransactionsChanged

	ctx, cancel := context.WithCancel(context.Background())
	rt := &liveRuntime{hub: hub, cancel: cancel,
		sockets: &sockets{identity: ids, every: cfg.LiveSessionCheck, open: map[*socket]struct{}{}, perUser: map[int]int{}}}
	rt.goRun(func() { hub.Run(ctx) })
	rt.goRun(func() { notifier.Run(ctx) })
	rt.goRun(func() { rt.sockets.Run(ctx) })
	if notifier.SQL != nil {
		listener := &live.Listener{URL: db.URL, Hub: hub}
		rt.goRun(func() {
			if err := listener.Run(ctx); err != nil {
				slog.Error("live: listener stopped", "error", err)
			}
		})
	}
	return rt
}

func (rt *liveRuntime) goRun(f func()) {
	rt.wg.Add(1)
	go func() { defer rt.wg.Done(); f() }()
}

// stop closes every socket and ends the goroutines (before the database closes).
func (rt *liveRuntime) stop() {
	rt.cancel()
	rt.wg.Wait()
}

// websocketTransport is gqlgen's WebSocket transport over gorilla, with both subprotocols.
func (a *app) websocketTransport() gqltransport.Websocket {
	limit := int64(wsReadLimitBytes)
	return gqltransport.Websocket{
		Implementation:        newGorillaWebsocket(a.cfg.AllowedOrigins),
		InitFunc:              a.websocketInit,
		CloseFunc:             a.websocketClosed,
		ErrorFunc:             websocketError,
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsKeepAlive, // graphql-ws: "ka" messages
		PingPongInterval:      wsKeepAlive, // graphql-transport-ws: ping, and a pong is expected
		PayloadReadLimit:      &limit,
	}
}

// websocketGate refuses WebSocket upgrades from foreign origins (cross-site WebSocket hijacking:
// a page elsewhere riding on the user's cookie) and prepares the slot the connection is kept in.
func (a *app) websocketGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !originAllowed(r, a.cfg.AllowedOrigins) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsSlotKey{}, &wsSlot{})))
	})
}

type socketKey struct{}

// websocketInit authenticates connection_init: a token in the payload ("authorization": "Bearer
// <token>", or "token"), else the session cookie (or Authorization header) of the upgrade request.
// A refusal closes with 4403; the context returned is never nil (gqlgen needs it).
func (a *app) websocketInit(ctx context.Context, p gqltransport.InitPayload) (context.Context, *gqltransport.InitPayload, error) {
	refuse := func(msg string) (context.Context, *gqltransport.InitPayload, error) {
		ctx := gqltransport.WithWebsocketCloseCode(ctx, wsCloseForbidden)
		return gqltransport.AppendCloseReason(ctx, msg), nil, errors.New(msg)
	}
	token := strings.TrimSpace(p.Authorization())
	if t, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = strings.TrimSpace(t)
	}
	if token == "" {
		token = strings.TrimSpace(p.GetString("token"))
	}
	v := identity.ViewerFrom(ctx)
	if token != "" {
		var err error
		if v, err = a.identity.Authenticate(ctx, token); err != nil {
			slog.Error("websocket: authenticate", "error", err)
			return refuse("internal error")
		}
	}
	if v == nil {
		return refuse("authentication required")
	}
	slot := wsSlotFrom(ctx)
	if slot == nil || slot.conn == nil {
		return refuse("internal error")
	}
	ctx = identity.WithViewer(ctx, v)
	ctx, cancel := context.WithCancel(ctx)
	sk := &socket{sessionID: v.SessionID, userID: v.UserID, conn: slot.conn, cancel: cancel,
		inFlight: make(chan struct{}, a.cfg.WSMaxOperations)}
	if !a.live.sockets.add(sk, a.cfg.WSMaxConnectionsPerUser) {
		cancel()
		ctx := gqltransport.WithWebsocketCloseCode(ctx, wsCloseTooMany)
		return gqltransport.AppendCloseReason(ctx, "too many connections"), nil, errors.New("too many connections")
	}
	return context.WithValue(ctx, socketKey{}, sk), nil, nil
}

// websocketError ends a connection that failed a write (its client stopped reading for
// wsWriteTimeout): gqlgen only reports write errors, and the connection would otherwise stay
// open with every later write failing.
func websocketError(ctx context.Context, err error) {
	var we gqltransport.WebsocketError
	if errors.As(err, &we) && !we.IsReadError {
		if sk, ok := ctx.Value(socketKey{}).(*socket); ok {
			_ = sk.conn.Close()
		}
	}
}

func (a *app) websocketClosed(ctx context.Context, _ int) {
	if sk, ok := ctx.Value(socketKey{}).(*socket); ok {
		a.live.sockets.remove(sk)
		sk.cancel()
	}
}

// sockets watches the sessions behind the open WebSocket connections of this instance: one query
// per interval for all of them, so that a logout on any instance closes its sockets within
// seconds, without a query per connection.
type sockets struct {
	identity *identity.Service
	every    time.Duration

	mu      sync.Mutex
	open    map[*socket]struct{}
	perUser map[int]int // open sockets by user id
}

type socket struct {
	sessionID int
	userID    int
	conn      *gorillaConn
	cancel    context.CancelFunc
	// inFlight holds a slot for each query or mutation running on the socket.
	inFlight chan struct{}
}

// add registers sk unless its user already has maxPerUser open sockets.
func (s *sockets) add(sk *socket, maxPerUser int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perUser[sk.userID] >= maxPerUser {
		return false
	}
	s.open[sk] = struct{}{}
	s.perUser[sk.userID]++
	return true
}

func (s *sockets) remove(sk *socket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop(sk)
}

// drop forgets sk (s.mu held); dropping it twice is harmless.
func (s *sockets) drop(sk *socket) {
	if _, open := s.open[sk]; !open {
		return
	}
	delete(s.open, sk)
	if s.perUser[sk.userID]--; s.perUser[sk.userID] <= 0 {
		delete(s.perUser, sk.userID)
	}
}

// Run checks the sessions every interval; when ctx ends it closes every socket ("going away").
func (s *sockets) Run(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.closeAll(wsCloseGoingAway, "server shutting down")
			return
		case <-t.C:
			if err := s.check(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("websocket: session check", "error", err)
			}
		}
	}
}

func (s *sockets) check(ctx context.Context) error {
	s.mu.Lock()
	checked := make([]*socket, 0, len(s.open))
	ids := make([]int, 0, len(s.open))
	for sk := range s.open {
		checked = append(checked, sk)
		ids = append(ids, sk.sessionID)
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	active, err := s.identity.ActiveSessions(ctx, ids)
	if err != nil {
		return err
	}
	s.mu.Lock()
	var ended []*socket
	// Only the sockets the query asked about: one opened while it ran is not in its answer, and
	// closing it would end a valid session's socket; the next check covers it.
	for _, sk := range checked {
		if _, open := s.open[sk]; open && !active[sk.sessionID] {
			ended = append(ended, sk)
			s.drop(sk)
		}
	}
	s.mu.Unlock()
	for _, sk := range ended {
		// The close frame first, so that the client sees 4401 and not the transport's 1000.
		_ = sk.conn.WriteClose(wsCloseUnauth, "session ended")
		sk.cancel()
	}
	return nil
}

func (s *sockets) closeAll(code int, reason string) {
	s.mu.Lock()
	all := make([]*socket, 0, len(s.open))
	for sk := range s.open {
		all = append(all, sk)
	}
	clear(s.open)
	clear(s.perUser)
	s.mu.Unlock()
	for _, sk := range all {
		_ = sk.conn.WriteClose(code, reason)
		sk.cancel()
	}
}
