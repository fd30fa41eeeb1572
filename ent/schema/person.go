package schema

import (
	"encoding/json"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Person is one person of the membership census as they are now. Every change also writes a
// PersonVersion with the whole person, in the same database transaction, so that the newest version
// and this row always agree and the person can be read as they were at any instant.
type Person struct {
	ent.Schema
}

func (Person) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{"person_census_number_positive": "census_number > 0"}),
	}
}

func (Person) Fields() []ent.Field {
	return []ent.Field{
		// The registry's own number: "<census_number>@census". Assigned in order, or given at
		// registration when people move over from another register.
		field.Int64("census_number").Unique().Positive().Immutable(),
		field.String("first_name").NotEmpty().MaxLen(100),
		field.String("last_name1").NotEmpty().MaxLen(100),
		field.String("last_name2").Optional().Nillable().MaxLen(100),
		field.Enum("document_type").Values("DNI", "NIE", "PASSPORT"),
		// Normalized by qid.ValidateDocument, so "<document_id>@document_id" finds it.
		field.String("document_id").Unique().NotEmpty().MaxLen(64),
		field.String("document_scope_code").NotEmpty().MaxLen(64),
		field.Time("born_at"),
		field.Enum("gender").Values("MALE", "FEMALE", "OTHER", "UNDISCLOSED"),
		field.String("address").NotEmpty().MaxLen(300),
		field.String("address_scope_code").NotEmpty().MaxLen(64),
		field.String("postal_code").NotEmpty().MaxLen(10),
		field.String("email").Optional().Nillable().MaxLen(254),
		field.String("scope_code").NotEmpty().MaxLen(64),
		field.String("phone").Optional().Nillable().MaxLen(16),
		field.Enum("state").Values("PENDING", "ENABLED", "CANCELLED", "TRASHED").Default("PENDING"),
		field.Enum("membership_level").Values("FOLLOWER", "MEMBER").Default("FOLLOWER"),
		field.Enum("verification").Values("NOT_VERIFIED", "VERIFICATION_REQUESTED", "VERIFICATION_RECEIVED",
			"VERIFIED", "MISTAKE", "FRAUD").Default("NOT_VERIFIED"),
		field.Enum("phone_verification").Values("NOT_VERIFIED", "VERIFIED", "REASSIGNED").Default("NOT_VERIFIED"),
		// {"<system>": "<id>"}; the same pairs are kept in PersonExternalID for look-up and uniqueness.
		field.JSON("external_ids", map[string]string{}).Optional(),
		// A JSON object of free keys, merged one key at a time by setAdditionalInformation.
		field.JSON("additional_information", json.RawMessage{}).Optional(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("updated_at").Default(time.Now),
		// The names, document id, e-mail and phone, lower-cased and without accents
		// (census.SearchKey), which people(filter: {search}) matches with LIKE. Written by every
		// change of the person; "" only on rows older than the column, until the start-up backfill
		// (census.BackfillSearchKeys). Derived, so left out of the versions' snapshots (Sensitive).
		field.String("search_key").Default("").Sensitive(),
	}
}

func (Person) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("procedures", Procedure.Type).Annotations(entgql.Skip()),
		edge.To("versions", PersonVersion.Type).Annotations(entgql.Skip()),
		edge.To("external_id_rows", PersonExternalID.Type).Annotations(entgql.Skip()),
	}
}

func (Person) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("phone"),
		// A trigram index serves LIKE '%term%' on PostgreSQL (pg_trgm, created by the migration).
		// On SQLite it is a plain index that LIKE '%term%' cannot use: the search scans there.
		index.Fields("search_key").Annotations(
			entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"}),
			entsql.OpClass("gin_trgm_ops"),
		),
	}
}
