package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"coffer/graph/apperr"
)

// ErrorPresenter maps domain errors to extensions.code once, for every resolver. Anything that is
// not an *apperr.Error is logged and shown only as INTERNAL, so no SQL, driver message or stack
// trace reaches a client.
func ErrorPresenter(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if field, ok := oneOfViolation(gqlErr); ok {
		return oneOfError(gqlErr, field)
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		gqlErr.Message = ae.Message
		ext := map[string]any{"code": string(ae.Code)}
		fields := ae.Fields
		if len(fields) == 0 && ae.Code == apperr.BadUserInput {
			// A scalar cannot know its field's name; the path of the input value does.
			if name := lastFieldName(gqlErr.Path); name != "" {
				fields = map[string]string{name: ae.Message}
			}
		}
		if len(fields) > 0 {
			ext["fields"] = fields
		}
		if ae.RetryAfterSeconds > 0 {
			ext["retryAfter"] = ae.RetryAfterSeconds
		} else if ae.Code == apperr.TooManyRequests {
			// Every TOO_MANY_REQUESTS says when to retry (API.md); one that forgot to is not
			// left without an answer.
			ext["retryAfter"] = 1
		}
		gqlErr.Extensions = ext
		return gqlErr
	}
	var already *gqlerror.Error
	if errors.As(err, &already) && already.Extensions["code"] != nil && already.Unwrap() == nil {
		return gqlErr // gqlgen's own parse and validation errors
	}
	slog.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
	gqlErr.Message = "internal error"
	gqlErr.Extensions = map[string]any{"code": string(apperr.Internal)}
	return gqlErr
}

func lastFieldName(path ast.Path) string {
	for i := len(path) - 1; i >= 0; i-- {
		if name, ok := path[i].(ast.PathName); ok {
			return string(name)
		}
	}
	return ""
}
