package gid

import (
	"io"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"coffer/graph/apperr"
)

// maxCursorLen bounds the cursor text a client may send: the server's own cursors (an id and one
// order value) are well under 100 characters, and the bound keeps the decoder's work small.
const maxCursorLen = 256

// MarshalCursor is gqlgen's marshaller for the Cursor scalar: ent's pagination cursor, as entgql
// writes it.
func MarshalCursor(c entgql.Cursor[int]) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { c.MarshalGQL(w) })
}

// UnmarshalCursor is gqlgen's unmarshaller for the Cursor scalar. A cursor is opaque to clients, so
// one that does not decode, or carries an order value no cursor of this server has, is the
// client's error (BAD_USER_INPUT), never the database's: the value would reach a SQL comparison.
func UnmarshalCursor(v any) (entgql.Cursor[int], error) {
	var c entgql.Cursor[int]
	s, ok := v.(string)
	if !ok || len(s) > maxCursorLen {
		return c, malformedCursor()
	}
	if err := c.UnmarshalGQL(s); err != nil {
		return entgql.Cursor[int]{}, malformedCursor()
	}
	switch c.Value.(type) {
	case nil, string, bool, time.Time, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64:
		return c, nil
	}
	return entgql.Cursor[int]{}, malformedCursor()
}

func malformedCursor() error {
	return apperr.New(apperr.BadUserInput, "malformed cursor")
}
