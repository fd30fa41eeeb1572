package census_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"sync"
	"testing"
	"time"

	"coffer/ent/person"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/census"
	"coffer/graph/pgtest"
	"coffer/graph/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func newService(t *testing.T) (*census.Service, census.Actor, *clock) {
	t.Helper()
	db, err := store.Open(context.Background(), pgtest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)}
	s := &census.Service{Client: db.Client, Dialect: db.Dialect, Now: clk.Now}
	if err := s.SeedScopes(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Seeding twice keeps one of each.
	if err := s.SeedScopes(context.Background()); err != nil {
		t.Fatal(err)
	}
	u, err := db.Client.User.Create().SetUsername("clerk").SetPasswordHash("x").SetRole(user.RoleSTAFF).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, census.Actor{UserID: u.ID}, clk
}

func ptr[T any](v T) *T { return &v }

func data() census.Data {
	return census.Data{
		FirstName: ptr("Ana"), LastName1: ptr("García"), DocumentType: ptr(person.DocumentTypeDNI),
		DocumentID: ptr("12345678-z"), DocumentScopeCode: ptr("ES"), BornAt: ptr(time.Date(2008, 1, 10, 0, 0, 0, 0, time.UTC)),
		Gender: ptr(person.GenderFEMALE), Address: ptr("Calle Mayor 1"), AddressScopeCode: ptr("ES-28079"),
		PostalCode: ptr("28013"), ScopeCode: ptr("ES-MD"),
	}
}

// The history is read through an injected clock: each change is valid from its instant on, and the
// person did not exist before registration.
func TestPersonAt_injectedClock_eachVersionFromItsInstant(t *testing.T) {
	ctx := context.Background()
	s, a, clk := newService(t)
	t0 := clk.Now()
	p, reg, err := s.Register(ctx, a, census.Registration{Data: data()})
	if err != nil {
		t.Fatal(err)
	}
	if p.DocumentID != "12345678Z" || census.QualifiedID(p) != "1@census" {
		t.Fatalf("registered: %+v", p)
	}
	clk.Set(t0.Add(time.Hour))
	if _, err := s.Process(ctx, a, reg.ID, census.Accept, "", ""); err != nil {
		t.Fatal(err)
	}
	change, err := s.RequestDataChange(ctx, a, p, census.Data{FirstName: ptr("Eva")})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(2 * time.Hour))
	if _, err := s.Process(ctx, a, change.ID, census.Accept, "", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at        time.Duration
		wantState person.State
		wantName  string
	}{
		{0, person.StatePENDING, "Ana"},
		{time.Hour - time.Microsecond, person.StatePENDING, "Ana"},
		{time.Hour, person.StateENABLED, "Ana"},
		{90 * time.Minute, person.StateENABLED, "Ana"},
		{2 * time.Hour, person.StateENABLED, "Eva"},
		{48 * time.Hour, person.StateENABLED, "Eva"},
	}
	for _, tt := range tests {
		got, err := s.PersonAt(ctx, p, t0.Add(tt.at))
		if err != nil {
			t.Fatalf("at +%v: %v", tt.at, err)
		}
		if got.State != tt.wantState || got.FirstName != tt.wantName {
			t.Errorf("at +%v: %s %s, want %s %s", tt.at, got.State, got.FirstName, tt.wantState, tt.wantName)
		}
	}
	if _, err := s.PersonAt(ctx, p, t0.Add(-time.Microsecond)); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("before registration: %v", err)
	}
	// The newest version and the current row agree.
	now, err := s.Resolve(ctx, "1@census", "id")
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.PersonAt(ctx, p, t0.Add(1000*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if last.FirstName != now.FirstName || last.State != now.State || !last.UpdatedAt.Equal(now.UpdatedAt) {
		t.Fatalf("newest version %+v, row %+v", last, now)
	}
	// Each version records the clerk whose action wrote it.
	versions, err := s.Client.PersonVersion.Query().All(ctx)
	if err != nil || len(versions) != 3 {
		t.Fatalf("versions: %d %v", len(versions), err)
	}
	for _, v := range versions {
		if v.ChangedByID == nil || *v.ChangedByID != a.UserID {
			t.Fatalf("version %d changed by %v", v.ID, v.ChangedByID)
		}
	}
}

// Membership is decided on the person as they are at acceptance: an 18th birthday counts from that day.
func TestMembershipAllowed_adultEnabledVerifiedOnly(t *testing.T) {
	born := time.Date(2008, 1, 10, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		state person.State
		ver   person.Verification
		now   time.Time
		want  bool
	}{
		{"on the 18th birthday", person.StateENABLED, person.VerificationVERIFIED, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), true},
		{"the day before", person.StateENABLED, person.VerificationVERIFIED, time.Date(2026, 1, 9, 23, 59, 0, 0, time.UTC), false},
		{"not verified", person.StateENABLED, person.VerificationVERIFICATION_RECEIVED, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"pending", person.StatePENDING, person.VerificationVERIFIED, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"cancelled", person.StateCANCELLED, person.VerificationVERIFIED, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		got := census.MembershipAllowed(entPerson{state: tt.state, ver: tt.ver, born: born}.ent(), tt.now)
		if got != tt.want {
			t.Errorf("%s: got %v", tt.name, got)
		}
	}
}

func TestRequestDocumentVerification_forgedOversizedInvalid_storeNothing(t *testing.T) {
	ctx := context.Background()
	s, a, _ := newService(t)
	p, _, err := s.Register(ctx, a, census.Registration{Data: data()})
	if err != nil {
		t.Fatal(err)
	}
	png := append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, 1, 2, 3)
	tests := []struct {
		name  string
		give  census.File
		field string
	}{
		{"forged", census.File{"a.pdf", "application/pdf", base64.StdEncoding.EncodeToString(png)}, "contentType"},
		{"oversized", census.File{"a.png", "image/png", base64.StdEncoding.EncodeToString(append(png, make([]byte, census.MaxFileBytes)...))}, "base64Content"},
		{"invalid base64", census.File{"a.png", "image/png", "%%%"}, "base64Content"},
		{"unpadded base64", census.File{"a.png", "image/png", base64.RawStdEncoding.EncodeToString(png)}, "base64Content"},
		{"empty", census.File{"a.png", "image/png", ""}, "base64Content"},
	}
	for _, tt := range tests {
		_, err := s.RequestDocumentVerification(ctx, a, p, []census.File{tt.give}, false)
		var ae *apperr.Error
		if !asAppErr(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields[tt.field] == "" {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	n, err := s.Client.DocumentFile.Query().Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("files stored: %d %v", n, err)
	}
	pr, err := s.RequestDocumentVerification(ctx, a, p, []census.File{{"a.png", "image/png", base64.StdEncoding.EncodeToString(png)}}, true)
	if err != nil {
		t.Fatal(err)
	}
	files, err := s.Files(ctx, pr.ID)
	if err != nil || len(files) != 1 || !bytes.Equal(files[0].Content, png) || files[0].Size != int64(len(png)) || len(files[0].Sha256) != 64 {
		t.Fatalf("files: %+v %v", files, err)
	}
}
