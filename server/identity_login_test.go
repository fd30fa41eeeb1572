package main

// Logging in over the wire: the same answer for unknown users and wrong passwords, lockout after
// five failures, two-step login by e-mail and SMS, sessions (idle timeout, logout), password
// changes, REQUIRE_TWO_FACTOR and the per-address rate limit. The rules themselves are tested in
// graph/identity.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLogin_wrongPasswordAndUnknownUser_sameUnauthenticatedAnswer(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		s.customer(admin, "ann")
		tests := []struct {
			name         string
			give, givePw string
		}{
			{"wrong password by username", "ann", "not-anns-password"},
			{"wrong password by e-mail", "ann@example.com", "not-anns-password"},
			{"unknown username", "nobody", "not-anns-password"},
			{"unknown e-mail", "nobody@example.com", "not-anns-password"},
			{"empty login", "", "not-anns-password"},
		}
		var messages []string
		for _, tt := range tests {
			r := s.do("", eaLoginMutation, map[string]any{"l": tt.give, "p": tt.givePw})
			wantError(t, r, "UNAUTHENTICATED")
			if len(r.Errors) > 0 {
				messages = append(messages, r.Errors[0].Message)
			}
		}
		for i := 1; i < len(messages); i++ {
			if messages[i] != messages[0] {
				t.Errorf("login %q answered %q, login %q answered %q: unknown users must get the same answer",
					tests[i].give, messages[i], tests[0].give, messages[0])
			}
		}
		// The failures above (fewer than the lockout threshold) did not lock ann out.
		s.login("ann", "ann-password")
	})
}

func TestLogin_fiveWrongPasswords_lockAccountEvenForRightPassword(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		s.customer(admin, "ann")
		s.customer(admin, "ben")
		for i := 1; i <= 5; i++ {
			r := s.do("", eaLoginMutation, map[string]any{"l": "ann", "p": "wrong-password"})
			if i < 5 {
				wantError(t, r, "UNAUTHENTICATED")
			} else if c := r.code(); c != "UNAUTHENTICATED" && c != "ACCOUNT_LOCKED" {
				t.Errorf("5th wrong password: code %q, want UNAUTHENTICATED or ACCOUNT_LOCKED", c)
			}
		}
		for _, pw := range []string{"ann-password", "wrong-password"} {
			r := s.do("", eaLoginMutation, map[string]any{"l": "ann", "p": pw})
			wantError(t, r, "ACCOUNT_LOCKED")
			if strings.Contains(string(r.Data), "token") {
				t.Errorf("a locked login returned a session: %s", r.Data)
			}
		}
		r := s.do("", eaLoginMutation, map[string]any{"l": "ann@example.com", "p": "ann-password"})
		wantError(t, r, "ACCOUNT_LOCKED")

		got := (&idServer{testServer: onT(t, s)}).idStatuses(admin)
		if got["ann"] != "LOCKED" || got["ben"] != "ACTIVE" {
			t.Errorf("statuses = %v, want ann LOCKED and ben ACTIVE", got)
		}
		// Another account is not affected.
		s.login("ben", "ben-password")
	})
}

