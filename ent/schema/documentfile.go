package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// DocumentFile is one file of a document verification: the decoded bytes, their checked content
// type and their SHA-256.
type DocumentFile struct {
	ent.Schema
}

func (DocumentFile) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(),
		entsql.Checks(map[string]string{"document_file_size_positive": "size > 0"}),
	}
}

func (DocumentFile) Fields() []ent.Field {
	return []ent.Field{
		field.Int("procedure_id").Immutable(),
		field.String("filename").NotEmpty().MaxLen(255).Immutable(),
		field.Enum("content_type").NamedValues("JPEG", "image/jpeg", "PNG", "image/png", "PDF", "application/pdf").Immutable(),
		field.Int64("size").Positive().Immutable(),
		// Hex SHA-256 of content.
		field.String("sha256").MinLen(64).MaxLen(64).Immutable(),
		field.Bytes("content").Sensitive().Immutable(),
	}
}

func (DocumentFile) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("procedure", Procedure.Type).Ref("files").Field("procedure_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}
