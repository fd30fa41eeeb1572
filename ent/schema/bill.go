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

// Bill is something a customer has to pay by a due date. Paying it is one ledger transaction from
// a card to the bank's bill-payment clearing account, recorded here in the same database
// transaction; paid_at is set at most once (a conditional update), so two racing payments pay once.
type Bill struct {
	ent.Schema
}

func (Bill) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{"bill_amount_positive": "amount > 0"}),
	}
}

func (Bill) Fields() []ent.Field {
	return []ent.Field{
		field.Int("customer_id").Immutable(),
		field.String("name").NotEmpty().MaxLen(100),
		// Amount is in minor units of the bank's currency.
		field.Int64("amount").Positive(),
		field.Time("due_date").Annotations(entgql.OrderField("DUE_DATE")),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("paid_at").Optional().Nillable().Annotations(entgql.MapsTo("paidAt", "paid")),
		field.Int("paid_with_card_id").Optional().Nillable(),
		field.Int("transaction_id").Optional().Nillable().Unique(),
		// Autopay: the owner's card that pays the bill on its due date (UTC), and why the last
		// attempt failed (cleared when a payment succeeds or autopay is set again).
		field.Int("autopay_card_id").Optional().Nillable(),
		field.String("autopay_error").Optional().Nillable().MaxLen(200),
	}
}

func (Bill) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("customer", Customer.Type).Field("customer_id").Unique().Required().Immutable(),
		edge.To("paid_with", Card.Type).Field("paid_with_card_id").Unique(),
		edge.To("transaction", Transaction.Type).Field("transaction_id").Unique(),
		edge.To("autopay_card", Card.Type).Field("autopay_card_id").Unique(),
	}
}

func (Bill) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("customer_id", "due_date"),
		// The autopay job's scan: bills with autopay set, by due date.
		index.Fields("autopay_card_id", "due_date"),
	}
}
