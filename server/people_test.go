package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// People and procedures (the census) over real HTTP against PostgreSQL.

func TestPeople_customersForbidden_anonymousUnauthenticated(t *testing.T) {
	c := ppStart(t)
	p, reg := c.register(t, nil)
	ops := []struct {
		query string
		vars  map[string]any
	}{
		{ppRegister, map[string]any{"in": ppInput(nil)}},
		{ppPersonQuery, map[string]any{"id": p.QualifiedID}},
		{ppPending, map[string]any{"p": p.QualifiedID}},
		{`{ people { totalCount } }`, nil},
		{`{ scopes { code } }`, nil},
		{ppChange, map[string]any{"p": p.QualifiedID, "in": map[string]any{"firstName": "Eva"}}},
		{ppCancel, map[string]any{"p": p.QualifiedID, "c": "web"}},
		{ppLevel, map[string]any{"p": p.QualifiedID, "l": "MEMBER"}},
		{ppDocs, map[string]any{"p": p.QualifiedID, "f": []any{map[string]any{"filename": "a.png", "contentType": "image/png", "base64Content": ppB64(ppPNG)}}}},
		{ppStartPhone, map[string]any{"p": p.QualifiedID, "ph": "+34600999888"}},
		{ppVerifyPhone, map[string]any{"p": p.QualifiedID, "c": "123456", "ph": "+34600999888"}},
		{ppInfo, map[string]any{"p": p.QualifiedID, "k": "a", "v": "1"}},
		{ppProcess, map[string]any{"id": reg.ID, "d": "ACCEPT"}},
		{`mutation { createScope(input: {name: "X", scopeType: "country", code: "XX"}) { id } }`, nil},
	}
	for _, op := range ops {
		wantError(t, c.do(c.customer, op.query, op.vars), "FORBIDDEN")
		wantError(t, c.do("", op.query, op.vars), "UNAUTHENTICATED")
	}
	// node(id) of a person is NOT_FOUND for a customer, as for anything they may not see.
	wantError(t, c.do(c.customer, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": p.ID}), "NOT_FOUND")
	var node struct{ Node struct{ QualifiedID string } }
	c.mustDo(c.staff, `query($id: ID!) { node(id: $id) { ... on Person { qualifiedId } } }`, map[string]any{"id": p.ID}, &node)
	if node.Node.QualifiedID != p.QualifiedID {
		t.Fatalf("node: %+v", node)
	}
	// Nothing changed: still one person, pending, with its one pending registration.
	got := c.person(t, p.QualifiedID)
	if got.State != "PENDING" || got.FirstName != "Ana" || got.Phone == nil || *got.Phone != "+34600111222" {
		t.Fatalf("person changed: %+v", got)
	}
	if pend := c.pending(t, p.QualifiedID); len(pend) != 1 || pend[0].Type != "REGISTRATION" {
		t.Fatalf("pending: %+v", pend)
	}
	var people struct{ People struct{ TotalCount int } }
	c.mustDo(c.staff, `{ people { totalCount } }`, nil, &people)
	if people.People.TotalCount != 1 {
		t.Fatalf("people: %+v", people)
	}
}

func TestRegisterPerson_acceptEnables_qualifiedIdsResolve(t *testing.T) {
	c := ppStart(t)
	doc := ppDNI(12345678) // 12345678Z
	p, reg := c.register(t, map[string]any{"documentId": strings.ToLower(doc[:4] + "-" + doc[4:]),
		"externalIds": map[string]any{"nhs": "126", "crm": "A-77"}, "additionalInformation": map[string]any{"source": "fair"}})
	if p.State != "PENDING" || p.MembershipLevel != "FOLLOWER" || p.Verification != "NOT_VERIFIED" ||
		p.PhoneVerification != "NOT_VERIFIED" || p.DocumentID != doc || p.QualifiedID != "1@census" || p.MembershipAllowed {
		t.Fatalf("registered: %+v", p)
	}
	if p.ExternalIDs["nhs"] != "126" || p.AdditionalInformation["source"] != "fair" {
		t.Fatalf("JSON fields: %+v %+v", p.ExternalIDs, p.AdditionalInformation)
	}
	if reg.Type != "REGISTRATION" || reg.State != "PENDING" || reg.CreatedBy.Username != "clerk" || reg.ProcessedAt != nil {
		t.Fatalf("registration: %+v", reg)
	}
	ppWantIDsResolve(t, c, p, doc)

	// Scopes only with withScope.
	var out struct{ Person ppPerson }
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": "1@census", "w": true}, &out)
	if len(out.Person.Scopes) != 3 || out.Person.Scopes[0].Code != "ES" || !bytes.Contains(out.Person.Scopes[0].Mappings, []byte(`"iso3166"`)) {
		t.Fatalf("scopes: %+v", out.Person.Scopes)
	}
	if got := c.person(t, "1@census"); got.Scopes != nil {
		t.Fatalf("scopes without withScope: %+v", got.Scopes)
	}

	if pend := c.pending(t, p.QualifiedID); len(pend) != 1 || pend[0].ID != reg.ID {
		t.Fatalf("pending: %+v", pend)
	}
	done := c.process(t, reg.ID, "ACCEPT", "documents seen")
	if done.State != "ACCEPTED" || done.ProcessedBy == nil || done.ProcessedBy.Username != "clerk" ||
		done.ProcessedAt == nil || *done.Comment != "documents seen" {
		t.Fatalf("processed: %+v", done)
	}
	if got := c.person(t, p.ID); got.State != "ENABLED" {
		t.Fatalf("after acceptance: %+v", got)
	}
	if pend := c.pending(t, p.QualifiedID); len(pend) != 0 {
		t.Fatalf("pending after acceptance: %+v", pend)
	}
	// A processed procedure cannot be processed again, either way; nothing changes.
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": reg.ID, "d": "REJECT", "c": "no"}), "PRECONDITION_FAILED")
	wantError(t, c.do(c.admin, ppProcess, map[string]any{"id": reg.ID, "d": "ACCEPT"}), "PRECONDITION_FAILED")
	if got := c.person(t, p.ID); got.State != "ENABLED" {
		t.Fatalf("after second processing: %+v", got)
	}
	// The next person gets the next number; a chosen free number is kept; a taken one is CONFLICT.
	p2, _ := c.register(t, nil)
	p3, _ := c.register(t, map[string]any{"personId": "500@census"})
	if p2.QualifiedID != "2@census" || p3.QualifiedID != "500@census" {
		t.Fatalf("numbers: %s %s", p2.QualifiedID, p3.QualifiedID)
	}
	wantError(t, c.do(c.staff, ppRegister, map[string]any{"in": ppInput(map[string]any{"personId": "500"})}), "CONFLICT", "personId")
	wantError(t, c.do(c.staff, ppRegister, map[string]any{"in": ppInput(map[string]any{"documentId": doc})}), "CONFLICT", "documentId")
	wantError(t, c.do(c.staff, ppRegister, map[string]any{"in": ppInput(map[string]any{"externalIds": map[string]any{"nhs": "126"}})}), "CONFLICT", "externalIds")
	var people struct {
		People struct {
			TotalCount int
			Edges      []struct{ Node ppPerson }
		}
	}
	c.mustDo(c.staff, `{ people(first: 10, filter: {state: PENDING}) { totalCount edges { node { qualifiedId } } } }`, nil, &people)
	if people.People.TotalCount != 2 || people.People.Edges[0].Node.QualifiedID != "2@census" {
		t.Fatalf("people: %+v", people)
	}
}

// ppWantIDsResolve checks that every way to name p (census number, document, external ids, node id) finds them, and that malformed or unknown ids are refused.
func ppWantIDsResolve(t *testing.T, c *ppCensus, p ppPerson, doc string) {
	t.Helper()
	// Every way to name the person finds them.
	for _, id := range []string{"1@census", doc + "@document_id", strings.ToLower(doc) + "@document_id", "126@nhs", "A-77@crm", p.ID} {
		if got := c.person(t, id); got.ID != p.ID {
			t.Fatalf("%s: got %+v", id, got)
		}
	}
	for _, tt := range []struct{ give, want string }{
		{"126@unknown", "BAD_USER_INPUT"}, {"abc@census", "BAD_USER_INPUT"}, {"1@@census", "BAD_USER_INPUT"},
		{"0@census", "BAD_USER_INPUT"}, {"@census", "BAD_USER_INPUT"}, {"not-an-id", "BAD_USER_INPUT"},
		{"2@census", "NOT_FOUND"}, {"127@nhs", "NOT_FOUND"}, {ppDNI(1) + "@document_id", "NOT_FOUND"},
	} {
		r := c.do(c.staff, ppPersonQuery, map[string]any{"id": tt.give})
		wantError(t, r, tt.want)
		if tt.want == "BAD_USER_INPUT" && r.Errors[0].Extensions.Fields["id"] == "" {
			t.Fatalf("%s: want field id, got %+v", tt.give, r.Errors)
		}
	}
	wantError(t, c.do(c.staff, ppPending, map[string]any{"p": "x@nowhere"}), "BAD_USER_INPUT", "personId")
}

func TestRegisterPerson_severalBadFields_allReportedAndNothingStored(t *testing.T) {
	c := ppStart(t)
	in := ppInput(map[string]any{
		"firstName": " ", "documentId": "12345678A", // wrong control letter
		"bornAt": time.Now().AddDate(0, 0, 2).Format(time.DateOnly), "email": "not-an-email",
		"phone": "600111222", "postalCode": "!", "scopeCode": "NOWHERE", "addressScopeCode": "XX-1",
		"externalIds": map[string]any{"Bad System": "1"}, "personId": "0@census",
	})
	r := c.do(c.staff, ppRegister, map[string]any{"in": in})
	wantError(t, r, "BAD_USER_INPUT", "firstName", "documentId", "bornAt", "email", "phone", "postalCode",
		"scopeCode", "addressScopeCode", "externalIds", "personId")
	if msg := r.Errors[0].Extensions.Fields["documentId"]; !strings.Contains(msg, "control letter") {
		t.Fatalf("documentId message: %q", msg)
	}
	// A NIE checks its control letter too; a wrong document type for the number is refused.
	wantError(t, c.do(c.staff, ppRegister, map[string]any{"in": ppInput(map[string]any{"documentType": "NIE", "documentId": "X1234567A"})}), "BAD_USER_INPUT", "documentId")
	wantError(t, c.do(c.staff, ppRegister, map[string]any{"in": ppInput(map[string]any{"documentType": "NIE", "documentId": ppDNI(1234)})}), "BAD_USER_INPUT", "documentId")
	wantError(t, c.do(c.staff, ppRegister, map[string]any{"in": ppInput(map[string]any{"additionalInformation": []any{1}})}), "BAD_USER_INPUT", "additionalInformation")
	var people struct{ People struct{ TotalCount int } }
	c.mustDo(c.staff, `{ people { totalCount } }`, nil, &people)
	if people.People.TotalCount != 0 {
		t.Fatalf("stored %d people", people.People.TotalCount)
	}
	// A valid NIE and a passport register.
	nie := c.enabled(t, map[string]any{"documentType": "NIE", "documentId": "X-1234567-L"})
	pass := c.enabled(t, map[string]any{"documentType": "PASSPORT", "documentId": "pa 123456"})
	if nie.DocumentID != "X1234567L" || pass.DocumentID != "PA123456" {
		t.Fatalf("documents: %s %s", nie.DocumentID, pass.DocumentID)
	}
}

func TestChangePersonData_acceptedAtT2_versionAtShowsOldBeforeAndNewAfter(t *testing.T) {
	c := ppStart(t)
	p, reg := c.register(t, nil)
	enabled := c.process(t, reg.ID, "ACCEPT", "")
	var ch struct{ ChangePersonData ppProcedure }
	c.mustDo(c.staff, ppChange, map[string]any{"p": p.QualifiedID, "in": map[string]any{
		"firstName": "Eva", "address": "Gran Vía 2", "email": "", "externalIds": map[string]any{"nhs": "9"}}}, &ch)
	if ch.ChangePersonData.Type != "PERSON_DATA_CHANGE" || !bytes.Contains(ch.ChangePersonData.Information, []byte(`"Eva"`)) {
		t.Fatalf("change: %+v", ch.ChangePersonData)
	}
	// Requested, not applied yet.
	if got := c.person(t, p.ID); got.FirstName != "Ana" {
		t.Fatalf("applied before acceptance: %+v", got)
	}
	time.Sleep(5 * time.Millisecond)
	accepted := c.process(t, ch.ChangePersonData.ID, "ACCEPT", "")
	t0 := ppTime(t, p.CreatedAt)
	tEnabled := ppTime(t, *enabled.ProcessedAt)
	t2 := ppTime(t, *accepted.ProcessedAt)
	if !t0.Before(tEnabled) || !tEnabled.Before(t2) {
		t.Fatalf("times out of order: %v %v %v", t0, tEnabled, t2)
	}
	t1 := tEnabled.Add(t2.Sub(tEnabled) / 2)
	t3 := t2.Add(time.Millisecond)
	at := func(when time.Time) gqlResponse {
		return c.do(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": when.Format(time.RFC3339Nano)})
	}
	var old, now struct{ Person ppPerson }
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": t1.Format(time.RFC3339Nano)}, &old)
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": t3.Format(time.RFC3339Nano)}, &now)
	if old.Person.FirstName != "Ana" || old.Person.Address != "Calle Mayor 1" || old.Person.Email == nil ||
		old.Person.State != "ENABLED" || old.Person.ExternalIDs != nil {
		t.Fatalf("at t1: %+v", old.Person)
	}
	if now.Person.FirstName != "Eva" || now.Person.Address != "Gran Vía 2" || now.Person.Email != nil || now.Person.ExternalIDs["nhs"] != "9" {
		t.Fatalf("at t3: %+v", now.Person)
	}
	// The instant of the change itself shows the new data; the instant before registration nothing.
	var exact struct{ Person ppPerson }
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": *accepted.ProcessedAt}, &exact)
	if exact.Person.FirstName != "Eva" {
		t.Fatalf("at t2: %+v", exact.Person)
	}
	wantError(t, at(t0.Add(-time.Microsecond)), "NOT_FOUND")
	var reg0 struct{ Person ppPerson }
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": p.CreatedAt}, &reg0)
	if reg0.Person.State != "PENDING" {
		t.Fatalf("at registration: %+v", reg0.Person)
	}
	// The external id now names the person.
	if got := c.person(t, "9@nhs"); got.ID != p.ID {
		t.Fatalf("9@nhs: %+v", got)
	}
	ppWantChangeRefusals(t, c, p)
}

// ppWantChangeRefusals checks the refused changes of p's data, one pending change at a time, and a rejection that changes nothing.
func ppWantChangeRefusals(t *testing.T, c *ppCensus, p ppPerson) {
	t.Helper()
	// Bad changes: nothing to change, bad values, a taken document; a second pending change is CONFLICT.
	wantError(t, c.do(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{}}), "BAD_USER_INPUT", "input")
	wantError(t, c.do(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"firstName": "", "phone": "1"}}), "BAD_USER_INPUT", "firstName", "phone")
	other, _ := c.register(t, nil)
	wantError(t, c.do(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"documentId": other.DocumentID}}), "CONFLICT", "documentId")
	c.mustDo(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"lastName2": ""}}, nil)
	wantError(t, c.do(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"lastName1": "Ruiz"}}), "CONFLICT")
	wantError(t, c.do(c.staff, ppChange, map[string]any{"p": "99@census", "in": map[string]any{"lastName1": "Ruiz"}}), "NOT_FOUND")
	if pend := c.pending(t, p.ID); len(pend) != 1 || pend[0].Type != "PERSON_DATA_CHANGE" {
		t.Fatalf("pending: %+v", pend)
	}
	// A rejection needs a comment and changes nothing.
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": c.pending(t, p.ID)[0].ID, "d": "REJECT"}), "BAD_USER_INPUT", "comment")
	rej := c.process(t, c.pending(t, p.ID)[0].ID, "REJECT", "no proof")
	if rej.State != "REJECTED" || c.person(t, p.ID).LastName2 == nil {
		t.Fatalf("rejected: %+v", rej)
	}
}

