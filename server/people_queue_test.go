package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The census of the second release (API.md §7): the clerks' queue, the people search, a person's
// history as versions, document verification states and the phone taken from the person.

const (
	ppQueue = `query($first: Int, $after: Cursor, $last: Int, $before: Cursor, $f: ProcedureFilter) {
		procedures(first: $first, after: $after, last: $last, before: $before, filter: $f) {
			totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
			edges { cursor node { ` + ppProcedureFields + ` } } } }`
	ppSearch = `query($s: String) { people(first: 100, filter: {search: $s}) {
		totalCount edges { node { qualifiedId firstName } } } }`
	ppVersions = `query($id: String!, $first: Int, $after: Cursor, $last: Int, $before: Cursor) { person(id: $id) {
		versions(first: $first, after: $after, last: $last, before: $before) {
			totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
			edges { cursor node { version at procedure { id type state } person { ` + ppPersonFields + ` } } } } } }`
	ppRequestVerification = `mutation($p: String!) { requestVerification(personId: $p) { ` + ppProcedureFields + ` } }`
	ppProcessVerification = `mutation($id: ID!, $d: ProcedureDecision!, $c: String, $v: Verification) {
		processProcedure(id: $id, decision: $d, comment: $c, verification: $v) { ` + ppProcedureFields + ` } }`
	ppStartOwnPhone  = `mutation($p: String!) { startPhoneVerification(personId: $p) { ` + ppProcedureFields + ` } }`
	ppVerifyOwnPhone = `mutation($p: String!, $c: String!) { verifyPhone(personId: $p, receivedCode: $c) { ` + ppPersonFields + ` } }`
)

type ppPageInfo struct {
	HasNextPage, HasPreviousPage bool
	StartCursor, EndCursor       string
}

type ppQueuePage struct {
	TotalCount int
	PageInfo   ppPageInfo
	Edges      []struct {
		Cursor string
		Node   ppProcedure
	}
}

func (c *ppCensus) queue(t *testing.T, vars map[string]any) ppQueuePage {
	t.Helper()
	var out struct{ Procedures ppQueuePage }
	c.mustDo(c.staff, ppQueue, vars, &out)
	return out.Procedures
}

// ids are the page's procedure ids in order.
func (p ppQueuePage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

func ppSameIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// ppEachStore runs body on a fresh census server of each store, in parallel.
func ppEachStore(t *testing.T, body func(t *testing.T, c *ppCensus)) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			body(t, ppStartOn(t, st))
		})
	}
}

