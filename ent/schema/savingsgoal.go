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

// SavingsGoal is a target amount a customer saves towards: a view on a SAVINGS ledger account.
type SavingsGoal struct {
	ent.Schema
}

func (SavingsGoal) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField),
		entsql.Checks(map[string]string{"savings_goal_positive": "goal > 0"}),
	}
}

func (SavingsGoal) Fields() []ent.Field {
	return []ent.Field{
		field.Int("customer_id").Immutable(),
		field.Int("account_id").Unique().Immutable(),
		field.String("name").NotEmpty().MaxLen(100),
		// Goal is in minor units of the bank's currency.
		field.Int64("goal").Positive(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("deleted_at").Optional().Nillable(),
	}
}

func (SavingsGoal) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("customer", Customer.Type).Field("customer_id").Unique().Required().Immutable(),
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
	}
}
