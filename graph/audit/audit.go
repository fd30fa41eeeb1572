// Package audit keeps coffer's audit log. Two kinds of rows go in it:
//
//   - one per mutation of an administrator or a staff user, written after the answer with how it
//     ended (Record), refused ones included;
//   - the security events (Write): logins and their failures, lockouts, password and second-factor
//     changes, key changes, staff reads of personal data, and the targets of administrative
//     changes. Each is written through the transaction of the change it records, so a change that
//     commits has its row and one that rolls back has none.
//
// Neither keeps arguments: they carry passwords and personal data. The actor, the client address
// and both request ids (the server's own and the client's X-Request-Id) come from the context.
package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"coffer/ent"
	"coffer/graph/transport"
)

// The security events' actions.
const (
	LoginSucceeded            = "login.succeeded"
	LoginSecondFactorRequired = "login.second_factor_required"
	LoginFailed               = "login.failed"
	AccountLocked             = "account.locked"
	ReauthenticationFailed    = "reauthentication.failed"
	PasswordChanged           = "password.changed"
	PasswordReset             = "password.reset"
	TwoFactorChanged          = "two_factor.changed"
	PublicKeyChanged          = "public_key.changed"
	UserStatusChanged         = "user.status_changed"
	UserCreated               = "user.created"
	CustomerCreated           = "customer.created"
	CustomerDeleted           = "customer.deleted"
	CustomerUpdated           = "customer.updated"
	DebitLimitChanged         = "account.debit_limit_changed"
	PersonRead                = "person.read"
	PeopleRead                = "people.read"
	PersonProceduresRead      = "person.procedures_read"
	PersonVersionsRead        = "person.versions_read"
)

// OK is the outcome of an action that succeeded.
const OK = "OK"

// Actor is who acted. The zero Actor is anonymous.
type Actor struct {
	UserID   int
	Username string
	Role     string
}

type actorKey struct{}

// WithActor returns ctx carrying a, the actor of the events written under it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom is the actor of ctx, anonymous when there is none.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// Event is one security event.
type Event struct {
	Action string
	// Actor, when set, is used instead of the context's: a failed login's actor is the user whose
	// name was given (when someone has it), since nobody is logged in.
	Actor *Actor
	// Target is what the action was about, made with Target or Targets.
	Target, TargetName string
	// Outcome is OK (the default) or the error code of a refused attempt.
	Outcome string
}

// Target names one entity: Target("user", 12) is "user:12".
func Target(kind string, id int) string { return kind + ":" + strconv.Itoa(id) }

// Targets names several entities of one kind: "person:3,4,9".
func Targets(kind string, ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return kind + ":" + strings.Join(parts, ",")
}

// Write records e through events: a transaction's AuditEventClient (tx.AuditEvent), so that the
// row commits or rolls back with the change, or the client's for an event that changes nothing
// else (a read, a refused login).
func Write(ctx context.Context, events *ent.AuditEventClient, e Event) error {
	a := ActorFrom(ctx)
	if e.Actor != nil {
		a = *e.Actor
	}
	if e.Outcome == "" {
		e.Outcome = OK
	}
	c := events.Create().SetActorUsername(clip(a.Username, 64)).SetActorRole(clip(a.Role, 16)).
		SetAction(clip(e.Action, 500)).SetOutcome(clip(e.Outcome, 32)).SetAt(time.Now().UTC())
	if a.UserID != 0 {
		c.SetActorID(a.UserID)
	}
	if e.Target != "" {
		c.SetTarget(clip(e.Target, 1100))
	}
	if e.TargetName != "" {
		c.SetTargetName(clip(e.TargetName, 200))
	}
	setRequest(ctx, c)
	if err := c.Exec(ctx); err != nil {
		return fmt.Errorf("audit: write %s: %w", e.Action, err)
	}
	return nil
}

// setRequest sets the request's client address and ids.
func setRequest(ctx context.Context, c *ent.AuditEventCreate) {
	c.SetClientAddr(clip(transport.From(ctx).ClientAddr, 64)).SetRequestID(clip(transport.RequestID(ctx), 64))
	if id := transport.ClientRequestID(ctx); id != "" {
		c.SetClientRequestID(clip(id, 64))
	}
}

// Request is one mutation of an audited actor, as it was answered.
type Request struct {
	Actor         Actor
	Fields        []string // the mutation's top-level fields, e.g. createCustomer
	OperationName string
	Outcome       string // "OK" or the first error's code
	At            time.Time
}

// Audited reports whether role's mutations are recorded: administrators' and staff users'.
func Audited(role string) bool { return role == "ADMIN" || role == "STAFF" }

// Record stores r, after the answer: it names what was asked and how it ended, refusals included.
func Record(ctx context.Context, client *ent.Client, r Request) error {
	c := client.AuditEvent.Create().
		SetActorID(r.Actor.UserID).SetActorUsername(clip(r.Actor.Username, 64)).SetActorRole(clip(r.Actor.Role, 16)).
		SetAction(clip(strings.Join(r.Fields, ","), 500)).SetOperationName(clip(r.OperationName, 200)).
		SetOutcome(clip(r.Outcome, 32)).SetAt(r.At)
	setRequest(ctx, c)
	if err := c.Exec(ctx); err != nil {
		return fmt.Errorf("audit: record: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
