package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Card is a payment card: a view on a CARD ledger account of its customer. The full number is
// shown once, at creation; the database keeps only a keyed hash (for look-up) and the last four
// digits, so a dump does not reveal card numbers.
type Card struct {
	ent.Schema
}

func (Card) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}

func (Card) Fields() []ent.Field {
	return []ent.Field{
		field.Int("customer_id").Immutable(),
		// Mapped so that field collection loads it for the fields computed from the account.
		field.Int("account_id").Unique().Immutable().Annotations(entgql.MapsTo("balance", "history")),
		field.Bytes("number_hash").Unique().Sensitive().Immutable(),
		field.String("last4").MinLen(4).MaxLen(4).Immutable(),
		field.Time("expires_on").Immutable(),
		// FROZEN: the owner stopped debits (freezeCard); credits and defundCard still work.
		field.Enum("status").Values("ACTIVE", "FROZEN", "CLOSED").Default("ACTIVE"),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("closed_at").Optional().Nillable(),
	}
}

func (Card) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("customer", Customer.Type).Field("customer_id").Unique().Required().Immutable(),
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
	}
}