func TestDocumentVerification_checkedFilesStoredWithSha256_badFilesStoreNothing(t *testing.T) {
	c := ppStart(t) // default body limits: staff sessions may send uploads, others 256 KiB
	p := c.enabled(t, nil)
	big := append(append([]byte{}, ppPNG...), make([]byte, 5<<20)...) // 5 MiB + the header
	tests := []struct {
		name   string
		files  []any
		fields []string
	}{
		{"forged type: PNG bytes declared as PDF", []any{ppFileIn("id.pdf", "application/pdf", ppPNG)}, []string{"contentType"}},
		{"oversized", []any{ppFileIn("big.png", "image/png", big)}, []string{"base64Content"}},
		{"invalid base64", []any{map[string]any{"filename": "x.png", "contentType": "image/png", "base64Content": "iVBOR!!w0KGgo="}}, []string{"base64Content"}},
		{"disallowed type", []any{ppFileIn("x.gif", "image/gif", []byte("GIF89a...."))}, []string{"contentType"}},
		{"one bad among good ones", []any{ppFileIn("a.png", "image/png", ppPNG), ppFileIn("b.jpg", "image/jpeg", ppPDF)}, []string{"contentType"}},
		{"no files", []any{}, []string{"files"}},
		{"six files", []any{ppFileIn("1.png", "image/png", ppPNG), ppFileIn("2.png", "image/png", ppPNG), ppFileIn("3.png", "image/png", ppPNG),
			ppFileIn("4.png", "image/png", ppPNG), ppFileIn("5.png", "image/png", ppPNG), ppFileIn("6.png", "image/png", ppPNG)}, []string{"files"}},
		{"bad name", []any{ppFileIn("../etc/passwd", "image/png", ppPNG)}, []string{"filename"}},
	}
	for _, tt := range tests {
		r := c.do(c.staff, ppDocs, map[string]any{"p": p.QualifiedID, "f": tt.files})
		if r.code() != "BAD_USER_INPUT" {
			t.Fatalf("%s: %+v", tt.name, r.Errors)
		}
		wantError(t, r, "BAD_USER_INPUT", tt.fields...)
		if n, f := c.docCount(t, p.QualifiedID); n != 0 || f != 0 {
			t.Fatalf("%s: stored %d procedures, %d files", tt.name, n, f)
		}
	}
	if got := c.person(t, p.ID); got.Verification != "NOT_VERIFIED" {
		t.Fatalf("verification changed by refused uploads: %s", got.Verification)
	}

	// A data change first, then a prioritized document verification: the documents come first.
	c.mustDo(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"postalCode": "28014"}}, nil)
	var dv struct{ RequestDocumentVerification ppProcedure }
	c.mustDo(c.staff, ppDocs, map[string]any{"p": p.QualifiedID, "pr": true, "f": []any{
		ppFileIn("front.png", "image/png", ppPNG), ppFileIn("scan.pdf", "application/pdf", ppPDF), ppFileIn("face.jpg", "image/jpeg", ppJPG)}}, &dv)
	got := dv.RequestDocumentVerification
	want := []ppFile{{"front.png", "image/png", ppSum(ppPNG), len(ppPNG)}, {"scan.pdf", "application/pdf", ppSum(ppPDF), len(ppPDF)},
		{"face.jpg", "image/jpeg", ppSum(ppJPG), len(ppJPG)}}
	if got.Type != "DOCUMENT_VERIFICATION" || !got.Prioritized || fmt.Sprint(got.Files) != fmt.Sprint(want) {
		t.Fatalf("document verification: %+v", got)
	}
	if v := c.person(t, p.ID).Verification; v != "VERIFICATION_RECEIVED" {
		t.Fatalf("verification after upload: %s", v)
	}
	pend := c.pending(t, p.ID)
	if len(pend) != 2 || pend[0].ID != got.ID || pend[1].Type != "PERSON_DATA_CHANGE" {
		t.Fatalf("pending order: %+v", pend)
	}
	// A second upload while one is pending is CONFLICT and stores nothing.
	wantError(t, c.do(c.staff, ppDocs, map[string]any{"p": p.QualifiedID, "f": []any{ppFileIn("x.png", "image/png", ppPNG)}}), "CONFLICT")
	if n, f := c.docCount(t, p.ID); n != 1 || f != 3 {
		t.Fatalf("stored %d procedures, %d files", n, f)
	}
	c.process(t, got.ID, "ACCEPT", "")
	if v := c.person(t, p.ID); v.Verification != "VERIFIED" || !v.MembershipAllowed {
		t.Fatalf("after acceptance: %+v", v)
	}
	// A rejected verification marks a MISTAKE.
	q := c.enabled(t, nil)
	c.mustDo(c.staff, ppDocs, map[string]any{"p": q.ID, "f": []any{ppFileIn("a.png", "image/png", ppPNG)}}, &dv)
	c.process(t, dv.RequestDocumentVerification.ID, "REJECT", "blurred")
	if v := c.person(t, q.ID).Verification; v != "MISTAKE" {
		t.Fatalf("after rejection: %s", v)
	}
}

