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
		field.String("password_hash").Sensitive(),
		field.Enum("role").Values("ADMIN", "STAFF", "CUSTOMER"),
		field.Enum("status").Values("PENDING", "ACTIVE", "LOCKED", "DISABLED").Default("ACTIVE"),
		field.Enum("two_factor").Values("NONE", "EMAIL", "SMS").Default("NONE"),
		// Consecutive failed logins; reset by a success. Past the threshold the account locks until locked_until.
		field.Int("failed_logins").Default(0).NonNegative(),
		field.Time("locked_until").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
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
