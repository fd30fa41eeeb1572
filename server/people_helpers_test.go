package main

// Helpers of the census tests (prefix "pp"): a server with a clerk and a customer (ppCensus), the
// census operations and their inputs.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

const (
	ppPersonFields = `id qualifiedId firstName lastName1 lastName2 documentType documentId documentScopeCode
		bornAt gender address addressScopeCode postalCode email scopeCode phone state membershipLevel
		verification phoneVerification externalIds additionalInformation membershipAllowed createdAt updatedAt`
	ppProcedureFields = `id type state createdAt processedAt comment information prioritized
		createdBy { username } processedBy { username } person { id qualifiedId }
		files { filename contentType size sha256 }`
	ppRegister = `mutation($in: RegisterPersonInput!) { registerPerson(input: $in) {
		person { ` + ppPersonFields + ` } procedure { ` + ppProcedureFields + ` } } }`
	ppProcess = `mutation($id: ID!, $d: ProcedureDecision!, $c: String) {
		processProcedure(id: $id, decision: $d, comment: $c) { ` + ppProcedureFields + ` } }`
	ppPersonQuery = `query($id: String!, $w: Boolean, $at: Time) { person(id: $id, withScope: $w, versionAt: $at) {
		` + ppPersonFields + ` scopes { code name scopeType mappings } } }`
	ppPending = `query($p: String!) { personProcedures(personId: $p) { ` + ppProcedureFields + ` } }`
	ppChange  = `mutation($p: String!, $in: PersonDataInput!) { changePersonData(personId: $p, input: $in) { ` + ppProcedureFields + ` } }`
	ppDocs    = `mutation($p: String!, $f: [DocumentFileInput!]!, $pr: Boolean) {
		requestDocumentVerification(personId: $p, files: $f, prioritized: $pr) { ` + ppProcedureFields + ` } }`
	ppLevel       = `mutation($p: String!, $l: MembershipLevel!) { changeMembershipLevel(personId: $p, level: $l) { ` + ppProcedureFields + ` } }`
	ppCancel      = `mutation($p: String!, $c: String!, $r: String) { cancelPerson(personId: $p, channel: $c, reason: $r) { ` + ppProcedureFields + ` } }`
	ppInfo        = `mutation($p: String!, $k: String!, $v: String!) { setAdditionalInformation(personId: $p, key: $k, jsonValue: $v) { ` + ppPersonFields + ` } }`
	ppStartPhone  = `mutation($p: String!, $ph: String!) { startPhoneVerification(personId: $p, phone: $ph) { ` + ppProcedureFields + ` } }`
	ppVerifyPhone = `mutation($p: String!, $c: String!, $ph: String!) { verifyPhone(personId: $p, receivedCode: $c, phone: $ph) { ` + ppPersonFields + ` } }`
)

type ppUser struct{ Username string }

type ppFile struct {
	Filename, ContentType, Sha256 string
	Size                          int
}

type ppProcedure struct {
	ID, Type, State, CreatedAt string
	ProcessedAt, Comment       *string
	Information                json.RawMessage
	Prioritized                bool
	CreatedBy, ProcessedBy     *ppUser
	Person                     struct{ ID, QualifiedID string }
	Files                      []ppFile
}

type ppScope struct {
	Code, Name, ScopeType string
	Mappings              json.RawMessage
}

type ppPerson struct {
	ID, QualifiedID, FirstName, LastName1                   string
	LastName2                                               *string
	DocumentType, DocumentID, DocumentScopeCode, BornAt     string
	Gender, Address, AddressScopeCode, PostalCode           string
	Email                                                   *string
	ScopeCode                                               string
	Phone                                                   *string
	State, MembershipLevel, Verification, PhoneVerification string
	ExternalIDs                                             map[string]string
	AdditionalInformation                                   map[string]any
	MembershipAllowed                                       bool
	CreatedAt, UpdatedAt                                    string
	Scopes                                                  []ppScope
}

// ppCensus is a server with an administrator, a clerk (STAFF) and a customer logged in.
type ppCensus struct {
	*testServer
	admin, staff, customer string
}

var ppSeq atomic.Int64

func ppStart(t *testing.T, env ...string) *ppCensus {
	t.Helper()
	t.Parallel()
	return ppStartOn(t, "postgres", env...)
}

