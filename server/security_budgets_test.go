package main

// Issue 14.5 (SMS and e-mail pumping) over real HTTP: phones are proved before any SMS, messages
// have per-destination and global budgets, createCashout and startPhoneVerification are
// throttled. Every refusal is followed by a look at what was sent and stored. Helpers carry the
// prefix "ab"; the shared ones are in harness_test.go.

import (
	"database/sql"
	"fmt"
	"testing"
)

const (
	abStartPhoneMutation   = `mutation { startPhoneConfirmation }`
	abConfirmPhoneMutation = `mutation($id: String!, $code: String!) { confirmPhone(challengeId: $id, code: $code) { phoneVerified } }`
	abPhoneQuery           = `{ me { phone phoneVerified twoFactor } }`
)

// abExec runs a statement on the server's database, for states no API call produces yet (a
// phone changed since it was verified).
func abExec(t *testing.T, s *testServer, store, query string, args ...any) {
	t.Helper()
	driver, dsn := "postgres", s.DatabaseURL
	if store == "sqlite" {
		driver, dsn = "sqlite", "file:"+s.DatabaseURL+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// abPhone is the viewer's phone as me shows it.
type abPhone struct {
	Phone         *string
	PhoneVerified bool
	TwoFactor     string
}

func abMe(t *testing.T, s *testServer, token string) abPhone {
	t.Helper()
	var out struct{ Me abPhone }
	s.mustDo(token, abPhoneQuery, nil, &out)
	return out.Me
}

// abSMSTo counts the outbox's SMS to phone.
func abSMSTo(t *testing.T, s *testServer, phone string) []idOutboxLine {
	t.Helper()
	var out []idOutboxLine
	for _, l := range idReadOutbox(t, s.Outbox) {
		if l.Channel == "sms" && l.To == phone {
			out = append(out, l)
		}
	}
	return out
}

// abStartPhone runs startPhoneConfirmation and returns its challenge id.
func abStartPhone(t *testing.T, s *testServer, token string) string {
	t.Helper()
	var out struct{ StartPhoneConfirmation string }
	s.mustDo(token, abStartPhoneMutation, nil, &out)
	if out.StartPhoneConfirmation == "" {
		t.Fatal("startPhoneConfirmation returned no challenge id")
	}
	return out.StartPhoneConfirmation
}

func TestPhoneConfirmation_registeredPhone_noSMSUntilConfirmed(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := &idServer{testServer: startServer(t, st)}
			p := idPerson{Email: "rita@example.com", Phone: "+34611000001", SSN: "RITA-0001"}
			token := s.idRegister(p, "rita")
			if me := abMe(t, s.testServer, token); me.PhoneVerified || me.Phone == nil || *me.Phone != p.Phone {
				t.Fatalf("after register me = %+v, want the phone, unverified", me)
			}

			// An unproved phone gets no SMS factor, and nothing is sent.
			before := s.idSentSoFar()
			wantError(t, s.do(token, idSetTwoFactorMutation, map[string]any{"m": "SMS"}), "PRECONDITION_FAILED")
			if me := abMe(t, s.testServer, token); me.TwoFactor != "NONE" {
				t.Errorf("twoFactor = %s after a refused setTwoFactor(SMS), want NONE", me.TwoFactor)
			}
			s.idWantNothingSent(before, "a refused setTwoFactor(SMS)")

			// The code goes by SMS to the phone; a wrong one proves nothing.
			id := abStartPhone(t, s.testServer, token)
			texts := abSMSTo(t, s.testServer, p.Phone)
			if len(texts) != 1 {
				t.Fatalf("SMS to %s = %+v, want one", p.Phone, texts)
			}
			wantError(t, s.do(token, abConfirmPhoneMutation, map[string]any{"id": id, "code": idOtherCode(texts[0].Code, 1)}), "INVALID_CODE")
			if abMe(t, s.testServer, token).PhoneVerified {
				t.Fatal("a wrong code verified the phone")
			}
			// Another user cannot use the challenge, even with the right code.
			other := s.idRegister(idPerson{Email: "sam@example.com", Phone: "+34611000002", SSN: "SAMS-0002"}, "sam")
			wantError(t, s.do(other, abConfirmPhoneMutation, map[string]any{"id": id, "code": texts[0].Code}), "INVALID_CODE")
			if abMe(t, s.testServer, other).PhoneVerified {
				t.Error("rita's code verified sam's phone")
			}

			// rita's challenge died with sam's try (a code works once): a new one, confirmed.
			id = abStartPhone(t, s.testServer, token)
			texts = abSMSTo(t, s.testServer, p.Phone)
			var out struct{ ConfirmPhone abPhone }
			s.mustDo(token, abConfirmPhoneMutation, map[string]any{"id": id, "code": texts[len(texts)-1].Code}, &out)
			if !out.ConfirmPhone.PhoneVerified || !abMe(t, s.testServer, token).PhoneVerified {
				t.Fatalf("confirmPhone = %+v, want the phone verified", out)
			}
			wantError(t, s.do(token, abConfirmPhoneMutation, map[string]any{"id": id, "code": texts[len(texts)-1].Code}), "INVALID_CODE")
			before = s.idSentSoFar()
			wantError(t, s.do(token, abStartPhoneMutation, nil), "PRECONDITION_FAILED")
			s.idWantNothingSent(before, "startPhoneConfirmation of a verified phone")

			// Now the SMS factor works: the login's code goes to the phone.
			s.mustDo(token, idSetTwoFactorMutation, map[string]any{"m": "SMS"}, nil)
			s.idChallenge("rita", idPassword)
			if n := len(abSMSTo(t, s.testServer, p.Phone)); n != 3 {
				t.Errorf("%d SMS to rita, want 3 (two confirmations, one login)", n)
			}
		})
	}
}

