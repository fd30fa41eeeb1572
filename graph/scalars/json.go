package scalars

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"coffer/graph/apperr"
)

// maxJSONBytes bounds one JSON input value once re-encoded.
const maxJSONBytes = 64 << 10

// MarshalJSON writes a JSON value as itself (an object stays an object, not a string). A nil or
// empty value is null.
func MarshalJSON(v json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(bytes.TrimSpace(v)) == 0 {
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(v)
	})
}

// UnmarshalJSON accepts any JSON value (given inline in the query or as a variable) and returns its
// JSON text.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, &apperr.Error{Code: apperr.BadUserInput, Message: "not a JSON value"}
	}
	if len(raw) > maxJSONBytes {
		return nil, &apperr.Error{Code: apperr.BadUserInput, Message: "a JSON value is at most 64 KiB"}
	}
	return raw, nil
}
