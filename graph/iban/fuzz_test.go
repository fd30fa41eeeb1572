package iban

import (
	"errors"
	"testing"
)

// FuzzNormalize checks that Normalize never panics, fails only with
// ErrInvalid, and that what it accepts is a fixed point that New rebuilds
// from its parts.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		"DE89370400440532013000",
		"DE89 3704 0044 0532 0130 00",
		"gb82 west 1234 5698 7654 32",
		"FR1420041010050500013M02606",
		"NO9386011117947",
		"XX89123456789012",
		"DE01370400440000000042",
		"DE88370400440532013000",
		"DE8937040044053201300",
		"\u0131T60X0542811101000000123456",
		"DE89\xff370400440532013000",
		"",
		"DE",
		"  ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Fatalf("Normalize(%q) = %q, %v; want \"\" and ErrInvalid", s, got, err)
			}
			return
		}
		if len(got) < minLen || len(got) > maxLen {
			t.Fatalf("Normalize(%q) = %q, length %d out of range", s, got, len(got))
		}
		for i := 0; i < len(got); i++ {
			if !isLetter(got[i]) && !isDigit(got[i]) {
				t.Fatalf("Normalize(%q) = %q contains %q", s, got, got[i])
			}
		}
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize(Normalize(%q)) = %q, %v; want %q", s, again, err, got)
		}
		// Check digits 02..98 are unique per BBAN, so New must agree.
		rebuilt, err := New(got[:2], got[4:])
		if err != nil || rebuilt != got {
			t.Fatalf("New(%q, %q) = %q, %v; want %q", got[:2], got[4:], rebuilt, err, got)
		}
	})
}
