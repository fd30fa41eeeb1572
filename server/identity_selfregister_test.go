package main

// Self-registration after issue 14.4 and 15.1: only a customer whose online access was never used
// may self-register (anyone else answers as a mismatch), and whether a username is free is told
// only after the code, at confirmSelfRegistration. Uses the "id" helpers (identity_helpers_test.go).

import (
	"strings"
	"testing"
)

func TestSelfRegister_customerWhoHasLoggedIn_answersLikeAMismatchSendsAndChangesNothing(t *testing.T) {
	idOnStores(t, func(t *testing.T, s *idServer) {
		admin := s.admin()
		s.idNewCustomer(admin, "ivy", "ivy@example.com", "+34644000001")
		s.idNewCustomer(admin, "jon", "jon@example.com", "")
		s.login("ivy", "ivy-password") // ivy's online access is in use
		number, _ := s.idNumberOf(admin, "ivy")
		for _, tt := range []struct {
			name string
			give map[string]any
		}{
			{"by e-mail", map[string]any{"accountNumber": number, "authenticationMode": "EMAIL", "email": "ivy@example.com",
				"username": "ivy.online", "password": "ivy-new-password"}},
			{"by mobile", map[string]any{"accountNumber": number, "authenticationMode": "MOBILE", "mobileNumber": "+34644000001",
				"username": "ivy.online", "password": "ivy-new-password"}},
			{"with a taken username", map[string]any{"accountNumber": number, "authenticationMode": "EMAIL", "email": "ivy@example.com",
				"username": "jon", "password": "ivy-new-password"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := s.on(t)
				before := s.idSentSoFar()
				id := idRequestID(t, s.idSelfRegister(tt.give))
				if !idRequestIDShape.MatchString(id) {
					t.Errorf("requestId %q is shaped unlike a real one", id)
				}
				s.idWantNothingSentSoon(before, "selfRegister for a customer who has logged in")
				wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": "000000"}), "INVALID_CODE")
			})
		}
		// Ivy's password and username are hers still.
		s.login("ivy", "ivy-password")
		s.idWantLoginRefused("ivy.online", "ivy-new-password", "UNAUTHENTICATED")
		s.idWantLoginRefused("ivy", "ivy-new-password", "UNAUTHENTICATED")
	})
}

func TestSelfRegister_loginBetweenRequestAndConfirmation_codeNoLongerActivates(t *testing.T) {
	idOnStores(t, func(t *testing.T, s *idServer) {
		admin := s.admin()
		s.idNewCustomer(admin, "kit", "kit@example.com", "")
		number, _ := s.idNumberOf(admin, "kit")
		before := s.idSentSoFar()
		id := idRequestID(t, s.idSelfRegister(map[string]any{"accountNumber": number, "authenticationMode": "EMAIL",
			"email": "kit@example.com", "username": "kit.online", "password": "kit-new-password"}))
		s.idAwaitSent(before)
		code := s.idOutboxTo("kit@example.com").Code
		s.login("kit", "kit-password")
		wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "INVALID_CODE")
		s.login("kit", "kit-password")
		s.idWantLoginRefused("kit.online", "kit-new-password", "UNAUTHENTICATED")
	})
}

func TestSelfRegister_usernameAvailability_toldOnlyAfterTheCode(t *testing.T) {
	idOnStores(t, func(t *testing.T, s *idServer) {
		admin := s.admin()
		s.idNewCustomer(admin, "kim", "kim@example.com", "")
		s.idNewCustomer(admin, "lee", "lee@example.com", "")
		number, _ := s.idNumberOf(admin, "kim")
		req := func(number, username string) map[string]any {
			return map[string]any{"accountNumber": number, "authenticationMode": "EMAIL", "email": "kim@example.com",
				"username": username, "password": "kim-new-password"}
		}
		// Any account number: a taken and a free username get the same answer, and nothing is sent.
		for _, username := range []string{"lee", "LEE", "1ee", "free.name"} {
			before := s.idSentSoFar()
			idRequestID(t, s.idSelfRegister(req("0000000000", username)))
			s.idWantNothingSentSoon(before, "selfRegister with an unknown account number")
		}
		// The matching customer learns it after the code: CONFLICT {username}, for a taken name and
		// for a look-alike of one; nothing changes and the code is used up.
		for _, username := range []string{"lee", "1ee"} {
			before := s.idSentSoFar()
			id := idRequestID(t, s.idSelfRegister(req(number, username)))
			s.idAwaitSent(before)
			code := s.idOutboxTo("kim@example.com").Code
			wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "CONFLICT", "username")
			wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "INVALID_CODE")
		}
		s.idWantLoginRefused("lee", "kim-new-password", "UNAUTHENTICATED")
		s.login("lee", "lee-password")
		// A free username then works.
		before := s.idSentSoFar()
		id := idRequestID(t, s.idSelfRegister(req(number, "kim.online")))
		s.idAwaitSent(before)
		s.mustDo("", idConfirmSelfMutation, map[string]any{"id": id, "code": s.idOutboxTo("kim@example.com").Code}, nil)
		s.login("kim.online", "kim-new-password")
		s.idWantLoginRefused("kim", "kim-password", "UNAUTHENTICATED")
	})
}