func TestChangePassword_refused_keepsPassword(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		s.customer(admin, "ben")
		change := func(over map[string]any) map[string]any {
			in := map[string]any{"newPassword": "brand-new-password", "confirmPassword": "brand-new-password",
				"currentPassword": "ann-password"}
			for k, v := range over {
				in[k] = v
			}
			return in
		}
		tests := []struct {
			name       string
			as         string
			give       map[string]any
			wantCode   string
			wantFields []string
		}{
			{"unauthenticated", "", change(nil), "UNAUTHENTICATED", nil},
			{"customer naming another user", "ann", change(map[string]any{"username": "ben"}), "FORBIDDEN", nil},
			{"customer naming an unknown user", "ann", change(map[string]any{"username": "nobody"}), "FORBIDDEN", nil},
			{"customer naming the admin", "ann", change(map[string]any{"username": "admin"}), "FORBIDDEN", nil},
			{"admin naming an unknown user", "admin", change(map[string]any{"username": "nobody"}), "NOT_FOUND", nil},
			{"confirmation differs", "ann", change(map[string]any{"confirmPassword": "brand-new-passwort"}), "BAD_USER_INPUT", []string{"confirmPassword"}},
			{"wrong current password", "ann", change(map[string]any{"currentPassword": "not-anns-password"}), "BAD_USER_INPUT", []string{"currentPassword"}},
			{"no current password", "ann", change(map[string]any{"currentPassword": nil}), "BAD_USER_INPUT", []string{"currentPassword"}},
			{"new password too short", "ann", change(map[string]any{"newPassword": "short", "confirmPassword": "short"}), "BAD_USER_INPUT", []string{"newPassword"}},
		}
		tokens := map[string]string{"": "", "admin": admin, "ann": ann}
		var forbidden []string
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := onT(t, s).do(tokens[tt.as], eaChangePasswordMutation, map[string]any{"in": tt.give})
				wantError(t, r, tt.wantCode, tt.wantFields...)
				if tt.wantCode == "FORBIDDEN" && len(r.Errors) > 0 {
					forbidden = append(forbidden, r.Errors[0].Message)
				}
				// ann's password is as before, and her session survived.
				onT(t, s).login("ann", "ann-password")
				onT(t, s).mustDo(ann, eaMeQuery, nil, nil)
			})
		}
		// No password changed: the old ones log in, the refused new one does not.
		s.login("ben", "ben-password")
		s.admin()
		for _, u := range []string{"ann", "ben", "admin"} {
			wantError(t, s.do("", eaLoginMutation, map[string]any{"l": u, "p": "brand-new-password"}), "UNAUTHENTICATED")
		}
		for _, m := range forbidden[1:] {
			if m != forbidden[0] {
				t.Errorf("FORBIDDEN messages differ (%q vs %q): they tell whether a username exists", m, forbidden[0])
			}
		}
	})
}

func TestChangePassword_succeeds_revokesOtherSessionsKeepsCurrent(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		current := s.customer(admin, "ann")
		other := s.login("ann", "ann-password")
		var out struct{ ChangePassword bool }
		s.mustDo(current, eaChangePasswordMutation, map[string]any{"in": map[string]any{
			"newPassword": "ann-second-password", "confirmPassword": "ann-second-password",
			"currentPassword": "ann-password"}}, &out)
		if !out.ChangePassword {
			t.Fatal("changePassword = false, want true")
		}
		wantError(t, s.do(other, eaMeQuery, nil), "UNAUTHENTICATED")
		s.mustDo(current, eaMeQuery, nil, nil)
		wantError(t, s.do("", eaLoginMutation, map[string]any{"l": "ann", "p": "ann-password"}), "UNAUTHENTICATED")
		fresh := s.login("ann", "ann-second-password")

		// An administrator's change ends all of the user's sessions, and none of the admin's.
		s.mustDo(admin, eaChangePasswordMutation, map[string]any{"in": map[string]any{
			"username": "ann", "newPassword": "ann-third-password", "confirmPassword": "ann-third-password"}}, &out)
		for _, tok := range []string{current, fresh} {
			wantError(t, s.do(tok, eaMeQuery, nil), "UNAUTHENTICATED")
		}
		s.mustDo(admin, eaMeQuery, nil, nil)
		s.login("ann", "ann-third-password")
	})
}

func TestRequireTwoFactor_everyCustomerLoginTakesTwoSteps(t *testing.T) {
	onStoresWith(t, []string{"REQUIRE_TWO_FACTOR=1"}, func(t *testing.T, s *testServer) {
		s = onT(t, s)
		admin := s.admin() // administrators keep their own choice
		crCreate(s, admin, "alice", "Alice", "alice@example.com", "+34600111222")
		is := &idServer{testServer: s}
		challenge := is.idChallenge("alice", "alice-password")
		code := crLastCode(t, s, "alice@example.com")
		if _, token := is.idConfirmLogin(challenge, code); token == "" || s.balance(token) != "0.00" {
			t.Errorf("confirmLogin gave no working session")
		}
		// A chosen method wins: SMS goes to the phone.
		_, token := is.idConfirmLogin(is.idChallenge("alice", "alice-password"), crLastCode(t, s, "alice@example.com"))
		s.mustDo(token, `mutation { setTwoFactor(method: SMS) { twoFactor } }`, nil, nil)
		challenge = is.idChallenge("alice@example.com", "alice-password")
		if _, token := is.idConfirmLogin(challenge, crLastCode(t, s, "+34600111222")); token == "" {
			t.Errorf("the SMS code did not log in")
		}
	})
}

