package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Challenge is one one-time code in flight: an e-mail verification, a login's second step, a
// registration OTP, a password-reset token, a phone verification or a cash-out TAN; also a
// public key's proof of possession (PUBLIC_KEY: no code is sent, the key signs the challenge). Only a keyed
// hash of the code is stored; the row dies after MaxAttempts wrong tries, at expires_at, or when
// used.
type Challenge struct {
	ent.Schema
}

func (Challenge) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

func (Challenge) Fields() []ent.Field {
	return []ent.Field{
		// The random handle clients send back (challengeId, requestId); it also salts the hash.
		field.String("public_id").Unique().NotEmpty().MaxLen(64).Immutable(),
		field.Enum("purpose").Values(
			"EMAIL_VERIFICATION", "LOGIN", "SELF_REGISTRATION", "PASSWORD_RESET",
			"PHONE_VERIFICATION", "CASHOUT_TAN", "PUBLIC_KEY", "CUSTOMER_UPDATE",
		).Immutable(),
		// What the code is bound to, e.g. "email:ana@example.com" or "user:12".
		field.String("subject").NotEmpty().MaxLen(300).Immutable(),
		field.Int("user_id").Optional().Nillable().Immutable(),
		field.Bytes("code_hash").Sensitive().Immutable(),
		field.Int("attempts").Default(0).NonNegative(),
		// What the flow carries from its first step to its second (never the code).
		field.JSON("data", map[string]string{}).Optional().Sensitive(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

func (Challenge) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("purpose", "subject"),
		index.Fields("created_at"),
	}
}
