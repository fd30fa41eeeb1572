package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"coffer/graph/identity"
	"coffer/graph/money"
)

// servePlain is the read baseline: a plain net/http + lib/pq handler that answers what
// `{ me { customer { balance { amount } } } }` answers with the queries such a handler would
// make: the session lookup (joined with its user, with coffer's rules: revoked, expired, idle,
// disabled or locked users are refused; last_seen_at touched at most once a minute) and the
// balance read. It runs as a process of its own with coffer's pool size, like the server.
func servePlain(dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(20) // coffer's default pool (DB_MAX_OPEN_CONNS)
	db.SetMaxIdleConns(20)
	currency := money.Currency{Code: "EUR", Scale: 2}
	const idle, touchEvery = 30 * time.Minute, time.Minute

	mux := http.NewServeMux()
	mux.HandleFunc("POST /balance", func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		ctx := r.Context()
		var (
			sessionID, userID       int
			lastSeen, expires       time.Time
			revoked                 bool
			status                  string
			balanceMinor            int64
			now                     = time.Now()
			unauthenticated, failed = "UNAUTHENTICATED", "INTERNAL"
		)
		err := db.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.last_seen_at, s.expires_at, s.revoked_at IS NOT NULL, u.status
			FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, identity.HashToken(token)).
			Scan(&sessionID, &userID, &lastSeen, &expires, &revoked, &status)
		switch {
		case err == sql.ErrNoRows:
			plainError(w, unauthenticated)
			return
		case err != nil:
			plainError(w, failed)
			return
		case revoked, !now.Before(expires), now.Sub(lastSeen) > idle, status == "DISABLED", status == "LOCKED":
			plainError(w, unauthenticated)
			return
		}
		if now.Sub(lastSeen) > touchEvery {
			if _, err := db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, now, sessionID); err != nil {
				plainError(w, failed)
				return
			}
		}
		err = db.QueryRowContext(ctx, `SELECT a.balance FROM accounts a JOIN customers c ON c.id = a.owner_id
			WHERE c.user_id = $1 AND a.kind = 'MAIN'`, userID).Scan(&balanceMinor)
		if err != nil {
			plainError(w, failed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"me": map[string]any{"customer": map[string]any{
			"balance": map[string]string{"amount": currency.Format(balanceMinor)}}}}})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "plain handler serving on "+ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	return srv.Serve(ln)
}

func plainError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": code, "extensions": map[string]string{"code": code}}}})
}
