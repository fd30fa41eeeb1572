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

// Entry is one account's side of a posted transaction: a statement line. Amount is signed
// (negative for a debit); BalanceAfter and Version are the account's state right after it.
type Entry struct {
	ent.Schema
}

func (Entry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{"entry_amount_nonzero": "amount <> 0"}),
	}
}

func (Entry) Fields() []ent.Field {
	return []ent.Field{
		field.Int("account_id").Immutable(),
		field.Int("transaction_id").Immutable(),
		// Type is the direction as a statement shows it; CREATION marks money minted to this account.
		field.Enum("type").Values("CREATION", "SEND", "RECEIVE").Immutable(),
		field.Int64("amount").Immutable(),
		field.Int64("balance_after").Immutable(),
		// The transaction's memo, copied so that a statement page needs no join.
		field.String("memo").Optional().MaxLen(500).Immutable(),
		field.Int64("version").Immutable().Annotations(entgql.OrderField("VERSION")),
		// The other side's account, kept on the entry so that a statement page needs no join per line.
		field.Int("counterparty_account_id").Immutable(),
		field.Time("booked_at").Default(time.Now).Immutable(),
	}
}

func (Entry) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("entries").Field("account_id").Unique().Required().Immutable(),
		edge.From("transaction", Transaction.Type).Ref("entries").Field("transaction_id").Unique().Required().Immutable(),
		edge.To("counterparty_account", Account.Type).Field("counterparty_account_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
	}
}

func (Entry) Indexes() []ent.Index {
	return []ent.Index{
		// One entry per account version: a gap or a duplicate version cannot be written.
		index.Fields("account_id", "version").Unique(),
		index.Fields("account_id", "booked_at"),
	}
}