func TestRequireTwoFactor_offByDefault(t *testing.T) {
	s := startServer(t, "sqlite")
	admin := s.admin()
	crCreate(s, admin, "alice", "Alice", "alice@example.com", "")
	s.login("alice", "alice-password") // fails the test unless AUTHENTICATED at once
}

func TestLogin_emailSecondFactor_codeBySMTP(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false)
	admin := s.admin()
	s.idNewCustomer(admin, "hana", "hana@example.com", "")
	s.mint(admin, "hana", "12.5")
	tok := s.login("hana", "hana-password")
	wantError(t, s.do("", idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}), "UNAUTHENTICATED")
	var set struct {
		SetTwoFactor struct{ Username, TwoFactor string }
	}
	s.mustDo(tok, idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, &set)
	if set.SetTwoFactor.TwoFactor != "EMAIL" {
		t.Fatalf("setTwoFactor = %+v", set)
	}

	ch := s.idChallenge("hana", "hana-password")
	mails := s.mail.to("hana@example.com")
	if len(mails) != 1 || mails[0].Subject != "Your login code" {
		t.Fatalf("e-mails = %+v, want one login code", mails)
	}
	code := idCodeIn(t, mails[0].Text)
	if l := s.idOutboxTo("hana@example.com"); l.Code != code {
		t.Errorf("outbox code %q, e-mailed %q", l.Code, code)
	}
	// A wrong password sends nothing and says nothing about the second factor.
	before := s.idSentSoFar()
	s.idWantLoginRefused("hana", "wrong-password", "UNAUTHENTICATED")
	s.idWantNothingSent(before, "a login with a wrong password")

	r, bad := s.idConfirmLogin(ch, idOtherCode(code, 7))
	wantError(t, r, "INVALID_CODE")
	if bad != "" {
		t.Fatal("a wrong code logged in")
	}
	_, session := s.idConfirmLogin(ch, code)
	if session == "" {
		t.Fatal("the right code did not log in")
	}
	me := s.idMe(session)
	if me.Username != "hana" || me.TwoFactor != "EMAIL" || me.Customer == nil || me.Customer.Account.Balance.Amount != "12.50" {
		t.Errorf("me = %+v, want hana with EMAIL and 12.50", me)
	}
	idWantValidIBAN(t, me.Customer.Account.IBAN)

	// Logging in by e-mail asks for the second factor too; a newer challenge kills the older one.
	first := s.idChallenge("hana@example.com", "hana-password")
	firstCode := idCodeIn(t, s.mail.to("hana@example.com")[1].Text)
	second := s.idChallenge("hana", "hana-password")
	secondCode := idCodeIn(t, s.mail.to("hana@example.com")[2].Text)
	r, _ = s.idConfirmLogin(first, firstCode)
	wantError(t, r, "INVALID_CODE")
	// A code is bound to its challenge.
	if firstCode != secondCode {
		r, _ = s.idConfirmLogin(second, firstCode)
		wantError(t, r, "INVALID_CODE")
	}
	if _, tok := s.idConfirmLogin(second, secondCode); tok == "" {
		t.Error("the newest challenge did not log in")
	}

	// Turning it off logs in in one step again.
	s.mustDo(session, auTwoFactorMutation, map[string]any{"m": "NONE", "p": "hana-password"}, nil)
	s.login("hana", "hana-password")
}

