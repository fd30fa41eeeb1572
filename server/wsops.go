package main

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"coffer/graph/apperr"
)

// wsBusyRetryAfterSeconds is the extensions.retryAfter of an operation refused because its
// connection already runs WS_MAX_OPERATIONS_IN_FLIGHT: a slot frees when one of them answers.
const wsBusyRetryAfterSeconds = 1

// websocketOperations gives each query and mutation sent over a WebSocket what an HTTP request
// gets from the HTTP layer: the request deadline (REQUEST_TIMEOUT), and a bound on how many run
// at once on one connection (WS_MAX_OPERATIONS_IN_FLIGHT; gqlgen starts every message's operation
// at once, so one socket could otherwise run any number in parallel). Over the bound an operation
// is answered TOO_MANY_REQUESTS without running. Subscriptions are long by nature and bounded by
// the live hub; HTTP operations pass through.
func (a *app) websocketOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	sk, onSocket := ctx.Value(socketKey{}).(*socket)
	op := graphql.GetOperationContext(ctx).Operation
	if !onSocket || op == nil || op.Operation == ast.Subscription {
		return next(ctx)
	}
	select {
	case sk.inFlight <- struct{}{}:
	default:
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    "too many operations in flight on this connection",
			Extensions: map[string]any{"code": string(apperr.TooManyRequests), "retryAfter": wsBusyRetryAfterSeconds},
		}}})
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Hardening.RequestTimeout)
	release := sync.OnceFunc(func() {
		cancel()
		<-sk.inFlight
	})
	// gqlgen cancels the operation's context once it completed (and on a client's "complete"),
	// which ends this one too; a panic that skips the end of the responses cannot keep the slot
	// past the deadline.
	context.AfterFunc(ctx, release)
	responses := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp == nil {
			release()
		}
		return resp
	}
}