func TestDocumentVerification_largeUploads_staffOnly(t *testing.T) {
	// 30 MB through the race detector, beside the other parallel tests on two cores, can take
	// longer than the default request deadline of 30 s.
	c := ppStart(t, "REQUEST_TIMEOUT=3m")
	p := c.enabled(t, nil)
	// Five files of 4.5 MiB: about 30 MB of JSON, far over MAX_BODY_BYTES, within the staff limit.
	large := append(append([]byte{}, ppPNG...), make([]byte, 9<<19)...)
	files := []any{}
	for i := range 5 {
		files = append(files, ppFileIn(fmt.Sprintf("page%d.png", i), "image/png", large))
	}
	var dv struct{ RequestDocumentVerification ppProcedure }
	c.mustDo(c.staff, ppDocs, map[string]any{"p": p.ID, "f": files}, &dv)
	if got := dv.RequestDocumentVerification.Files; len(got) != 5 || got[0].Size != len(large) {
		t.Fatalf("stored %+v, want five files of %d bytes", got, len(large))
	}
	// Anyone else sending that much is refused before the body is read: 413.
	body := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 300<<10) + `"}}`
	for who, token := range map[string]string{"a customer": c.customer, "nobody": ""} {
		req, _ := http.NewRequest(http.MethodPost, c.URL+"/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s sending 300 KiB: status %d, want 413", who, res.StatusCode)
		}
	}
}