func TestLogin_smsSecondFactor_codeBySMSWebhook(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, true)
	admin := s.admin()
	s.idNewCustomer(admin, "ivan", "ivan@example.com", "+34644000001")
	s.idNewCustomer(admin, "jane", "jane@example.com", "")

	// SMS without a phone is refused and leaves the login as it was.
	jane := s.login("jane", "jane-password")
	wantError(t, s.do(jane, idSetTwoFactorMutation, map[string]any{"m": "SMS"}), "PRECONDITION_FAILED")
	if me := s.idMe(jane); me.TwoFactor != "NONE" {
		t.Errorf("jane's second factor = %s after a refused setTwoFactor, want NONE", me.TwoFactor)
	}
	s.login("jane", "jane-password")
	// Nor EMAIL without an e-mail address.
	s.idNewCustomer(admin, "kai", "", "+34644000002")
	kai := s.login("kai", "kai-password")
	wantError(t, s.do(kai, idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}), "PRECONDITION_FAILED")
	if me := s.idMe(kai); me.TwoFactor != "NONE" {
		t.Errorf("kai's second factor = %s after a refused setTwoFactor, want NONE", me.TwoFactor)
	}

	ivan := s.login("ivan", "ivan-password")
	var set struct{ SetTwoFactor struct{ TwoFactor string } }
	s.mustDo(ivan, idSetTwoFactorMutation, map[string]any{"m": "SMS"}, &set)
	if set.SetTwoFactor.TwoFactor != "SMS" {
		t.Fatalf("setTwoFactor = %+v", set)
	}
	ch := s.idChallenge("ivan", "ivan-password")
	texts := s.sms.to("+34644000001")
	if len(texts) != 1 {
		t.Fatalf("SMS = %+v, want one to ivan's phone", s.sms.all())
	}
	code := idCodeIn(t, texts[0].Text)
	for _, l := range idReadOutbox(t, s.Outbox) {
		if l.To == "ivan@example.com" {
			t.Errorf("the SMS factor's code also went by e-mail: %+v", l)
		}
	}
	_, session := s.idConfirmLogin(ch, code)
	if me := s.idMe(session); me.Username != "ivan" || me.TwoFactor != "SMS" || me.Customer == nil || me.Customer.Account.Balance.Amount != "0.00" {
		t.Errorf("me = %+v", me)
	}
	// The earlier session is still there (a second factor does not end sessions).
	s.idMe(ivan)
}

func TestConfirmLogin_fiveWrongCodes_killChallengeEvenForTheRightCode(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	s.idNewCustomer(admin, "kim", "kim@example.com", "")
	s.mustDo(s.login("kim", "kim-password"), idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
	ch := s.idChallenge("kim", "kim-password")
	code := s.idOutboxTo("kim@example.com").Code
	var messages []string
	for i := 1; i <= 5; i++ {
		r, _ := s.idConfirmLogin(ch, idOtherCode(code, i))
		wantError(t, r, "INVALID_CODE")
		if len(r.Errors) > 0 {
			messages = append(messages, r.Errors[0].Message)
		}
	}
	r, tok := s.idConfirmLogin(ch, code)
	wantError(t, r, "INVALID_CODE")
	if tok != "" {
		t.Fatal("the right code logged in after five wrong ones")
	}
	if len(r.Errors) > 0 {
		messages = append(messages, r.Errors[0].Message)
	}
	// An unknown challenge answers alike.
	r, _ = s.idConfirmLogin("no-such-challenge", code)
	wantError(t, r, "INVALID_CODE")
	if len(r.Errors) > 0 {
		messages = append(messages, r.Errors[0].Message)
	}
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Errorf("INVALID_CODE messages differ: %q", messages)
			break
		}
	}
	// A new login issues a new challenge whose code works; the account was not locked.
	ch2 := s.idChallenge("kim", "kim-password")
	if ch2 == ch {
		t.Fatal("the new challenge has the dead one's id")
	}
	_, tok = s.idConfirmLogin(ch2, s.idOutboxTo("kim@example.com").Code)
	if s.idMe(tok).Username != "kim" {
		t.Error("the new challenge's session is not kim's")
	}
}

