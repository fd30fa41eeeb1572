package schema

import (
	"encoding/json"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PersonVersion is a person as they were from valid_from until the next version: the whole person
// as a JSON snapshot, so that reading the past never has to replay changes.
type PersonVersion struct {
	ent.Schema
}

func (PersonVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

func (PersonVersion) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Immutable(),
		// The version's number in the person's history: 1 for the registration, then one more per
		// change (Person.versions).
		field.Int("version").Positive().Immutable(),
		field.Time("valid_from").Immutable(),
		field.JSON("snapshot", json.RawMessage{}).Immutable(),
		// The procedure whose acceptance made this version, if any.
		field.Int("procedure_id").Optional().Nillable().Immutable(),
		// The clerk whose action wrote this version.
		field.Int("changed_by_id").Optional().Nillable().Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

func (PersonVersion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("person", Person.Type).Ref("versions").Field("person_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (PersonVersion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("person_id", "valid_from"),
		index.Fields("person_id", "version").Unique(),
	}
}
