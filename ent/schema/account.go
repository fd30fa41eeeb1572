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

// Account is a ledger account. Its balance changes only through ledger entries, in the same
// database transaction that writes them; version counts those changes.
type Account struct {
	ent.Schema
}

func (Account) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		// The database is the second line of defence for the ledger's rules: no account leaves its
		// limit, whatever the code above it does.
		entsql.Checks(map[string]string{
			"account_within_limit": "allow_negative OR balance - reserved + debit_limit >= 0",
			"account_reserved":     "reserved >= 0",
			"account_debit_limit":  "debit_limit >= 0",
		}),
	}
}

func (Account) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("MAIN", "CARD", "SAVINGS", "SYSTEM"),
		// Code names the bank's own (SYSTEM) accounts, e.g. "issuer".
		field.String("code").Optional().Nillable().Unique().MaxLen(32),
		field.String("iban").Optional().Nillable().Unique().MaxLen(34),
		field.String("number").Unique().MaxLen(34),
		field.String("currency").MaxLen(11),
		field.Int64("balance").Default(0),
		// Reserved is the sum of this account's pending debits.
		field.Int64("reserved").Default(0),
		field.Int64("debit_limit").Default(0),
		// AllowNegative is set only for the issuer, whose balance is minus the money in circulation.
		field.Bool("allow_negative").Default(false),
		field.Int64("version").Default(0),
		field.Int("owner_id").Optional().Nillable(),
		// HolderName is shown as the counterparty in statements, also after the owner is deleted.
		field.String("holder_name").MaxLen(200),
		// ClosedAt marks an account that takes no more movements; its history stays.
		field.Time("closed_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

func (Account) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", Customer.Type).Ref("accounts").Field("owner_id").Unique(),
		edge.To("entries", Entry.Type).Annotations(entgql.RelayConnection()),
	}
}

func (Account) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("owner_id", "kind"),
		searchIndex("accounts_iban_trgm", "iban"),
	}
}
