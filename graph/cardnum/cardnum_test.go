package cardnum

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		give string
		want bool
	}{
		{"Visa test number", "4111111111111111", true},
		{"Visa test number, last digit off by one", "4111111111111112", false},
		{"Visa 4242", "4242424242424242", true},
		{"Visa 4012", "4012888888881881", true},
		{"Mastercard", "5555555555554444", true},
		{"Mastercard 5105", "5105105105105100", true},
		{"Discover", "6011111111111117", true},
		{"JCB", "3530111333300000", true},
		{"all zeros is Luhn-valid", "0000000000000000", true},
		{"example from the spec", "4000001234567899", true},
		{"wrong check digit", "4000001234567890", false},
		{"adjacent digits swapped", "1411111111111111", false},
		{"15-digit Amex is not accepted", "378282246310005", false},
		{"17 digits", "41111111111111110", false},
		{"short Luhn-valid number", "79927398713", false},
		{"empty", "", false},
		{"spaces are not canonical", "4111 1111 1111 1111", false},
		{"dashes are not canonical", "4111-1111-1111-1111", false},
		{"letter", "411111111111111a", false},
		{"fullwidth digits", "４１１１１１１１１１１１１１１１", false},
		{"trailing newline", "4111111111111111\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.give); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

// The Luhn check exists to catch typos: every single wrong digit, and
// every swap of two adjacent different digits except 09 <-> 90.
func TestValid_catchesTypos(t *testing.T) {
	for _, good := range []string{"4111111111111111", "4000001234567899", "5555555555554444", "4012888888881881"} {
		for i := range Len {
			for d := byte('0'); d <= '9'; d++ {
				if d == good[i] {
					continue
				}
				bad := good[:i] + string(d) + good[i+1:]
				if Valid(bad) {
					t.Errorf("Valid(%q) = true: digit %d of %q changed", bad, i, good)
				}
			}
			if i+1 == Len || good[i] == good[i+1] {
				continue
			}
			pair := good[i : i+2]
			if pair == "09" || pair == "90" {
				continue // the one swap Luhn cannot see
			}
			swapped := good[:i] + string(good[i+1]) + string(good[i]) + good[i+2:]
			if Valid(swapped) {
				t.Errorf("Valid(%q) = true: digits %d and %d of %q swapped", swapped, i, i+1, good)
			}
		}
	}
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		give string
		want byte
	}{
		{"411111111111111", '1'},
		{"400000123456789", '9'},
		{"555555555555444", '4'},
		{"000000000000000", '0'},
		{"7992739871", '3'}, // the textbook example
		{"", '0'},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			if got := checkDigit(tt.give); got != tt.want {
				t.Errorf("checkDigit(%q) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestNormalize_valid(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"bare digits", "4000001234567899", "4000001234567899"},
		{"groups of four with spaces", "4000 0012 3456 7899", "4000001234567899"},
		{"groups of four with dashes", "4000-0012-3456-7899", "4000001234567899"},
		{"spaces around the number", "  4111 1111 1111 1111 ", "4111111111111111"},
		{"other grouping", "40000 01234 567899", "4000001234567899"},
		{"mixed separators", "4111 1111-1111 1111", "4111111111111111"},
		{"separator between every digit", "4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", "4111111111111111"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.give)
			if err != nil || got != tt.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tt.give, got, err, tt.want)
			}
		})
	}
}