func TestProcedures_queue_pendingPrioritizedOldestFirst_cursorStableUnderInserts(t *testing.T) {
	ppEachStore(t, func(t *testing.T, c *ppCensus) {
		_, reg1 := c.register(t, nil)
		p2, reg2 := c.register(t, nil)
		p3, reg3 := c.register(t, nil)
		c.process(t, reg1.ID, "ACCEPT", "")
		var doc struct{ RequestDocumentVerification ppProcedure }
		c.mustDo(c.staff, ppDocs, map[string]any{"p": p2.ID, "f": []any{ppFileIn("a.png", "image/png", ppPNG)}, "pr": true}, &doc)
		doc2 := doc.RequestDocumentVerification

		// Pending first, prioritized first among them, then oldest; the accepted one last.
		all := c.queue(t, nil)
		ppSameIDs(t, "whole queue", all.ids(), doc2.ID, reg2.ID, reg3.ID, reg1.ID)
		if all.TotalCount != 4 || all.PageInfo.HasNextPage || all.Edges[0].Node.Person.ID != p2.ID ||
			all.Edges[0].Node.CreatedBy == nil || all.Edges[0].Node.CreatedBy.Username != "clerk" ||
			len(all.Edges[0].Node.Files) != 1 || all.Edges[3].Node.ProcessedBy == nil || all.Edges[3].Node.State != "ACCEPTED" {
			t.Fatalf("whole queue: %+v", all)
		}
		first := c.queue(t, map[string]any{"first": 2})
		ppSameIDs(t, "first page", first.ids(), doc2.ID, reg2.ID)
		if !first.PageInfo.HasNextPage || first.TotalCount != 4 || first.PageInfo.EndCursor != first.Edges[1].Cursor {
			t.Fatalf("first page: %+v", first.PageInfo)
		}

		// New procedures on both sides of the cursor: a prioritized one (before it) and a new
		// registration (after the pending ones). The next page neither repeats nor skips.
		_, reg4 := c.register(t, nil)
		c.mustDo(c.staff, ppDocs, map[string]any{"p": p3.ID, "f": []any{ppFileIn("b.png", "image/png", ppPNG)}, "pr": true}, &doc)
		doc3 := doc.RequestDocumentVerification
		next := c.queue(t, map[string]any{"first": 10, "after": first.PageInfo.EndCursor})
		ppSameIDs(t, "page after the cursor", next.ids(), reg3.ID, reg4.ID, reg1.ID)
		if next.PageInfo.HasNextPage || !next.PageInfo.HasPreviousPage || next.TotalCount != 6 {
			t.Fatalf("page after the cursor: %+v", next.PageInfo)
		}
		back := c.queue(t, map[string]any{"last": 2, "before": next.Edges[0].Cursor})
		ppSameIDs(t, "last 2 before it", back.ids(), doc3.ID, reg2.ID)
		if !back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
			t.Fatalf("backward page: %+v", back.PageInfo)
		}

		// Filters, each with its own total.
		for _, tt := range []struct {
			name string
			give map[string]any
			want []string
		}{
			{"pending", map[string]any{"state": "PENDING"}, []string{doc2.ID, doc3.ID, reg2.ID, reg3.ID, reg4.ID}},
			{"documents", map[string]any{"type": "DOCUMENT_VERIFICATION"}, []string{doc2.ID, doc3.ID}},
			{"not prioritized", map[string]any{"prioritized": false}, []string{reg2.ID, reg3.ID, reg4.ID, reg1.ID}},
			{"accepted registrations", map[string]any{"state": "ACCEPTED", "type": "REGISTRATION"}, []string{reg1.ID}},
		} {
			got := c.queue(t, map[string]any{"f": tt.give})
			ppSameIDs(t, tt.name, got.ids(), tt.want...)
			if got.TotalCount != len(tt.want) {
				t.Fatalf("%s: totalCount %d, want %d", tt.name, got.TotalCount, len(tt.want))
			}
		}
		_, reg5 := c.register(t, map[string]any{"scopeCode": "ES"})
		ppSameIDs(t, "scope ES", c.queue(t, map[string]any{"f": map[string]any{"scopeCode": "ES"}}).ids(), reg5.ID)

		// Errors: a forged cursor, a page too large, customers, nobody.
		var people struct{ People struct{ PageInfo ppPageInfo } }
		c.mustDo(c.staff, `{ people(first: 1) { pageInfo { endCursor } } }`, nil, &people)
		wantError(t, c.do(c.staff, ppQueue, map[string]any{"after": people.People.PageInfo.EndCursor}), "BAD_USER_INPUT", "after")
		wantError(t, c.do(c.staff, ppQueue, map[string]any{"first": 101}), "BAD_USER_INPUT", "first")
		wantError(t, c.do(c.customer, ppQueue, nil), "FORBIDDEN")
		wantError(t, c.do("", ppQueue, nil), "UNAUTHENTICATED")
	})
}

