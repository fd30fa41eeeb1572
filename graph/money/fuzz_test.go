package money

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// grammar is the whole accepted syntax, written a second way so the fuzzer
// can compare the hand-written scanner against it.
var grammar = regexp.MustCompile(`^-?([0-9]+)(?:\.([0-9]+))?$`)

// canonical[scale] matches the one spelling Format may produce at scale.
var canonical = func() (patterns [MaxScale + 1]*regexp.Regexp) {
	patterns[0] = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	for scale := 1; scale <= MaxScale; scale++ {
		patterns[scale] = regexp.MustCompile(fmt.Sprintf(`^-?(0|[1-9][0-9]*)\.[0-9]{%d}$`, scale))
	}
	return patterns
}()

var parseDecimalSeeds = []struct {
	text        string
	amountMinor int64
	scale       uint8
}{
	{"12.34", 1250, 2},
	{"-0.5", -50, 2},
	{"0", 0, 2},
	{"-0", 0, 0},
	{"-0.00", 1, 2},
	{"007.50", -1, 2},
	{"100", 100, 0},
	{"1.234", 5, 2},
	{"1.230", 5, 2},
	{"", 0, 2},
	{".", 0, 2},
	{"1.", 0, 2},
	{".5", 0, 2},
	{"-", 0, 2},
	{"+1", 0, 2},
	{"1e3", 0, 2},
	{" 1", 0, 2},
	{"1 ", 0, 2},
	{"--1", 0, 2},
	{"1.2.3", 0, 2},
	{"EUR:1", 0, 2},
	{"\u0661", 0, 2},
	{"92233720368547758.07", math.MaxInt64, 2},
	{"92233720368547758.08", math.MinInt64, 2},
	{"-92233720368547758.08", math.MinInt64, 2},
	{"-92233720368547758.07", -math.MaxInt64, 2},
	{"92233720368547759", math.MaxInt64, 2},
	{"9223372036854775807", math.MaxInt64, 0},
	{"9223372036854775808", math.MinInt64, 0},
	{"-9223372036854775808", math.MinInt64, 0},
	{"922337203685477.5807", math.MaxInt64, 4},
	{"922337203685477.5808", math.MinInt64 + 1, 4},
	{"92233720368.54775807", math.MaxInt64, 8},
	{"0.00000001", 1, 8},
	{"000000000000000000000000000001", 1, 8},
	{"99999999999999999999999999", -1, 3},
}

// FuzzParseDecimal checks ParseDecimal against an independent oracle built
// from a regexp and math/big, and that Format is its exact inverse.
func FuzzParseDecimal(f *testing.F) {
	for _, seed := range parseDecimalSeeds {
		f.Add(seed.text, seed.amountMinor, seed.scale)
	}

	f.Fuzz(func(t *testing.T, text string, amountMinor int64, scaleSeed uint8) {
		c := Currency{Code: "EUR", Scale: int(scaleSeed % (MaxScale + 1))}

		got, err := c.ParseDecimal(text)
		want, wantErr := oracle(c.Scale, text)
		if !errors.Is(err, wantErr) || got != want {
			t.Fatalf("scale %d: ParseDecimal(%q) = %d, %v; oracle says %d, %v", c.Scale, text, got, err, want, wantErr)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("ParseDecimal(%q) error has an empty message", text)
		}
		if err == nil {
			checkCanonical(t, c, got)
		}

		// Every representable amount must survive Format and come back;
		// MinInt64 is the one int64 Parse refuses by design.
		if amountMinor == math.MinInt64 {
			if _, err := c.ParseDecimal(c.Format(amountMinor)); !errors.Is(err, ErrRange) {
				t.Fatalf("ParseDecimal(Format(MinInt64)) error = %v, want ErrRange", err)
			}
		} else {
			checkCanonical(t, c, amountMinor)
			back, err := c.ParseAmount(c.Taler(amountMinor))
			if err != nil || back != amountMinor {
				t.Fatalf("ParseAmount(Taler(%d)) = %d, %v", amountMinor, back, err)
			}
		}

		// The wrappers must agree with ParseDecimal and never panic.
		amount, amountErr := c.ParseAmount(text)
		if !strings.Contains(text, ":") && (amount != got || !errors.Is(amountErr, wantErr)) {
			t.Fatalf("ParseAmount(%q) = %d, %v; ParseDecimal gave %d, %v", text, amount, amountErr, got, err)
		}
		positive, positiveErr := c.ParsePositive(text)
		if positiveErr == nil && (positive <= 0 || positive != amount) {
			t.Fatalf("ParsePositive(%q) = %d, ParseAmount = %d", text, positive, amount)
		}
		if positiveErr != nil && amountErr == nil && (amount > 0 || !errors.Is(positiveErr, ErrNotPositive)) {
			t.Fatalf("ParsePositive(%q) error = %v for amount %d", text, positiveErr, amount)
		}
	})
}

// checkCanonical asserts that Format(amountMinor) parses back to amountMinor
// and is the one spelling of it: no leading zeros, no "-0", exactly Scale
// fractional digits.
func checkCanonical(t *testing.T, c Currency, amountMinor int64) {
	t.Helper()
	text := c.Format(amountMinor)
	back, err := c.ParseDecimal(text)
	if err != nil || back != amountMinor {
		t.Fatalf("ParseDecimal(Format(%d) = %q) = %d, %v", amountMinor, text, back, err)
	}
	if !canonical[c.Scale].MatchString(text) {
		t.Fatalf("Format(%d) = %q, not canonical at scale %d", amountMinor, text, c.Scale)
	}
	if amountMinor == 0 && strings.HasPrefix(text, "-") {
		t.Fatalf("Format(0) = %q has a sign", text)
	}
	if (amountMinor < 0) != strings.HasPrefix(text, "-") {
		t.Fatalf("Format(%d) = %q has the wrong sign", amountMinor, text)
	}
}

// oracle is a slow, obviously-correct ParseDecimal: a regexp for syntax,
// math/big for value and range.
func oracle(scale int, text string) (int64, error) {
	m := grammar.FindStringSubmatch(text)
	if m == nil {
		return 0, ErrSyntax
	}
	whole, frac := m[1], m[2]
	if len(frac) > scale {
		return 0, ErrPrecision
	}
	value, _ := new(big.Int).SetString(whole+frac+strings.Repeat("0", scale-len(frac)), 10)
	if strings.HasPrefix(text, "-") {
		value.Neg(value)
	}
	if value.CmpAbs(big.NewInt(math.MaxInt64)) > 0 {
		return 0, ErrRange
	}
	return value.Int64(), nil
}