func TestSMS_unverifiedPhone_loginCashoutAndSelfRegisterSendNothing(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := &idServer{testServer: startServer(t, st)}
			admin := s.admin()
			const phone = "+34622000009"
			ivan := ptCustomerWithAddress(t, s.testServer, admin, "ivan", phone)
			// The bank vouches for a phone an administrator entered.
			if me := abMe(t, s.testServer, ivan); !me.PhoneVerified {
				t.Fatalf("admin-created customer's phone: %+v, want verified", me)
			}
			s.mustDo(ivan, idSetTwoFactorMutation, map[string]any{"m": "SMS"}, nil)
			s.mint(admin, "ivan", "10")
			number, _ := s.idAccountNumber(ivan)
			// The state a changed phone leaves: the number is unverified again.
			abExec(t, s.testServer, st, `UPDATE users SET phone_verified = false WHERE username = 'ivan'`)

			before := s.idSentSoFar()
			wantError(t, ptIn(t, s.testServer, ivan, ptCreateCashoutMutation, map[string]any{"amount": "1", "channel": "SMS"}), "PRECONDITION_FAILED")
			if n, _ := ptCashoutIDs(t, s.testServer, ivan); n != 0 {
				t.Errorf("%d cash-outs after a refused createCashout, want 0", n)
			}
			ptWantBalances(t, s.testServer, ivan, "ivan", map[string]string{"main": "10.00"})
			var acc struct {
				Me struct {
					Customer struct {
						Account struct{ Available struct{ Amount string } }
					}
				}
			}
			s.mustDo(ivan, `{ me { customer { account { available { amount } } } } }`, nil, &acc)
			if got := acc.Me.Customer.Account.Available.Amount; got != "10.00" {
				t.Errorf("available = %s after a refused cash-out, want 10.00 (nothing reserved)", got)
			}

			// The password is right, so the refusal tells an attacker nothing; no SMS leaves.
			r, _ := s.idLoginStep("ivan", "ivan-password")
			wantError(t, r, "PRECONDITION_FAILED")

			// Anonymous: answered as a mismatch (a request id), nothing sent.
			idRequestID(t, s.idSelfRegister(map[string]any{
				"accountNumber": number, "authenticationMode": "MOBILE", "mobileNumber": phone,
				"username": "ivan.m", "password": "ivan-new-password",
			}))
			s.idWantNothingSentSoon(before, "SMS paths to an unverified phone")
			if n := len(abSMSTo(t, s.testServer, phone)); n != 0 {
				t.Errorf("%d SMS to the unverified phone, want 0", n)
			}
		})
	}
}