func TestConfirmLogin_usedCode_refusedOnReuse(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	s.idNewCustomer(admin, "lea", "lea@example.com", "")
	s.mustDo(s.login("lea", "lea-password"), idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
	ch := s.idChallenge("lea", "lea-password")
	code := s.idOutboxTo("lea@example.com").Code
	_, first := s.idConfirmLogin(ch, code)
	r, second := s.idConfirmLogin(ch, code)
	wantError(t, r, "INVALID_CODE")
	if second != "" {
		t.Fatal("a used code logged in twice")
	}
	if s.idMe(first).Username != "lea" {
		t.Error("the first confirmation's session does not work")
	}
}

// Not parallel: the timings must not share the CPU with other tests' password hashing.
func TestLogin_unknownUserAndWrongPassword_sameAnswerAndSimilarTime(t *testing.T) {
	s := idStart(t, false, false, "LOGIN_MAX_FAILURES=1000")
	admin := s.admin()
	s.idNewCustomer(admin, "sam", "sam@example.com", "")
	attempt := func(login string) (time.Duration, gqlResponse) {
		start := time.Now()
		r := s.do("", idLoginMutation, map[string]any{"l": login, "p": "not-the-password"})
		return time.Since(start), r
	}
	// Warm up both paths (connections, caches).
	for i := 0; i < 3; i++ {
		attempt("sam")
		attempt("nobody")
	}
	// A systematic difference (a path that skips the hash) shows in every measurement; the noise of
	// a loaded machine (other test binaries start at the same time) seldom in three.
	var answers []string
	var diffs []string
	for measurement := 0; measurement < 3; measurement++ {
		const rounds = 15
		var wrong, unknown []time.Duration
		for i := 0; i < rounds; i++ {
			order := []string{"sam", "nobody"}
			if i%2 == 1 {
				order = []string{"nobody", "sam"}
			}
			for _, login := range order {
				d, r := attempt(login)
				wantError(t, r, "UNAUTHENTICATED")
				if len(r.Errors) > 0 {
					answers = append(answers, r.Errors[0].Extensions.Code+" "+r.Errors[0].Message+" "+string(r.Data))
				}
				if login == "sam" {
					wrong = append(wrong, d)
				} else {
					unknown = append(unknown, d)
				}
			}
		}
		mw, mu := idMedian(wrong), idMedian(unknown)
		diff := float64(mw-mu) / float64(min(mw, mu))
		t.Logf("median wrong password %v, unknown user %v (%+.1f%%)", mw, mu, 100*diff)
		diffs = append(diffs, fmt.Sprintf("%+.0f%% (wrong password %v, unknown user %v)", 100*diff, mw, mu))
		if diff <= 0.20 && diff >= -0.20 {
			diffs = nil
			break
		}
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Errorf("answers differ: %q vs %q", a, answers[0])
			break
		}
	}
	if diffs != nil {
		t.Errorf("median times differ by more than 20%% in all three measurements: %s", strings.Join(diffs, "; "))
	}
	s.login("sam", "sam-password")
}

func TestLogin_unknownName_locksAfterMaxFailuresLikeARealAccount(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	s.idNewCustomer(admin, "tom", "tom@example.com", "")
	s.idNewCustomer(admin, "uma", "uma@example.com", "")
	var locked []string
	for _, login := range []string{"tom", "nobody"} {
		for i := 1; i <= 5; i++ {
			r, _ := s.idLoginStep(login, "wrong-password")
			wantError(t, r, "UNAUTHENTICATED")
		}
		r, p := s.idLoginStep(login, "tom-password")
		wantError(t, r, "ACCOUNT_LOCKED")
		if p.Auth != nil {
			t.Errorf("%s: a locked login returned a session", login)
		}
		if len(r.Errors) > 0 {
			locked = append(locked, r.Errors[0].Message+" "+string(r.Data))
		}
	}
	if len(locked) == 2 && locked[0] != locked[1] {
		t.Errorf("locked answers differ: %q (real) vs %q (unknown)", locked[0], locked[1])
	}
	if st := s.idStatuses(admin); st["tom"] != "LOCKED" || st["uma"] != "ACTIVE" {
		t.Errorf("statuses = %v, want tom LOCKED (for a while), uma ACTIVE", st)
	}
	s.login("uma", "uma-password")
	// An administrator's unlock lifts the temporary lockout.
	s.mustDo(admin, idSetUserStatusMutation, map[string]any{"u": "tom", "s": "ACTIVE"}, nil)
	s.login("tom", "tom-password")
}

