package gid

import (
	"bytes"
	"strconv"
	"testing"

	"coffer/ent"
)

// Pagination cursors are the other opaque strings clients send back (after:, before:). They are
// ent's entgql cursors (msgpack in base64), decoded before any resolver runs; these targets check
// that whatever a client sends, decoding returns an error or a cursor, never a panic, and that
// every cursor the server hands out decodes to itself.

func encodeCursor(t *testing.T, c ent.Cursor) string {
	t.Helper()
	var b bytes.Buffer
	c.MarshalGQL(&b)
	s, err := strconv.Unquote(b.String())
	if err != nil {
		t.Fatalf("MarshalGQL(%+v) wrote %q, not a JSON string: %v", c, b.String(), err)
	}
	return s
}

// FuzzCursorDecode feeds arbitrary strings to the cursor decoder.
func FuzzCursorDecode(f *testing.F) {
	for _, seed := range []string{
		"gaFp", "gaFpAQ", "gqFpAaF2pWFsaWNl", "", "!!!", "gaFpzwAAAAAAAAAB", "3w", "kQ", "xf////8",
		"3f////8", // a map header that claims 4 billion entries
		"gaF23f////8", "gaFpwA", "gaFpoWE", "////", "gaFp0/////////8",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c ent.Cursor
		if err := c.UnmarshalGQL(s); err != nil {
			return
		}
		// What decoded once re-encodes and decodes to the same id.
		var again ent.Cursor
		if err := again.UnmarshalGQL(encodeCursor(t, c)); err != nil || again.ID != c.ID {
			t.Fatalf("cursor %q decoded to %+v, which does not survive a round trip (%+v, %v)", s, c, again, err)
		}
	})
}

// FuzzCursorRoundTrip checks that every id's cursor decodes to that id.
func FuzzCursorRoundTrip(f *testing.F) {
	for _, seed := range []int{0, 1, 42, 1<<31 - 1, 1<<40 + 7, -1, 1<<63 - 1} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id int) {
		var c ent.Cursor
		if err := c.UnmarshalGQL(encodeCursor(t, ent.Cursor{ID: id})); err != nil || c.ID != id || c.Value != nil {
			t.Fatalf("cursor of %d decoded to %+v, %v", id, c, err)
		}
	})
}

// TestCursorDecode_refusesNonStrings checks the one type check before decoding.
func TestCursorDecode_refusesNonStrings(t *testing.T) {
	for _, give := range []any{nil, 1, 1.5, true, []any{"gaFpAQ"}, map[string]any{"i": 1}} {
		var c ent.Cursor
		if err := c.UnmarshalGQL(give); err == nil {
			t.Errorf("UnmarshalGQL(%#v) = %+v, want an error", give, c)
		}
	}
}
