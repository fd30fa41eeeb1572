// Package gid renders ent's integer ids as opaque GraphQL global IDs. ent's global-ID feature
// gives every type its own id range, so the number alone names the type; the encoding only keeps
// clients from building IDs by hand.
package gid

import (
	"encoding/base64"
	"io"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"coffer/graph/apperr"
)

const prefix = "c1:"

// Encode returns the global ID of an ent id.
func Encode(id int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.Itoa(id)))
}

// Decode parses a global ID; a malformed one is BAD_USER_INPUT.
func Decode(s string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 32 || !strings.HasPrefix(string(raw), prefix) {
		return 0, malformed()
	}
	digits := string(raw[len(prefix):])
	id, err := strconv.Atoi(digits)
	if err != nil || id <= 0 || strconv.Itoa(id) != digits {
		return 0, malformed()
	}
	// The base64 decoder skips '\r' and '\n': only Encode's own spelling names the id, so that no
	// two strings are the same ID.
	if Encode(id) != s {
		return 0, malformed()
	}
	return id, nil
}

// malformed names no field: the error presenter names the argument or input field the value came
// from (cardId, not id), which only the GraphQL path knows.
func malformed() error {
	return apperr.New(apperr.BadUserInput, "malformed ID")
}

// MarshalID is gqlgen's marshaller for the ID scalar.
func MarshalID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(Encode(id)))
	})
}

// UnmarshalID is gqlgen's unmarshaller for the ID scalar.
func UnmarshalID(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, malformed()
	}
	return Decode(s)
}
