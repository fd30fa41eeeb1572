package qid

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// knownSet is a knownSystem that accepts the given names.
func knownSet(names ...string) func(string) bool {
	return func(s string) bool {
		for _, n := range names {
			if s == n {
				return true
			}
		}
		return false
	}
}

func TestParse_valid(t *testing.T) {
	known := knownSet("nhs", "ss-fr", "tax_id", "a", strings.Repeat("s", 32))
	tests := []struct {
		name     string
		give     string
		want     ID
		wantKind Kind
	}{
		{"census", "123@census", ID{SystemCensus, "123"}, KindCensus},
		{"census one", "1@census", ID{SystemCensus, "1"}, KindCensus},
		{"census max int64", "9223372036854775807@census", ID{SystemCensus, "9223372036854775807"}, KindCensus},
		{"document DNI", "12345678Z@document_id", ID{SystemDocumentID, "12345678Z"}, KindDocument},
		{"document NIE", "X1234567L@document_id", ID{SystemDocumentID, "X1234567L"}, KindDocument},
		{"document lower case", "12345678z@document_id", ID{SystemDocumentID, "12345678Z"}, KindDocument},
		{"document with dash", "12345678-Z@document_id", ID{SystemDocumentID, "12345678Z"}, KindDocument},
		{"document with spaces", " x 1234567 l @document_id", ID{SystemDocumentID, "X1234567L"}, KindDocument},
		{"document from the contract", "1R@document_id", ID{SystemDocumentID, "1R"}, KindDocument},
		{"document short lower", "1r@document_id", ID{SystemDocumentID, "1R"}, KindDocument},
		{"external", "126@nhs", ID{"nhs", "126"}, KindExternal},
		{"external keeps leading zeros", "007@nhs", ID{"nhs", "007"}, KindExternal},
		{"external keeps case", "AbC@nhs", ID{"nhs", "AbC"}, KindExternal},
		{"external punctuation", "a/b:c~!#$%^&*()[]{}<>?=+.,;'\"`|\\@ss-fr", ID{"ss-fr", "a/b:c~!#$%^&*()[]{}<>?=+.,;'\"`|\\"}, KindExternal},
		{"external with dash and underscore system", "1-2_3@tax_id", ID{"tax_id", "1-2_3"}, KindExternal},
		{"one-letter system", "x@a", ID{"a", "x"}, KindExternal},
		{"32-character system", "x@" + strings.Repeat("s", 32), ID{strings.Repeat("s", 32), "x"}, KindExternal},
		{"64-byte value", strings.Repeat("v", 64) + "@nhs", ID{"nhs", strings.Repeat("v", 64)}, KindExternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.give, known)
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %#v, %v; want %#v", tt.give, got, err, tt.want)
			}
			if got.Kind() != tt.wantKind {
				t.Errorf("Parse(%q).Kind() = %v, want %v", tt.give, got.Kind(), tt.wantKind)
			}
			again, err := Parse(got.String(), known)
			if err != nil || again != got {
				t.Errorf("Parse(%q) = %#v, %v; want %#v", got.String(), again, err, got)
			}
		})
	}
}

const (
	badCensus = "census number must be a positive integer without leading zeros"
	badSystem = "identifier system must start with a lower-case letter and have at most 32 lower-case letters, digits, '_' or '-'"
	badValue  = "identifier value must be printable ASCII without spaces"
	badDoc    = "document number must contain only letters, digits, spaces and dashes"
)

