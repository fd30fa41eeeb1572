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

// Transaction moves Amount from the debit account to the credit account. A pending one reserves
// the amount on the debit account; posting writes the two entries, voiding releases the reservation.
type Transaction struct {
	ent.Schema
}

func (Transaction) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{
			"transaction_amount_positive": "amount > 0",
			"transaction_two_accounts":    "debit_account_id <> credit_account_id",
		}),
	}
}

func (Transaction) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("CREATION", "TRANSFER", "CARD_TRANSFER", "SAVINGS_TOP_UP",
			"SAVINGS_WITHDRAWAL", "BILL_PAYMENT", "CASHOUT").Immutable(),
		field.Enum("status").Values("PENDING", "POSTED", "VOIDED"),
		field.Int64("amount").Immutable(),
		field.String("memo").Optional().MaxLen(500).Immutable(),
		field.Int("debit_account_id").Immutable(),
		field.Int("credit_account_id").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("target_date").Optional().Nillable().Immutable(),
		field.Time("posted_at").Optional().Nillable(),
		field.Time("voided_at").Optional().Nillable(),
		// Who asked for it; with the idempotency key it identifies a retried request.
		field.Int("initiator_id").Optional().Nillable().Immutable(),
		field.String("idempotency_key").Optional().Nillable().MaxLen(64).Immutable(),
		// A digest of the request that carried the idempotency key: a retry with another input is a conflict.
		field.Bytes("request_hash").Optional().Immutable(),
	}
}

func (Transaction) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("debit_account", Account.Type).Field("debit_account_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
		edge.To("credit_account", Account.Type).Field("credit_account_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
		edge.To("initiator", User.Type).Field("initiator_id").Unique().Immutable().Annotations(entgql.Skip()),
		edge.To("entries", Entry.Type),
	}
}

func (Transaction) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("initiator_id", "idempotency_key").Unique(),
		index.Fields("debit_account_id", "status"),
		index.Fields("credit_account_id", "status"),
		index.Fields("credit_account_id", "kind", "target_date"),
	}
}
