package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent records one action: every mutation of an administrator or a staff user (written after
// the answer, with its outcome), and the security events written in the transaction of the change
// they record (logins, lockouts, password and second-factor changes, key changes, staff reads of
// personal data, the targets of administrative changes). Rows are only ever inserted.
type AuditEvent struct {
	ent.Schema
}

func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		// The actor is kept by id and by name: the user may be deleted later, the record stays.
		// It is empty (NULL, "") for a failed login under a name nobody has.
		field.Int("actor_id").Optional().Nillable().Immutable(),
		field.String("actor_username").MaxLen(64).Immutable(),
		field.String("actor_role").MaxLen(16).Immutable(),
		// Action is the mutation's top-level fields, e.g. "createCustomer" or "setUserStatus".
		field.String("action").MaxLen(500).Immutable(),
		field.String("operation_name").Optional().MaxLen(200).Immutable(),
		// Outcome is "OK" or the first error's code; the arguments are not kept (passwords).
		field.String("outcome").MaxLen(32).Immutable(),
		field.String("client_addr").MaxLen(64).Immutable(),
		// Target is what the action was about, "user:12" or "account:7" or "person:3,4" (a page
		// read); target_name names it as it then was (a username, an IBAN, a qualified id).
		field.String("target").Optional().MaxLen(1100).Immutable(),
		field.String("target_name").Optional().MaxLen(200).Immutable(),
		// RequestID is the server's own id of the request; ClientRequestID the client's
		// X-Request-Id, which anybody may choose and so is kept apart.
		field.String("request_id").Optional().MaxLen(64).Immutable(),
		field.String("client_request_id").Optional().MaxLen(64).Immutable(),
		field.Time("at").Default(time.Now).Immutable(),
	}
}

func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("actor_id", "at"),
		index.Fields("at"),
	}
}
