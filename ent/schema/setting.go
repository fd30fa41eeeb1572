package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Setting is a value every server instance on the database must share, such as the look-up key
// generated on first start when LOOKUP_KEY is not configured.
type Setting struct {
	ent.Schema
}

func (Setting) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

func (Setting) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().NotEmpty().MaxLen(64).Immutable(),
		field.Bytes("value").Sensitive(),
	}
}
