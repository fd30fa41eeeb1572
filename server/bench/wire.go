package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// wireClient is the HTTP client of the measured loops. The load generator shares the two cores
// with PostgreSQL and the server it measures, so every microsecond of CPU it spends per request
// is taken from them: net/http's Transport cost about 0.13 ms per request (a goroutine pair per
// connection, header maps, a request clone per call), about 9% of the machine's work per
// transfer. This is still real HTTP/1.1 over TCP, one keep-alive connection per benchmark client,
// but the request is one Write of mostly pre-formatted bytes and nothing runs in the background.
//
// Client i's connection is only used by the op calls for client i, which run one at a time
// (run in load.go and drive in subscribe.go each give a client index to one goroutine).
type wireClient struct {
	addr   string // host:port
	prefix string // request line, Host and Content-Type
	conns  []*wireConn
}

type wireConn struct {
	conn   net.Conn
	br     *bufio.Reader
	req    []byte       // the request being written, reused
	body   bytes.Buffer // the response body, reused
	header []byte       // the request head up to the Content-Length value, for token
	token  string
}

// newWireClient posts to rawURL (http://host:port/path) from clients benchmark clients.
func newWireClient(rawURL string, clients int) (*wireClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Port() == "" {
		return nil, fmt.Errorf("wire client: %q is not http://host:port/path", rawURL)
	}
	w := &wireClient{addr: u.Host, conns: make([]*wireConn, clients)}
	w.prefix = "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n"
	for i := range w.conns {
		w.conns[i] = &wireConn{}
	}
	return w, nil
}

// post sends body as client with token and decodes the reply, with gqlClient.post's checks: a
// body that is not a GraphQL response, or a status other than 200 without a GraphQL error, is an
// error.
func (w *wireClient) post(ctx context.Context, client int, token string, body []byte) (gqlReply, error) {
	c := w.conns[client]
	if c.header == nil || c.token != token {
		c.token = token
		c.header = append([]byte(w.prefix), "Authorization: Bearer "+token+"\r\nContent-Length: "...)
	}
	c.req = append(c.req[:0], c.header...)
	c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)

	status, err := w.roundTrip(ctx, c)
	if err != nil {
		return gqlReply{}, err
	}
	var out gqlReply
	if err := json.Unmarshal(c.body.Bytes(), &out); err != nil {
		return gqlReply{}, fmt.Errorf("status %d: %.200s", status, c.body.Bytes())
	}
	if status != http.StatusOK && out.err() == nil {
		return out, fmt.Errorf("status %d", status)
	}
	return out, nil
}

// roundTrip writes c.req and reads the response into c.body. A connection kept from an earlier
// request that the server has since closed (idle timeout) fails before any byte of a response
// arrives; then the request was not processed, and it is sent once more on a new connection.
func (w *wireClient) roundTrip(ctx context.Context, c *wireConn) (int, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		reused := c.conn != nil
		if !reused {
			conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", w.addr)
			if err != nil {
				return 0, err
			}
			c.conn = conn
			if c.br == nil {
				c.br = bufio.NewReaderSize(conn, 16<<10)
			} else {
				c.br.Reset(conn)
			}
		}
		status, started, err := c.exchange(ctx)
		if err == nil {
			return status, nil
		}
		c.conn.Close()
		c.conn = nil
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, ctxErr
		}
		if reused && !started && attempt == 0 && isStale(err) {
			continue
		}
		return 0, err
	}
}

// exchange is one request and response on c.conn; started says whether any byte of the
// response arrived.
func (c *wireConn) exchange(ctx context.Context) (status int, started bool, err error) {
	conn := c.conn
	// The same 30 s bound as the net/http client; a cancelled ctx ends a blocked read at once.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(c.req); err != nil {
		return 0, false, err
	}
	if _, err := c.br.Peek(1); err != nil {
		return 0, false, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, true, err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil {
		return 0, true, err
	}
	if res.Close {
		// The server answers Connection: close: the next request dials again.
		conn.Close()
		c.conn = nil
	}
	return res.StatusCode, true, nil
}

// isStale is how a write or the first read fails on a connection the server closed while idle.
func isStale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// close closes the clients' connections.
func (w *wireClient) close() {
	for _, c := range w.conns {
		if c.conn != nil {
			c.conn.Close()
			c.conn = nil
		}
	}
}
