package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Scope is a territory or organisational unit a person's document, address or membership refers to
// by code. The first scopes come from an embedded data file; administrators add more.
type Scope struct {
	ent.Schema
}

func (Scope) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}

func (Scope) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("scope_type").NotEmpty().MaxLen(50),
		field.String("code").Unique().NotEmpty().MaxLen(64).Immutable(),
		// Codes of the same scope in other classifications, e.g. {"iso3166": "ES"}.
		field.JSON("mappings", json.RawMessage{}).Optional(),
	}
}