func TestDeliveryBudget_smsPerDestination_tooManyRequestsAndNothingStored(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := &idServer{testServer: startServer(t, st, "SMS_PER_DESTINATION_PER_HOUR=2")}
			p := idPerson{Email: "tina@example.com", Phone: "+34633000001", SSN: "TINA-0001"}
			token := s.idRegister(p, "tina")
			abStartPhone(t, s.testServer, token)
			second := abStartPhone(t, s.testServer, token)
			_, errs := abPost(t, s.testServer, token, abStartPhoneMutation, nil)
			abWantTooMany(t, errs, "a third SMS to one number within the hour")
			texts := abSMSTo(t, s.testServer, p.Phone)
			if len(texts) != 2 {
				t.Fatalf("%d SMS to %s, want 2", len(texts), p.Phone)
			}
			// The refused start stored no challenge: it would have killed the second one.
			s.mustDo(token, abConfirmPhoneMutation, map[string]any{"id": second, "code": texts[1].Code}, nil)
			if !abMe(t, s.testServer, token).PhoneVerified {
				t.Error("the second code did not verify the phone")
			}
		})
	}
}

func TestDeliveryBudget_smsGlobal_refusesEveryDestination(t *testing.T) {
	t.Parallel()
	s := &idServer{testServer: startServer(t, "postgres", "SMS_GLOBAL_PER_HOUR=2")}
	var tokens []string
	for i := range 3 {
		p := idPerson{Email: fmt.Sprintf("g%d@example.com", i), Phone: fmt.Sprintf("+3464400000%d", i), SSN: fmt.Sprintf("GLOB-000%d", i)}
		tokens = append(tokens, s.idRegister(p, fmt.Sprintf("glob%d", i)))
	}
	abStartPhone(t, s.testServer, tokens[0])
	abStartPhone(t, s.testServer, tokens[1])
	before := s.idSentSoFar()
	_, errs := abPost(t, s.testServer, tokens[2], abStartPhoneMutation, nil)
	abWantTooMany(t, errs, "an SMS beyond the global budget")
	s.idWantNothingSent(before, "an SMS beyond the global budget")
	// E-mail has its own budget: a login code by e-mail still goes out.
	s.mustDo(tokens[2], idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
	s.idChallenge("glob2", idPassword)
}

func TestDeliveryBudget_emailPerDestination_loginRefusedQuietFlowsAnswerAlike(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := &idServer{testServer: startServer(t, st, "EMAIL_PER_DESTINATION_PER_HOUR=2")}
			p := idPerson{Email: "uma@example.com", Phone: "+34655000001", SSN: "UMAS-0001"}
			token := s.idRegister(p, "uma") // the first e-mail: the registration code
			s.mustDo(token, idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
			s.idChallenge("uma", idPassword) // the second: a login code

			before := s.idSentSoFar()
			_, errs := abPost(t, s.testServer, "", idLoginMutation, map[string]any{"l": "uma", "p": idPassword})
			abWantTooMany(t, errs, "a third e-mail to one address within the hour")
			s.idWantNothingSent(before, "a login beyond the e-mail budget")

			// A password reset answers as always (a refusal only a match could earn would tell that
			// the data matched) and sends nothing.
			var out struct{ RequestPasswordReset struct{ Ok bool } }
			s.mustDo("", idRequestResetMutation, map[string]any{"in": p.contact()}, &out)
			if !out.RequestPasswordReset.Ok {
				t.Errorf("requestPasswordReset = %+v, want ok", out)
			}
			s.idWantNothingSentSoon(before, "a password reset beyond the e-mail budget")
		})
	}
}

func TestCreateCashout_beyondTheEmailBudget_refusedAndNothingReserved(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st, "EMAIL_PER_DESTINATION_PER_HOUR=1")
			admin := s.admin()
			vera := ptCustomerWithAddress(t, s, admin, "vera", "")
			s.mint(admin, "vera", "10")
			ptNewCashout(t, s, vera, "1", "EMAIL")
			_, errs := abPost(t, s, vera, ptCreateCashoutMutation, map[string]any{"in": map[string]any{"amount": "2", "channel": "EMAIL"}})
			abWantTooMany(t, errs, "a cash-out whose TAN is beyond the e-mail budget")
			if n, _ := ptCashoutIDs(t, s, vera); n != 1 {
				t.Errorf("%d cash-outs, want 1", n)
			}
			var acc struct {
				Me struct {
					Customer struct {
						Account struct{ Available, Balance struct{ Amount string } }
					}
				}
			}
			s.mustDo(vera, `{ me { customer { account { available { amount } balance { amount } } } } }`, nil, &acc)
			if a := acc.Me.Customer.Account; a.Available.Amount != "9.00" || a.Balance.Amount != "10.00" {
				t.Errorf("account = %+v, want balance 10.00 and available 9.00 (only the first cash-out reserved)", a)
			}
			if lines := idReadOutbox(t, s.Outbox); len(lines) != 1 {
				t.Errorf("outbox = %+v, want the first TAN only", lines)
			}
		})
	}
}

