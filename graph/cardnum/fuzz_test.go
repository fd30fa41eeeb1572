package cardnum

import (
	"errors"
	"strings"
	"testing"
)

// FuzzNormalize checks that Normalize never panics, fails only with
// ErrInvalid, and that what it accepts is exactly the input's digits, Valid,
// and a fixed point of Normalize.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		"4111111111111111",
		"4111111111111112",
		"4000 0012 3456 7899",
		"4000-0012-3456-7899",
		"  4111 1111-1111 1111 ",
		"4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1",
		"4111  1111 1111 1111",
		"-4111111111111111",
		"4111111111111111-",
		"378282246310005",
		"41111111111111111",
		"４１１１１１１１１１１１１１１１",
		"4111\u00a01111 1111 1111",
		"4111\xff1111 1111 1111",
		"4111\t1111 1111 1111",
		strings.Repeat("4111 1111 1111 1111 ", 4),
		"",
		" ",
		"-",
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
		if len(s) > maxInputLen {
			t.Fatalf("Normalize accepted %d bytes, over the %d-byte limit", len(s), maxInputLen)
		}
		if len(got) != Len || !allDigits(got) || !Valid(got) {
			t.Fatalf("Normalize(%q) = %q, not 16 digits and Valid", s, got)
		}
		// Normalize may only drop separators, never change or add digits.
		if stripped := strings.NewReplacer(" ", "", "-", "").Replace(s); stripped != got {
			t.Fatalf("Normalize(%q) = %q, want the input's digits %q", s, got, stripped)
		}
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize(Normalize(%q)) = %q, %v; want %q", s, again, err, got)
		}
	})
}
