package qid

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateDocument_valid(t *testing.T) {
	tests := []struct {
		name    string
		docType string
		give    string
		want    string
	}{
		{"DNI", DocumentDNI, "12345678Z", "12345678Z"},
		{"DNI all zeros", DocumentDNI, "00000000T", "00000000T"},
		{"DNI all nines", DocumentDNI, "99999999R", "99999999R"},
		{"DNI 87654321", DocumentDNI, "87654321X", "87654321X"},
		{"DNI 45678912", DocumentDNI, "45678912S", "45678912S"},
		{"DNI 00000001", DocumentDNI, "00000001R", "00000001R"},
		{"DNI multiple of 23", DocumentDNI, "23000000T", "23000000T"},
		{"DNI lower case", DocumentDNI, "12345678z", "12345678Z"},
		{"DNI dash", DocumentDNI, "12345678-Z", "12345678Z"},
		{"DNI spaces", DocumentDNI, " 12 345 678 z ", "12345678Z"},

		{"NIE X", DocumentNIE, "X1234567L", "X1234567L"},
		{"NIE X zeros", DocumentNIE, "X0000000T", "X0000000T"},
		{"NIE Y zeros", DocumentNIE, "Y0000000Z", "Y0000000Z"},
		{"NIE Z zeros", DocumentNIE, "Z0000000M", "Z0000000M"},
		{"NIE Y", DocumentNIE, "Y7654321G", "Y7654321G"},
		{"NIE Z nines", DocumentNIE, "Z9999999H", "Z9999999H"},
		{"NIE X 9876543", DocumentNIE, "X9876543K", "X9876543K"},
		{"NIE same digits, Y prefix", DocumentNIE, "Y1234567X", "Y1234567X"},
		{"NIE same digits, Z prefix", DocumentNIE, "Z1234567R", "Z1234567R"},
		{"NIE lower case", DocumentNIE, "x1234567l", "X1234567L"},
		{"NIE dashes", DocumentNIE, "X-1234567-L", "X1234567L"},
		{"NIE spaces", DocumentNIE, "y 0000000 z", "Y0000000Z"},

		{"passport", DocumentPassport, "PAA123456", "PAA123456"},
		{"passport lower case", DocumentPassport, "paa123456", "PAA123456"},
		{"passport shortest", DocumentPassport, "ab1", "AB1"},
		{"passport longest", DocumentPassport, strings.Repeat("A1", 10), strings.Repeat("A1", 10)},
		{"passport digits only", DocumentPassport, "123456789", "123456789"},
		{"passport separators", DocumentPassport, "ab-12 34", "AB1234"},
		{"passport that looks like a DNI with a wrong letter", DocumentPassport, "12345678A", "12345678A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateDocument(tt.docType, tt.give)
			if err != nil || got != tt.want {
				t.Fatalf("ValidateDocument(%q, %q) = %q, %v; want %q", tt.docType, tt.give, got, err, tt.want)
			}
			again, err := ValidateDocument(tt.docType, got)
			if err != nil || again != got {
				t.Errorf("ValidateDocument(%q, %q) = %q, %v; want %q", tt.docType, got, again, err, got)
			}
			// A document stored in normalized form must be found however
			// it was typed into a qualified identifier.
			id, err := Parse(tt.give+"@"+SystemDocumentID, nil)
			if err != nil || id.Value != tt.want {
				t.Errorf("Parse(%q) = %#v, %v; want value %q", tt.give+"@"+SystemDocumentID, id, err, tt.want)
			}
		})
	}
}

const (
	dniShape      = "DNI must be 8 digits and a letter"
	dniLetter     = "DNI control letter does not match the number"
	nieShape      = "NIE must be X, Y or Z, 7 digits and a letter"
	nieLetter     = "NIE control letter does not match the number"
	passportShape = "passport number must be 3 to 20 letters or digits"
	required      = "document number is required"
	badType       = "document type must be DNI, NIE or PASSPORT"
	tooLong       = "document number must be at most 64 characters"
)

