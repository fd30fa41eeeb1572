package gid

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/contrib/entgql"

	"coffer/graph/apperr"
)

// Pagination cursors are the other opaque strings clients send back (after:, before:): entgql
// cursors (msgpack in base64), decoded by UnmarshalCursor before any resolver runs.

func encodeCursor(t *testing.T, c entgql.Cursor[int]) string {
	t.Helper()
	var b bytes.Buffer
	MarshalCursor(c).MarshalGQL(&b)
	s, err := strconv.Unquote(b.String())
	if err != nil {
		t.Fatalf("MarshalCursor(%+v) wrote %q, not a JSON string: %v", c, b.String(), err)
	}
	return s
}

// FuzzUnmarshalCursor checks that whatever a client sends, UnmarshalCursor returns a cursor or
// BAD_USER_INPUT, never a panic; that it refuses what it must (over-long text, order values no
// cursor of the server has); and that what it accepts survives a round trip.
func FuzzUnmarshalCursor(f *testing.F) {
	issued := []entgql.Cursor[int]{
		{ID: 1}, {ID: 1<<40 + 7}, {ID: 3, Value: time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)},
		{ID: 4, Value: "2026-12-03"}, {ID: 5, Value: int64(42)},
	}
	for _, c := range issued {
		f.Add(encodeCursor(&testing.T{}, c))
	}
	for _, seed := range []string{
		"", "!!!", "gaFp", "3w", "kQ", "xf////8", "////",
		"3f////8",     // a map header that claims 4 billion entries
		"gaF23f////8", // a value that claims the same
		"gaF2gaFhAQ",  // a value that is a map
		"gaF2kQE",     // a value that is an array
		"gaFp0/////////8", strings.Repeat("A", maxCursorLen+1),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := UnmarshalCursor(s)
		if err != nil {
			if !apperr.Is(err, apperr.BadUserInput) {
				t.Fatalf("UnmarshalCursor(%q) error %v, want BAD_USER_INPUT", s, err)
			}
			return
		}
		if len(s) > maxCursorLen {
			t.Fatalf("UnmarshalCursor accepted %d characters", len(s))
		}
		switch c.Value.(type) {
		case map[string]any, []any, map[any]any:
			t.Fatalf("UnmarshalCursor(%q) accepted the order value %#v", s, c.Value)
		}
		again, err := UnmarshalCursor(encodeCursor(t, c))
		if err != nil || again.ID != c.ID {
			t.Fatalf("cursor %q decoded to %+v, which does not survive a round trip (%+v, %v)", s, c, again, err)
		}
	})
}

// FuzzCursorRoundTrip checks that every cursor the server can issue decodes to itself.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add(0, int64(0), "")
	f.Add(1, int64(1_764_000_000), "a")
	f.Add(1<<62, int64(-1), "2026-12-03")
	f.Fuzz(func(t *testing.T, id int, unix int64, text string) {
		for _, c := range []entgql.Cursor[int]{
			{ID: id}, {ID: id, Value: text}, {ID: id, Value: time.Unix(unix%(1<<40), 0).UTC()},
		} {
			got, err := UnmarshalCursor(encodeCursor(t, c))
			if len(encodeCursor(t, c)) > maxCursorLen {
				continue // only a text longer than any order value of the schema
			}
			if err != nil || got.ID != id {
				t.Fatalf("cursor %+v decoded to %+v, %v", c, got, err)
			}
			if tv, ok := c.Value.(time.Time); ok {
				if gv, ok := got.Value.(time.Time); !ok || !gv.Equal(tv) {
					t.Fatalf("cursor %+v decoded to value %#v", c, got.Value)
				}
			} else if got.Value != c.Value && c.Value != "" { // entgql omits an empty value

				t.Fatalf("cursor %+v decoded to value %#v", c, got.Value)
			}
		}
	})
}

// TestUnmarshalCursor_refusesNonStrings checks the type check before decoding.
func TestUnmarshalCursor_refusesNonStrings(t *testing.T) {
	for _, give := range []any{nil, 1, 1.5, true, []any{"gaFpAQ"}, map[string]any{"i": 1}} {
		if c, err := UnmarshalCursor(give); !apperr.Is(err, apperr.BadUserInput) {
			t.Errorf("UnmarshalCursor(%#v) = %+v, %v; want BAD_USER_INPUT", give, c, err)
		}
	}
}
