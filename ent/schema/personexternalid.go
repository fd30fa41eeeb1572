package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PersonExternalID is one entry of a person's externalIds: the index behind "<value>@<system>"
// and the guarantee that an external id names one person.
type PersonExternalID struct {
	ent.Schema
}

func (PersonExternalID) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

func (PersonExternalID) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id"),
		field.String("system").NotEmpty().MaxLen(32),
		field.String("value").NotEmpty().MaxLen(64),
	}
}

func (PersonExternalID) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("person", Person.Type).Ref("external_id_rows").Field("person_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (PersonExternalID) Indexes() []ent.Index {
	return []ent.Index{index.Fields("system", "value").Unique(), index.Fields("person_id")}
}
