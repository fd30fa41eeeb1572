package settings

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The checks below store a valid value through p. Their errors are the ones a mistyped setting
// has always been refused with ("LOGIN_MAX_FAILURES: not a positive count: \"x\"").

// String accepts any value.
func String(p *string) func(string) error {
	return func(v string) error { *p = v; return nil }
}

// Switch is on for "1" or "true" (any case) and off for anything else, as DEV has always been.
func Switch(p *bool) func(string) error {
	return func(v string) error { *p = v == "1" || strings.EqualFold(v, "true"); return nil }
}

// Count accepts a whole number from 0 (0 usually turns the limit off).
func Count(p *int) func(string) error {
	return count(p, 0, -1, "not a count")
}

// PositiveCount accepts a whole number from 1.
func PositiveCount(p *int) func(string) error {
	return count(p, 1, -1, "not a positive count")
}

// CountIn accepts a whole number from lo to hi.
func CountIn(p *int, lo, hi int) func(string) error {
	return count(p, lo, hi, fmt.Sprintf("not a count from %d to %d", lo, hi))
}

// count accepts a whole number of at least lo and, when hi is not negative, at most hi.
func count(p *int, lo, hi int, refusal string) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || (hi >= 0 && n > hi) {
			return fmt.Errorf("%s: %q", refusal, v)
		}
		*p = n
		return nil
	}
}

// Size accepts a positive number of bytes.
func Size(p *int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("not a size: %q", v)
		}
		*p = n
		return nil
	}
}

// Duration accepts a positive Go duration ("90s", "15m").
func Duration(p *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("not a duration: %q", v)
		}
		*p = d
		return nil
	}
}

// DurationIn accepts a Go duration from lo to hi, both included.
func DurationIn(p *time.Duration, lo, hi time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			return fmt.Errorf("not a duration from %s to %s: %q", durationText(lo), durationText(hi), v)
		}
		*p = d
		return nil
	}
}

// durationText writes 0 as "0" rather than Go's "0s".
func durationText(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}