var parseInvalidTests = []struct {
	name    string
	give    string
	wantErr error
	wantMsg string
}{
	{"empty", "", ErrMalformed, "identifier is required"},
	{"no at", "123", ErrMalformed, "identifier must have the form value@system, for example 123@census"},
	{"only at", "@", ErrMalformed, "identifier has no value before the '@'"},
	{"no value", "@census", ErrMalformed, "identifier has no value before the '@'"},
	{"no system", "123@", ErrMalformed, "identifier has no system after the '@'"},
	{"two ats", "a@b@c", ErrMalformed, "identifier must contain exactly one '@'"},
	{"two ats in a row", "123@@census", ErrMalformed, "identifier must contain exactly one '@'"},
	{"at at", "@@", ErrMalformed, "identifier must contain exactly one '@'"},
	{"trailing at", "123@census@", ErrMalformed, "identifier must contain exactly one '@'"},

	{"census zero", "0@census", ErrMalformed, badCensus},
	{"census leading zero", "01@census", ErrMalformed, badCensus},
	{"census negative", "-1@census", ErrMalformed, badCensus},
	{"census plus sign", "+1@census", ErrMalformed, badCensus},
	{"census decimal", "1.0@census", ErrMalformed, badCensus},
	{"census exponent", "1e3@census", ErrMalformed, badCensus},
	{"census hex", "0x1F@census", ErrMalformed, badCensus},
	{"census letters", "abc@census", ErrMalformed, badCensus},
	{"census leading space", " 1@census", ErrMalformed, badCensus},
	{"census trailing space", "1 @census", ErrMalformed, badCensus},
	{"census underscore", "1_000@census", ErrMalformed, badCensus},
	{"census full-width digits", "\uff11\uff12\uff13@census", ErrMalformed, badCensus},
	{"census Arabic-Indic digits", "\u0661\u0662@census", ErrMalformed, badCensus},
	{"census max int64 plus one", "9223372036854775808@census", ErrMalformed, "census number is too large"},
	{"census 20 digits", "99999999999999999999@census", ErrMalformed, "census number is too large"},
	{"census 64 digits", strings.Repeat("9", 64) + "@census", ErrMalformed, "census number is too large"},
	{"census 65 digits", strings.Repeat("9", 65) + "@census", ErrMalformed, "identifier value must be at most 64 characters"},

	{"system upper case", "123@CENSUS", ErrMalformed, badSystem},
	{"system capitalized", "123@Census", ErrMalformed, badSystem},
	{"system starts with digit", "1@9nhs", ErrMalformed, badSystem},
	{"system starts with underscore", "1@_nhs", ErrMalformed, badSystem},
	{"system starts with dash", "1@-nhs", ErrMalformed, badSystem},
	{"system leading space", "123@ census", ErrMalformed, badSystem},
	{"system trailing space", "123@census ", ErrMalformed, badSystem},
	{"system with dot", "1@nhs.uk", ErrMalformed, badSystem},
	{"system 33 characters", "1@" + strings.Repeat("s", 33), ErrMalformed, badSystem},
	{"system unicode", "1@c\u00e9nsus", ErrMalformed, badSystem},
	{"system dotless i", "1@nh\u0131", ErrMalformed, badSystem},

	{"value 65 bytes", strings.Repeat("v", 65) + "@nhs", ErrMalformed, "identifier value must be at most 64 characters"},
	{"value with space", "a b@nhs", ErrMalformed, badValue},
	{"value with tab", "a\tb@nhs", ErrMalformed, badValue},
	{"value with newline", "1\n@nhs", ErrMalformed, badValue},
	{"value with NUL", "1\x00@nhs", ErrMalformed, badValue},
	{"value with DEL", "1\x7f@nhs", ErrMalformed, badValue},
	{"value unicode", "\u00e9@nhs", ErrMalformed, badValue},
	{"value emoji", "\U0001F600@nhs", ErrMalformed, badValue},
	{"value invalid UTF-8", "\xff@nhs", ErrMalformed, badValue},

	{"document only separators", " - -@document_id", ErrMalformed, "document number is empty"},
	{"document with dot", "12.345.678Z@document_id", ErrMalformed, badDoc},
	{"document with slash", "AB/123@document_id", ErrMalformed, badDoc},
	{"document with tab", "1234\t5678Z@document_id", ErrMalformed, badDoc},
	{"document unicode", "PA\u00d1123@document_id", ErrMalformed, badDoc},
	{"document 65 bytes", strings.Repeat("-", 56) + "12345678Z@document_id", ErrMalformed, "identifier value must be at most 64 characters"},

	{"unknown system", "126@ss", ErrUnknownSystem, `unknown identifier system "ss"`},
	{"unknown system that looks built in", "1@censu", ErrUnknownSystem, `unknown identifier system "censu"`},
	{"malformed value wins over unknown system", "a b@ss", ErrMalformed, badValue},
	{"malformed system is not looked up", "1@SS", ErrMalformed, badSystem},
}

