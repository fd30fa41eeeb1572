package qid

import (
	"errors"
	"strings"
	"testing"
)

// fuzzKnown is a fixed registry of external systems for FuzzParse.
func fuzzKnown(s string) bool { return s == "nhs" || s == "ss-fr" || strings.HasPrefix(s, "x") }

var parseSeeds = []string{
	"123@census",
	"9223372036854775807@census",
	"9223372036854775808@census",
	"0@census",
	"01@census",
	"-1@census",
	"12345678Z@document_id",
	" x-1234567-l @document_id",
	"1R@document_id",
	" - @document_id",
	"126@nhs",
	"AbC/1:2@ss-fr",
	"1@xyz_01-",
	"126@unknown",
	"1@CENSUS",
	"a@b@c",
	"@census",
	"123@",
	"@",
	"",
	"\u00e9@census",
	"\xff@nhs",
	strings.Repeat("9", 65) + "@census",
	"1@" + strings.Repeat("s", 33),
}

// FuzzParse checks that Parse never panics, fails only with its two
// sentinels and the zero ID, and that what it accepts is canonical: the
// ID's String parses back to the same ID. It also checks that knownSystem
// can only turn an accepted identifier into ErrUnknownSystem, never change
// the ID or the syntax verdict.
func FuzzParse(f *testing.F) {
	for _, seed := range parseSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s, fuzzKnown)
		anyID, anyErr := Parse(s, nil)
		if anyErr != nil {
			if !errors.Is(anyErr, ErrMalformed) || anyID != (ID{}) {
				t.Fatalf("Parse(%q, nil) = %#v, %v; want zero ID and ErrMalformed", s, anyID, anyErr)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q, nil) is malformed but Parse(%q, known) = %#v, %v", s, s, id, err)
			}
		}
		if err != nil {
			malformed, unknown := errors.Is(err, ErrMalformed), errors.Is(err, ErrUnknownSystem)
			if malformed == unknown || id != (ID{}) {
				t.Fatalf("Parse(%q) = %#v, %v; want zero ID and exactly one sentinel", s, id, err)
			}
			if msg := err.Error(); msg == "" || strings.HasPrefix(msg, "qid:") {
				t.Fatalf("Parse(%q) error message %q is not fit for a user", s, msg)
			}
			if unknown && anyID.Kind() != KindExternal {
				t.Fatalf("Parse(%q) = %v for built-in system %q", s, err, anyID.System)
			}
			return
		}
		if anyErr != nil || anyID != id {
			t.Fatalf("Parse(%q, nil) = %#v, %v; want %#v as with a registry", s, anyID, anyErr, id)
		}
		if len(id.Value) == 0 || len(id.Value) > MaxValueLen || !validSystem(id.System) || !printableNoSpace(id.Value) {
			t.Fatalf("Parse(%q) = %#v is not well formed", s, id)
		}
		again, err := Parse(id.String(), fuzzKnown)
		if err != nil || again != id {
			t.Fatalf("Parse(%q) = %#v, %v; want %#v from %q", id.String(), again, err, id, s)
		}
		switch id.Kind() {
		case KindCensus:
			n, ok := id.CensusNumber()
			if !ok || n <= 0 || Census(n) != id.String() {
				t.Fatalf("Parse(%q) = %#v: CensusNumber() = %d, %t", s, id, n, ok)
			}
		case KindDocument:
			if norm, ok := normalizeDocumentID(id.Value); !ok || norm != id.Value {
				t.Fatalf("Parse(%q) = %#v: document value is not normalized", s, id)
			}
		case KindExternal:
			if !fuzzKnown(id.System) {
				t.Fatalf("Parse(%q) = %#v with a system the registry does not know", s, id)
			}
		}
		if _, ok := id.CensusNumber(); ok != (id.Kind() == KindCensus) {
			t.Fatalf("Parse(%q) = %#v: CensusNumber ok = %t for kind %v", s, id, ok, id.Kind())
		}
	})
}

// FuzzValidateDocument checks that ValidateDocument never panics, fails
// only with ErrInvalidDocument and "", and that what it accepts is a fixed
// point which is also what Parse makes of the same input as a document_id,
// so a stored document is found however it was typed.
func FuzzValidateDocument(f *testing.F) {
	for _, seed := range []struct{ docType, id string }{
		{DocumentDNI, "12345678Z"},
		{DocumentDNI, "00000000T"},
		{DocumentDNI, "12345678-z"},
		{DocumentDNI, "12345678A"},
		{DocumentDNI, "1234567Z"},
		{DocumentNIE, "X1234567L"},
		{DocumentNIE, "y 0000000 z"},
		{DocumentNIE, "Z0000000M"},
		{DocumentNIE, "A1234567L"},
		{DocumentPassport, "PAA123456"},
		{DocumentPassport, "ab"},
		{DocumentPassport, "PA\u00d1123"},
		{DocumentPassport, strings.Repeat("A", 21)},
		{"dni", "12345678Z"},
		{"", ""},
	} {
		f.Add(seed.docType, seed.id)
	}
	f.Fuzz(func(t *testing.T, docType, id string) {
		got, err := ValidateDocument(docType, id)
		if err != nil {
			if !errors.Is(err, ErrInvalidDocument) || got != "" {
				t.Fatalf("ValidateDocument(%q, %q) = %q, %v; want \"\" and ErrInvalidDocument", docType, id, got, err)
			}
			if msg := err.Error(); msg == "" || strings.HasPrefix(msg, "qid:") {
				t.Fatalf("ValidateDocument(%q, %q) error message %q is not fit for a user", docType, id, msg)
			}
			return
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("ValidateDocument(%q, %q) = %q contains %q", docType, id, got, c)
			}
		}
		switch docType {
		case DocumentDNI, DocumentNIE:
			if len(got) != 9 {
				t.Fatalf("ValidateDocument(%q, %q) = %q, want 9 characters", docType, id, got)
			}
		case DocumentPassport:
			if len(got) < minPassportLen || len(got) > maxPassportLen {
				t.Fatalf("ValidateDocument(%q, %q) = %q, length %d out of range", docType, id, got, len(got))
			}
		default:
			t.Fatalf("ValidateDocument(%q, %q) = %q for an unknown type", docType, id, got)
		}
		again, err := ValidateDocument(docType, got)
		if err != nil || again != got {
			t.Fatalf("ValidateDocument(%q, %q) = %q, %v; want %q", docType, got, again, err, got)
		}
		for _, give := range []string{got, id} {
			qid, err := Parse(give+"@"+SystemDocumentID, nil)
			if err != nil || qid != (ID{System: SystemDocumentID, Value: got}) {
				t.Fatalf("Parse(%q) = %#v, %v; want value %q", give+"@"+SystemDocumentID, qid, err, got)
			}
		}
	})
}
