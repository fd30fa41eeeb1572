// The viewer's user as read by authentication, reused by a query's fields.

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"coffer/ent"
	"coffer/graph/identity"
)

// requestUser is the viewer's user as authentication read it for this request, when the
// operation is a query: a mutation may have changed the user before the field is resolved, so
// there (and without a snapshot, as on long-lived connections) the caller reads the row again.
func (r *Resolver) requestUser(ctx context.Context) *ent.User {
	if !graphql.HasOperationContext(ctx) || graphql.GetOperationContext(ctx).Operation == nil ||
		graphql.GetOperationContext(ctx).Operation.Operation != ast.Query {
		return nil
	}
	return identity.RequestUser(ctx)
}
