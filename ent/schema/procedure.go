package schema

import (
	"encoding/json"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Procedure is a request about a person that a clerk accepts or rejects once. information holds
// the proposed change, applied to the person in the transaction that accepts it.
type Procedure struct {
	ent.Schema
}

func (Procedure) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}

func (Procedure) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("type").Values("REGISTRATION", "PERSON_DATA_CHANGE", "CANCELLATION",
			"MEMBERSHIP_LEVEL_CHANGE", "DOCUMENT_VERIFICATION", "PHONE_VERIFICATION").Immutable(),
		field.Enum("state").Values("PENDING", "ACCEPTED", "REJECTED").Default("PENDING"),
		field.Int("person_id").Immutable(),
		// Set at the request; a DOCUMENT_VERIFICATION opened by requestVerification gets its files'
		// description (and prioritized) when requestDocumentVerification brings them.
		field.JSON("information", json.RawMessage{}).Optional(),
		// Prioritized document verifications come first in the pending list.
		field.Bool("prioritized").Default(false),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Int("created_by_id").Optional().Nillable().Immutable(),
		field.Time("processed_at").Optional().Nillable(),
		field.Int("processed_by_id").Optional().Nillable(),
		field.String("comment").Optional().Nillable().MaxLen(1000),
	}
}

func (Procedure) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("person", Person.Type).Ref("procedures").Field("person_id").Unique().Required().Immutable(),
		edge.To("created_by", User.Type).Field("created_by_id").Unique().Immutable(),
		edge.To("processed_by", User.Type).Field("processed_by_id").Unique(),
		edge.To("files", DocumentFile.Type).Annotations(entgql.Skip()),
	}
}

func (Procedure) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("person_id", "state"),
		// The clerks' queue (census.Queue): pending first, prioritized first, oldest first.
		index.Fields("state", "prioritized", "created_at"),
	}
}
