package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// guard wraps the whole HTTP handler: panics become INTERNAL, CORS answers from the allow-list,
// /query takes only what the API speaks (JSON POSTs, WebSocket upgrades, CORS preflights), and
// every request except a WebSocket gets a deadline.
func (a *app) guard(next http.Handler) http.Handler {
	h := a.cfg.Hardening
	return recoverHTTP(corsAllowList(a.cfg.AllowedOrigins,
		queryGate(bodyLimits{max: a.cfg.MaxBodyBytes, staffMax: a.cfg.StaffMaxBodyBytes, isStaff: a.staffRequest},
			withDeadline(h.RequestTimeout, next))))
}

// recoverHTTP answers a panic outside the resolvers (which gqlgen recovers itself) with INTERNAL,
// logging the stack instead of sending it.
func recoverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			slog.ErrorContext(r.Context(), "panic while serving", "panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
			writeRefusal(w, http.StatusInternalServerError, "INTERNAL", "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// corsAllowList lets the listed origins call the API with credentials. Other origins get no CORS
// headers at all (their preflights are refused), and the answer is never "*": with cookies that
// would open every user's session to every site.
func corsAllowList(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		allowed := origin != "" && slices.Contains(origins, origin)
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				writeRefusal(w, http.StatusForbidden, "FORBIDDEN", "origin not allowed")
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isWebSocket reports whether r asks to become a WebSocket.
func isWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// bodyLimits bound request bodies: max for everyone, staffMax for STAFF and ADMIN sessions, whose
// document uploads (requestDocumentVerification: five files of 5 MiB, in base64) need more.
// isStaff authenticates the request; it runs only for a body over max, so that ordinary requests
// are not authenticated twice.
type bodyLimits struct {
	max, staffMax int64
	isStaff       func(*http.Request) bool
}

// queryGate refuses at the door what /query does not speak, before authentication and before
// gqlgen: GET without a WebSocket upgrade (mutations must never ride on a link or an <img>), any
// POST that is not application/json (a form or text/plain POST is what a cross-site page can send
// without a preflight), bodies over the limit (413) and batches (a JSON array would multiply every
// per-operation limit).
func queryGate(limits bodyLimits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/query" || isWebSocket(r) || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			writeRefusal(w, http.StatusMethodNotAllowed, "BAD_REQUEST", "send operations as a POST with Content-Type: application/json")
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeRefusal(w, http.StatusUnsupportedMediaType, "BAD_REQUEST", "send operations as a POST with Content-Type: application/json")
			return
		}
		body, status := readBody(w, r, limits)
		if status == http.StatusRequestEntityTooLarge {
			writeRefusal(w, status, "PAYLOAD_TOO_LARGE", "request body too large")
			return
		}
		if status != 0 {
			writeRefusal(w, http.StatusBadRequest, "BAD_REQUEST", "could not read the request body")
			return
		}
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
			writeRefusal(w, http.StatusBadRequest, "BAD_REQUEST", "batched operations are not supported: send one operation per request")
			return
		}
		if problem := checkOperationBody(body); problem != "" {
			// The client's mistake, not the server's: no ERROR, and never the body in the log.
			slog.InfoContext(r.Context(), "bad request body", "problem", problem)
			writeRefusal(w, http.StatusBadRequest, "BAD_REQUEST", problem)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// operationBody is a GraphQL-over-HTTP request body with each member left raw, so that its type
// can be named in the answer. gqlgen decodes the same members into a string and maps.
type operationBody struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// checkOperationBody says what is wrong with a request body gqlgen could not decode, or "" when
// it is fine. gqlgen answers such bodies with an error that quotes the whole body, which the error
// presenter then turns into INTERNAL: a client's typo would page the operator. The message names
// the problem and never repeats the body.
func checkOperationBody(body []byte) string {
	const notAnObject = "the request body must be a JSON object with a query"
	var b operationBody
	if err := json.Unmarshal(body, &b); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntax.Offset)
		case errors.As(err, &typ):
			return notAnObject
		default:
			return "the request body is not valid JSON"
		}
	}
	if string(bytes.TrimSpace(body)) == "null" {
		return notAnObject
	}
	for _, m := range []struct {
		name, want string
		value      json.RawMessage
	}{
		{"query", "a string", b.Query}, {"operationName", "a string", b.OperationName},
		{"variables", "an object", b.Variables}, {"extensions", "an object", b.Extensions},
	} {
		if len(m.value) == 0 || string(m.value) == "null" {
			continue
		}
		if (m.want == "a string") != (m.value[0] == '"') || (m.want == "an object") != (m.value[0] == '{') {
			return fmt.Sprintf("%q must be %s", m.name, m.want)
		}
	}
	return ""
}

// readBody reads r's body within limits; the status is 0, 413 or 400.
func readBody(w http.ResponseWriter, r *http.Request, limits bodyLimits) ([]byte, int) {
	limit := limits.max
	if r.ContentLength > limit {
		if r.ContentLength > limits.staffMax || !limits.isStaff(r) {
			return nil, http.StatusRequestEntityTooLarge
		}
		limit = limits.staffMax
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, http.StatusBadRequest
	}
	if int64(len(body)) > limit {
		// A body without a Content-Length (chunked) that turns out larger than max.
		if limit == limits.staffMax || !limits.isStaff(r) {
			return nil, http.StatusRequestEntityTooLarge
		}
		rest, err := io.ReadAll(io.LimitReader(r.Body, limits.staffMax+1-int64(len(body))))
		if err != nil {
			return nil, http.StatusBadRequest
		}
		body = append(body, rest...)
		if int64(len(body)) > limits.staffMax {
			return nil, http.StatusRequestEntityTooLarge
		}
	}
	return body, 0
}

// withDeadline bounds the work of one request, database calls included, so that a stalled
// database answers INTERNAL instead of holding the client. A WebSocket lives long: it gets no
// deadline here, and the server's read and write timeouts are lifted from its connection before
// the upgrade (they would otherwise cut it after WriteTimeout).
func withDeadline(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebSocket(r) {
			rc := http.NewResponseController(w)
			if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
				slog.WarnContext(r.Context(), "websocket: could not lift the read deadline", "error", err)
			}
			if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
				slog.WarnContext(r.Context(), "websocket: could not lift the write deadline", "error", err)
			}
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// writeRefusal answers a request refused outside GraphQL execution in the GraphQL error shape, so
// that clients read every error the same way.
func writeRefusal(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{
		"message": message, "extensions": map[string]string{"code": code}}}})
}