func TestCreateCashout_perUserLimit_thirdRefusedOthersUnaffected(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres", "CASHOUTS_PER_USER_PER_HOUR=2")
	admin := s.admin()
	wes := ptCustomerWithAddress(t, s, admin, "wes", "")
	xia := ptCustomerWithAddress(t, s, admin, "xia", "")
	s.mint(admin, "wes", "10")
	s.mint(admin, "xia", "10")
	ptNewCashout(t, s, wes, "1", "EMAIL")
	ptNewCashout(t, s, wes, "1", "EMAIL")
	_, errs := abPost(t, s, wes, ptCreateCashoutMutation, map[string]any{"in": map[string]any{"amount": "1", "channel": "EMAIL"}})
	abWantTooMany(t, errs, "a third cash-out within the hour")
	if n, _ := ptCashoutIDs(t, s, wes); n != 2 {
		t.Errorf("%d cash-outs of wes, want 2", n)
	}
	if n := len(idReadOutbox(t, s.Outbox)); n != 2 {
		t.Errorf("%d messages sent, want 2 TANs", n)
	}
	ptNewCashout(t, s, xia, "1", "EMAIL")
}

func TestStartPhoneVerification_perStaffUser_thirdRefusedNothingStoredOrSent(t *testing.T) {
	c := ppStart(t, "PHONE_VERIFICATIONS_PER_STAFF_PER_HOUR=2")
	var people []ppPerson
	for range 3 {
		people = append(people, c.enabled(t, nil))
	}
	for i, p := range people[:2] {
		c.mustDo(c.staff, ppStartPhone, map[string]any{"p": p.ID, "ph": fmt.Sprintf("+3466600000%d", i)}, nil)
	}
	_, errs := abPost(t, c.testServer, c.staff, ppStartPhone, map[string]any{"p": people[2].ID, "ph": "+34666000002"})
	abWantTooMany(t, errs, "a third phone verification by one clerk within the hour")
	if pending := c.pending(t, people[2].ID); len(pending) != 0 {
		t.Errorf("procedures of the refused person = %+v, want none", pending)
	}
	if n := len(abSMSTo(t, c.testServer, "+34666000002")); n != 0 {
		t.Errorf("%d SMS to the refused number, want 0", n)
	}
	// Another clerk's budget is their own.
	c.mustDo(c.admin, ppStartPhone, map[string]any{"p": people[2].ID, "ph": "+34666000002"}, nil)
}

func TestStartPhoneVerification_perDestination_smsBudgetBoundsEveryClerk(t *testing.T) {
	c := ppStart(t, "SMS_PER_DESTINATION_PER_HOUR=1")
	a, b := c.enabled(t, nil), c.enabled(t, nil)
	c.mustDo(c.staff, ppStartPhone, map[string]any{"p": a.ID, "ph": "+34677000001"}, nil)
	_, errs := abPost(t, c.testServer, c.admin, ppStartPhone, map[string]any{"p": b.ID, "ph": "+34677000001"})
	abWantTooMany(t, errs, "a second SMS to one number, by another user")
	if pending := c.pending(t, b.ID); len(pending) != 0 {
		t.Errorf("procedures of the refused person = %+v, want none", pending)
	}
	if n := len(abSMSTo(t, c.testServer, "+34677000001")); n != 1 {
		t.Errorf("%d SMS to the number, want 1", n)
	}
}

func TestAuthRateLimit_tooManyRequests_carriesRetryAfter(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres", "AUTH_RATE_LIMIT=2")
	vars := map[string]any{"l": "nobody", "p": "wrong-password"}
	for range 2 {
		wantError(t, s.do("", idLoginMutation, vars), "UNAUTHENTICATED")
	}
	_, errs := abPost(t, s, "", idLoginMutation, vars)
	abWantTooMany(t, errs, "a third login within the minute from one address")
	if errs[0].Extensions.RetryAfter > 60 {
		t.Errorf("retryAfter = %d s, want at most the 60 s window", errs[0].Extensions.RetryAfter)
	}
}
