package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/session"
	"coffer/ent/user"
)

// tokenBytes is the entropy of a session token: 256 bits.
const tokenBytes = 32

// touchEvery bounds how often a session's last-seen time is written: not on every request.
const touchEvery = time.Minute

// NewToken returns a fresh random token and the hash that is stored for it.
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("identity: random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is how a token is stored and looked up.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Session is what a successful login yields.
type Session struct {
	Token     string
	User      *ent.User
	ExpiresAt time.Time
}

func (s *Service) startSession(ctx context.Context, u *ent.User) (*Session, error) {
	return s.newSession(ctx, s.Client, u)
}

// newSession is startSession through client: a transaction's, so that the session commits with
// what goes with it (a login's audit record).
func (s *Service) newSession(ctx context.Context, client *ent.Client, u *ent.User) (*Session, error) {
	token, hash, err := NewToken()
	if err != nil {
		return nil, err
	}
	now := s.Now()
	expires := now.Add(s.SessionMaxAge)
	_, err = client.Session.Create().
		SetTokenHash(hash).
		SetUserID(u.ID).
		SetCreatedAt(now).
		SetLastSeenAt(now).
		SetExpiresAt(expires).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("identity: create session: %w", err)
	}
	// The first session activates the user's online access: selfRegister no longer reaches them.
	// Through client: a login's transaction already holds the user's row (the lockout claim), and
	// another connection would wait for it until lock_timeout (SQLite: for ever).
	if u.ActivatedAt == nil {
		if err := client.User.Update().Where(user.ID(u.ID), user.ActivatedAtIsNil()).SetActivatedAt(now).Exec(ctx); err != nil {
			return nil, fmt.Errorf("identity: activate: %w", err)
		}
	}
	return &Session{Token: token, User: u, ExpiresAt: expires}, nil
}

// Authenticate resolves a session token to its viewer; nil when the token is unknown, revoked,
// expired, idle for too long, or its user may no longer log in. It reads the session, its user,
// the user's customer and the main account id in one statement (authSQL), on every request:
// nothing is cached across requests, so a logout or a lock takes effect at the next request.
// Concurrent requests share that statement (loadAuth), each in a round that starts after its
// request arrived.
func (s *Service) Authenticate(ctx context.Context, token string) (*Viewer, error) {
	if token == "" || len(token) > 128 {
		return nil, nil
	}
	row, err := s.loadAuth(ctx, HashToken(token))
	if err != nil {
		return nil, fmt.Errorf("identity: session lookup: %w", err)
	}
	if row == nil {
		return nil, nil
	}
	now := s.Now()
	sess, u := row.session, row.user
	switch {
	case sess.RevokedAt != nil, !now.Before(sess.ExpiresAt), now.Sub(sess.LastSeenAt) > s.SessionIdle:
		return nil, nil
	case u.Status == user.StatusDISABLED, u.Status == user.StatusLOCKED:
		return nil, nil
	}
	// Touched more often than touchEvery when the idle timeout is short (SESSION_IDLE_TIMEOUT under
	// 10 minutes), or a session in use would idle out between two touches.
	if now.Sub(sess.LastSeenAt) > min(touchEvery, s.SessionIdle/10) {
		if err := s.Client.Session.UpdateOneID(sess.ID).SetLastSeenAt(now).Exec(ctx); err != nil {
			return nil, fmt.Errorf("identity: touch session: %w", err)
		}
	}
	v := &Viewer{UserID: u.ID, Username: u.Username, Role: u.Role, SessionID: sess.ID, user: u}
	if row.customer != nil {
		v.CustomerID = row.customer.ID
		v.MainAccountID = row.mainAccountID
	}
	return v, nil
}

// dialect is the store's SQL dialect, for the statements identity writes itself.
func (s *Service) dialect() string {
	if s.Ledger != nil && s.Ledger.Dialect != "" {
		return s.Ledger.Dialect
	}
	return dialect.Postgres
}

// SessionActive reports whether the session still authenticates (long-lived WebSocket
// connections re-check it).
func (s *Service) SessionActive(ctx context.Context, sessionID int) (bool, error) {
	return s.Client.Session.Query().
		Where(session.ID(sessionID), session.RevokedAtIsNil(), session.ExpiresAtGT(s.Now())).
		Exist(ctx)
}

// Logout revokes the viewer's current session only.
func (s *Service) Logout(ctx context.Context, v *Viewer) error {
	return s.Client.Session.UpdateOneID(v.SessionID).SetRevokedAt(s.Now()).Exec(ctx)
}

// revokeSessions revokes every session of userID except keep (0 keeps none).
func (s *Service) revokeSessions(ctx context.Context, client *ent.Client, userID, keep int) error {
	return client.Session.Update().
		Where(session.UserID(userID), session.RevokedAtIsNil(), session.IDNEQ(keep)).
		SetRevokedAt(s.Now()).
		Exec(ctx)
}

// ActiveSessions returns which of the given sessions still authenticate (not revoked, not
// expired, their user neither locked nor disabled): one query for every open WebSocket
// connection of an instance.
func (s *Service) ActiveSessions(ctx context.Context, ids []int) (map[int]bool, error) {
	active := make(map[int]bool, len(ids))
	if len(ids) == 0 {
		return active, nil
	}
	found, err := s.Client.Session.Query().
		Where(session.IDIn(ids...), session.RevokedAtIsNil(), session.ExpiresAtGT(s.Now()),
			session.HasUserWith(user.StatusNotIn(user.StatusDISABLED, user.StatusLOCKED))).
		IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("identity: active sessions: %w", err)
	}
	for _, id := range found {
		active[id] = true
	}
	return active, nil
}