func TestNormalize_invalid(t *testing.T) {
	const (
		msgLen       = "card number must be 16 digits"
		msgCheck     = "card number check digit does not match; please check for typos"
		msgChars     = "card number may contain only digits, spaces and dashes"
		msgSeparator = "card number may have single spaces or dashes only between digit groups"
		msgTooLong   = "card number is too long"
	)
	tests := []struct {
		name string
		give string
		want string // the message shown to the client
	}{
		{"wrong check digit", "4111111111111112", msgCheck},
		{"wrong check digit in groups", "4000 0012 3456 7890", msgCheck},
		{"empty", "", msgLen},
		{"only spaces", "    ", msgLen},
		{"15 digits", "411111111111111", msgLen},
		{"17 digits", "41111111111111111", msgLen},
		{"15-digit Amex", "3782 822463 10005", msgLen},
		{"letter", "4111 1111 1111 111O", msgChars},
		{"tab", "4111\t1111 1111 1111", msgChars},
		{"newline", "4111111111111111\n", msgChars},
		{"dot", "4111.1111.1111.1111", msgChars},
		{"slash", "4111/1111/1111/1111", msgChars},
		{"plus sign", "+4111111111111111", msgChars},
		{"no-break space", "4111\u00a01111 1111 1111", msgChars},
		{"en dash", "4111\u20131111 1111 1111", msgChars},
		{"fullwidth digits", "４１１１１１１１１１１１１１１１", msgChars},
		{"Arabic-Indic digits", "٤١١١١١١١١١١١١١١١", msgChars},
		{"invalid UTF-8", "4111\xff1111 1111 1111", msgChars},
		{"NUL", "4111111111111111\x00", msgChars},
		{"double space", "4111  1111 1111 1111", msgSeparator},
		{"double dash", "4111--1111-1111-1111", msgSeparator},
		{"spaced dash", "4111 - 1111 - 1111 - 1111", msgSeparator},
		{"leading dash", "-4111111111111111", msgSeparator},
		{"trailing dash", "4111111111111111-", msgSeparator},
		{"65 bytes", "4111111111111111" + strings.Repeat(" ", 49), msgTooLong},
		{"very long", strings.Repeat("4111 1111 1111 1111 ", 1000), msgTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.give)
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Fatalf("Normalize(%q) = %q, %v; want ErrInvalid", tt.give, got, err)
			}
			if err.Error() != tt.want {
				t.Errorf("Normalize(%q) message = %q, want %q", tt.give, err, tt.want)
			}
		})
	}
}

// 64 bytes is the documented limit; it must still be accepted.
func TestNormalize_acceptsExactly64Bytes(t *testing.T) {
	give := strings.Repeat(" ", 24) + "4111-1111-1111-1111" + strings.Repeat(" ", 21)
	if len(give) != maxInputLen {
		t.Fatalf("test input is %d bytes, want %d", len(give), maxInputLen)
	}
	if got, err := Normalize(give); err != nil || got != "4111111111111111" {
		t.Errorf("Normalize(%q) = %q, %v; want 4111111111111111", give, got, err)
	}
}

func TestGenerate_producesValidNumbersWithThePrefix(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		reader io.Reader
	}{
		{"crypto/rand by default", "400000", nil},
		{"deterministic, 6-digit BIN", "400000", rand.NewChaCha8([32]byte{1})},
		{"deterministic, 8-digit BIN", "52345678", rand.NewChaCha8([32]byte{2})},
		{"one-digit prefix", "9", rand.NewChaCha8([32]byte{3})},
		{"14-digit prefix leaves one random digit", "40000000000000", rand.NewChaCha8([32]byte{4})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 5000 {
				got, err := Generate(tt.prefix, tt.reader)
				if err != nil {
					t.Fatalf("Generate(%q): %v", tt.prefix, err)
				}
				if !Valid(got) {
					t.Fatalf("Generate(%q) = %q, not Valid", tt.prefix, got)
				}
				if !strings.HasPrefix(got, tt.prefix) {
					t.Fatalf("Generate(%q) = %q, prefix not kept", tt.prefix, got)
				}
				if norm, err := Normalize(got); err != nil || norm != got {
					t.Fatalf("Normalize(%q) = %q, %v", got, norm, err)
				}
			}
		})
	}
}

func TestGenerate_fullPrefixNeedsNoRandomness(t *testing.T) {
	got, err := Generate("411111111111111", iotest.ErrReader(errors.New("must not be read")))
	if err != nil || got != "4111111111111111" {
		t.Errorf("Generate(15 digits) = %q, %v; want 4111111111111111", got, err)
	}
}

