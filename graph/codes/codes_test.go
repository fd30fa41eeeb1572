package codes_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/ent/challenge"
	"coffer/graph/apperr"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/lookup"
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newService returns a code service over a fresh PostgreSQL database that delivers to an outbox
// file, and a function returning the last code written there.
func newService(t *testing.T) (*codes.Service, *clock, func() string) {
	t.Helper()
	return newServiceOn(t, "postgres")
}

// newServiceOn is newService over a fresh database of the store st (pgtest.Stores).
func newServiceOn(t *testing.T, st string) (*codes.Service, *clock, func() string) {
	t.Helper()
	db := pgtest.OpenStore(t, st)
	outbox := filepath.Join(t.TempDir(), "outbox.jsonl")
	sender, err := delivery.New(delivery.Config{OutboxFile: outbox})
	if err != nil {
		t.Fatal(err)
	}
	key, err := lookup.NewKey(make([]byte, lookup.MinKeyBytes))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	s := &codes.Service{Client: db.Client, Sender: sender, Key: key, TTL: 10 * time.Minute, Now: clk.Now}
	lastCode := func() string { return testkit.LastCode(t, outbox) }
	return s, clk, lastCode
}

func start(t *testing.T, s *codes.Service, subject string) string {
	t.Helper()
	id, err := s.Start(context.Background(), codes.Request{
		Purpose: challenge.PurposeLOGIN, Subject: subject, Kind: delivery.KindLoginCode,
		Channel: delivery.ChannelEmail, To: "ana@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func isInvalid(err error) bool { return apperr.CodeOf(err) == apperr.InvalidCode }

func TestVerify_rightCode_worksOnce(t *testing.T) {
	s, _, lastCode := newService(t)
	id := start(t, s, "user:1")
	code := lastCode()
	if len(code) != codes.Digits {
		t.Fatalf("code %q, want %d digits", code, codes.Digits)
	}
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, code); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, code); !isInvalid(err) {
		t.Fatalf("second use: %v, want INVALID_CODE", err)
	}
}

func TestVerify_fiveWrongTries_killTheChallengeForTheRightCode(t *testing.T) {
	s, _, lastCode := newService(t)
	id := start(t, s, "user:1")
	code := lastCode()
	for i := 0; i < codes.MaxAttempts; i++ {
		if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, wrong(code)); !isInvalid(err) {
			t.Fatalf("wrong try %d: %v, want INVALID_CODE", i+1, err)
		}
	}
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, code); !isInvalid(err) {
		t.Fatalf("right code after %d wrong: %v, want INVALID_CODE", codes.MaxAttempts, err)
	}
}

func TestVerify_fourWrongTries_leaveTheFifthForTheRightCode(t *testing.T) {
	s, _, lastCode := newService(t)
	id := start(t, s, "user:1")
	code := lastCode()
	for i := 0; i < codes.MaxAttempts-1; i++ {
		_, _ = s.Verify(context.Background(), challenge.PurposeLOGIN, id, wrong(code))
	}
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, code); err != nil {
		t.Fatalf("right code on the last try: %v", err)
	}
}

func TestVerify_expired_failsEvenWithTheRightCode(t *testing.T) {
	s, clk, lastCode := newService(t)
	id := start(t, s, "user:1")
	clk.Add(s.TTL + time.Second)
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, lastCode()); !isInvalid(err) {
		t.Fatalf("expired: %v, want INVALID_CODE", err)
	}
}

func TestVerify_otherPurpose_fails(t *testing.T) {
	s, _, lastCode := newService(t)
	id := start(t, s, "user:1")
	if _, err := s.Verify(context.Background(), challenge.PurposeCASHOUT_TAN, id, lastCode()); !isInvalid(err) {
		t.Fatalf("other purpose: %v, want INVALID_CODE", err)
	}
}

func TestStart_again_killsThePreviousCodeOfTheSubject(t *testing.T) {
	s, _, lastCode := newService(t)
	first := start(t, s, "user:1")
	firstCode := lastCode()
	other := start(t, s, "user:2")
	otherCode := lastCode()
	second := start(t, s, "user:1")
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, first, firstCode); !isInvalid(err) {
		t.Fatalf("superseded challenge: %v, want INVALID_CODE", err)
	}
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, second, lastCode()); err != nil {
		t.Fatalf("new challenge: %v", err)
	}
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, other, otherCode); err != nil {
		t.Fatalf("another subject's challenge: %v", err)
	}
}

