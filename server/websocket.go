package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// WebSocket settings. The read limit bounds one client message (a subscribe with its query);
// the write timeout ends a connection whose client stopped reading instead of holding a writer.
const (
	wsReadLimitBytes   = 64 << 10
	wsWriteTimeout     = 10 * time.Second
	wsKeepAlive        = 15 * time.Second
	wsInitTimeout      = 10 * time.Second
	wsCloseUnauth      = 4401 // graphql-transport-ws: the session ended
	wsCloseForbidden   = 4403 // graphql-transport-ws: connection_init refused
	wsCloseTooMany     = 4429 // connection_init refused: the user has too many sockets open
	wsCloseGoingAway   = 1001
	wsHandshakeTimeout = 10 * time.Second
)

// originAllowed reports whether a browser page at the request's Origin may open a WebSocket:
// same origin, or listed in ALLOWED_ORIGINS. A request without Origin is not from a browser page
// (mobile apps, servers), and cannot carry a victim's cookie cross-site: allowed.
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return slices.ContainsFunc(allowed, func(o string) bool { return strings.EqualFold(strings.TrimSuffix(o, "/"), origin) })
}

// gorillaWebsocket implements gqlgen's WebsocketImplementation over a gorilla Upgrader (gqlgen's
// default is coder/websocket; the design keeps gorilla).
type gorillaWebsocket struct {
	upgrader websocket.Upgrader
}

var _ gqltransport.WebsocketImplementation = (*gorillaWebsocket)(nil)

func newGorillaWebsocket(allowed []string) *gorillaWebsocket {
	return &gorillaWebsocket{upgrader: websocket.Upgrader{
		HandshakeTimeout: wsHandshakeTimeout,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		// Write buffers are taken from the pool only while writing: idle connections hold none.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(r *http.Request) bool { return originAllowed(r, allowed) },
	}}
}

func (g *gorillaWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts gqltransport.WebsocketAcceptOptions) (gqltransport.WebsocketConn, error) {
	up := g.upgrader
	up.Subprotocols = opts.Subprotocols
	c, err := up.Upgrade(w, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	conn := &gorillaConn{c: c}
	if slot := wsSlotFrom(r.Context()); slot != nil {
		slot.conn = conn
	}
	return conn, nil
}

// gorillaConn is one WebSocket connection as gqlgen's transport uses it.
type gorillaConn struct {
	c *websocket.Conn

	mu        sync.Mutex // serializes writes: gqlgen's and the session watcher's close
	closeSent bool
}

var (
	_ gqltransport.WebsocketConn          = (*gorillaConn)(nil)
	_ gqltransport.WebsocketReadLimiter   = (*gorillaConn)(nil)
	_ gqltransport.WebsocketReadDeadliner = (*gorillaConn)(nil)
)

func (g *gorillaConn) NextReader() (int, io.Reader, error) {
	mt, r, err := g.c.NextReader()
	if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
		return mt, nil, gqltransport.ErrWebsocketClosed
	}
	return mt, r, err
}

func (g *gorillaConn) WriteJSON(v any) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closeSent {
		return gqltransport.ErrWebsocketClosed
	}
	_ = g.c.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	return g.c.WriteJSON(v)
}

// WriteClose sends the close frame once: the first code wins (a revoked session's 4401 is not
// replaced by the transport's own 1000 on the way out).
func (g *gorillaConn) WriteClose(code int, message string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closeSent {
		return nil
	}
	g.closeSent = true
	if len(message) > 120 { // a close frame's reason is at most 123 bytes
		message = message[:120]
	}
	return g.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, message),
		time.Now().Add(time.Second))
}

func (g *gorillaConn) Close() error                      { return g.c.Close() }
func (g *gorillaConn) Subprotocol() string               { return g.c.Subprotocol() }
func (g *gorillaConn) SetReadLimit(limit int64)          { g.c.SetReadLimit(limit) }
func (g *gorillaConn) SetReadDeadline(t time.Time) error { return g.c.SetReadDeadline(t) }

// wsSlot carries the accepted connection from the upgrade to connection_init, where the session
// is known and the session watcher takes the connection.
type wsSlot struct{ conn *gorillaConn }

type wsSlotKey struct{}

func wsSlotFrom(ctx context.Context) *wsSlot {
	s, _ := ctx.Value(wsSlotKey{}).(*wsSlot)
	return s
}
