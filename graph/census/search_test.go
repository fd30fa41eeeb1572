package census_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/ent/predicate"
	"coffer/ent/procedure"
	"coffer/graph/apperr"
	"coffer/graph/census"
)

func TestFold_lowerCasesAndStripsAccents(t *testing.T) {
	tests := []struct{ give, want string }{
		{"Lucía", "lucia"},
		{"NÚÑEZ Peña", "nunez pena"},
		{"Çelik Ångström", "celik angstrom"},
		{"Straße", "strasse"},
		{"Øre Łódź Œuvre", "ore lodz oeuvre"},
		{"lucia", "lucia"},
		{"+34600111222 ana@example.com 12345678Z", "+34600111222 ana@example.com 12345678z"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := census.Fold(tt.give); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestSearchKey_namesDocumentEmailPhone_folded(t *testing.T) {
	p := &ent.Person{FirstName: "Lucía", LastName1: "Núñez", LastName2: ptr("Peña"), DocumentID: "12345678Z",
		Email: ptr("LN@Example.org"), Phone: ptr("+34600999888"), Address: "Calle Mayor 1"}
	if got, want := census.SearchKey(p), "lucia nunez pena 12345678z ln@example.org +34600999888"; got != want {
		t.Fatalf("SearchKey = %q, want %q", got, want)
	}
}

func TestSearchPredicate_limits(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		wantErr bool
		wantNil bool
	}{
		{"empty matches everyone", "  ", false, true},
		{"five words", "a b c d e", false, false},
		{"six words", "a b c d e f", true, false},
		{"200 characters", strings.Repeat("á", 200), false, false},
		{"201 characters", strings.Repeat("a", 201), true, false},
		{"not UTF-8", "\xff", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := census.SearchPredicate(tt.give)
			if tt.wantErr {
				var ae *apperr.Error
				if !asAppErr(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields["search"] == "" {
					t.Fatalf("err = %v, want BAD_USER_INPUT on search", err)
				}
				return
			}
			if err != nil || (p == nil) != tt.wantNil {
				t.Fatalf("predicate %v, err %v", p, err)
			}
		})
	}
}

// Every version is numbered in the person's history and brings the search key up to date.
func TestVersions_numberedFromOne_searchKeyFollowsEveryChange(t *testing.T) {
	ctx := context.Background()
	s, a, clk := newService(t)
	p, reg, err := s.Register(ctx, a, census.Registration{Data: data()})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(time.Minute))
	if _, err := s.Process(ctx, a, reg.ID, census.Accept, "", ""); err != nil {
		t.Fatal(err)
	}
	change, err := s.RequestDataChange(ctx, a, p, census.Data{FirstName: ptr("Lucía")})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(time.Minute))
	if _, err := s.Process(ctx, a, change.ID, census.Accept, "", ""); err != nil {
		t.Fatal(err)
	}
	now, err := s.Client.Person.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now.SearchKey != "lucia garcia 12345678z" {
		t.Fatalf("search key %q", now.SearchKey)
	}
	found, err := s.Client.Person.Query().Where(mustSearch(t, "LUCIA garcía")).IDs(ctx)
	if err != nil || len(found) != 1 || found[0] != p.ID {
		t.Fatalf("search found %v (%v)", found, err)
	}
	page, err := s.Versions(ctx, p.ID, census.Page{First: ptr(10), WantTotal: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != 3 || len(page.Edges) != 3 {
		t.Fatalf("versions: %+v", page)
	}
	for i, e := range page.Edges {
		if e.Node.Version != i+1 {
			t.Fatalf("version %d numbered %d", i+1, e.Node.Version)
		}
	}
	if v := page.Edges[2].Node; v.Person.FirstName != "Lucía" || v.Procedure == nil || v.Procedure.ID != change.ID ||
		page.Edges[0].Node.Person.FirstName != "Ana" || page.Edges[0].Node.Procedure != nil {
		t.Fatalf("versions as they were: %+v %+v", page.Edges[0].Node, v)
	}
}

func mustSearch(t *testing.T, text string) predicate.Person {
	t.Helper()
	p, err := census.SearchPredicate(text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// BackfillSearchKeys fills the keys of rows written before the column existed, and only those.
func TestBackfillSearchKeys_fillsEmptyKeysOnly(t *testing.T) {
	ctx := context.Background()
	s, a, _ := newService(t)
	p, _, err := s.Register(ctx, a, census.Registration{Data: data()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Client.Person.UpdateOneID(p.ID).SetSearchKey("").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := s.BackfillSearchKeys(ctx)
	if err != nil || n != 1 {
		t.Fatalf("backfilled %d (%v), want 1", n, err)
	}
	if got, _ := s.Client.Person.Get(ctx, p.ID); got.SearchKey != "ana garcia 12345678z" {
		t.Fatalf("key %q", got.SearchKey)
	}
	if n, err := s.BackfillSearchKeys(ctx); err != nil || n != 0 {
		t.Fatalf("second run backfilled %d (%v), want 0", n, err)
	}
}

// requestVerification asks for documents; a rejection carries MISTAKE or FRAUD only for a document
// verification, and a refused verification changes nothing.
func TestRequestVerification_thenRejectAsFraud_verificationRules(t *testing.T) {
	ctx := context.Background()
	s, a, _ := newService(t)
	p, reg, err := s.Register(ctx, a, census.Registration{Data: data()})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := s.RequestVerification(ctx, a, p)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Type != procedure.TypeDOCUMENT_VERIFICATION || pr.State != procedure.StatePENDING {
		t.Fatalf("procedure %+v", pr)
	}
	if got, _ := s.Client.Person.Get(ctx, p.ID); got.Verification != person.VerificationVERIFICATION_REQUESTED {
		t.Fatalf("verification %s", got.Verification)
	}
	tests := []struct {
		name         string
		id           int
		decision     census.Decision
		verification person.Verification
	}{
		{"VERIFIED is no rejection's verdict", pr.ID, census.Reject, person.VerificationVERIFIED},
		{"an acceptance carries none", pr.ID, census.Accept, person.VerificationFRAUD},
		{"a registration carries none", reg.ID, census.Reject, person.VerificationMISTAKE},
	}
	for _, tt := range tests {
		_, err := s.Process(ctx, a, tt.id, tt.decision, "why", tt.verification)
		var ae *apperr.Error
		if !asAppErr(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields["verification"] == "" {
			t.Fatalf("%s: err = %v, want BAD_USER_INPUT on verification", tt.name, err)
		}
	}
	if n, _ := s.Client.Procedure.Query().Where(procedure.StateEQ(procedure.StatePENDING)).Count(ctx); n != 2 {
		t.Fatalf("%d pending procedures after refused decisions, want 2", n)
	}
	if _, err := s.Process(ctx, a, pr.ID, census.Reject, "forged", person.VerificationFRAUD); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client.Person.Get(ctx, p.ID); got.Verification != person.VerificationFRAUD {
		t.Fatalf("verification %s, want FRAUD", got.Verification)
	}
}

// Without a phone, the phone operations take the person's own; none on file is BAD_USER_INPUT.
func TestPhoneVerification_noPhoneGivenNorOnFile_badUserInput(t *testing.T) {
	ctx := context.Background()
	s, a, _ := newService(t)
	p, _, err := s.Register(ctx, a, census.Registration{Data: data()})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"start":  func() error { _, err := s.StartPhoneVerification(ctx, a, p, ""); return err }(),
		"verify": func() error { _, err := s.VerifyPhone(ctx, a, p, "123456", ""); return err }(),
	} {
		var ae *apperr.Error
		if !asAppErr(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields["phone"] == "" {
			t.Fatalf("%s: err = %v, want BAD_USER_INPUT on phone", name, err)
		}
	}
}