func TestMembershipLevel_memberOnlyForVerifiedAdults_elseRejectedOnProcessing(t *testing.T) {
	c := ppStart(t)
	verify := func(id string) {
		var dv struct{ RequestDocumentVerification ppProcedure }
		c.mustDo(c.staff, ppDocs, map[string]any{"p": id, "f": []any{ppFileIn("a.png", "image/png", ppPNG)}}, &dv)
		c.process(t, dv.RequestDocumentVerification.ID, "ACCEPT", "")
	}
	level := func(id, l string) ppProcedure {
		var out struct{ ChangeMembershipLevel ppProcedure }
		c.mustDo(c.staff, ppLevel, map[string]any{"p": id, "l": l}, &out)
		return out.ChangeMembershipLevel
	}
	// Unverified adult: the request is taken, its acceptance is PRECONDITION_FAILED and changes nothing.
	adult := c.enabled(t, nil)
	pr := level(adult.ID, "MEMBER")
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": pr.ID, "d": "ACCEPT"}), "PRECONDITION_FAILED")
	if got := c.person(t, adult.ID); got.MembershipLevel != "FOLLOWER" || c.pending(t, adult.ID)[0].State != "PENDING" {
		t.Fatalf("after refused acceptance: %+v", got)
	}
	// Once verified, the same procedure is accepted.
	verify(adult.ID)
	c.process(t, pr.ID, "ACCEPT", "")
	if got := c.person(t, adult.ID); got.MembershipLevel != "MEMBER" || !got.MembershipAllowed {
		t.Fatalf("member: %+v", got)
	}
	wantError(t, c.do(c.staff, ppLevel, map[string]any{"p": adult.ID, "l": "MEMBER"}), "PRECONDITION_FAILED")
	// A verified minor may not be a member.
	minor := c.enabled(t, map[string]any{"bornAt": time.Now().AddDate(-17, 0, 0).Format(time.DateOnly)})
	verify(minor.ID)
	if c.person(t, minor.ID).MembershipAllowed {
		t.Fatal("a minor is allowed membership")
	}
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": level(minor.ID, "MEMBER").ID, "d": "ACCEPT"}), "PRECONDITION_FAILED")
	// A pending (not yet enabled) verified person may not either.
	p, reg := c.register(t, nil)
	verify(p.ID)
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": level(p.ID, "MEMBER").ID, "d": "ACCEPT"}), "PRECONDITION_FAILED")
	c.process(t, reg.ID, "ACCEPT", "")
	if got := c.person(t, p.ID); got.MembershipLevel != "FOLLOWER" || !got.MembershipAllowed {
		t.Fatalf("pending person: %+v", got)
	}
}

