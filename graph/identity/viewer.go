package identity

import (
	"context"
	"time"

	"coffer/ent"

	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/audit"
)

// Viewer is the authenticated user of a request.
type Viewer struct {
	UserID    int
	Username  string
	Role      user.Role
	SessionID int
	// CustomerID is 0 for staff and administrators.
	CustomerID int
	// MainAccountID is the customer's main account (0 for staff and administrators, or when it is
	// not known). An account's kind never changes and its owner only goes when the customer is
	// deleted, which closes it first: a debit of a closed account is refused, so the id read at
	// authentication is safe to debit for the whole request.
	MainAccountID int

	// user is the row Authenticate read; WithRequestViewer makes it this request's snapshot.
	user *ent.User
}

// IsAdmin reports whether the viewer administers the bank.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Role == user.RoleADMIN }

// IsStaff reports whether the viewer may use the people registry.
func (v *Viewer) IsStaff() bool {
	return v != nil && (v.Role == user.RoleSTAFF || v.Role == user.RoleADMIN)
}

type viewerKey struct{}

// WithViewer returns ctx carrying v, who is also the actor of the audit events written under it.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	if v != nil {
		ctx = audit.WithActor(ctx, v.Actor())
	}
	return context.WithValue(ctx, viewerKey{}, v)
}

// Actor is v as the audit log names them.
func (v *Viewer) Actor() audit.Actor {
	return audit.Actor{UserID: v.UserID, Username: v.Username, Role: string(v.Role)}
}

// actorOf is u as the audit log names them, for events before a session exists (a login).
func actorOf(u *ent.User) *audit.Actor {
	return &audit.Actor{UserID: u.ID, Username: u.Username, Role: string(u.Role)}
}

// ViewerFrom returns the viewer of ctx, or nil.
func ViewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

type requestUserKey struct{}

// WithRequestViewer is WithViewer for one request that Authenticate has just authenticated: the
// user row (with its customer) it read is also kept, so that resolving `me` in the same request
// needs no statement (RequestUser). Long-lived connections use WithViewer: a snapshot taken when
// they opened would go stale.
func WithRequestViewer(ctx context.Context, v *Viewer) context.Context {
	ctx = WithViewer(ctx, v)
	if v != nil && v.user != nil {
		ctx = context.WithValue(ctx, requestUserKey{}, v.user)
	}
	return ctx
}

// RequestUser returns the viewer's user as authentication read it at the start of this request,
// or nil. It does not see the request's own writes: callers use it only where nothing was written
// before (queries, not mutations).
func RequestUser(ctx context.Context) *ent.User {
	u, _ := ctx.Value(requestUserKey{}).(*ent.User)
	return u
}

// Require returns the viewer, or UNAUTHENTICATED.
func Require(ctx context.Context) (*Viewer, error) {
	v := ViewerFrom(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return v, nil
}

// RequireAdmin returns the viewer if they are an administrator.
func RequireAdmin(ctx context.Context) (*Viewer, error) {
	v, err := Require(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsAdmin() {
		return nil, apperr.New(apperr.Forbidden, "administrators only")
	}
	return v, nil
}

// RequireCustomer returns the viewer if they are a customer.
func RequireCustomer(ctx context.Context) (*Viewer, error) {
	v, err := Require(ctx)
	if err != nil {
		return nil, err
	}
	if v.CustomerID == 0 {
		return nil, apperr.New(apperr.Forbidden, "customers only")
	}
	return v, nil
}

// EffectiveStatus is the status a client sees: a temporary lockout after failed logins shows as
// LOCKED until it ends.
func EffectiveStatus(u *ent.User, now time.Time) user.Status {
	if u.Status == user.StatusACTIVE && u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		return user.StatusLOCKED
	}
	return u.Status
}

// StatusOf is userID's EffectiveStatus now, read afresh: locked_until is no GraphQL field, so the
// user a resolver holds may lack it.
func (s *Service) StatusOf(ctx context.Context, userID int) (user.Status, error) {
	u, err := s.Client.User.Query().Where(user.ID(userID)).Select(user.FieldStatus, user.FieldLockedUntil).Only(ctx)
	if err != nil {
		return "", err
	}
	return EffectiveStatus(u, s.Now()), nil
}