func TestPeople_search_ignoresCaseAndAccents_matchesNamesDocumentEmailAndPhone(t *testing.T) {
	ppEachStore(t, func(t *testing.T, c *ppCensus) {
		lucia := c.enabled(t, map[string]any{"firstName": "Lucía", "lastName1": "Núñez", "lastName2": "Peña",
			"email": "LN@Example.org", "phone": "+34600999888"})
		ana := c.enabled(t, map[string]any{"lastName2": nil, "phone": "+34611000111"})
		search := func(text string) []string {
			t.Helper()
			var out struct {
				People struct {
					TotalCount int
					Edges      []struct{ Node ppPerson }
				}
			}
			c.mustDo(c.staff, ppSearch, map[string]any{"s": text}, &out)
			ids := []string{}
			for _, e := range out.People.Edges {
				ids = append(ids, e.Node.QualifiedID)
			}
			if out.People.TotalCount != len(ids) {
				t.Fatalf("search %q: totalCount %d for %d people", text, out.People.TotalCount, len(ids))
			}
			return ids
		}
		for _, tt := range []struct {
			give string
			want []string
		}{
			{"lucia", []string{lucia.QualifiedID}},
			{"LUCÍA", []string{lucia.QualifiedID}},
			{"nunez pena", []string{lucia.QualifiedID}},
			{"  Núñez  ", []string{lucia.QualifiedID}},
			{strings.ToLower(lucia.DocumentID), []string{lucia.QualifiedID}},
			{"example.org", []string{lucia.QualifiedID}},
			{"600999", []string{lucia.QualifiedID}},
			{"garcia", []string{ana.QualifiedID}},
			{"ana garcia", []string{ana.QualifiedID}},
			{"lucia garcia", []string{}},
			{"%", []string{}},
			{"_", []string{}},
			{"", []string{lucia.QualifiedID, ana.QualifiedID}},
		} {
			ppSameIDs(t, "search "+tt.give, search(tt.give), tt.want...)
		}
		// The key follows the person: an accepted change of name is found by the new name only.
		var ch struct{ ChangePersonData ppProcedure }
		c.mustDo(c.staff, ppChange, map[string]any{"p": lucia.ID, "in": map[string]any{"firstName": "Lucrècia"}}, &ch)
		ppSameIDs(t, "before acceptance", search("lucrecia"))
		c.process(t, ch.ChangePersonData.ID, "ACCEPT", "")
		ppSameIDs(t, "new name", search("lucrecia"), lucia.QualifiedID)
		ppSameIDs(t, "old name", search("lucia"))
		wantError(t, c.do(c.staff, ppSearch, map[string]any{"s": strings.Repeat("a", 201)}), "BAD_USER_INPUT", "search")
		wantError(t, c.do(c.staff, ppSearch, map[string]any{"s": "a b c d e f"}), "BAD_USER_INPUT", "search")
		wantError(t, c.do(c.customer, ppSearch, map[string]any{"s": "lucia"}), "FORBIDDEN")
	})
}

type ppVersionPage struct {
	TotalCount int
	PageInfo   ppPageInfo
	Edges      []struct {
		Cursor string
		Node   struct {
			Version   int
			At        string
			Procedure *struct{ ID, Type, State string }
			Person    ppPerson
		}
	}
}

func (c *ppCensus) versions(t *testing.T, id string, vars map[string]any) ppVersionPage {
	t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["id"] = id
	var out struct {
		Person struct{ Versions ppVersionPage }
	}
	c.mustDo(c.staff, ppVersions, vars, &out)
	return out.Person.Versions
}

func TestPersonVersions_oldestFirst_eachAsThePersonThenWas_paged(t *testing.T) {
	ppEachStore(t, func(t *testing.T, c *ppCensus) {
		p, reg := c.register(t, nil)
		c.process(t, reg.ID, "ACCEPT", "")
		var ch struct{ ChangePersonData ppProcedure }
		c.mustDo(c.staff, ppChange, map[string]any{"p": p.ID, "in": map[string]any{"firstName": "Eva"}}, &ch)
		c.process(t, ch.ChangePersonData.ID, "ACCEPT", "")

		first := c.versions(t, p.QualifiedID, map[string]any{"first": 2})
		if first.TotalCount != 3 || !first.PageInfo.HasNextPage || len(first.Edges) != 2 {
			t.Fatalf("first page: %+v", first)
		}
		v1, v2 := first.Edges[0].Node, first.Edges[1].Node
		if v1.Version != 1 || v1.Person.State != "PENDING" || v1.Person.FirstName != "Ana" || v1.Procedure != nil ||
			v1.At != p.CreatedAt || v1.Person.UpdatedAt != v1.At {
			t.Fatalf("version 1: %+v", v1)
		}
		if v2.Version != 2 || v2.Person.State != "ENABLED" || v2.Procedure == nil || v2.Procedure.ID != reg.ID ||
			v2.Procedure.State != "ACCEPTED" || !ppTime(t, v2.At).After(ppTime(t, v1.At)) {
			t.Fatalf("version 2: %+v", v2)
		}
		rest := c.versions(t, p.QualifiedID, map[string]any{"first": 2, "after": first.PageInfo.EndCursor})
		if len(rest.Edges) != 1 || rest.PageInfo.HasNextPage {
			t.Fatalf("second page: %+v", rest)
		}
		v3 := rest.Edges[0].Node
		if v3.Version != 3 || v3.Person.FirstName != "Eva" || v3.Procedure == nil || v3.Procedure.Type != "PERSON_DATA_CHANGE" ||
			v3.Person.QualifiedID != p.QualifiedID {
			t.Fatalf("version 3: %+v", v3)
		}
		last := c.versions(t, p.QualifiedID, map[string]any{"last": 1})
		if len(last.Edges) != 1 || last.Edges[0].Node.Version != 3 || !last.PageInfo.HasPreviousPage {
			t.Fatalf("last version: %+v", last)
		}
		// A version's instant reads the same person through person(versionAt:).
		var at struct{ Person ppPerson }
		c.mustDo(c.staff, ppPersonQuery, map[string]any{"id": p.QualifiedID, "at": v2.At}, &at)
		if at.Person.FirstName != "Ana" || at.Person.State != "ENABLED" {
			t.Fatalf("person at version 2's instant: %+v", at.Person)
		}
		wantError(t, c.do(c.staff, ppVersions, map[string]any{"id": p.QualifiedID, "after": "bm90IGEgY3Vyc29y"}), "BAD_USER_INPUT")
		wantError(t, c.do(c.customer, ppVersions, map[string]any{"id": p.QualifiedID}), "FORBIDDEN")
	})
}

