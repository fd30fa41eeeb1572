package money

import (
	"errors"
	"math"
	"testing"
)

var (
	eur = Currency{Code: "EUR", Scale: 2}
	gdd = Currency{Code: "GDD", Scale: 4}
	jpy = Currency{Code: "JPY", Scale: 0}
)

var parseDecimalTests = []struct {
	name     string
	currency Currency
	give     string
	want     int64
	wantErr  error
}{
	// Scale 2: the common case.
	{"whole and fraction", eur, "12.34", 1234, nil},
	{"one fractional digit is padded", eur, "12.3", 1230, nil},
	{"negative half", eur, "-0.5", -50, nil},
	{"zero", eur, "0", 0, nil},
	{"whole number", eur, "100", 10000, nil},
	{"negative zero is zero", eur, "-0", 0, nil},
	{"negative zero with fraction is zero", eur, "-0.00", 0, nil},
	{"leading zeros", eur, "007.50", 750, nil},
	{"many leading zeros stay in range", eur, "000000000000000000000000000001.00", 100, nil},
	{"smallest unit", eur, "0.01", 1, nil},
	{"largest amount", eur, "92233720368547758.07", math.MaxInt64, nil},
	{"most negative amount", eur, "-92233720368547758.07", -math.MaxInt64, nil},
	{"largest whole that still fits after scaling", eur, "92233720368547758", 9223372036854775800, nil},
	{"one past largest", eur, "92233720368547758.08", 0, ErrRange},
	{"MinInt64 is rejected so negation is safe", eur, "-92233720368547758.08", 0, ErrRange},
	{"overflow while scaling", eur, "92233720368547759", 0, ErrRange},
	{"overflow in the fraction digits", eur, "92233720368547758.1", 0, ErrRange},
	{"far too large", eur, "99999999999999999999999999", 0, ErrRange},
	{"far too small", eur, "-99999999999999999999999999", 0, ErrRange},
	{"too many fractional digits", eur, "1.234", 0, ErrPrecision},
	{"trailing zero still counts as a digit", eur, "1.230", 0, ErrPrecision},
	{"precision checked before range", eur, "99999999999999999999.999", 0, ErrPrecision},
	{"empty", eur, "", 0, ErrSyntax},
	{"leading space", eur, " 1", 0, ErrSyntax},
	{"trailing space", eur, "1 ", 0, ErrSyntax},
	{"inner space", eur, "1 000", 0, ErrSyntax},
	{"tab", eur, "\t1", 0, ErrSyntax},
	{"newline", eur, "1\n", 0, ErrSyntax},
	{"space after sign", eur, "- 1", 0, ErrSyntax},
	{"leading plus", eur, "+1", 0, ErrSyntax},
	{"exponent", eur, "1e3", 0, ErrSyntax},
	{"upper-case exponent", eur, "1E3", 0, ErrSyntax},
	{"exponent with fraction", eur, "1.5e2", 0, ErrSyntax},
	{"lone point", eur, ".", 0, ErrSyntax},
	{"no fraction digits", eur, "1.", 0, ErrSyntax},
	{"no whole digits", eur, ".5", 0, ErrSyntax},
	{"negative no whole digits", eur, "-.5", 0, ErrSyntax},
	{"lone minus", eur, "-", 0, ErrSyntax},
	{"double minus", eur, "--1", 0, ErrSyntax},
	{"trailing minus", eur, "1-", 0, ErrSyntax},
	{"two points", eur, "1.2.3", 0, ErrSyntax},
	{"letters", eur, "abc", 0, ErrSyntax},
	{"comma decimal separator", eur, "1,00", 0, ErrSyntax},
	{"hex", eur, "0x10", 0, ErrSyntax},
	{"underscore separator", eur, "1_000", 0, ErrSyntax},
	{"NaN", eur, "NaN", 0, ErrSyntax},
	{"infinity", eur, "Inf", 0, ErrSyntax},
	{"non-ASCII digit", eur, "\u0661", 0, ErrSyntax},
	{"unicode minus", eur, "\u22121", 0, ErrSyntax},
	{"full-width digit", eur, "\uff11", 0, ErrSyntax},
	{"NUL byte", eur, "1\x00", 0, ErrSyntax},
	{"invalid UTF-8", eur, "1\xff", 0, ErrSyntax},
	{"Taler form is not a decimal", eur, "EUR:1", 0, ErrSyntax},
	{"syntax checked before precision", eur, "1.23x4", 0, ErrSyntax},

	// Scale 0: whole units only.
	{"scale 0 whole", jpy, "5", 5, nil},
	{"scale 0 negative", jpy, "-5", -5, nil},
	{"scale 0 largest", jpy, "9223372036854775807", math.MaxInt64, nil},
	{"scale 0 most negative", jpy, "-9223372036854775807", -math.MaxInt64, nil},
	{"scale 0 one past largest", jpy, "9223372036854775808", 0, ErrRange},
	{"scale 0 MinInt64", jpy, "-9223372036854775808", 0, ErrRange},
	{"scale 0 rejects any fraction", jpy, "5.0", 0, ErrPrecision},
	{"scale 0 rejects no fraction digits", jpy, "5.", 0, ErrSyntax},

	// Scale 4.
	{"scale 4 short fraction", gdd, "12.34", 123400, nil},
	{"scale 4 smallest unit", gdd, "0.0001", 1, nil},
	{"scale 4 negative smallest unit", gdd, "-0.0001", -1, nil},
	{"scale 4 full fraction", gdd, "1.2345", 12345, nil},
	{"scale 4 largest", gdd, "922337203685477.5807", math.MaxInt64, nil},
	{"scale 4 one past largest", gdd, "922337203685477.5808", 0, ErrRange},
	{"scale 4 MinInt64", gdd, "-922337203685477.5808", 0, ErrRange},
	{"scale 4 too many digits", gdd, "1.00001", 0, ErrPrecision},

	// A currency that fails Validate cannot parse anything.
	{"zero currency", Currency{}, "1", 0, ErrCurrency},
	{"scale above 8", Currency{Code: "EUR", Scale: 9}, "1", 0, ErrCurrency},
	{"negative scale", Currency{Code: "EUR", Scale: -1}, "1", 0, ErrCurrency},
	{"lower-case code", Currency{Code: "eur", Scale: 2}, "1", 0, ErrCurrency},
}

