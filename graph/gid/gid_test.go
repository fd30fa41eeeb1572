package gid

import (
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

func FuzzDecode(f *testing.F) {
	f.Add(Encode(1))
	f.Add("YzE6MDE")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Decode(s)
		if err == nil && Encode(id) != s {
			t.Fatalf("Decode(%q) = %d but Encode gives %q", s, id, Encode(id))
		}
	})
}