// A session ends after SESSION_IDLE_TIMEOUT without requests, while one in use lives on, up to
// SESSION_MAX_AGE after its login.
func TestSession_idleTimeoutAndMaxAge_endSessions(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false, "SESSION_IDLE_TIMEOUT=2s", "SESSION_MAX_AGE=5s")
	admin := s.admin()
	s.idNewCustomer(admin, "vera", "vera@example.com", "")
	idle := s.login("vera", "vera-password")
	start := time.Now()
	var out struct{ Login idLoginPayload }
	s.mustDo("", idLoginMutation, map[string]any{"l": "vera", "p": "vera-password"}, &out)
	busy, expires := out.Login.Auth.Token, out.Login.Auth.ExpiresAt
	if expires.Before(start.Add(5*time.Second)) || expires.After(time.Now().Add(5*time.Second+time.Second)) {
		t.Errorf("expiresAt = %v, want 5s after the login at %v", expires, start)
	}
	s.idMe(idle)
	idleSince := time.Now()
	// busy is used every 400ms (well within the idle timeout) while idle is left alone for 3s.
	for time.Since(idleSince) < 3*time.Second {
		time.Sleep(400 * time.Millisecond)
		s.idMe(busy)
	}
	s.idWantNoSession(idle, "a session idle for longer than SESSION_IDLE_TIMEOUT")
	s.idMe(busy)
	// Past the max age even a busy session ends.
	for time.Now().Before(expires.Add(300 * time.Millisecond)) {
		time.Sleep(400 * time.Millisecond)
		s.do(busy, `{ me { username } }`, nil)
	}
	s.idWantNoSession(busy, "a session older than SESSION_MAX_AGE")
	// The account itself is fine.
	s.idMe(s.login("vera", "vera-password"))
}

func TestLogout_endsOnlyTheCurrentSession(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	s.idNewCustomer(admin, "wes", "wes@example.com", "")
	a := s.login("wes", "wes-password")
	b := s.login("wes", "wes-password")
	wantError(t, s.do("", `mutation { logout }`, nil), "UNAUTHENTICATED")
	var out struct{ Logout bool }
	s.mustDo(a, `mutation { logout }`, nil, &out)
	if !out.Logout {
		t.Error("logout = false")
	}
	s.idWantNoSession(a, "the logged-out session")
	wantError(t, s.do(a, `mutation { logout }`, nil), "UNAUTHENTICATED")
	if s.idMe(b).Username != "wes" {
		t.Error("the other session ended too")
	}
	s.idMe(admin)
}