// Every random position must see every digit, at about the same rate. The
// seed is fixed, so the bounds (about six standard deviations) never flake.
func TestGenerate_digitsAreUniform(t *testing.T) {
	const (
		prefix = "400000"
		draws  = 2000
		want   = draws / 10
		slack  = 80
	)
	tests := []struct {
		name   string
		reader io.Reader
	}{
		{"deterministic", rand.NewChaCha8([32]byte{5})},
		{"crypto/rand", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var counts [Len][10]int
			seen := make(map[string]bool, draws)
			for range draws {
				got, err := Generate(prefix, tt.reader)
				if err != nil {
					t.Fatalf("Generate: %v", err)
				}
				seen[got] = true
				for i := len(prefix); i < Len; i++ {
					counts[i][got[i]-'0']++
				}
			}
			// 2000 draws from 10^9 numbers should essentially never repeat.
			if len(seen) < draws-1 {
				t.Errorf("Generate gave only %d distinct numbers in %d draws", len(seen), draws)
			}
			for i := len(prefix); i < Len; i++ { // the check digit too
				for d, n := range counts[i] {
					if n == 0 {
						t.Errorf("position %d never got digit %d in %d draws", i, d, draws)
					}
					// crypto/rand cannot be seeded, so only the
					// deterministic run checks the rates.
					if tt.reader != nil && (n < want-slack || n > want+slack) {
						t.Errorf("position %d got digit %d %d times in %d draws, want %d±%d", i, d, n, draws, want, slack)
					}
				}
			}
		})
	}
}

// Values at or above the largest multiple of 10^n must be redrawn, or low
// numbers would come up more often than high ones.
func TestGenerate_rejectsOutOfRangeDraws(t *testing.T) {
	// 0xFF...FF is always out of range; the zero draw after it is not.
	r := bytes.NewReader(append(bytes.Repeat([]byte{0xff}, 8), make([]byte, 8)...))
	got, err := Generate("400000", r)
	if err != nil || got != "4000000000000002" {
		t.Errorf("Generate = %q, %v; want 4000000000000002 (the second draw)", got, err)
	}

	// The largest accepted draw maps to all nines.
	const space = 1_000_000_000
	limit := uint64((1<<64 - 1) / space * space)
	var buf bytes.Buffer
	for _, v := range []uint64{limit, limit - 1} {
		buf.Write([]byte{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	got, err = Generate("400000", &buf)
	want := "400000999999999" + string(checkDigit("400000999999999"))
	if err != nil || got != want {
		t.Errorf("Generate = %q, %v; want %q (limit rejected, limit-1 accepted)", got, err, want)
	}
}

func TestGenerate_isReproducibleWithTheSameSeed(t *testing.T) {
	first, err1 := Generate("400000", rand.NewChaCha8([32]byte{7}))
	second, err2 := Generate("400000", rand.NewChaCha8([32]byte{7}))
	if err1 != nil || err2 != nil || first != second {
		t.Errorf("Generate with equal seeds = %q, %v and %q, %v", first, err1, second, err2)
	}
}

func TestGenerate_rejectsBadPrefix(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"16 digits leaves no room for the check digit", "4111111111111111"},
		{"letter", "40000A"},
		{"space", "4000 00"},
		{"dash", "4000-00"},
		{"sign", "-400000"},
		{"fullwidth digits", "４００００"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Generate(tt.give, rand.NewChaCha8([32]byte{}))
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Errorf("Generate(%q) = %q, %v; want ErrInvalid", tt.give, got, err)
			}
			if err != nil && err.Error() != "card prefix must be 1 to 15 digits" {
				t.Errorf("Generate(%q) message = %q", tt.give, err)
			}
		})
	}
}

// A broken random source must end in an error, not a hang or a weak number.
func TestGenerate_brokenReaderFails(t *testing.T) {
	errBroken := errors.New("broken")
	tests := []struct {
		name    string
		give    io.Reader
		wantErr error
	}{
		{"read error", iotest.ErrReader(errBroken), errBroken},
		{"empty", bytes.NewReader(nil), io.EOF},
		{"short", bytes.NewReader([]byte{1, 2, 3}), io.ErrUnexpectedEOF},
		{"stuck on 0xFF is always rejected", bytes.NewReader(bytes.Repeat([]byte{0xff}, 1024)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Generate("400000", tt.give)
			if err == nil || got != "" || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("Generate = %q, %v; want an error wrapping %v", got, err, tt.wantErr)
			}
			// A server fault is not the client's bad input.
			if errors.Is(err, ErrInvalid) {
				t.Errorf("Generate error %v wraps ErrInvalid", err)
			}
		})
	}
}

