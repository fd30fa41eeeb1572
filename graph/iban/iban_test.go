package iban

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNormalize_valid(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"DE", "DE89370400440532013000", "DE89370400440532013000"},
		{"GB", "GB82WEST12345698765432", "GB82WEST12345698765432"},
		{"ES", "ES9121000418450200051332", "ES9121000418450200051332"},
		{"FR with a letter in the BBAN", "FR1420041010050500013M02606", "FR1420041010050500013M02606"},
		{"NL", "NL91ABNA0417164300", "NL91ABNA0417164300"},
		{"IT", "IT60X0542811101000000123456", "IT60X0542811101000000123456"},
		{"AT", "AT611904300234573201", "AT611904300234573201"},
		{"CH", "CH9300762011623852957", "CH9300762011623852957"},
		{"BE", "BE68539007547034", "BE68539007547034"},
		{"NO is the shortest", "NO9386011117947", "NO9386011117947"},
		{"printed form with spaces", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"lower case", "gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"},
		{"mixed case and stray spaces", "  fR14 2004 1010 0505 0001 3m02 606 ", "FR1420041010050500013M02606"},
		{"check digits 98 are allowed", "DE98370400440000000042", "DE98370400440000000042"},
		{"check digits 02 are allowed", "DE02370400440000000024", "DE02370400440000000024"},
		{"unknown country only needs 15..34", "XX89123456789012", "XX89123456789012"},
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
	tests := []struct {
		name string
		give string
		want string // the message shown to the client
	}{
		{"wrong check digits", "DE88370400440532013000", "IBAN check digits do not match"},
		{"swapped digits in BBAN", "DE89370400440532031000", "IBAN check digits do not match"},
		{"GB wrong check digits", "GB83WEST12345698765432", "IBAN check digits do not match"},
		{"01 is an alias of 98 that passes mod-97", "DE01370400440000000042", "IBAN check digits must be between 02 and 98"},
		{"99 is an alias of 02 that passes mod-97", "DE99370400440000000024", "IBAN check digits must be between 02 and 98"},
		{"00 is never valid", "DE00370400440532013000", "IBAN check digits must be between 02 and 98"},
		{"DE too short", "DE8937040044053201300", "IBAN for DE must be 22 characters"},
		{"DE too long", "DE893704004405320130000", "IBAN for DE must be 22 characters"},
		{"NL too long", "NL91ABNA04171643000", "IBAN for NL must be 18 characters"},
		{"unknown country too short", "XX891234567890", "IBAN must be 15 to 34 characters"},
		{"unknown country too long", "XX891234567890123456789012345678901", "IBAN must be 15 to 34 characters"},
		{"empty", "", "IBAN must start with a two-letter country code"},
		{"only spaces", "    ", "IBAN must start with a two-letter country code"},
		{"country only", "DE", "IBAN must start with a two-letter country code"},
		{"digit in country", "D189370400440532013000", "IBAN must start with a two-letter country code"},
		{"letter in check digits", "DEA9370400440532013000", "IBAN must have two check digits after the country code"},
		{"hyphen", "DE89-3704-0044-0532-0130-00", "IBAN may contain only letters, digits and spaces"},
		{"tab", "DE89\t370400440532013000", "IBAN may contain only letters, digits and spaces"},
		{"non-breaking space", "DE89\u00a0370400440532013000", "IBAN may contain only letters, digits and spaces"},
		{"umlaut", "DÄ89370400440532013000", "IBAN may contain only letters, digits and spaces"},
		{"dotless i would upper-case to I", "\u0131T60X0542811101000000123456", "IBAN may contain only letters, digits and spaces"},
		{"full-width digit", "DE89\uff1370400440532013000", "IBAN may contain only letters, digits and spaces"},
		{"invalid UTF-8", "DE89\xff370400440532013000", "IBAN may contain only letters, digits and spaces"},
		{"far too long input", strings.Repeat(" ", 60) + "DE89370400440532013000", "IBAN is too long"},
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

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		country string
		bban    string
		want    string
		wantErr error
	}{
		{"DE", "DE", "370400440532013000", "DE89370400440532013000", nil},
		{"GB lower case with spaces", "gb", "west 1234 5698 7654 32", "GB82WEST12345698765432", nil},
		{"ES", "ES", "21000418450200051332", "ES9121000418450200051332", nil},
		{"FR", "FR", "20041010050500013M02606", "FR1420041010050500013M02606", nil},
		{"unknown country", "XX", "123456789012", "XX89123456789012", nil},
		{"wrong BBAN length for DE", "DE", "37040044053201300", "", ErrInvalid},
		{"one-letter country cannot borrow from the BBAN", "D", "E370400440532013000", "", ErrInvalid},
		{"three-letter country", "DEU", "370400440532013000", "", ErrInvalid},
		{"digit in country", "D1", "370400440532013000", "", ErrInvalid},
		{"bad BBAN character", "DE", "37040044053201300/", "", ErrInvalid},
		{"empty BBAN", "DE", "", "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.country, tt.bban)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("New(%q, %q) = %q, %v; want %q, %v", tt.country, tt.bban, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRandom_producesValidGermanIBANs(t *testing.T) {
	tests := []struct {
		name   string
		reader io.Reader
	}{
		{"crypto/rand by default", nil},
		{"deterministic", rand.NewChaCha8([32]byte{1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[string]bool)
			for range 1000 {
				got, err := Random(tt.reader, "37040044")
				if err != nil {
					t.Fatalf("Random: %v", err)
				}
				normalized, err := Normalize(got)
				if err != nil || normalized != got {
					t.Fatalf("Normalize(%q) = %q, %v", got, normalized, err)
				}
				if !strings.HasPrefix(got, "DE") || got[4:12] != "37040044" {
					t.Fatalf("Random = %q, want DE with bank code 37040044", got)
				}
				seen[got] = true
			}
			// 1000 draws from 10^10 accounts should essentially never repeat.
			if len(seen) < 999 {
				t.Errorf("Random gave only %d distinct IBANs in 1000 draws", len(seen))
			}
		})
	}
}

func TestRandom_isReproducibleWithTheSameSeed(t *testing.T) {
	first, err1 := Random(rand.NewChaCha8([32]byte{7}), "10010010")
	second, err2 := Random(rand.NewChaCha8([32]byte{7}), "10010010")
	if err1 != nil || err2 != nil || first != second {
		t.Errorf("Random with equal seeds = %q, %v and %q, %v", first, err1, second, err2)
	}
}

func TestRandom_rejectsBadBankCode(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"seven digits", "3704004"},
		{"nine digits", "370400440"},
		{"letter", "3704004A"},
		{"space", "3704 0044"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Random(rand.NewChaCha8([32]byte{}), tt.give)
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Errorf("Random(%q) = %q, %v; want ErrInvalid", tt.give, got, err)
			}
		})
	}
}

// A broken random source must end in an error, not a hang or a weak IBAN.
func TestRandom_brokenReaderFails(t *testing.T) {
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
			got, err := Random(tt.give, "37040044")
			if err == nil || got != "" || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("Random = %q, %v; want an error wrapping %v", got, err, tt.wantErr)
			}
		})
	}
}