func TestCancelPerson_acceptedCancels_closesPendingAndRefusesMore(t *testing.T) {
	c := ppStart(t)
	p := c.enabled(t, nil)
	c.mustDo(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"firstName": "Eva"}}, nil)
	wantError(t, c.do(c.staff, ppCancel, map[string]any{"p": p.ID, "c": " "}), "BAD_USER_INPUT", "channel")
	var out struct{ CancelPerson ppProcedure }
	c.mustDo(c.staff, ppCancel, map[string]any{"p": p.ID, "c": "email", "r": "moving abroad"}, &out)
	if out.CancelPerson.Type != "CANCELLATION" || !bytes.Contains(out.CancelPerson.Information, []byte(`"moving abroad"`)) {
		t.Fatalf("cancellation: %+v", out.CancelPerson)
	}
	c.process(t, out.CancelPerson.ID, "ACCEPT", "")
	got := c.person(t, p.ID)
	if got.State != "CANCELLED" || got.FirstName != "Ana" || len(c.pending(t, p.ID)) != 0 {
		t.Fatalf("after cancellation: %+v", got)
	}
	var all struct {
		Person struct{ Procedures []ppProcedure }
	}
	c.mustDo(c.staff, `query($id: String!) { person(id: $id) { procedures { `+ppProcedureFields+` } } }`, map[string]any{"id": p.ID}, &all)
	if ps := all.Person.Procedures; len(ps) != 3 || ps[1].Type != "PERSON_DATA_CHANGE" || ps[1].State != "REJECTED" || ps[1].ProcessedBy.Username != "clerk" {
		t.Fatalf("procedures: %+v", ps)
	}
	wantError(t, c.do(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"firstName": "Eva"}}), "PRECONDITION_FAILED")
	wantError(t, c.do(c.staff, ppCancel, map[string]any{"p": p.ID, "c": "web"}), "PRECONDITION_FAILED")
	// A rejected registration trashes the person.
	q, reg := c.register(t, nil)
	c.process(t, reg.ID, "REJECT", "duplicate")
	if got := c.person(t, q.ID); got.State != "TRASHED" {
		t.Fatalf("rejected registration: %+v", got)
	}
}

