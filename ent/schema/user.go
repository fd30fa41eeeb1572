package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User is a login: an administrator, a registry clerk (staff) or a customer.
type User struct {
	ent.Schema
}

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").Unique().NotEmpty().MaxLen(64),
		// E-mail and phone are the login identity and the channels codes are sent to; unique so that
		// "login by e-mail" names one user.
		field.String("email").Optional().Nillable().Unique().MaxLen(254),
		field.String("phone").Optional().Nillable().Unique().MaxLen(16),
		// Whether a code sent to phone was confirmed (or an administrator entered it): no code is
		// sent by SMS to an unverified number. Changing the phone clears it.
		field.Bool("phone_verified").Default(false),
		field.String("password_hash").Sensitive(),
		field.Enum("role").Values("ADMIN", "STAFF", "CUSTOMER"),
		field.Enum("status").Values("PENDING", "ACTIVE", "LOCKED", "DISABLED").Default("ACTIVE"),
		field.Enum("two_factor").Values("NONE", "EMAIL", "SMS").Default("NONE"),
		// Consecutive failed logins; reset by a success. Past the threshold the account locks until locked_until.
		field.Int("failed_logins").Default(0).NonNegative(),
		field.Time("locked_until").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		// When the user first used their online access (a session, or a confirmed
		// self-registration); nil for a customer an administrator created who never logged in: only
		// such a customer may self-register (graph/identity/register.go).
		field.Time("activated_at").Optional().Nillable(),
		// Look-alike keys (graph/identity/lookalike.go): two usernames, or two e-mail addresses, that
		// render alike share a skeleton. Unique, so that the database refuses a look-alike that
		// raced past the check; nil for rows written before the column (filled at start-up).
		field.String("username_skeleton").Optional().Nillable().Unique().MaxLen(256),
		field.String("email_skeleton").Optional().Nillable().Unique().MaxLen(1024),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("customer", Customer.Type).Unique(),
		edge.To("sessions", Session.Type).Annotations(entgql.Skip()),
	}
}

func (User) Indexes() []ent.Index {
	return []ent.Index{
		searchIndex("users_username_trgm", "username"),
		searchIndex("users_email_trgm", "email"),
		searchIndex("users_phone_trgm", "phone"),
	}
}