func TestParse_invalid(t *testing.T) {
	known := knownSet("nhs")
	for _, tt := range parseInvalidTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.give, known)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) = %#v, %v; want error %v", tt.give, got, err, tt.wantErr)
			}
			if got != (ID{}) {
				t.Errorf("Parse(%q) = %#v on error, want the zero ID", tt.give, got)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("Parse(%q) error = %q, want %q", tt.give, err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestParse_sentinelsAreDistinct(t *testing.T) {
	_, err := Parse("1@ss", knownSet())
	if errors.Is(err, ErrMalformed) {
		t.Errorf("unknown system error %v also matches ErrMalformed", err)
	}
	_, err = Parse("0@census", nil)
	if errors.Is(err, ErrUnknownSystem) {
		t.Errorf("malformed error %v also matches ErrUnknownSystem", err)
	}
}

func TestParse_nilKnownSystemAcceptsAny(t *testing.T) {
	tests := []struct {
		give string
		want ID
	}{
		{give: "126@nhs", want: ID{"nhs", "126"}},
		{give: "x@anything-at_all", want: ID{"anything-at_all", "x"}},
		{give: "5@census", want: ID{SystemCensus, "5"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.give, nil)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q, nil) = %#v, %v; want %#v", tt.give, got, err, tt.want)
		}
	}
}

// The built-in systems must work whatever the caller's registry of
// external systems says, and the registry only ever sees well-formed names.
func TestParse_knownSystemCalls(t *testing.T) {
	var calls []string
	reject := func(s string) bool {
		calls = append(calls, s)
		return false
	}
	for _, give := range []string{"1@census", "12345678Z@document_id"} {
		if _, err := Parse(give, reject); err != nil {
			t.Errorf("Parse(%q, rejectAll) error = %v, want nil", give, err)
		}
	}
	for _, give := range []string{"1@NHS", "a b@nhs", "1@", "1@a@b"} {
		_, _ = Parse(give, reject)
	}
	if len(calls) != 0 {
		t.Errorf("knownSystem called with %q, want no calls", calls)
	}
	if _, err := Parse("1@nhs", reject); !errors.Is(err, ErrUnknownSystem) {
		t.Errorf("Parse(1@nhs, rejectAll) error = %v, want ErrUnknownSystem", err)
	}
	if len(calls) != 1 || calls[0] != "nhs" {
		t.Errorf("knownSystem calls = %q, want [nhs]", calls)
	}
}

func TestID_CensusNumber(t *testing.T) {
	tests := []struct {
		name   string
		give   ID
		want   int64
		wantOK bool
	}{
		{"parsed", ID{SystemCensus, "123"}, 123, true},
		{"max", ID{SystemCensus, "9223372036854775807"}, math.MaxInt64, true},
		{"document", ID{SystemDocumentID, "123"}, 0, false},
		{"external", ID{"nhs", "123"}, 0, false},
		{"hand-built leading zero", ID{SystemCensus, "007"}, 0, false},
		{"hand-built negative", ID{SystemCensus, "-1"}, 0, false},
		{"hand-built zero", ID{SystemCensus, "0"}, 0, false},
		{"hand-built empty", ID{SystemCensus, ""}, 0, false},
		{"hand-built overflow", ID{SystemCensus, "9223372036854775808"}, 0, false},
		{"zero ID", ID{}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.give.CensusNumber()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("%#v.CensusNumber() = %d, %t; want %d, %t", tt.give, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCensus(t *testing.T) {
	tests := []struct {
		give int64
		want string
	}{
		{give: 1, want: "1@census"},
		{give: 123, want: "123@census"},
		{give: math.MaxInt64, want: "9223372036854775807@census"},
	}
	for _, tt := range tests {
		got := Census(tt.give)
		if got != tt.want {
			t.Errorf("Census(%d) = %q, want %q", tt.give, got, tt.want)
		}
		id, err := Parse(got, nil)
		if err != nil {
			t.Fatalf("Parse(Census(%d)) error = %v", tt.give, err)
		}
		if n, ok := id.CensusNumber(); !ok || n != tt.give {
			t.Errorf("Parse(Census(%d)).CensusNumber() = %d, %t", tt.give, n, ok)
		}
	}
	for _, give := range []int64{0, -1, math.MinInt64} {
		if _, err := Parse(Census(give), nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(Census(%d)) error = %v, want ErrMalformed", give, err)
		}
	}
}

func TestID_String(t *testing.T) {
	tests := []struct {
		give ID
		want string
	}{
		{give: ID{SystemCensus, "123"}, want: "123@census"},
		{give: ID{SystemDocumentID, "X1234567L"}, want: "X1234567L@document_id"},
		{give: ID{"nhs", "126"}, want: "126@nhs"},
	}
	for _, tt := range tests {
		if got := tt.give.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestKind_String(t *testing.T) {
	tests := []struct {
		give Kind
		want string
	}{
		{give: KindExternal, want: "external"},
		{give: KindCensus, want: "census"},
		{give: KindDocument, want: "document"},
		{give: Kind(42), want: "Kind(42)"},
	}
	for _, tt := range tests {
		if got := tt.give.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(tt.give), got, tt.want)
		}
	}
}