func TestAuthRateLimit_perAddress_fourthAttemptInAMinuteRefused(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false, "AUTH_RATE_LIMIT=3")
	admin := s.admin() // 1
	s.idNewCustomer(admin, "cleo", "cleo@example.com", "")
	s.idWantLoginRefused("cleo", "wrong-password", "UNAUTHENTICATED") // 2
	cleo := s.login("cleo", "cleo-password")                          // 3
	before := s.idSentSoFar()
	s.idWantLoginRefused("cleo", "cleo-password", "TOO_MANY_REQUESTS") // 4
	// The budget is per address across every authentication operation, whatever headers say.
	wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: "dan@example.com", Phone: "+34600000011", SSN: "DA-0001"}.contact()}),
		"TOO_MANY_REQUESTS")
	_, body := idRawWith(t, http.DefaultClient, s.URL, "", idLoginMutation, map[string]any{"l": "cleo", "p": "cleo-password"},
		map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"})
	wantError(t, idDecodeRaw(t, body), "TOO_MANY_REQUESTS")
	s.idWantNothingSent(before, "a rate-limited preRegister")
	// Other operations are not limited, and the refused attempts counted as no failed logins.
	s.idMe(cleo)
	if st := s.idStatuses(admin); st["cleo"] != "ACTIVE" {
		t.Errorf("cleo's status = %s, want ACTIVE", st["cleo"])
	}
	// Another address has its own budget.
	_, body = idRawWith(t, idClientFrom("127.0.0.2"), s.URL, "", idLoginMutation, map[string]any{"l": "cleo", "p": "cleo-password"}, nil)
	if r := idDecodeRaw(t, body); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"AUTHENTICATED"`) {
		t.Errorf("login from 127.0.0.2 = %s, want AUTHENTICATED", body)
	}
}

func TestLogin_fiftyParallelWrongPasswords_exactlyMaxEvaluatedThenLockedEvenForTheRightOne(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			// LOGIN_MAX_FAILURES 5. Every answer costs an Argon2 hash (a dummy one when locked), two at
			// a time: under -race on a busy machine the last of 50 may wait longer than the default
			// request deadline, which is not what this test is about.
			s := startServer(t, st, "REQUEST_TIMEOUT=3m", "HTTP_WRITE_TIMEOUT=4m")
			admin := s.admin()
			s.customer(admin, "ann")
			// A real account and a name nobody has answer alike: five checked, the rest locked.
			for _, login := range []string{"ann", "nobody"} {
				got := auParallelLogins(t, s, 50, login, "wrong-password")
				if got["UNAUTHENTICATED"] != 5 || got["ACCOUNT_LOCKED"] != 45 {
					t.Errorf("%s: 50 parallel wrong passwords answered %v, want 5 UNAUTHENTICATED and 45 ACCOUNT_LOCKED", login, got)
				}
				wantError(t, s.do("", auLoginMutation, map[string]any{"l": login, "p": "ann-password"}), "ACCOUNT_LOCKED")
			}
			rows := auRows(t, s)
			failed := map[string]int{}
			for _, r := range rows {
				if r.Action == "login.failed" {
					failed[r.Actor+" "+r.Outcome]++
				}
			}
			want := map[string]int{"ann UNAUTHENTICATED": 5, "ann ACCOUNT_LOCKED": 46, " UNAUTHENTICATED": 5, " ACCOUNT_LOCKED": 46}
			for k, n := range want {
				if failed[k] != n {
					t.Errorf("login.failed rows %v, want %v", failed, want)
					break
				}
			}
			if got := auEvents(rows, "account.locked"); len(got) != 1 || !strings.HasPrefix(got[0], "ann OK user:") {
				t.Errorf("account.locked rows %q, want one for ann", got)
			}
			if st := (&idServer{testServer: s}).idStatuses(admin); st["ann"] != "LOCKED" {
				t.Errorf("ann's status = %s, want LOCKED", st["ann"])
			}
		})
	}
}

func TestSetTwoFactor_offNeedsTheCurrentPassword_wrongOnesCountAsFailedLogins(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st, "LOGIN_MAX_FAILURES=3")
			admin := s.admin()
			ann := s.customer(admin, "ann")
			set := func(method string, password any) gqlResponse {
				return s.do(ann, auTwoFactorMutation, map[string]any{"m": method, "p": password})
			}
			if r := set("EMAIL", nil); len(r.Errors) > 0 {
				t.Fatalf("setTwoFactor(EMAIL) = %+v", r.Errors)
			}
			wantError(t, set("NONE", nil), "BAD_USER_INPUT", "currentPassword")
			wantError(t, set("NONE", ""), "BAD_USER_INPUT", "currentPassword")
			wantError(t, set("NONE", "wrong-password"), "BAD_USER_INPUT", "currentPassword")
			// Given with another method, it is checked too.
			wantError(t, set("EMAIL", "wrong-password"), "BAD_USER_INPUT", "currentPassword")
			if got := auTwoFactor(s, ann); got != "EMAIL" {
				t.Fatalf("second factor = %s after refused changes, want EMAIL", got)
			}
			if r := set("NONE", "ann-password"); len(r.Errors) > 0 {
				t.Fatalf("setTwoFactor(NONE) with the password = %+v", r.Errors)
			}
			if got := auTwoFactor(s, ann); got != "NONE" {
				t.Fatalf("second factor = %s, want NONE", got)
			}
			// The right password reset the count: three more wrong ones lock the account, after
			// which even the right password is ACCOUNT_LOCKED and nothing changes.
			s.mustDo(ann, auTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
			for range 3 {
				wantError(t, set("NONE", "wrong-password"), "BAD_USER_INPUT", "currentPassword")
			}
			wantError(t, set("NONE", "ann-password"), "ACCOUNT_LOCKED")
			wantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "ann-password"}), "ACCOUNT_LOCKED")
			if got := auTwoFactor(s, ann); got != "EMAIL" {
				t.Errorf("second factor = %s after a refused change, want EMAIL", got)
			}
			rows := auRows(t, s)
			if got := auEvents(rows, "reauthentication.failed"); len(got) != 6 {
				t.Errorf("reauthentication.failed rows %q, want 6 (5 wrong, 1 locked)", got)
			}
			if got := auEvents(rows, "two_factor.changed"); len(got) != 3 || !strings.HasSuffix(got[1], "ann NONE") {
				t.Errorf("two_factor.changed rows %q, want EMAIL, NONE, EMAIL", got)
			}
		})
	}
}

func TestChangePassword_wrongCurrentPasswordsLockLikeLogins_adminChangingAnothersNeedsNone(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st, "LOGIN_MAX_FAILURES=3")
			admin := s.admin()
			ann := s.customer(admin, "ann")
			change := func(token string, vars map[string]any) gqlResponse {
				return s.do(token, auChangePasswordMutation, vars)
			}
			wantError(t, change(ann, map[string]any{"n": "ann-new-password"}), "BAD_USER_INPUT", "currentPassword")
			// Wrong guesses here and at login share one counter.
			wantError(t, change(ann, map[string]any{"n": "ann-new-password", "c": "guess-1"}), "BAD_USER_INPUT", "currentPassword")
			wantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "guess-2"}), "UNAUTHENTICATED")
			wantError(t, change(ann, map[string]any{"n": "ann-new-password", "c": "guess-3"}), "BAD_USER_INPUT", "currentPassword")
			wantError(t, change(ann, map[string]any{"n": "ann-new-password", "c": "ann-password"}), "ACCOUNT_LOCKED")
			wantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "ann-password"}), "ACCOUNT_LOCKED")

			// An administrator changes another user's password without knowing it; unlocking
			// lifts the lockout. The refused change above changed nothing: the new one works.
			s.mustDo(admin, `mutation { setUserStatus(username: "ann", status: ACTIVE) { status } }`, nil, nil)
			s.mustDo(admin, auChangePasswordMutation, map[string]any{"u": "ann", "n": "ann-admin-set-password"}, nil)
			wantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "ann-new-password"}), "UNAUTHENTICATED")
			ann = s.login("ann", "ann-admin-set-password")
			s.mustDo(ann, auChangePasswordMutation, map[string]any{"n": "ann-own-password", "c": "ann-admin-set-password"}, nil)
			s.login("ann", "ann-own-password")

			rows := auRows(t, s)
			if got := auEvents(rows, "reauthentication.failed"); len(got) != 3 ||
				!strings.HasPrefix(got[0], "ann UNAUTHENTICATED user:") || !strings.HasPrefix(got[2], "ann ACCOUNT_LOCKED user:") {
				t.Errorf("reauthentication.failed rows %q, want 2 wrong then 1 locked, by ann", got)
			}
			if got := auEvents(rows, "password.changed"); len(got) != 2 ||
				!strings.HasPrefix(got[0], "admin OK user:") || !strings.HasPrefix(got[1], "ann OK user:") {
				t.Errorf("password.changed rows %q, want the admin's then ann's", got)
			}
		})
	}
}