func TestPhoneVerification_codeBySMS_verifies_andReassignsTheNumber(t *testing.T) {
	c := ppStart(t)
	a := c.enabled(t, map[string]any{"phone": nil})
	b := c.enabled(t, map[string]any{"phone": nil})
	const phone = "+34611222333"
	verifyWithCode := func(p ppPerson) ppPerson {
		var st struct{ StartPhoneVerification ppProcedure }
		c.mustDo(c.staff, ppStartPhone, map[string]any{"p": p.ID, "ph": phone}, &st)
		if st.StartPhoneVerification.Type != "PHONE_VERIFICATION" || st.StartPhoneVerification.State != "PENDING" {
			t.Fatalf("start: %+v", st)
		}
		sms := ptTAN(t, c.testServer, phone, "")
		if sms.Channel != "sms" {
			t.Fatalf("message: %+v", sms)
		}
		// A wrong code and another number are INVALID_CODE and change nothing.
		wantError(t, c.do(c.staff, ppVerifyPhone, map[string]any{"p": p.ID, "c": ptWrongCode(sms.Code), "ph": phone}), "INVALID_CODE")
		wantError(t, c.do(c.staff, ppVerifyPhone, map[string]any{"p": p.ID, "c": sms.Code, "ph": "+34611222334"}), "INVALID_CODE")
		if got := c.person(t, p.ID); got.PhoneVerification != "NOT_VERIFIED" || got.Phone != nil {
			t.Fatalf("after wrong tries: %+v", got)
		}
		var v struct{ VerifyPhone ppPerson }
		c.mustDo(c.staff, ppVerifyPhone, map[string]any{"p": p.ID, "c": sms.Code, "ph": phone}, &v)
		// The code works once.
		wantError(t, c.do(c.staff, ppVerifyPhone, map[string]any{"p": p.ID, "c": sms.Code, "ph": phone}), "INVALID_CODE")
		return v.VerifyPhone
	}
	got := verifyWithCode(a)
	if got.PhoneVerification != "VERIFIED" || got.Phone == nil || *got.Phone != phone {
		t.Fatalf("verified: %+v", got)
	}
	got = verifyWithCode(b)
	if got.PhoneVerification != "VERIFIED" {
		t.Fatalf("second person: %+v", got)
	}
	if old := c.person(t, a.ID); old.PhoneVerification != "REASSIGNED" {
		t.Fatalf("first person after reassignment: %+v", old)
	}
	wantError(t, c.do(c.staff, ppStartPhone, map[string]any{"p": a.ID, "ph": "0034"}), "BAD_USER_INPUT", "phone")
	// A phone verification is completed by its code, not by processProcedure; it can be rejected.
	var st struct{ StartPhoneVerification ppProcedure }
	c.mustDo(c.staff, ppStartPhone, map[string]any{"p": a.ID, "ph": "+34699000111"}, &st)
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": st.StartPhoneVerification.ID, "d": "ACCEPT"}), "PRECONDITION_FAILED")
	c.process(t, st.StartPhoneVerification.ID, "REJECT", "wrong number")
	sms := ptTAN(t, c.testServer, "+34699000111", "")
	wantError(t, c.do(c.staff, ppVerifyPhone, map[string]any{"p": a.ID, "c": sms.Code, "ph": "+34699000111"}), "INVALID_CODE")
}

func TestSetAdditionalInformation_mergesJSONKeys_badJSONRefused(t *testing.T) {
	c := ppStart(t)
	p := c.enabled(t, map[string]any{"additionalInformation": map[string]any{"a": 1}})
	var out struct{ SetAdditionalInformation ppPerson }
	c.mustDo(c.staff, ppInfo, map[string]any{"p": p.QualifiedID, "k": "prefs", "v": `{"news": true, "lang": "es"}`}, &out)
	c.mustDo(c.staff, ppInfo, map[string]any{"p": p.QualifiedID, "k": "note", "v": `"hello"`}, &out)
	info := out.SetAdditionalInformation.AdditionalInformation
	if info["a"] != float64(1) || info["note"] != "hello" || info["prefs"].(map[string]any)["lang"] != "es" {
		t.Fatalf("merged: %+v", info)
	}
	wantError(t, c.do(c.staff, ppInfo, map[string]any{"p": p.QualifiedID, "k": "x", "v": `{not json`}), "BAD_USER_INPUT", "jsonValue")
	wantError(t, c.do(c.staff, ppInfo, map[string]any{"p": p.QualifiedID, "k": "", "v": `1`}), "BAD_USER_INPUT", "key")
	out = struct{ SetAdditionalInformation ppPerson }{} // decoding into a used map would merge
	c.mustDo(c.staff, ppInfo, map[string]any{"p": p.QualifiedID, "k": "note", "v": `null`}, &out)
	if _, ok := out.SetAdditionalInformation.AdditionalInformation["note"]; ok || len(out.SetAdditionalInformation.AdditionalInformation) != 2 {
		t.Fatalf("after removal: %+v", out.SetAdditionalInformation.AdditionalInformation)
	}
	// The earlier value stays readable in the history.
	var at, old struct{ Person ppPerson }
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": out.SetAdditionalInformation.UpdatedAt}, &at)
	if _, ok := at.Person.AdditionalInformation["note"]; ok {
		t.Fatalf("at the removal: %+v", at.Person.AdditionalInformation)
	}
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": ppTime(t, out.SetAdditionalInformation.UpdatedAt).Add(-time.Microsecond).Format(time.RFC3339Nano)}, &old)
	if old.Person.AdditionalInformation["note"] != "hello" {
		t.Fatalf("history: %+v", old.Person.AdditionalInformation)
	}
}