func TestLast4(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"valid number", "4000001234567899", "7899"},
		{"Luhn is not required for display", "4111111111111112", "1112"},
		{"grouped form is not accepted", "4000 0012 3456 7899", ""},
		{"15 digits", "400000123456789", ""},
		{"empty", "", ""},
		{"letter", "400000123456789x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Last4(tt.give); got != tt.want {
				t.Errorf("Last4(%q) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"full number", "4000001234567899", "**** **** **** 7899"},
		{"last four as stored", "7899", "**** **** **** 7899"},
		{"leading zeros kept", "0042", "**** **** **** 0042"},
		{"grouped form is not accepted", "4000 0012 3456 7899", ""},
		{"five digits", "67899", ""},
		{"three digits", "899", ""},
		{"empty", "", ""},
		{"non-digits", "abcd", ""},
		{"16 bytes that are not digits", "4000001234567 99", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.give); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestMask_sameFromNumberAndLast4(t *testing.T) {
	r := rand.NewChaCha8([32]byte{9})
	for range 100 {
		n, err := Generate("400000", r)
		if err != nil {
			t.Fatal(err)
		}
		if Mask(n) != Mask(Last4(n)) || !strings.HasSuffix(Mask(n), n[12:]) || strings.Contains(Mask(n), n[:12]) {
			t.Fatalf("Mask(%q) = %q, Mask(Last4) = %q", n, Mask(n), Mask(Last4(n)))
		}
	}
}

func TestLookupHash(t *testing.T) {
	key := []byte("coffer test key")
	otherKey := []byte("coffer test kez")
	const number, otherNumber = "4111111111111111", "4000001234567899"

	got := LookupHash(key, number)
	if len(got) != sha256.Size {
		t.Fatalf("LookupHash length = %d, want %d", len(got), sha256.Size)
	}
	// Computed independently:
	//   printf 'card:4111111111111111' | openssl dgst -sha256 -hmac 'coffer test key'
	// Stored hashes depend on this value: if it changes, no card is found.
	const want = "f1e3eee5d46d3b2ac457c241c1cc7d558b8a9b1da187a144f32cd00830eac599"
	if hex.EncodeToString(got) != want {
		t.Errorf("LookupHash = %x, want %s", got, want)
	}
	if !bytes.Equal(LookupHash(key, number), got) {
		t.Error("LookupHash is not deterministic")
	}
	if bytes.Equal(LookupHash(otherKey, number), got) {
		t.Error("LookupHash is the same under a different key")
	}
	if bytes.Equal(LookupHash(key, otherNumber), got) {
		t.Error("LookupHash is the same for a different number")
	}
	// Domain separation: the bare HMAC of the number, as another use of
	// the key might compute it, must not match.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(number))
	if bytes.Equal(mac.Sum(nil), got) {
		t.Error("LookupHash equals HMAC of the bare number; domain prefix missing")
	}
	// The result is a fresh slice the caller may keep or modify.
	got[0] ^= 0xff
	if bytes.Equal(LookupHash(key, number), got) {
		t.Error("LookupHash returned a shared slice")
	}
}

func TestLookupHash_distinctForManyNumbers(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	r := rand.NewChaCha8([32]byte{11})
	numbers := make(map[string]bool)
	hashes := make(map[string]bool)
	for range 1000 {
		n, err := Generate("400000", r)
		if err != nil {
			t.Fatal(err)
		}
		numbers[n] = true
		hashes[string(LookupHash(key, n))] = true
	}
	if len(hashes) != len(numbers) {
		t.Errorf("%d distinct numbers gave %d distinct hashes", len(numbers), len(hashes))
	}
}
