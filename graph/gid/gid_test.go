package gid

import (
	"strings"
	"testing"

	"coffer/graph/apperr"
)

func TestRoundTrip(t *testing.T) {
	for _, id := range []int{1, 42, 4294967297, 1<<40 + 7} {
		got, err := Decode(Encode(id))
		if err != nil || got != id {
			t.Errorf("Decode(Encode(%d)) = %d, %v", id, got, err)
		}
	}
}

func TestDecode_malformed(t *testing.T) {
	tests := []string{"", "1", "abc", Encode(1) + "x", "YzE6MDE", "YzE6LTE", "YzE6", "YzI6MQ"}
	for _, give := range tests {
		if _, err := Decode(give); !apperr.Is(err, apperr.BadUserInput) {
			t.Errorf("Decode(%q) error = %v, want BAD_USER_INPUT", give, err)
		}
	}
}

// FuzzDecode checks that Decode never panics, refuses with BAD_USER_INPUT only, accepts only
// positive ids, and accepts exactly one spelling per id (Encode's), so that an ID a client builds
// by hand cannot alias another.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		Encode(1), Encode(42), Encode(1<<40 + 7), Encode(1<<62 - 1),
		"YzE6MDE", "YzE6LTE", "YzE6", "YzI6MQ", "YzE6MQ==", "YzE6MQ", "YzE6Kz", "YzE6ICAx",
		"YzE6OTIyMzM3MjAzNjg1NDc3NTgwOA", // c1:9223372036854775808, one past int64
		"", "=", "c1:1", "\x00", "YzE6MQ\n", strings.Repeat("A", 33),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Decode(s)
		if err != nil {
			if !apperr.Is(err, apperr.BadUserInput) || id != 0 {
				t.Fatalf("Decode(%q) = %d, %v; want 0 and BAD_USER_INPUT", s, id, err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("Decode(%q) = %d, not a positive id", s, id)
		}
		if Encode(id) != s {
			t.Fatalf("Decode(%q) = %d but Encode gives %q", s, id, Encode(id))
		}
	})
}

// FuzzEncode checks the round trip from every positive id.
func FuzzEncode(f *testing.F) {
	for _, seed := range []int{1, 2, 42, 4294967297, 1<<40 + 7, 1<<63 - 1} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id int) {
		if id <= 0 {
			return
		}
		got, err := Decode(Encode(id))
		if err != nil || got != id {
			t.Fatalf("Decode(Encode(%d)) = %d, %v", id, got, err)
		}
	})
}