func TestScopes_seededListed_createScopeAdminOnly(t *testing.T) {
	c := ppStart(t)
	var out struct{ Scopes []ppScope }
	c.mustDo(c.staff, `{ scopes { code name scopeType mappings } }`, nil, &out)
	if len(out.Scopes) < 10 || out.Scopes[0].Code != "DE" {
		t.Fatalf("scopes: %+v", out.Scopes)
	}
	create := `mutation($in: CreateScopeInput!) { createScope(input: $in) { id code name scopeType mappings } }`
	in := map[string]any{"name": "Valencia", "scopeType": "municipality", "code": "ES-46250", "mappings": map[string]any{"ine": "46250"}}
	wantError(t, c.do(c.staff, create, map[string]any{"in": in}), "FORBIDDEN")
	var made struct{ CreateScope ppScope }
	c.mustDo(c.admin, create, map[string]any{"in": in}, &made)
	if made.CreateScope.Code != "ES-46250" || string(made.CreateScope.Mappings) != `{"ine":"46250"}` {
		t.Fatalf("created: %+v", made)
	}
	wantError(t, c.do(c.admin, create, map[string]any{"in": in}), "CONFLICT", "code")
	wantError(t, c.do(c.admin, create, map[string]any{"in": map[string]any{"name": "", "scopeType": "Bad Type", "code": "a b", "mappings": "x"}}),
		"BAD_USER_INPUT", "name", "scopeType", "code", "mappings")
	// The new scope can be used at once.
	p := c.enabled(t, map[string]any{"addressScopeCode": "ES-46250"})
	if p.AddressScopeCode != "ES-46250" {
		t.Fatalf("person: %+v", p)
	}
}

func TestProcessProcedure_tenConcurrent_appliesOnce(t *testing.T) {
	c := ppStart(t)
	p := c.enabled(t, nil)
	var ch struct{ ChangePersonData ppProcedure }
	c.mustDo(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"firstName": "Eva"}}, &ch)
	codes := ptRace(10, func(i int) (gqlResponse, error) {
		d := "ACCEPT"
		if i%2 == 1 {
			d = "REJECT"
		}
		return c.post(c.staff, ppProcess, map[string]any{"id": ch.ChangePersonData.ID, "d": d, "c": "race"})
	})
	if tally := ptTally(codes); tally[""] != 1 || tally["PRECONDITION_FAILED"] != 9 {
		t.Fatalf("outcomes: %v", tally)
	}
	// Registrations racing each other get distinct numbers.
	numbers := make(chan string, 10)
	ptRace(10, func(i int) (gqlResponse, error) {
		r, err := c.post(c.staff, ppRegister, map[string]any{"in": ppInput(nil)})
		var out struct{ RegisterPerson struct{ Person ppPerson } }
		if err == nil && len(r.Errors) == 0 {
			_ = json.Unmarshal(r.Data, &out)
			numbers <- out.RegisterPerson.Person.QualifiedID
		}
		return r, err
	})
	close(numbers)
	seen := map[string]bool{}
	for n := range numbers {
		seen[n] = true
	}
	if len(seen) != 10 || !seen["11@census"] {
		t.Fatalf("numbers: %v", seen)
	}
}

func TestPeople_onSQLite_registerChangeAndHistory(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite")
	admin := s.admin()
	c := &ppCensus{testServer: s, admin: admin, staff: admin, customer: ""}
	p := c.enabled(t, map[string]any{"externalIds": map[string]any{"nhs": "5"}})
	var ch struct{ ChangePersonData ppProcedure }
	c.mustDo(c.staff, ppChange, map[string]any{"p": "5@nhs", "in": map[string]any{"firstName": "Eva"}}, &ch)
	done := c.process(t, ch.ChangePersonData.ID, "ACCEPT", "")
	before := ppTime(t, *done.ProcessedAt).Add(-time.Microsecond).Format(time.RFC3339Nano)
	var old struct{ Person ppPerson }
	c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": before}, &old)
	if old.Person.FirstName != "Ana" || c.person(t, p.DocumentID+"@document_id").FirstName != "Eva" {
		t.Fatalf("history on SQLite: %+v", old.Person)
	}
}

// The README's Playground snippets use inline JSON literals; they must reach the server as JSON.
func TestRegisterPerson_inlineJSONLiterals_storedAsJSONValues(t *testing.T) {
	c := ppStart(t)
	var out struct {
		RegisterPerson struct{ Person ppPerson }
	}
	c.mustDo(c.staff, `mutation { registerPerson(input: {firstName: "Ana", lastName1: "García", documentType: DNI,
		documentId: "12345678Z", documentScopeCode: "ES", bornAt: "1990-05-17", gender: FEMALE,
		address: "Calle Mayor 1", addressScopeCode: "ES-28079", postalCode: "28013", scopeCode: "ES-MD",
		externalIds: {nhs: "126"}, additionalInformation: {tags: ["a", "b"], n: 2.5}}) {
		person { `+ppPersonFields+` } } }`, nil, &out)
	p := out.RegisterPerson.Person
	if p.ExternalIDs["nhs"] != "126" || p.AdditionalInformation["n"] != 2.5 || len(p.AdditionalInformation["tags"].([]any)) != 2 {
		t.Fatalf("JSON fields: %+v %+v", p.ExternalIDs, p.AdditionalInformation)
	}
	var raw struct {
		Person struct{ AdditionalInformation json.RawMessage }
	}
	c.mustDo(c.staff, `{ person(id: "126@nhs") { additionalInformation } }`, nil, &raw)
	if raw.Person.AdditionalInformation[0] != '{' {
		t.Fatalf("not a JSON object: %s", raw.Person.AdditionalInformation)
	}
	wantError(t, c.do(c.staff, ppChange, map[string]any{"p": "126@nhs", "in": map[string]any{"externalIds": map[string]any{"nhs": 5}}}), "BAD_USER_INPUT", "externalIds")
}

