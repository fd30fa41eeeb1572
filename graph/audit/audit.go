// Package audit records what administrators and staff users do: every mutation they send, with
// who, what, when, from where and how it ended. The arguments are not recorded, since they carry
// passwords and personal data; the action names the operation's fields.
package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"coffer/ent"
	"coffer/ent/user"
	"coffer/graph/identity"
)

// Event is one action.
type Event struct {
	Viewer        *identity.Viewer
	Fields        []string // the mutation's top-level fields, e.g. createCustomer
	OperationName string
	Outcome       string // "OK" or the first error's code
	ClientAddr    string
	RequestID     string
	At            time.Time
}

// Audited reports whether v's actions are recorded: administrators' and staff users'.
func Audited(v *identity.Viewer) bool {
	return v != nil && (v.Role == user.RoleADMIN || v.Role == user.RoleSTAFF)
}

// Record stores e.
func Record(ctx context.Context, client *ent.Client, e Event) error {
	err := client.AuditEvent.Create().
		SetActorID(e.Viewer.UserID).SetActorUsername(e.Viewer.Username).SetActorRole(string(e.Viewer.Role)).
		SetAction(clip(strings.Join(e.Fields, ","), 500)).SetOperationName(clip(e.OperationName, 200)).
		SetOutcome(clip(e.Outcome, 32)).SetClientAddr(clip(e.ClientAddr, 64)).SetRequestID(clip(e.RequestID, 64)).
		SetAt(e.At).Exec(ctx)
	if err != nil {
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