var validateDocumentInvalidTests = []struct {
	name    string
	docType string
	give    string
	want    string // the message shown to the user
}{
	{"DNI wrong letter", DocumentDNI, "12345678A", dniLetter},
	{"DNI zeros wrong letter", DocumentDNI, "00000000R", dniLetter},
	{"DNI swapped digits", DocumentDNI, "21345678Z", dniLetter},
	{"DNI letter not in the table", DocumentDNI, "12345678I", dniLetter},
	{"DNI 7 digits", DocumentDNI, "1234567Z", dniShape},
	{"DNI 9 digits", DocumentDNI, "123456789Z", dniShape},
	{"DNI no letter", DocumentDNI, "12345678", dniShape},
	{"DNI 9 digits no letter", DocumentDNI, "123456789", dniShape},
	{"DNI two letters", DocumentDNI, "1234567ZZ", dniShape},
	{"DNI letter first", DocumentDNI, "Z12345678", dniShape},
	{"DNI given an NIE", DocumentDNI, "X1234567L", dniShape},
	{"DNI with dots", DocumentDNI, "12.345.678-Z", dniShape},
	{"DNI with Ñ", DocumentDNI, "12345678\u00d1", dniShape},
	{"DNI full-width digits", DocumentDNI, "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18Z", dniShape},
	{"DNI tab", DocumentDNI, "12345678\tZ", dniShape},
	{"DNI empty", DocumentDNI, "", required},
	{"DNI only separators", DocumentDNI, " - ", required},
	{"DNI too long", DocumentDNI, strings.Repeat(" ", 56) + "12345678Z", tooLong},

	{"NIE wrong letter", DocumentNIE, "X1234567A", nieLetter},
	{"NIE Y with X's letter", DocumentNIE, "Y1234567L", nieLetter},
	{"NIE Y zeros wrong letter", DocumentNIE, "Y0000000T", nieLetter},
	{"NIE bad prefix", DocumentNIE, "A1234567L", nieShape},
	{"NIE lower bad prefix", DocumentNIE, "w1234567l", nieShape},
	{"NIE given a DNI", DocumentNIE, "12345678Z", nieShape},
	{"NIE 6 digits", DocumentNIE, "X123456L", nieShape},
	{"NIE 8 digits", DocumentNIE, "X12345678L", nieShape},
	{"NIE no letter", DocumentNIE, "X1234567", nieShape},
	{"NIE two prefixes", DocumentNIE, "XX234567L", nieShape},
	{"NIE digit as control", DocumentNIE, "X12345670", nieShape},
	{"NIE unicode", DocumentNIE, "X1234567\u0141", nieShape},
	{"NIE empty", DocumentNIE, "", required},

	{"passport too short", DocumentPassport, "AB", passportShape},
	{"passport too long", DocumentPassport, strings.Repeat("A", 21), passportShape},
	{"passport slash", DocumentPassport, "AB/123", passportShape},
	{"passport MRZ filler", DocumentPassport, "AB123<<<", passportShape},
	{"passport unicode", DocumentPassport, "PA\u00d1123", passportShape},
	{"passport empty", DocumentPassport, "", required},
	{"passport too long raw", DocumentPassport, strings.Repeat("-", 60) + "AB123", tooLong},

	{"type lower case", "dni", "12345678Z", badType},
	{"type empty", "", "12345678Z", badType},
	{"type unknown", "ID_CARD", "12345678Z", badType},
}

func TestValidateDocument_invalid(t *testing.T) {
	for _, tt := range validateDocumentInvalidTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateDocument(tt.docType, tt.give)
			if !errors.Is(err, ErrInvalidDocument) || got != "" {
				t.Fatalf("ValidateDocument(%q, %q) = %q, %v; want \"\" and ErrInvalidDocument", tt.docType, tt.give, got, err)
			}
			if err.Error() != tt.want {
				t.Errorf("ValidateDocument(%q, %q) error = %q, want %q", tt.docType, tt.give, err.Error(), tt.want)
			}
		})
	}
}

// Every number 0..22 must map to the letter of the official table, and a
// DNI must accept exactly one of the 26 letters.
func TestValidateDocument_exactlyOneLetter(t *testing.T) {
	for _, digits := range []string{"00000000", "00000022", "12345678", "99999999", "50000011"} {
		accepted := 0
		for c := 'A'; c <= 'Z'; c++ {
			if _, err := ValidateDocument(DocumentDNI, digits+string(c)); err == nil {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("DNI %s accepts %d control letters, want 1", digits, accepted)
		}
	}
	want := "TRWAGMYFPDXBNJZSQVHLCKE"
	for n := 0; n < 23; n++ {
		digits := strings.Repeat("0", 6) + string(rune('0'+n/10)) + string(rune('0'+n%10))
		if got := controlLetter(digits); got != want[n] {
			t.Errorf("controlLetter(%s) = %c, want %c", digits, got, want[n])
		}
	}
}
