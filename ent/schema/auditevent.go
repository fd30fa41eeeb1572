package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent records one action of an administrator or a staff user: who, what, when, from where
// and how it ended. Rows are only ever inserted.
type AuditEvent struct {
	ent.Schema
}

func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		// The actor is kept by id and by name: the user may be deleted later, the record stays.
		field.Int("actor_id").Immutable(),
		field.String("actor_username").MaxLen(64).Immutable(),
		field.String("actor_role").MaxLen(16).Immutable(),
		// Action is the mutation's top-level fields, e.g. "createCustomer" or "setUserStatus".
		field.String("action").MaxLen(500).Immutable(),
		field.String("operation_name").Optional().MaxLen(200).Immutable(),
		// Outcome is "OK" or the first error's code; the arguments are not kept (passwords).
		field.String("outcome").MaxLen(32).Immutable(),
		field.String("client_addr").MaxLen(64).Immutable(),
		field.String("request_id").Optional().MaxLen(64).Immutable(),
		field.Time("at").Default(time.Now).Immutable(),
	}
}

func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("actor_id", "at"),
		index.Fields("at"),
	}
}