// Fifty concurrent guesses must not win more than MaxAttempts comparisons, and of fifty
// concurrent right answers exactly one may use the code.
func TestVerify_concurrentTries_countedBeforeComparison(t *testing.T) {
	s, _, lastCode := newService(t)
	id := start(t, s, "user:1")
	code := lastCode()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.Verify(context.Background(), challenge.PurposeLOGIN, id, wrong(code))
		}()
	}
	wg.Wait()
	if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, code); !isInvalid(err) {
		t.Fatalf("right code after 50 concurrent wrong tries: %v, want INVALID_CODE", err)
	}

	id = start(t, s, "user:2")
	code = lastCode()
	var ok atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Verify(context.Background(), challenge.PurposeLOGIN, id, code); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := ok.Load(); got != 1 {
		t.Fatalf("%d concurrent uses of one code succeeded, want 1", got)
	}
}

func TestToken_peekThenVerify(t *testing.T) {
	s, _, lastCode := newService(t)
	_, err := s.Start(context.Background(), codes.Request{
		Purpose: challenge.PurposePASSWORD_RESET, Subject: "user:7", UserID: 7, Kind: delivery.KindPasswordReset,
		Channel: delivery.ChannelEmail, To: "ana@example.com", Token: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	token := lastCode()
	c, err := s.PeekToken(context.Background(), challenge.PurposePASSWORD_RESET, token)
	if err != nil || *c.UserID != 7 {
		t.Fatalf("peek: %v %v", c, err)
	}
	for _, bad := range []string{"", ".", "abc", token + "1", "x" + token} {
		if _, err := s.CheckToken(context.Background(), challenge.PurposePASSWORD_RESET, bad); !isInvalid(err) {
			t.Errorf("token %q: %v, want INVALID_CODE", bad, err)
		}
	}
	c, err = s.CheckToken(context.Background(), challenge.PurposePASSWORD_RESET, token)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if err := s.Use(context.Background(), s.Client, c); err != nil {
		t.Fatalf("use: %v", err)
	}
	if _, err := s.PeekToken(context.Background(), challenge.PurposePASSWORD_RESET, token); !isInvalid(err) {
		t.Fatalf("peek after use: %v, want INVALID_CODE", err)
	}
}

func TestStart_failedDelivery_returnsErrorAndKillsTheChallenge(t *testing.T) {
	s, _, _ := newService(t)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gateway down", http.StatusBadGateway)
	}))
	defer gateway.Close()
	sender, err := delivery.New(delivery.Config{SMSWebhookURL: gateway.URL})
	if err != nil {
		t.Fatal(err)
	}
	s.Sender = sender
	_, err = s.Start(context.Background(), codes.Request{
		Purpose: challenge.PurposeLOGIN, Subject: "user:1", Kind: delivery.KindLoginCode,
		Channel: delivery.ChannelSMS, To: "+34600111222",
	})
	if err == nil {
		t.Fatal("Start with a failing SMS gateway succeeded")
	}
	live, err := s.Client.Challenge.Query().Where(challenge.UsedAtIsNil()).Count(context.Background())
	if err != nil || live != 0 {
		t.Fatalf("%d live challenges after a failed delivery (%v), want 0", live, err)
	}
}

func TestPurge_countsOnlyUnusedOfTheGivenPurposes(t *testing.T) {
	s, clk, lastCode := newService(t)
	ctx := context.Background()
	reg := func(subject string) (string, string) {
		id, err := s.Start(ctx, codes.Request{
			Purpose: challenge.PurposeEMAIL_VERIFICATION, Subject: subject, Kind: delivery.KindEmailVerification,
			Channel: delivery.ChannelEmail, To: "ana@example.com",
		})
		if err != nil {
			t.Fatal(err)
		}
		return id, lastCode()
	}
	reg("registration:a")
	id, code := reg("registration:b")
	if _, err := s.Verify(ctx, challenge.PurposeEMAIL_VERIFICATION, id, code); err != nil {
		t.Fatal(err)
	}
	start(t, s, "user:1")
	n, err := s.Purge(ctx, s.Client, clk.Now().Add(-time.Hour), challenge.PurposeEMAIL_VERIFICATION)
	if err != nil || n != 0 {
		t.Fatalf("purge of nothing old: %d %v", n, err)
	}
	clk.Add(25 * time.Hour)
	n, err = s.Purge(ctx, s.Client, clk.Now().Add(-24*time.Hour), challenge.PurposeEMAIL_VERIFICATION)
	if err != nil || n != 1 {
		t.Fatalf("purge: %d unverified (%v), want 1", n, err)
	}
	if left, _ := s.Client.Challenge.Query().Count(ctx); left != 0 {
		t.Fatalf("%d challenges left, want 0", left)
	}
}
