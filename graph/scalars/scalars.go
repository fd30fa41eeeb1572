// Package scalars holds the GraphQL scalars that are not plain Go types: Decimal (a JSON string,
// never a number), Date (YYYY-MM-DD) and Time (RFC 3339).
package scalars

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"coffer/graph/apperr"
)

// maxDecimalLen bounds a Decimal's text before it is parsed.
const maxDecimalLen = 64

// MarshalDecimal writes a decimal string (already formatted with the currency's scale).
func MarshalDecimal(s string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(s)) })
}

// UnmarshalDecimal accepts only a JSON string: a JSON number would have passed through a float.
// Its exact syntax and scale are checked where the field name is known.
func UnmarshalDecimal(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &apperr.Error{Code: apperr.BadUserInput, Message: "a Decimal must be a JSON string such as \"12.34\""}
	}
	if len(s) > maxDecimalLen {
		return "", &apperr.Error{Code: apperr.BadUserInput, Message: "a Decimal is at most 64 characters"}
	}
	return s, nil
}

// MarshalDate writes a calendar day.
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(t.Format(time.DateOnly))) })
}

// UnmarshalDate reads YYYY-MM-DD.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &apperr.Error{Code: apperr.BadUserInput, Message: "a Date is a string YYYY-MM-DD"}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &apperr.Error{Code: apperr.BadUserInput, Message: fmt.Sprintf("%q is not a date YYYY-MM-DD", s)}
	}
	return t, nil
}

// MarshalTime writes RFC 3339 in UTC.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalTime reads RFC 3339.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &apperr.Error{Code: apperr.BadUserInput, Message: "a Time is an RFC 3339 string"}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &apperr.Error{Code: apperr.BadUserInput, Message: fmt.Sprintf("%q is not an RFC 3339 time", s)}
	}
	return t, nil
}
