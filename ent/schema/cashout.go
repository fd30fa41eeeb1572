package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Cashout pays money out of the bank to the customer's cashout address. It reserves the amount
// with a pending ledger transaction to the cash-out clearing account; a TAN sent to the customer
// posts it (CONFIRMED), and aborting voids it (ABORTED).
type Cashout struct {
	ent.Schema
}

func (Cashout) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{"cashout_amount_positive": "amount > 0"}),
	}
}

func (Cashout) Fields() []ent.Field {
	return []ent.Field{
		field.Int("customer_id").Immutable(),
		// Amount is in minor units of the bank's currency.
		field.Int64("amount").Positive().Immutable(),
		field.Enum("status").Values("PENDING", "CONFIRMED", "ABORTED").Default("PENDING"),
		field.Enum("channel").Values("EMAIL", "SMS").Immutable(),
		field.String("cashout_address").MaxLen(300).Immutable(),
		field.Int("transaction_id").Unique().Immutable(),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("confirmed_at").Optional().Nillable(),
		field.Time("aborted_at").Optional().Nillable(),
	}
}

func (Cashout) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("customer", Customer.Type).Field("customer_id").Unique().Required().Immutable(),
		edge.To("transaction", Transaction.Type).Field("transaction_id").Unique().Required().Immutable(),
	}
}

func (Cashout) Indexes() []ent.Index {
	return []ent.Index{index.Fields("customer_id", "created_at")}
}
