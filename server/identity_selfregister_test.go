package main

// Self-registration after issue 14.4 and 15.1: only a customer whose online access was never used
// may self-register (anyone else answers as a mismatch), and whether a username is free is told
// only after the code, at confirmSelfRegistration. Uses identity_test.go's "id" helpers.

import (
	"testing"
)

// idOnStores runs body once per store, in parallel, on an outbox-only server.
func idOnStores(t *testing.T, body func(t *testing.T, s *idServer)) {
	t.Helper()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			body(t, &idServer{testServer: startServer(t, st)})
		})
	}
}

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
				eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": "000000"}), "INVALID_CODE")
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
		eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "INVALID_CODE")
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
			eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "CONFLICT", "username")
			eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "INVALID_CODE")
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