// ppWaitMail waits for the outbox line to `to`: the notice goes out through the delivery queue,
// after the request's answer.
func ppWaitMail(t *testing.T, s *testServer, to string) ptOutboxLine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines, _ := ptOutbox(s.Outbox)
		for _, l := range lines {
			if l.To == to {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s in the outbox: %+v", to, lines)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRequestVerification_marksRequestedAndEmails_filesFillTheSameProcedure_rejectedAsFraud(t *testing.T) {
	ppEachStore(t, func(t *testing.T, c *ppCensus) {
		p := c.enabled(t, nil)
		var req struct{ RequestVerification ppProcedure }
		c.mustDo(c.staff, ppRequestVerification, map[string]any{"p": p.QualifiedID}, &req)
		pr := req.RequestVerification
		if pr.Type != "DOCUMENT_VERIFICATION" || pr.State != "PENDING" || len(pr.Files) != 0 || pr.Person.ID != p.ID {
			t.Fatalf("requestVerification: %+v", pr)
		}
		if got := c.person(t, p.ID); got.Verification != "VERIFICATION_REQUESTED" {
			t.Fatalf("after the request: %+v", got)
		}
		mail := ppWaitMail(t, c.testServer, *p.Email)
		if mail.Channel != "email" || mail.Code != p.QualifiedID || !strings.Contains(mail.Text, p.QualifiedID) {
			t.Fatalf("notice: %+v", mail)
		}
		wantError(t, c.do(c.staff, ppRequestVerification, map[string]any{"p": p.ID}), "CONFLICT")

		// The documents fill the requested procedure; a second set waits for the decision.
		var doc struct{ RequestDocumentVerification ppProcedure }
		c.mustDo(c.staff, ppDocs, map[string]any{"p": p.ID, "f": []any{ppFileIn("a.png", "image/png", ppPNG)}, "pr": true}, &doc)
		if d := doc.RequestDocumentVerification; d.ID != pr.ID || len(d.Files) != 1 || !d.Prioritized {
			t.Fatalf("documents for the requested verification: %+v", d)
		}
		wantError(t, c.do(c.staff, ppDocs, map[string]any{"p": p.ID, "f": []any{ppFileIn("b.png", "image/png", ppPNG)}}), "CONFLICT")
		if got := c.person(t, p.ID); got.Verification != "VERIFICATION_RECEIVED" {
			t.Fatalf("after the documents: %+v", got)
		}
		if n, f := c.docCount(t, p.ID); n != 1 || f != 1 {
			t.Fatalf("%d document procedures with %d files, want the one requested with its file", n, f)
		}

		ppWantVerificationRefusals(t, c, p, pr.ID)

		var out struct{ ProcessProcedure ppProcedure }
		c.mustDo(c.staff, ppProcessVerification, map[string]any{"id": pr.ID, "d": "REJECT", "c": "forged", "v": "FRAUD"}, &out)
		if got := c.person(t, p.ID); out.ProcessProcedure.State != "REJECTED" || got.Verification != "FRAUD" {
			t.Fatalf("rejected as fraud: %+v, person %+v", out.ProcessProcedure, got)
		}
		// A rejection without a verification is a MISTAKE, as before.
		c.mustDo(c.staff, ppRequestVerification, map[string]any{"p": p.ID}, &req)
		c.process(t, req.RequestVerification.ID, "REJECT", "never came")
		if got := c.person(t, p.ID); got.Verification != "MISTAKE" {
			t.Fatalf("rejected without a verification: %+v", got)
		}
		// A verified person is not asked again; customers may not ask.
		c.mustDo(c.staff, ppRequestVerification, map[string]any{"p": p.ID}, &req)
		c.process(t, req.RequestVerification.ID, "ACCEPT", "seen at the desk")
		wantError(t, c.do(c.staff, ppRequestVerification, map[string]any{"p": p.ID}), "PRECONDITION_FAILED")
		wantError(t, c.do(c.customer, ppRequestVerification, map[string]any{"p": p.ID}), "FORBIDDEN")
		if got := c.person(t, p.ID); got.Verification != "VERIFIED" {
			t.Fatalf("at the end: %+v", got)
		}
	})
}

// ppWantVerificationRefusals checks that wrong verifications of p's procedure prID, or one on a registration, are refused and change nothing.
func ppWantVerificationRefusals(t *testing.T, c *ppCensus, p ppPerson, prID string) {
	t.Helper()
	// Wrong verifications change nothing.
	for _, tt := range []struct {
		name, decision, verification string
	}{
		{"not MISTAKE or FRAUD", "REJECT", "VERIFIED"},
		{"on an acceptance", "ACCEPT", "FRAUD"},
	} {
		r := c.do(c.staff, ppProcessVerification, map[string]any{"id": prID, "d": tt.decision, "c": "forged", "v": tt.verification})
		wantError(t, r, "BAD_USER_INPUT", "verification")
	}
	_, reg := c.register(t, nil)
	wantError(t, c.do(c.staff, ppProcessVerification, map[string]any{"id": reg.ID, "d": "REJECT", "c": "no", "v": "MISTAKE"}),
		"BAD_USER_INPUT", "verification")
	if got := c.pending(t, reg.Person.ID); len(got) != 1 || got[0].ID != reg.ID {
		t.Fatalf("the registration after a refused verification: %+v", got)
	}
	if got := c.person(t, p.ID); got.Verification != "VERIFICATION_RECEIVED" || len(c.pending(t, p.ID)) != 1 {
		t.Fatalf("after refused verifications: %+v", got)
	}
}

func TestPhoneVerification_withoutPhone_usesThePersonsOwn_noneOnFileRefused(t *testing.T) {
	ppEachStore(t, func(t *testing.T, c *ppCensus) {
		p := c.enabled(t, map[string]any{"phone": "+34622333444"})
		var st struct{ StartPhoneVerification ppProcedure }
		c.mustDo(c.staff, ppStartOwnPhone, map[string]any{"p": p.ID}, &st)
		var info struct{ Phone string }
		if err := json.Unmarshal(st.StartPhoneVerification.Information, &info); err != nil || info.Phone != "+34622333444" {
			t.Fatalf("started: %+v", st.StartPhoneVerification)
		}
		sms := ptTAN(t, c.testServer, "+34622333444", "")
		var v struct{ VerifyPhone ppPerson }
		c.mustDo(c.staff, ppVerifyOwnPhone, map[string]any{"p": p.ID, "c": sms.Code}, &v)
		if v.VerifyPhone.PhoneVerification != "VERIFIED" || *v.VerifyPhone.Phone != "+34622333444" {
			t.Fatalf("verified: %+v", v.VerifyPhone)
		}

		none := c.enabled(t, map[string]any{"phone": nil})
		wantError(t, c.do(c.staff, ppStartOwnPhone, map[string]any{"p": none.ID}), "BAD_USER_INPUT", "phone")
		wantError(t, c.do(c.staff, ppVerifyOwnPhone, map[string]any{"p": none.ID, "c": "123456"}), "BAD_USER_INPUT", "phone")
		var procs struct {
			Person struct{ Procedures []ppProcedure }
		}
		c.mustDo(c.staff, `query($id: String!) { person(id: $id) { procedures { type } } }`, map[string]any{"id": none.ID}, &procs)
		if len(procs.Person.Procedures) != 1 || procs.Person.Procedures[0].Type != "REGISTRATION" {
			t.Fatalf("a refused start opened a procedure: %+v", procs)
		}
	})
}
