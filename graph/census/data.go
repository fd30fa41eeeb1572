package census

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/ent/personexternalid"
	"coffer/ent/scope"
	"coffer/graph/apperr"
	"coffer/graph/census/qid"
)

// Data is a person's data as a client gives it. At registration the required fields must be set;
// in a data change every field is optional (nil: unchanged) and an empty optional text field
// (lastName2, email, phone) clears it.
type Data struct {
	FirstName         *string
	LastName1         *string
	LastName2         *string
	DocumentType      *person.DocumentType
	DocumentID        *string
	DocumentScopeCode *string
	BornAt            *time.Time
	Gender            *person.Gender
	Address           *string
	AddressScopeCode  *string
	PostalCode        *string
	Email             *string
	ScopeCode         *string
	Phone             *string
	// ExternalIDs replaces the whole map when not nil: {"<system>": "<id>"}.
	ExternalIDs map[string]string
}

// Limits on what a person may hold.
const (
	maxNameLen       = 100
	maxAddressLen    = 300
	maxEmailLen      = 254
	maxExternalIDs   = 20
	minBirthYear     = 1900
	maxScopeCodeLen  = 64
	maxExternalValue = qid.MaxValueLen
)

var (
	e164       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	postalCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 -]{1,8}[A-Za-z0-9]$`)
	systemName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

// text checks one free-text field: one line, at most maxLen characters, present when required.
func text(f apperr.Fields, name string, v *string, required bool, maxLen int) {
	switch {
	case v == nil && required:
		f.Add(name, "is required")
	case v == nil:
	case strings.TrimSpace(*v) == "" && required:
		f.Add(name, "must not be empty")
	case !utf8.ValidString(*v) || strings.ContainsAny(*v, "\x00\r\n\t"):
		f.Add(name, "must be one line of text")
	case utf8.RuneCountInString(*v) > maxLen:
		f.Add(name, "must be at most "+itoa(maxLen)+" characters")
	}
}

// normalize checks d, collecting every problem, and returns d with its values normalized (trimmed
// text, the document number in its stored form). current is the person being changed, nil at
// registration; there every required field must be present. The checks run in a fixed order, and
// the first problem found for a field is the one reported.
func (s *Service) normalize(ctx context.Context, c *ent.Client, d Data, current *ent.Person) (Data, error) {
	reg := current == nil
	f := apperr.Fields{}
	d = trimmed(d)
	checkTexts(f, d, reg)
	if reg && d.DocumentType == nil {
		f.Add("documentType", "is required")
	}
	if reg && d.Gender == nil {
		f.Add("gender", "is required")
	}
	d.DocumentID = normalizeDocument(f, d, current)
	s.checkBirth(f, d.BornAt, reg)
	checkContacts(f, d, reg)
	checkExternalIDs(f, d.ExternalIDs)
	if err := checkScopes(ctx, c, f, d, reg); err != nil {
		return d, err
	}
	return d, f.Err()
}

// trimmed is d with the spaces around its text fields removed (the document number is left to
// normalizeDocument).
func trimmed(d Data) Data {
	trim := func(v *string) *string {
		if v == nil {
			return nil
		}
		t := strings.TrimSpace(*v)
		return &t
	}
	d.FirstName, d.LastName1, d.LastName2 = trim(d.FirstName), trim(d.LastName1), trim(d.LastName2)
	d.DocumentScopeCode, d.Address, d.AddressScopeCode = trim(d.DocumentScopeCode), trim(d.Address), trim(d.AddressScopeCode)
	d.PostalCode, d.Email, d.ScopeCode, d.Phone = trim(d.PostalCode), trim(d.Email), trim(d.ScopeCode), trim(d.Phone)
	return d
}

// checkTexts checks the names and the address as free text and, in a data change, that no
// required field is blanked.
func checkTexts(f apperr.Fields, d Data, reg bool) {
	text(f, "firstName", d.FirstName, reg, maxNameLen)
	text(f, "lastName1", d.LastName1, reg, maxNameLen)
	text(f, "lastName2", d.LastName2, false, maxNameLen)
	text(f, "address", d.Address, reg, maxAddressLen)
	if reg {
		return
	}
	// A data change may not blank a required field.
	for name, v := range map[string]*string{"firstName": d.FirstName, "lastName1": d.LastName1, "address": d.Address,
		"documentScopeCode": d.DocumentScopeCode, "addressScopeCode": d.AddressScopeCode,
		"postalCode": d.PostalCode, "scopeCode": d.ScopeCode, "documentId": d.DocumentID} {
		if v != nil && *v == "" {
			f.Add(name, "must not be empty")
		}
	}
}

// normalizeDocument checks the document number against its type (the given one, else the
// current person's) and returns it in its stored form; d.DocumentID unchanged when it is not given
// or not valid.
func normalizeDocument(f apperr.Fields, d Data, current *ent.Person) *string {
	reg := current == nil
	if d.DocumentType == nil && d.DocumentID == nil {
		if reg {
			f.Add("documentId", "is required")
		}
		return d.DocumentID
	}
	if d.DocumentID == nil && reg {
		f.Add("documentId", "is required")
		return d.DocumentID
	}
	docType, docID := "", ""
	if current != nil {
		docType, docID = string(current.DocumentType), current.DocumentID
	}
	if d.DocumentType != nil {
		docType = string(*d.DocumentType)
	}
	if d.DocumentID != nil {
		docID = *d.DocumentID
	}
	norm, err := qid.ValidateDocument(docType, docID)
	if err != nil {
		f.Add("documentId", err.Error())
		return d.DocumentID
	}
	return &norm
}

// checkBirth checks that the birth date is in the past and not before minBirthYear.
func (s *Service) checkBirth(f apperr.Fields, bornAt *time.Time, reg bool) {
	switch {
	case bornAt == nil && reg:
		f.Add("bornAt", "is required")
	case bornAt == nil:
	case !bornAt.Before(s.now()):
		f.Add("bornAt", "must be in the past")
	case bornAt.Year() < minBirthYear:
		f.Add("bornAt", "must be in "+itoa(minBirthYear)+" or later")
	}
}

// checkContacts checks the postal code, the e-mail address and the phone number; only the postal
// code is required.
func checkContacts(f apperr.Fields, d Data, reg bool) {
	if d.PostalCode != nil && *d.PostalCode != "" && !postalCode.MatchString(*d.PostalCode) {
		f.Add("postalCode", "must be 3 to 10 letters, digits, spaces or dashes")
	} else if reg && (d.PostalCode == nil || *d.PostalCode == "") {
		f.Add("postalCode", "is required")
	}
	if d.Email != nil && *d.Email != "" {
		a, err := mail.ParseAddress(*d.Email)
		if err != nil || a.Address != *d.Email || len(*d.Email) > maxEmailLen || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@'):], ".") {
			f.Add("email", "must be an e-mail address such as ana@example.com")
		}
	}
	if d.Phone != nil && *d.Phone != "" && !e164.MatchString(*d.Phone) {
		f.Add("phone", "must be an E.164 number such as +34600111222")
	}
}

// checkExternalIDs checks the number of systems, their names and the ids' form.
func checkExternalIDs(f apperr.Fields, ids map[string]string) {
	for system, value := range ids {
		switch {
		case len(ids) > maxExternalIDs:
			f.Add("externalIds", "at most "+itoa(maxExternalIDs)+" systems")
		case !systemName.MatchString(system) || system == qid.SystemCensus || system == qid.SystemDocumentID:
			f.Add("externalIds", "system \""+clip(system)+"\" must be 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter, and not census or document_id")
		case value == "" || len(value) > maxExternalValue || !printable(value):
			f.Add("externalIds", "the id for "+system+" must be 1 to 64 printable characters without spaces")
		}
	}
}

// checkScopes checks that the scope codes name existing scopes; only a failed look-up is returned.
func checkScopes(ctx context.Context, c *ent.Client, f apperr.Fields, d Data, reg bool) error {
	for _, sc := range []struct {
		name string
		v    *string
	}{{"documentScopeCode", d.DocumentScopeCode}, {"addressScopeCode", d.AddressScopeCode}, {"scopeCode", d.ScopeCode}} {
		if sc.v == nil || *sc.v == "" {
			if reg {
				f.Add(sc.name, "is required")
			}
			continue
		}
		if len(*sc.v) > maxScopeCodeLen {
			f.Add(sc.name, "no such scope")
			continue
		}
		ok, err := c.Scope.Query().Where(scope.Code(*sc.v)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			f.Add(sc.name, "no such scope: "+clip(*sc.v))
		}
	}
	return nil
}

// checkUnique reports a CONFLICT when the document or an external id already belongs to another
// person (self is 0 at registration). The unique indexes are the second line of defence.
func checkUnique(ctx context.Context, c *ent.Client, d Data, self int) error {
	if d.DocumentID != nil {
		taken, err := c.Person.Query().Where(person.DocumentID(*d.DocumentID), person.IDNEQ(self)).Exist(ctx)
		if err != nil {
			return err
		}
		if taken {
			return apperr.ConflictOn("documentId", "another person has this document")
		}
	}
	for system, value := range d.ExternalIDs {
		taken, err := c.PersonExternalID.Query().
			Where(personexternalid.System(system), personexternalid.Value(value), personexternalid.PersonIDNEQ(self)).Exist(ctx)
		if err != nil {
			return err
		}
		if taken {
			return apperr.ConflictOn("externalIds", "another person has the id "+clip(value)+"@"+system)
		}
	}
	return nil
}

// setExternalIDs replaces the person's look-up rows with ids.
func setExternalIDs(ctx context.Context, tx *ent.Tx, personID int, ids map[string]string) error {
	if _, err := tx.PersonExternalID.Delete().Where(personexternalid.PersonID(personID)).Exec(ctx); err != nil {
		return err
	}
	for system, value := range ids {
		if err := tx.PersonExternalID.Create().SetPersonID(personID).SetSystem(system).SetValue(value).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// clip shortens client text echoed in a message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
