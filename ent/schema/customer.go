package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Customer is a bank customer: master data plus the accounts they own. The login is the edge to
// User; e-mail and phone live on the user.
type Customer struct {
	ent.Schema
}

func (Customer) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

func (Customer) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Unique(),
		field.String("name").MaxLen(200),
		field.String("first_name").Optional().MaxLen(100),
		field.String("middle_name").Optional().MaxLen(100),
		field.String("last_name").Optional().MaxLen(100),
		field.Time("date_of_birth").Optional().Nillable(),
		field.String("address").Optional().MaxLen(200),
		field.String("city").Optional().MaxLen(100),
		field.String("state").Optional().MaxLen(100),
		field.String("post_code").Optional().MaxLen(20),
		// A keyed hash of the full social security number, for uniqueness checks without storing it.
		field.Bytes("social_security_hash").Optional().Nillable().Unique().Sensitive(),
		field.String("social_security_last4").Optional().MaxLen(4),
		field.String("cashout_address").Optional().MaxLen(300),
		// Ed25519 public key (32 bytes) used to verify signatures of pending transactions.
		field.Bytes("public_key").Optional().Nillable().Unique(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

func (Customer) Edges() []ent.Edge {
	return []ent.Edge{
		// email and phone live on the user: selecting them loads the user with the page, in one
		// query per page rather than one per customer.
		edge.From("user", User.Type).Ref("customer").Field("user_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.MapsTo("user", "email", "phone")),
		edge.To("accounts", Account.Type).Annotations(entgql.Skip()),
	}
}

func (Customer) Indexes() []ent.Index {
	return []ent.Index{searchIndex("customers_name_trgm", "name")}
}