// The first login activates the user in the login's own transaction: activating it from outside
// waited on the row lock that transaction holds (the attempt's claim) until the lock timeout, so
// on PostgreSQL every first login answered INTERNAL (found by the simulator: the admin's own).
func TestLogin_firstLoginOfAUser_activatesInTheLoginTransaction(t *testing.T) {
	idOnStores(t, func(t *testing.T, s *idServer) {
		admin := s.admin() // the admin's first login
		s.idNewCustomer(admin, "kim", "kim@example.com", "")
		s.login("kim", "kim-password") // kim's first: activates
		s.login("kim", "kim-password")
		number, _ := s.idNumberOf(admin, "kim")
		// Activated: selfRegister no longer reaches kim (it answers alike and sends nothing).
		before := s.idSentSoFar()
		s.idSelfRegister(map[string]any{"accountNumber": number, "authenticationMode": "EMAIL", "email": "kim@example.com",
			"username": "kim.online", "password": "kim-new-password"})
		s.idWantNothingSentSoon(before, "selfRegister after kim's first login")
	})
}

func TestSelfRegister_emailCodeBySMTP_activatesTheLoginOfANeverActivatedCustomer(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false)
	admin := s.admin()
	s.idNewCustomer(admin, "carl", "carl@example.com", "+34611000002")
	s.mint(admin, "carl", "25")
	number, ibanBefore := s.idNumberOf(admin, "carl")

	before := s.idSentSoFar()
	id := idRequestID(t, s.idSelfRegister(map[string]any{
		"accountNumber": number, "authenticationMode": "EMAIL", "email": "Carl@Example.com",
		"username": "Carl.Online", "password": "carl-new-password",
		"firstName": "Carl", "middleName": "Maria", "lastName": "Smith",
	}))
	s.idAwaitSent(before)
	mails := s.mail.to("carl@example.com")
	if len(mails) != 1 || mails[0].Subject != "Your registration code" || !strings.Contains(mails[0].Text, "carl.online") {
		t.Fatalf("e-mails to carl = %+v, want one registration code greeting carl.online", mails)
	}
	code := idCodeIn(t, mails[0].Text)
	if l := s.idOutboxTo("carl@example.com"); l.Code != code {
		t.Errorf("outbox code %q, e-mailed %q", l.Code, code)
	}
	// Nothing changes before the confirmation.
	s.idWantLoginRefused("carl.online", "carl-new-password", "UNAUTHENTICATED")

	var out struct {
		ConfirmSelfRegistration struct {
			Ok   bool
			User struct{ Username string }
		}
	}
	s.mustDo("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}, &out)
	if c := out.ConfirmSelfRegistration; !c.Ok || c.User.Username != "carl.online" {
		t.Errorf("confirmSelfRegistration = %+v, want ok and carl.online", c)
	}
	s.idWantLoginRefused("carl", "carl-password", "UNAUTHENTICATED")
	s.idWantLoginRefused("carl", "carl-new-password", "UNAUTHENTICATED")
	s.idWantLoginRefused("carl.online", "carl-password", "UNAUTHENTICATED")
	me := s.idMe(s.login("carl.online", "carl-new-password"))
	if me.Username != "carl.online" || me.Customer == nil || me.Customer.Account.Number != number ||
		me.Customer.Account.IBAN != ibanBefore || me.Customer.Account.Balance.Amount != "25.00" {
		t.Errorf("me = %+v, want carl.online on the same account (%s, %s) with 25.00", me, number, ibanBefore)
	}
	if c := me.Customer; c == nil || c.FirstName == nil || *c.FirstName != "Carl" || c.MiddleName == nil || *c.MiddleName != "Maria" ||
		c.LastName == nil || *c.LastName != "Smith" {
		t.Errorf("names after the self-registration = %+v, want Carl Maria Smith", me.Customer)
	}
	s.login("carl@example.com", "carl-new-password")
	// The code is used up.
	wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "INVALID_CODE")
	if n := len(s.mail.all()); n != 1 {
		t.Errorf("%d e-mails, want 1", n)
	}
}

