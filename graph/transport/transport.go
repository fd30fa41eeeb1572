// Package transport carries what the HTTP layer knows about a request into the resolvers: the
// client's address and a way to set or clear the session cookie on the response.
package transport

import (
	"context"
	"net/http"
	"time"
)

// CookieName is the session cookie's name.
const CookieName = "session"

// Request is the HTTP side of one GraphQL request.
type Request struct {
	ClientAddr string
	// Secure marks cookies Secure (off only in development mode).
	Secure bool
	// w is nil for WebSocket operations, which cannot set cookies.
	w http.ResponseWriter
}

type key struct{}

// With returns ctx carrying the request.
func With(ctx context.Context, w http.ResponseWriter, clientAddr string, secure bool) context.Context {
	return context.WithValue(ctx, key{}, &Request{ClientAddr: clientAddr, Secure: secure, w: w})
}

// From returns the request of ctx (a zero Request when there is none).
func From(ctx context.Context) *Request {
	if r, ok := ctx.Value(key{}).(*Request); ok {
		return r
	}
	return &Request{}
}

// SetSessionCookie sets the HttpOnly session cookie.
func SetSessionCookie(ctx context.Context, token string, expires time.Time) {
	r := From(ctx)
	if r.w == nil {
		return
	}
	http.SetCookie(r.w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: r.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie removes the session cookie.
func ClearSessionCookie(ctx context.Context) {
	r := From(ctx)
	if r.w == nil {
		return
	}
	http.SetCookie(r.w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.Secure, SameSite: http.SameSiteLaxMode,
	})
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the server's id of the request, which logs and audit records
// quote.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of ctx's request, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type clientRequestIDKey struct{}

// WithClientRequestID returns ctx carrying the id the client gave its request (X-Request-Id).
// Anybody may choose it, so it is kept apart from the server's own id (RequestID), which is unique.
func WithClientRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, clientRequestIDKey{}, id)
}

// ClientRequestID returns the id the client gave ctx's request, or "".
func ClientRequestID(ctx context.Context) string {
	id, _ := ctx.Value(clientRequestIDKey{}).(string)
	return id
}
