// Who may call what: the schema says it on every root field (@auth or @public), and this file is
// the one place that checks it. Ownership (whose card, whose account) stays in graph/access and
// the domain packages.

package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/generated"
	"coffer/graph/identity"
)

// NewExecutableSchema is the served schema: the resolvers with the @auth directive checked.
func NewExecutableSchema(r *Resolver) graphql.ExecutableSchema {
	return generated.NewExecutableSchema(generated.Config{
		Resolvers:  r,
		Directives: generated.DirectiveRoot{Auth: auth},
	})
}

// auth runs before the resolver of a field marked @auth, after its arguments are read, on every
// transport (HTTP and WebSocket subscriptions alike): no viewer is UNAUTHENTICATED; a viewer
// outside roles (when given) is FORBIDDEN.
func auth(ctx context.Context, _ any, next graphql.Resolver, roles []user.Role) (any, error) {
	v := identity.ViewerFrom(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if len(roles) > 0 && !hasRole(v, roles) {
		return nil, apperr.New(apperr.Forbidden, "%s only", rolesText(roles))
	}
	return next(ctx)
}

// hasRole reports whether v holds one of roles. CUSTOMER is a user with a customer record: the
// resolvers of customer-only fields act on it.
func hasRole(v *identity.Viewer, roles []user.Role) bool {
	for _, r := range roles {
		switch {
		case r == user.RoleCUSTOMER && v.CustomerID != 0:
			return true
		case r != user.RoleCUSTOMER && v.Role == r:
			return true
		}
	}
	return false
}

// rolesText names roles in a refusal: "staff and administrators".
func rolesText(roles []user.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		switch r {
		case user.RoleADMIN:
			names[i] = "administrators"
		case user.RoleSTAFF:
			names[i] = "staff"
		default:
			names[i] = "customers"
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