// ppStartOn is ppStart on the given store, without t.Parallel (for subtests that choose).
func ppStartOn(t *testing.T, store string, env ...string) *ppCensus {
	t.Helper()
	s := startServer(t, store, env...)
	admin := s.admin()
	s.mustDo(admin, `mutation { createUser(input: {username: "clerk", password: "clerk-password-1", role: STAFF}) { id } }`, nil, nil)
	return &ppCensus{testServer: s, admin: admin, staff: s.login("clerk", "clerk-password-1"), customer: s.customer(admin, "carla")}
}

// ppDNI returns a valid DNI for n (its control letter computed).
func ppDNI(n int) string {
	return fmt.Sprintf("%08d%c", n, "TRWAGMYFPDXBNJZSQVHLCKE"[n%23])
}

// ppInput is a valid registration; over replaces or adds fields.
func ppInput(over map[string]any) map[string]any {
	n := int(ppSeq.Add(1))
	in := map[string]any{
		"firstName": "Ana", "lastName1": "García", "lastName2": "López", "documentType": "DNI",
		"documentId": ppDNI(10000000 + n), "documentScopeCode": "ES", "bornAt": "1990-05-17", "gender": "FEMALE",
		"address": "Calle Mayor 1", "addressScopeCode": "ES-28079", "postalCode": "28013",
		"email": fmt.Sprintf("ana%d@example.com", n), "scopeCode": "ES-MD", "phone": "+34600111222",
	}
	for k, v := range over {
		in[k] = v
	}
	return in
}

func ppTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ppB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var (
	ppPNG = append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, bytes.Repeat([]byte{7}, 100)...)
	ppPDF = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 200)...)
	ppJPG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 50)...)
)

func ppSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func ppFileIn(name, ct string, content []byte) map[string]any {
	return map[string]any{"filename": name, "contentType": ct, "base64Content": ppB64(content)}
}

func (c *ppCensus) register(t *testing.T, over map[string]any) (ppPerson, ppProcedure) {
	t.Helper()
	var out struct {
		RegisterPerson struct {
			Person    ppPerson
			Procedure ppProcedure
		}
	}
	c.mustDo(c.staff, ppRegister, map[string]any{"in": ppInput(over)}, &out)
	return out.RegisterPerson.Person, out.RegisterPerson.Procedure
}

func (c *ppCensus) process(t *testing.T, id, decision, comment string) ppProcedure {
	t.Helper()
	var out struct{ ProcessProcedure ppProcedure }
	vars := map[string]any{"id": id, "d": decision}
	if comment != "" {
		vars["c"] = comment
	}
	c.mustDo(c.staff, ppProcess, vars, &out)
	return out.ProcessProcedure
}

// enabled registers a person and accepts the registration.
func (c *ppCensus) enabled(t *testing.T, over map[string]any) ppPerson {
	t.Helper()
	p, reg := c.register(t, over)
	c.process(t, reg.ID, "ACCEPT", "")
	return c.person(t, p.QualifiedID)
}

func (c *ppCensus) person(t *testing.T, id string) ppPerson {
	t.Helper()
	var out struct{ Person ppPerson }
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": id}, &out)
	return out.Person
}

func (c *ppCensus) pending(t *testing.T, id string) []ppProcedure {
	t.Helper()
	var out struct{ PersonProcedures []ppProcedure }
	c.mustDo(c.staff, ppPending, map[string]any{"p": id}, &out)
	return out.PersonProcedures
}

func (c *ppCensus) one(t *testing.T, token, query string, vars map[string]any, field string, out any) {
	t.Helper()
	var raw map[string]json.RawMessage
	c.mustDo(token, query, vars, &raw)
	if err := json.Unmarshal(raw[field], out); err != nil {
		t.Fatalf("decode %s: %v", raw[field], err)
	}
}

// ppDocCount is the number of stored files of the person's document verifications.
func (c *ppCensus) docCount(t *testing.T, id string) (procedures, files int) {
	t.Helper()
	var out struct {
		Person struct{ Procedures []ppProcedure }
	}
	c.mustDo(c.staff, `query($id: String!) { person(id: $id) { procedures { type files { sha256 } } } }`, map[string]any{"id": id}, &out)
	for _, pr := range out.Person.Procedures {
		if pr.Type == "DOCUMENT_VERIFICATION" {
			procedures++
			files += len(pr.Files)
		}
	}
	return procedures, files
}