func TestSelfRegister_mobileCodeBySMSWebhook(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, true)
	admin := s.admin()
	s.idNewCustomer(admin, "dora", "", "+34622000002")
	number, _ := s.idNumberOf(admin, "dora")

	before := s.idSentSoFar()
	id := idRequestID(t, s.idSelfRegister(map[string]any{
		"accountNumber": number, "authenticationMode": "MOBILE", "mobileNumber": "+34622000002",
		"username": "dora.m", "password": "dora-new-password",
	}))
	s.idAwaitSent(before)
	texts := s.sms.all()
	if len(texts) != 1 || texts[0].To != "+34622000002" {
		t.Fatalf("SMS webhook got %+v, want one SMS to +34622000002", texts)
	}
	code := idCodeIn(t, texts[0].Text)
	if l := s.idOutboxTo("+34622000002"); l.Channel != "sms" || l.Code != code {
		t.Errorf("outbox line %+v, want the SMS with code %s", l, code)
	}
	s.mustDo("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}, nil)
	s.idWantLoginRefused("dora", "dora-password", "UNAUTHENTICATED")
	me := s.idMe(s.login("dora.m", "dora-new-password"))
	if me.Username != "dora.m" || me.Customer == nil || me.Customer.Account.Number != number || me.Customer.Account.Balance.Amount != "0.00" {
		t.Errorf("me = %+v", me)
	}
	if n := len(s.sms.all()); n != 1 {
		t.Errorf("%d SMS, want 1", n)
	}
}

// idSelfRegisterInput is a selfRegister input for the username eve.online.
func idSelfRegisterInput(number, mode, email, mobile string) map[string]any {
	in := map[string]any{"accountNumber": number, "authenticationMode": mode, "username": "eve.online", "password": "eve-new-password"}
	if email != "" {
		in["email"] = email
	}
	if mobile != "" {
		in["mobileNumber"] = mobile
	}
	return in
}

func TestSelfRegister_noMatch_answersLikeAMatchButSendsNothing(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, true)
	admin := s.admin()
	s.idNewCustomer(admin, "eve", "eve@example.com", "+34633000003")
	s.idNewCustomer(admin, "fay", "fay@example.com", "+34633000004")
	s.idNewCustomer(admin, "gil", "gil@example.com", "") // no phone
	eveNumber, eveIBAN := s.idNumberOf(admin, "eve")
	fayNumber, _ := s.idNumberOf(admin, "fay")
	gilNumber, _ := s.idNumberOf(admin, "gil")

	idSelfRegisterUnmatched(t, s, eveNumber, fayNumber, gilNumber, eveIBAN)
	idSelfRegisterRefused(t, s, eveNumber)
	// Eve's login is untouched by all of the above.
	s.idWantLoginRefused("eve.online", "eve-new-password", "UNAUTHENTICATED")

	// A matching request answers with the same shape; a wrong code changes nothing, the right one works.
	before := s.idSentSoFar()
	id := idRequestID(t, s.idSelfRegister(idSelfRegisterInput(eveNumber, "EMAIL", "eve@example.com", "")))
	if !idRequestIDShape.MatchString(id) {
		t.Errorf("a matching requestId %q is shaped differently", id)
	}
	s.idAwaitSent(before)
	code := idCodeIn(t, s.mail.to("eve@example.com")[0].Text)
	wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": idOtherCode(code, 1)}), "INVALID_CODE")
	s.mustDo("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}, nil)
	s.login("eve.online", "eve-new-password")

	// A username taken between the request and its confirmation: CONFLICT, fay keeps her login.
	before = s.idSentSoFar()
	id = idRequestID(t, s.idSelfRegister(map[string]any{"accountNumber": fayNumber, "authenticationMode": "MOBILE",
		"mobileNumber": "+34633000004", "username": "hal", "password": "fay-new-password"}))
	s.idAwaitSent(before)
	code = idCodeIn(t, s.sms.to("+34633000004")[0].Text)
	s.idNewCustomer(admin, "hal", "", "")
	wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "CONFLICT", "username")
	s.login("fay", "fay-password")
	s.login("hal", "hal-password")
}