// Every type, field, argument and enum value of the schema carries a description (the contract's
// rule), read back through introspection as a client sees it.
func TestSchema_everyTypeFieldArgumentAndEnumValueDescribed(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres")
	var out struct {
		Schema struct {
			Types []struct {
				Name, Kind  string
				Description *string
				Fields      []struct {
					Name        string
					Description *string
					Args        []struct {
						Name        string
						Description *string
					}
				}
				InputFields []struct {
					Name        string
					Description *string
				}
				EnumValues []struct {
					Name        string
					Description *string
				}
			}
		} `json:"__schema"`
	}
	s.mustDo("", `{ __schema { types { name kind description
		fields { name description args { name description } }
		inputFields { name description } enumValues { name description } } } }`, nil, &out)
	empty := func(d *string) bool { return d == nil || strings.TrimSpace(*d) == "" }
	var missing []string
	for _, ty := range out.Schema.Types {
		if strings.HasPrefix(ty.Name, "__") || ty.Kind == "SCALAR" && (ty.Name == "String" || ty.Name == "Int" ||
			ty.Name == "Float" || ty.Name == "Boolean" || ty.Name == "ID") {
			continue
		}
		if empty(ty.Description) {
			missing = append(missing, ty.Name)
		}
		for _, f := range ty.Fields {
			if empty(f.Description) {
				missing = append(missing, ty.Name+"."+f.Name)
			}
			for _, a := range f.Args {
				if empty(a.Description) {
					missing = append(missing, ty.Name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, f := range ty.InputFields {
			if empty(f.Description) {
				missing = append(missing, ty.Name+"."+f.Name)
			}
		}
		for _, v := range ty.EnumValues {
			if empty(v.Description) {
				missing = append(missing, ty.Name+"."+v.Name)
			}
		}
	}
	if len(missing) > 0 {
		t.Fatalf("no description: %v", missing)
	}
}

func TestPeople_remainingErrors_andPaging(t *testing.T) {
	c := ppStart(t)
	a := c.enabled(t, nil)
	b := c.enabled(t, nil)
	third := c.enabled(t, nil)
	// Paging by census number, with cursors.
	var page struct {
		People struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct{ Node ppPerson }
		}
	}
	c.mustDo(c.staff, `{ people(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, nil, &page)
	if page.People.TotalCount != 3 || !page.People.PageInfo.HasNextPage || len(page.People.Edges) != 2 || page.People.Edges[0].Node.ID != a.ID {
		t.Fatalf("first page: %+v", page)
	}
	c.mustDo(c.staff, `query($c: Cursor) { people(first: 2, after: $c) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`,
		map[string]any{"c": page.People.PageInfo.EndCursor}, &page)
	if page.People.PageInfo.HasNextPage || len(page.People.Edges) != 1 || page.People.Edges[0].Node.ID != third.ID {
		t.Fatalf("second page: %+v", page)
	}
	wantError(t, c.do(c.staff, `{ people(first: 500) { totalCount } }`, nil), "BAD_USER_INPUT", "first")
	// Unknown people and procedures.
	wantError(t, c.do(c.staff, ppPending, map[string]any{"p": "77@census"}), "NOT_FOUND")
	wantError(t, c.do(c.staff, ppInfo, map[string]any{"p": "77@census", "k": "a", "v": "1"}), "NOT_FOUND")
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": a.ID, "d": "ACCEPT"}), "NOT_FOUND")
	wantError(t, c.do(c.staff, ppProcess, map[string]any{"id": "garbage", "d": "ACCEPT"}), "BAD_USER_INPUT")
	// Nothing can be started for a cancelled person.
	var out struct{ CancelPerson ppProcedure }
	c.mustDo(c.staff, ppCancel, map[string]any{"p": b.ID, "c": "web"}, &out)
	c.process(t, out.CancelPerson.ID, "ACCEPT", "")
	for name, r := range map[string]gqlResponse{
		"phone":  c.do(c.staff, ppStartPhone, map[string]any{"p": b.ID, "ph": "+34600000001"}),
		"level":  c.do(c.staff, ppLevel, map[string]any{"p": b.ID, "l": "MEMBER"}),
		"files":  c.do(c.staff, ppDocs, map[string]any{"p": b.ID, "f": []any{ppFileIn("a.png", "image/png", ppPNG)}}),
		"cancel": c.do(c.staff, ppCancel, map[string]any{"p": b.ID, "c": "web"}),
	} {
		if r.code() != "PRECONDITION_FAILED" {
			t.Fatalf("%s on a cancelled person: %+v", name, r.Errors)
		}
	}
	if n, f := c.docCount(t, b.ID); n != 0 || f != 0 || len(c.pending(t, b.ID)) != 0 {
		t.Fatalf("a cancelled person got procedures: %d %d", n, f)
	}
	lines, err := ptOutbox(c.Outbox)
	if err != nil && !strings.Contains(err.Error(), "no such file") {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.To == "+34600000001" {
			t.Fatalf("an SMS went to a cancelled person: %+v", l)
		}
	}
}