func TestParseDecimal(t *testing.T) {
	for _, tt := range parseDecimalTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.currency.ParseDecimal(tt.give)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseDecimal(%q) error = %v, want %v", tt.give, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseDecimal(%q) = %d, want %d", tt.give, got, tt.want)
			}
		})
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    int64
		wantErr error
	}{
		{"plain decimal", "12.34", 1234, nil},
		{"Taler form", "EUR:12.34", 1234, nil},
		{"Taler form negative", "EUR:-1", -100, nil},
		{"Taler form zero", "EUR:0", 0, nil},
		{"code is case-sensitive", "eur:12.34", 0, ErrCurrency},
		{"other currency", "GDD:1", 0, ErrCurrency},
		{"empty code", ":1", 0, ErrCurrency},
		{"space before code", " EUR:1", 0, ErrCurrency},
		{"no amount after code", "EUR:", 0, ErrSyntax},
		{"space after colon", "EUR: 1", 0, ErrSyntax},
		{"two colons", "EUR::1", 0, ErrSyntax},
		{"two codes", "EUR:EUR:1", 0, ErrSyntax},
		{"precision applies to Taler form", "EUR:1.234", 0, ErrPrecision},
		{"range applies to Taler form", "EUR:92233720368547758.08", 0, ErrRange},
		{"empty", "", 0, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eur.ParseAmount(tt.give)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseAmount(%q) error = %v, want %v", tt.give, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseAmount(%q) = %d, want %d", tt.give, got, tt.want)
			}
		})
	}
}

func TestParsePositive(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    int64
		wantErr error
	}{
		{"smallest unit", "0.01", 1, nil},
		{"Taler form", "EUR:12.34", 1234, nil},
		{"largest", "92233720368547758.07", math.MaxInt64, nil},
		{"zero", "0", 0, ErrNotPositive},
		{"negative zero", "-0", 0, ErrNotPositive},
		{"Taler zero", "EUR:0.00", 0, ErrNotPositive},
		{"negative", "-1", 0, ErrNotPositive},
		{"Taler negative", "EUR:-0.01", 0, ErrNotPositive},
		{"syntax error wins", "abc", 0, ErrSyntax},
		{"currency error wins", "GDD:1", 0, ErrCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eur.ParsePositive(tt.give)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParsePositive(%q) error = %v, want %v", tt.give, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParsePositive(%q) = %d, want %d", tt.give, got, tt.want)
			}
		})
	}
}

// The messages go to API clients verbatim, so they are part of the contract.
func TestParse_errorMessagesAreShortAndHuman(t *testing.T) {
	tests := []struct {
		name     string
		currency Currency
		give     string
		want     string
	}{
		{"syntax", eur, "1e3", `must be a decimal string such as "12.34"`},
		{"precision scale 2", eur, "1.234", "at most 2 fractional digits"},
		{"precision scale 4", gdd, "1.23456", "at most 4 fractional digits"},
		{"precision scale 1", Currency{Code: "ABC", Scale: 1}, "1.23", "at most 1 fractional digit"},
		{"precision scale 0", jpy, "1.5", "must be a whole number"},
		{"range", eur, "99999999999999999999", "out of range"},
		{"currency", eur, "GDD:1", "currency must be EUR"},
		{"not positive", eur, "0", "must be positive"},
		{"invalid currency", Currency{}, "1", "currency code must be 3 to 11 letters A-Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.currency.ParsePositive(tt.give)
			if err == nil || err.Error() != tt.want {
				t.Errorf("ParsePositive(%q) error = %v, want %q", tt.give, err, tt.want)
			}
		})
	}
}