// idSelfRegisterUnmatched sends selfRegister requests whose data match nobody: each answers with
// a fresh request id shaped like a real one, sends nothing, and its code is never right.
func idSelfRegisterUnmatched(t *testing.T, s *idServer, eveNumber, fayNumber, gilNumber, eveIBAN string) {
	unmatched := []struct {
		name string
		give map[string]any
	}{
		{"unknown account number", idSelfRegisterInput("0000000000", "EMAIL", "eve@example.com", "")},
		{"eve's number with fay's e-mail", idSelfRegisterInput(eveNumber, "EMAIL", "fay@example.com", "")},
		{"fay's number with eve's e-mail", idSelfRegisterInput(fayNumber, "EMAIL", "eve@example.com", "")},
		{"eve's number with another mobile", idSelfRegisterInput(eveNumber, "MOBILE", "", "+34633000004")},
		{"eve's e-mail given in MOBILE mode", idSelfRegisterInput(eveNumber, "MOBILE", "eve@example.com", "+34633999999")},
		{"gil's number by MOBILE, gil has no phone", idSelfRegisterInput(gilNumber, "MOBILE", "", "+34633000005")},
		{"eve's IBAN instead of the number", idSelfRegisterInput(eveIBAN, "EMAIL", "eve@example.com", "")},
		// Whether a username is free is told only after the code (confirmSelfRegistration).
		{"taken username, data not matching", map[string]any{"accountNumber": "0000000000", "authenticationMode": "EMAIL",
			"email": "eve@example.com", "username": "FAY", "password": "eve-new-password"}},
	}
	seen := map[string]bool{}
	for _, tt := range unmatched {
		t.Run(tt.name, func(t *testing.T) {
			s := s.on(t)
			before := s.idSentSoFar()
			id := idRequestID(t, s.idSelfRegister(tt.give))
			if !idRequestIDShape.MatchString(id) || seen[id] {
				t.Errorf("requestId %q: want a fresh id shaped like a real one", id)
			}
			seen[id] = true
			s.idWantNothingSentSoon(before, "an unmatched selfRegister")
			wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": "000000"}), "INVALID_CODE")
		})
	}

}

// idSelfRegisterRefused sends selfRegister requests refused before any look-up: nothing is sent.
func idSelfRegisterRefused(t *testing.T, s *idServer, eveNumber string) {
	refused := []struct {
		name       string
		give       map[string]any
		wantCode   string
		wantFields []string
	}{
		{"institutional username", map[string]any{"accountNumber": eveNumber, "authenticationMode": "EMAIL",
			"email": "eve@example.com", "username": "admin", "password": "eve-new-password"}, "FORBIDDEN", nil},
		{"password too short", map[string]any{"accountNumber": eveNumber, "authenticationMode": "EMAIL",
			"email": "eve@example.com", "username": "eve.online", "password": "short"}, "BAD_USER_INPUT", []string{"password"}},
		{"password is the e-mail", map[string]any{"accountNumber": eveNumber, "authenticationMode": "EMAIL",
			"email": "eve@example.com", "username": "eve.online", "password": "EVE@example.com"}, "BAD_USER_INPUT", []string{"password"}},
		{"password is the username", map[string]any{"accountNumber": eveNumber, "authenticationMode": "EMAIL",
			"email": "eve@example.com", "username": "eve.online", "password": "Eve.Online"}, "BAD_USER_INPUT", []string{"password"}},
		{"EMAIL without e-mail", map[string]any{"accountNumber": eveNumber, "authenticationMode": "EMAIL",
			"mobileNumber": "+34633000003", "username": "eve.online", "password": "eve-new-password"}, "BAD_USER_INPUT", []string{"email"}},
		{"MOBILE with a malformed number", map[string]any{"accountNumber": eveNumber, "authenticationMode": "MOBILE",
			"mobileNumber": "633000003", "username": "eve.online", "password": "eve-new-password"}, "BAD_USER_INPUT", []string{"mobileNumber"}},
		{"everything malformed", map[string]any{"accountNumber": "", "authenticationMode": "MOBILE",
			"username": "e", "password": "short", "lastName": strings.Repeat("n", 101)}, "BAD_USER_INPUT",
			[]string{"accountNumber", "mobileNumber", "username", "password", "lastName"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			s := s.on(t)
			before := s.idSentSoFar()
			wantError(t, s.idSelfRegister(tt.give), tt.wantCode, tt.wantFields...)
			s.idWantNothingSent(before, "a refused selfRegister")
		})
	}
}