// Each error wraps exactly one sentinel, so a presenter that switches on
// errors.Is cannot pick the wrong code.
func TestParse_errorsWrapExactlyOneSentinel(t *testing.T) {
	sentinels := []error{ErrSyntax, ErrPrecision, ErrRange, ErrCurrency, ErrNotPositive}
	tests := []struct {
		give string
		want error
	}{
		{"x", ErrSyntax},
		{"1.234", ErrPrecision},
		{"99999999999999999999", ErrRange},
		{"GDD:1", ErrCurrency},
		{"-1", ErrNotPositive},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			_, err := eur.ParsePositive(tt.give)
			matched := 0
			for _, sentinel := range sentinels {
				if errors.Is(err, sentinel) {
					matched++
				}
			}
			if matched != 1 || !errors.Is(err, tt.want) {
				t.Errorf("ParsePositive(%q) error = %v matches %d sentinels, want only %v", tt.give, err, matched, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		give    Currency
		wantErr error
	}{
		{"EUR", eur, nil},
		{"scale 0", jpy, nil},
		{"scale 8", Currency{Code: "BTC", Scale: 8}, nil},
		{"11 letters", Currency{Code: "ABCDEFGHIJK", Scale: 2}, nil},
		{"empty code", Currency{Code: "", Scale: 2}, ErrCurrency},
		{"two letters", Currency{Code: "EU", Scale: 2}, ErrCurrency},
		{"12 letters", Currency{Code: "ABCDEFGHIJKL", Scale: 2}, ErrCurrency},
		{"lower case", Currency{Code: "Eur", Scale: 2}, ErrCurrency},
		{"digit", Currency{Code: "EU1", Scale: 2}, ErrCurrency},
		{"colon would break the Taler form", Currency{Code: "EU:R", Scale: 2}, ErrCurrency},
		{"non-ASCII letter", Currency{Code: "EÜR", Scale: 2}, ErrCurrency},
		{"negative scale", Currency{Code: "EUR", Scale: -1}, ErrCurrency},
		{"scale 9", Currency{Code: "EUR", Scale: 9}, ErrCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.give.Validate(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name     string
		currency Currency
		give     int64
		want     string
	}{
		{"whole and fraction", eur, 1250, "12.50"},
		{"negative below one", eur, -50, "-0.50"},
		{"zero", eur, 0, "0.00"},
		{"one cent", eur, 5, "0.05"},
		{"minus one cent", eur, -5, "-0.05"},
		{"one euro", eur, 100, "1.00"},
		{"MaxInt64", eur, math.MaxInt64, "92233720368547758.07"},
		{"MinInt64 does not overflow", eur, math.MinInt64, "-92233720368547758.08"},
		{"scale 0 zero", jpy, 0, "0"},
		{"scale 0 negative", jpy, -1, "-1"},
		{"scale 0 MinInt64", jpy, math.MinInt64, "-9223372036854775808"},
		{"scale 4 smallest unit", gdd, 1, "0.0001"},
		{"scale 4 keeps trailing zeros", gdd, 123400, "12.3400"},
		{"scale 4 negative", gdd, -123456, "-12.3456"},
		{"scale 8 MaxInt64", Currency{Code: "BTC", Scale: 8}, math.MaxInt64, "92233720368.54775807"},
		{"negative scale renders as whole units", Currency{Code: "EUR", Scale: -3}, 42, "42"},
		{"huge scale does not panic", Currency{Code: "EUR", Scale: 20}, -1, "-0.00000000000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.currency.Format(tt.give); got != tt.want {
				t.Errorf("Format(%d) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestTaler(t *testing.T) {
	tests := []struct {
		give int64
		want string
	}{
		{1250, "EUR:12.50"},
		{-1, "EUR:-0.01"},
		{0, "EUR:0.00"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := eur.Taler(tt.give); got != tt.want {
				t.Errorf("Taler(%d) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestFormat_roundTrips(t *testing.T) {
	amountsMinor := []int64{
		0, 1, -1, 9, 10, 99, 100, 101, -100, 123456789,
		math.MaxInt64, -math.MaxInt64, math.MaxInt64 - 1, math.MaxInt32, math.MinInt32,
	}
	for scale := 0; scale <= MaxScale; scale++ {
		c := Currency{Code: "TST", Scale: scale}
		for _, amountMinor := range amountsMinor {
			text := c.Format(amountMinor)
			got, err := c.ParseDecimal(text)
			if err != nil || got != amountMinor {
				t.Errorf("scale %d: ParseDecimal(Format(%d) = %q) = %d, %v", scale, amountMinor, text, got, err)
			}
			got, err = c.ParseAmount(c.Taler(amountMinor))
			if err != nil || got != amountMinor {
				t.Errorf("scale %d: ParseAmount(Taler(%d)) = %d, %v", scale, amountMinor, got, err)
			}
		}
	}
}
