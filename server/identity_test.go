package main

// The identity flows of issue 3 over real HTTP, on PostgreSQL: registration (preRegister,
// register), self-registration of admin-made customers, two-step login by e-mail and SMS, password
// reset, user administration, sessions, rate limits and failed deliveries. Codes are read where a
// person would find them: a real SMTP server, an SMS webhook, or the outbox file. Every refusal is
// followed by a look at the state: nothing was created, sent or changed.
//
// Helpers here and in mailbox_test.go carry the prefix "id"; errors_test.go's eaWantError is
// reused for the error assertions.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"coffer/graph/iban"
)

// idServer is a coffer server on PostgreSQL and the stand-ins it delivers codes to.
type idServer struct {
	*testServer
	mail *idSMTP // nil unless started with SMTP
	sms  *idSMS  // nil unless started with the SMS webhook
}

// idStart boots a server; withSMTP and withSMS start the stand-ins and point SMTP_URL and
// SMS_WEBHOOK_URL at them. The outbox file is always configured (startServer does it).
func idStart(t *testing.T, withSMTP, withSMS bool, env ...string) *idServer {
	t.Helper()
	s := &idServer{}
	if withSMTP {
		s.mail = idStartSMTP(t)
		env = append([]string{"SMTP_URL=" + s.mail.URL()}, env...)
	}
	if withSMS {
		s.sms = idStartSMS(t)
		env = append([]string{"SMS_WEBHOOK_URL=" + s.sms.URL}, env...)
	}
	s.testServer = startServer(t, "postgres", env...)
	return s
}

// on returns s bound to t, so that a failing helper stops the subtest t, not its parent.
func (s *idServer) on(t *testing.T) *idServer {
	ts := *s.testServer
	ts.t = t
	c := *s
	c.testServer = &ts
	return &c
}

const (
	idPreRegisterMutation = `mutation($in: PreRegisterInput!) { preRegister(input: $in) { ok } }`
	idRegisterMutation    = `mutation($in: RegisterInput!) { register(input: $in) { token expiresAt
		user { username email phone role status twoFactor customer { firstName lastName dateOfBirth address city state
		postCode socialSecurityLast4 account { iban number balance { amount } } } } } }`
	idSelfRegisterMutation = `mutation($in: SelfRegisterInput!) { selfRegister(input: $in) { requestId } }`
	idConfirmSelfMutation  = `mutation($id: String!, $code: String!) {
		confirmSelfRegistration(requestId: $id, authenticationToken: $code) { ok user { username } } }`
	idLoginMutation = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) {
		status challengeId auth { token expiresAt user { username } } } }`
	idConfirmLoginMutation = `mutation($id: String!, $code: String!) { confirmLogin(challengeId: $id, code: $code) {
		token expiresAt user { username } } }`
	idSetTwoFactorMutation   = `mutation($m: TwoFactorMethod!) { setTwoFactor(method: $m) { username twoFactor } }`
	idRequestResetMutation   = `mutation($in: RequestPasswordResetInput!) { requestPasswordReset(input: $in) { ok } }`
	idResetPasswordMutation  = `mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }`
	idCreateUserMutation     = `mutation($in: CreateUserInput!) { createUser(input: $in) { username email phone role status customer { id } } }`
	idSetUserStatusMutation  = `mutation($u: String!, $s: UserStatus!) { setUserStatus(username: $u, status: $s) { username status } }`
	idCleanupMutation        = `mutation { cleanupUnverifiedUsers }`
	idChangePasswordMutation = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	idMeQuery                = `{ me { username twoFactor customer { firstName middleName lastName
		account { iban number balance { amount } } } } }`
)

// idAuth is an AuthPayload.
type idAuth struct {
	Token     string
	ExpiresAt time.Time
	User      struct{ Username string }
}

// idLoginPayload is a LoginPayload.
type idLoginPayload struct {
	Status      string
	ChallengeID *string
	Auth        *idAuth
}

// idLoginStep runs login's first step and returns the raw response and its payload.
func (s *idServer) idLoginStep(login, password string) (gqlResponse, idLoginPayload) {
	s.t.Helper()
	r := s.do("", idLoginMutation, map[string]any{"l": login, "p": password})
	var out struct{ Login *idLoginPayload }
	if len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, &out); err != nil {
			s.t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
	if out.Login == nil {
		return r, idLoginPayload{}
	}
	return r, *out.Login
}

// idChallenge logs in a user with a second factor and returns the challenge's id.
func (s *idServer) idChallenge(login, password string) string {
	s.t.Helper()
	r, p := s.idLoginStep(login, password)
	if len(r.Errors) > 0 || p.Status != "SECOND_FACTOR_REQUIRED" || p.ChallengeID == nil || *p.ChallengeID == "" || p.Auth != nil {
		s.t.Fatalf("login %s: want SECOND_FACTOR_REQUIRED with a challengeId and no auth, got %+v %s", login, r.Errors, r.Data)
	}
	return *p.ChallengeID
}

// idConfirmLogin runs confirmLogin and returns the response and the session token ("" on error).
func (s *idServer) idConfirmLogin(challengeID, code string) (gqlResponse, string) {
	s.t.Helper()
	r := s.do("", idConfirmLoginMutation, map[string]any{"id": challengeID, "code": code})
	var out struct{ ConfirmLogin *idAuth }
	if len(r.Errors) == 0 {
		if err := json.Unmarshal(r.Data, &out); err != nil || out.ConfirmLogin == nil || out.ConfirmLogin.Token == "" {
			s.t.Fatalf("confirmLogin: no token in %s", r.Data)
		}
		return r, out.ConfirmLogin.Token
	}
	if strings.Contains(string(r.Data), "token") {
		s.t.Errorf("a refused confirmLogin returned a session: %s", r.Data)
	}
	return r, ""
}

// idView is what me shows.
type idView struct {
	Username  string
	TwoFactor string
	Customer  *struct {
		FirstName, MiddleName, LastName *string
		Account                         struct {
			IBAN, Number string
			Balance      struct{ Amount string }
		}
	}
}

func (s *idServer) idMe(token string) idView {
	s.t.Helper()
	var out struct{ Me idView }
	s.mustDo(token, idMeQuery, nil, &out)
	return out.Me
}

// idWantNoSession asserts that token no longer authenticates.
func (s *idServer) idWantNoSession(token, why string) {
	s.t.Helper()
	r := s.do(token, `{ me { username } }`, nil)
	if r.code() != "UNAUTHENTICATED" {
		s.t.Errorf("%s: me = %s %+v, want UNAUTHENTICATED", why, r.Data, r.Errors)
	}
}

// idWantLoginRefused asserts that login with password fails with code.
func (s *idServer) idWantLoginRefused(login, password, code string) {
	s.t.Helper()
	r, p := s.idLoginStep(login, password)
	if r.code() != code || p.Auth != nil || p.ChallengeID != nil {
		s.t.Errorf("login %s/%s = %s %+v, want %s", login, password, r.Data, r.Errors, code)
	}
}

// idWantNoLogin asserts that login with password starts nothing: UNAUTHENTICATED, or
// ACCOUNT_LOCKED once a name (known or not) has failed LOGIN_MAX_FAILURES times.
func (s *idServer) idWantNoLogin(login, password string) {
	s.t.Helper()
	r, p := s.idLoginStep(login, password)
	if c := r.code(); (c != "UNAUTHENTICATED" && c != "ACCOUNT_LOCKED") || p.Auth != nil || p.ChallengeID != nil {
		s.t.Errorf("login %s/%s = %s %+v, want it refused", login, password, r.Data, r.Errors)
	}
}

// idCustomerCount is the number of customers the admin sees.
func (s *idServer) idCustomerCount(admin string) int {
	s.t.Helper()
	var out struct{ Customers struct{ TotalCount int } }
	s.mustDo(admin, `{ customers(first: 1) { totalCount } }`, nil, &out)
	return out.Customers.TotalCount
}

// idStatuses maps each customer's username to the status the admin sees.
func (s *idServer) idStatuses(admin string) map[string]string {
	s.t.Helper()
	var out struct {
		Customers struct {
			Edges []struct {
				Node struct {
					User struct{ Username, Status string }
				}
			}
		}
	}
	s.mustDo(admin, `{ customers(first: 100) { edges { node { user { username status } } } } }`, nil, &out)
	m := map[string]string{}
	for _, e := range out.Customers.Edges {
		m[e.Node.User.Username] = e.Node.User.Status
	}
	return m
}

// idNewCustomer creates a customer as the admin, with password username+"-password" and the given
// e-mail and phone ("" for none), without logging in.
func (s *idServer) idNewCustomer(admin, username, email, phone string) {
	s.t.Helper()
	in := map[string]any{"username": username, "password": username + "-password", "name": strings.ToUpper(username[:1]) + username[1:]}
	if email != "" {
		in["email"] = email
	}
	if phone != "" {
		in["phone"] = phone
	}
	s.mustDo(admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`, map[string]any{"in": in}, nil)
}

// idSent counts what has been sent so far, on every channel.
type idSent struct{ outbox, mail, sms int }

func (s *idServer) idSentSoFar() idSent {
	s.t.Helper()
	n := idSent{outbox: len(idReadOutbox(s.t, s.Outbox))}
	if s.mail != nil {
		n.mail = len(s.mail.all())
	}
	if s.sms != nil {
		n.sms = len(s.sms.all())
	}
	return n
}

func (s *idServer) idWantNothingSent(before idSent, what string) {
	s.t.Helper()
	if after := s.idSentSoFar(); after != before {
		s.t.Errorf("%s sent something: before %+v, after %+v", what, before, after)
	}
}

// idAwaitSent waits until one message more than before has arrived on the outbox and on the
// transport that carries it: requestPasswordReset and selfRegister send in the background.
func (s *idServer) idAwaitSent(before idSent) idSent {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := s.idSentSoFar()
		transport := s.mail == nil && s.sms == nil || now.mail+now.sms > before.mail+before.sms
		if now.outbox > before.outbox && transport {
			return now
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nothing was sent within 10s: before %+v, now %+v", before, now)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// idWantNothingSentSoon checks, after giving a background send time to arrive, that nothing was
// sent since before.
func (s *idServer) idWantNothingSentSoon(before idSent, what string) {
	s.t.Helper()
	time.Sleep(200 * time.Millisecond)
	s.idWantNothingSent(before, what)
}

// idOutboxTo returns the newest outbox line to addr.
func (s *idServer) idOutboxTo(addr string) idOutboxLine {
	s.t.Helper()
	lines := idReadOutbox(s.t, s.Outbox)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].To == addr {
			return lines[i]
		}
	}
	s.t.Fatalf("no outbox line to %s in %+v", addr, lines)
	return idOutboxLine{}
}

// idRaw posts a GraphQL operation and returns the status and the exact body.
func (s *idServer) idRaw(token, query string, vars map[string]any) (int, []byte) {
	s.t.Helper()
	return idRawWith(s.t, http.DefaultClient, s.URL, token, query, vars, nil)
}

func idRawWith(t testing.TB, c *http.Client, url, token, query string, vars map[string]any, header map[string]string) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, raw
}

func idDecodeRaw(t testing.TB, raw []byte) gqlResponse {
	t.Helper()
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return r
}

// idPerson is who pre-registers: the three facts preRegister and requestPasswordReset take.
type idPerson struct{ Email, Phone, SSN string }

func (p idPerson) contact() map[string]any {
	return map[string]any{"email": p.Email, "phoneNumber": p.Phone, "socialSecurity": p.SSN}
}

// idPassword is every registered person's password in these tests.
const idPassword = "correct horse battery"

// registration is register's input for p with code, fields overridden by over (nil deletes).
func (p idPerson) registration(code string, over map[string]any) map[string]any {
	in := map[string]any{
		"firstName": "Ana", "lastName": "López", "email": p.Email, "phoneNumber": p.Phone,
		"dateOfBirth": "1990-05-17", "socialSecurity": p.SSN, "address": "Calle Mayor 1", "city": "Madrid",
		"state": "Madrid", "postCode": "28013", "password": idPassword, "verificationCode": code,
	}
	for k, v := range over {
		if v == nil {
			delete(in, k)
		} else {
			in[k] = v
		}
	}
	return in
}

// idPreRegister pre-registers p and returns the code the outbox recorded for it.
func (s *idServer) idPreRegister(p idPerson) string {
	s.t.Helper()
	s.mustDo("", idPreRegisterMutation, map[string]any{"in": p.contact()}, nil)
	l := s.idOutboxTo(strings.ToLower(p.Email))
	if l.Channel != "email" {
		s.t.Fatalf("the verification code went by %s, want email", l.Channel)
	}
	return l.Code
}

// idRegister registers p end to end (code from the outbox) and returns the session token.
func (s *idServer) idRegister(p idPerson, username string) string {
	s.t.Helper()
	code := s.idPreRegister(p)
	over := map[string]any{}
	if username != "" {
		over["username"] = username
	}
	var out struct{ Register idAuth }
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code, over)}, &out)
	return out.Register.Token
}

// idOtherCode is a well-formed code that is not code.
func idOtherCode(code string, k int) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+k)%1_000_000)
}

// idWantValidIBAN asserts that s is a valid, normalized IBAN.
func idWantValidIBAN(t testing.TB, s string) {
	t.Helper()
	if norm, err := iban.Normalize(s); err != nil || norm != s {
		t.Errorf("IBAN %q: normalized %q, %v; want a valid normalized IBAN", s, norm, err)
	}
}

// ---- registration --------------------------------------------------------------------------

func TestRegister_codeBySMTP_createsUserCustomerAndEmptyMainAccount(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false)
	admin := s.admin()
	customersBefore := s.idCustomerCount(admin)
	p := idPerson{Email: "Ana.Lopez@Example.com", Phone: "+34600111222", SSN: "123-45-6789"}

	var pre struct{ PreRegister struct{ Ok bool } }
	s.mustDo("", idPreRegisterMutation, map[string]any{"in": p.contact()}, &pre)
	if !pre.PreRegister.Ok {
		t.Fatalf("preRegister = %+v, want ok", pre)
	}
	mails := s.mail.all()
	if len(mails) != 1 || mails[0].To != "ana.lopez@example.com" || mails[0].Subject != "Your e-mail verification code" {
		t.Fatalf("SMTP got %+v, want one verification e-mail to ana.lopez@example.com", mails)
	}
	code := idCodeIn(t, mails[0].Text)
	// The outbox records the same message in any mode.
	if l := s.idOutboxTo("ana.lopez@example.com"); l.Code != code || l.Channel != "email" || l.Subject != mails[0].Subject {
		t.Errorf("outbox line %+v, want the e-mailed code %s", l, code)
	}
	if s.idCustomerCount(admin) != customersBefore {
		t.Error("preRegister alone created a customer")
	}

	var out struct {
		Register struct {
			Token     string
			ExpiresAt time.Time
			User      struct {
				Username, Email, Phone, Role, Status, TwoFactor string
				Customer                                        struct {
					FirstName, LastName, DateOfBirth, Address, City, State, PostCode, SocialSecurityLast4 string
					Account                                                                               struct {
						IBAN, Number string
						Balance      struct{ Amount string }
					}
				}
			}
		}
	}
	start := time.Now()
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code, nil)}, &out)
	reg := out.Register
	u := reg.User
	if u.Username != "ana.lopez" || u.Email != "ana.lopez@example.com" || u.Phone != "+34600111222" ||
		u.Role != "CUSTOMER" || u.Status != "ACTIVE" || u.TwoFactor != "NONE" {
		t.Errorf("registered user = %+v, want ana.lopez (derived from the e-mail), CUSTOMER, ACTIVE, no second factor", u)
	}
	c := u.Customer
	if c.FirstName != "Ana" || c.LastName != "López" || c.DateOfBirth != "1990-05-17" || c.Address != "Calle Mayor 1" ||
		c.City != "Madrid" || c.State != "Madrid" || c.PostCode != "28013" || c.SocialSecurityLast4 != "6789" {
		t.Errorf("registered customer = %+v", c)
	}
	if reg.Token == "" || reg.ExpiresAt.Before(start) || reg.ExpiresAt.After(start.Add(12*time.Hour+time.Minute)) {
		t.Errorf("AuthPayload token %q expiresAt %v, want a token and an expiry within the session's max age", reg.Token, reg.ExpiresAt)
	}
	idWantValidIBAN(t, c.Account.IBAN)
	if c.Account.Balance.Amount != "0.00" || c.Account.Number == "" {
		t.Errorf("main account = %+v, want balance 0.00 and a number", c.Account)
	}

	// The session works, and so does a fresh login with the password, by username and by e-mail.
	for _, tok := range []string{reg.Token, s.login("ana.lopez", idPassword), s.login("ANA.LOPEZ@example.com", idPassword)} {
		me := s.idMe(tok)
		if me.Username != "ana.lopez" || me.Customer == nil || me.Customer.Account.IBAN != c.Account.IBAN ||
			me.Customer.Account.Balance.Amount != "0.00" {
			t.Errorf("me = %+v, want ana.lopez with IBAN %s and 0.00", me, c.Account.IBAN)
		}
	}
	if got := s.idCustomerCount(admin); got != customersBefore+1 {
		t.Errorf("customers = %d, want %d", got, customersBefore+1)
	}
	if n := len(s.mail.all()); n != 1 {
		t.Errorf("%d e-mails in all, want only the verification code", n)
	}

	// Another person with the same local part gets the next free derived username, one whose local
	// part looks like a taken username skips the look-alikes, and an e-mail whose local part is a
	// reserved name is refused (it would never derive "admin" either).
	eaWantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: "admin@example.net", Phone: "+34600111444", SSN: "Y7654321"}.contact()}),
		"BAD_USER_INPUT", "email")
	for _, tt := range []struct {
		p    idPerson
		want string
	}{
		{idPerson{Email: "ana.lopez@example.org", Phone: "+34600111333", SSN: "x1234567"}, "ana.lopez2"},
		{idPerson{Email: "ana.1opez@example.net", Phone: "+34600111444", SSN: "Y7654321"}, "ana.1opez3"},
	} {
		s.mustDo("", idPreRegisterMutation, map[string]any{"in": tt.p.contact()}, nil)
		mails := s.mail.to(tt.p.Email)
		if len(mails) != 1 {
			t.Fatalf("e-mails to %s: %+v", tt.p.Email, mails)
		}
		var out struct{ Register idAuth }
		s.mustDo("", idRegisterMutation, map[string]any{"in": tt.p.registration(idCodeIn(t, mails[0].Text), nil)}, &out)
		if out.Register.User.Username != tt.want {
			t.Errorf("%s registered as %q, want %q", tt.p.Email, out.Register.User.Username, tt.want)
		}
	}
}

func TestRegister_codeFromOutbox_chosenUsername(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	p := idPerson{Email: "bea@example.com", Phone: "+34600222333", SSN: "AB-1234-CD"}
	s.mustDo("", idPreRegisterMutation, map[string]any{"in": p.contact()}, nil)
	lines := idReadOutbox(t, s.Outbox)
	if len(lines) != 1 {
		t.Fatalf("outbox = %+v, want one line", lines)
	}
	l := lines[0]
	if l.Channel != "email" || l.To != "bea@example.com" || l.Subject != "Your e-mail verification code" ||
		!idSixDigits.MatchString(l.Code) || len(l.Code) != 6 || !strings.Contains(l.Text, "expires in 10 minutes") {
		t.Errorf("outbox line = %+v, want a 6-digit e-mail verification code that expires in 10 minutes", l)
	}
	var out struct{ Register idAuth }
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(l.Code, map[string]any{"username": "  Bea_Garcia "})}, &out)
	if out.Register.User.Username != "bea_garcia" {
		t.Errorf("username = %q, want the chosen one, normalized: bea_garcia", out.Register.User.Username)
	}
	tok := s.login("bea_garcia", idPassword)
	me := s.idMe(tok)
	if me.Username != "bea_garcia" || me.Customer == nil || me.Customer.Account.Balance.Amount != "0.00" {
		t.Fatalf("me = %+v", me)
	}
	idWantValidIBAN(t, me.Customer.Account.IBAN)
	if me2 := s.idMe(out.Register.Token); me2.Customer == nil || me2.Customer.Account.IBAN != me.Customer.Account.IBAN {
		t.Errorf("register's session sees %+v, the login's %+v", me2, me)
	}
	if n := len(idReadOutbox(t, s.Outbox)); n != 1 {
		t.Errorf("outbox has %d lines, want only the verification code", n)
	}
}

func TestPreRegister_refused_sendsNothing(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false)
	admin := s.admin()
	s.idNewCustomer(admin, "ann", "ann@example.com", "+34611000001")
	q := idPerson{Email: "quinn@example.com", Phone: "+34600333444", SSN: "QQ-1234-ZZ"}
	s.idRegister(q, "quinn")
	fresh := idPerson{Email: "fresh@example.com", Phone: "+34600999000", SSN: "FR-0000-01"}
	with := func(over map[string]any) map[string]any {
		in := fresh.contact()
		for k, v := range over {
			in[k] = v
		}
		return in
	}
	tests := []struct {
		name       string
		give       map[string]any
		wantCode   string
		wantFields []string
	}{
		{"malformed e-mail", with(map[string]any{"email": "not-an-email"}), "BAD_USER_INPUT", []string{"email"}},
		{"e-mail with a display name", with(map[string]any{"email": "Fresh <fresh@example.com>"}), "BAD_USER_INPUT", []string{"email"}},
		{"phone not E.164", with(map[string]any{"phoneNumber": "600 999 000"}), "BAD_USER_INPUT", []string{"phoneNumber"}},
		{"social security too short", with(map[string]any{"socialSecurity": "12"}), "BAD_USER_INPUT", []string{"socialSecurity"}},
		{"social security with spaces", with(map[string]any{"socialSecurity": "12 34 56"}), "BAD_USER_INPUT", []string{"socialSecurity"}},
		{"all three malformed", map[string]any{"email": "x", "phoneNumber": "y", "socialSecurity": "!"}, "BAD_USER_INPUT",
			[]string{"email", "phoneNumber", "socialSecurity"}},
		{"e-mail of a registered customer", with(map[string]any{"email": q.Email}), "CONFLICT", []string{"email"}},
		{"e-mail of a registered customer in capitals", with(map[string]any{"email": "QUINN@Example.COM"}), "CONFLICT", []string{"email"}},
		{"e-mail of an admin-made customer", with(map[string]any{"email": "ann@example.com"}), "CONFLICT", []string{"email"}},
		{"phone of a registered customer", with(map[string]any{"phoneNumber": q.Phone}), "CONFLICT", []string{"phoneNumber"}},
		{"phone of an admin-made customer", with(map[string]any{"phoneNumber": "+34611000001"}), "CONFLICT", []string{"phoneNumber"}},
		{"social security of a registered customer", with(map[string]any{"socialSecurity": q.SSN}), "CONFLICT", []string{"socialSecurity"}},
		{"social security in lower case", with(map[string]any{"socialSecurity": " qq-1234-zz "}), "CONFLICT", []string{"socialSecurity"}},
		{"all three taken", q.contact(), "CONFLICT", []string{"email", "phoneNumber", "socialSecurity"}},
	}
	customers := s.idCustomerCount(admin)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.on(t)
			before := s.idSentSoFar()
			eaWantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": tt.give}), tt.wantCode, tt.wantFields...)
			s.idWantNothingSent(before, "a refused preRegister")
		})
	}
	if got := s.idCustomerCount(admin); got != customers {
		t.Errorf("customers = %d after refused preRegisters, want %d", got, customers)
	}
	// The refusals left the fresh data free: it pre-registers and registers.
	before := s.idSentSoFar()
	s.idRegister(fresh, "")
	if after := s.idSentSoFar(); after.mail != before.mail+1 || after.outbox != before.outbox+1 {
		t.Errorf("a valid preRegister sent %+v (before %+v), want one e-mail and one outbox line", after, before)
	}
	s.login("fresh", idPassword)
}

func TestRegister_refused_createsNothingAndTheCodeStaysUsable(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	s.idNewCustomer(admin, "ann", "ann@example.com", "")
	q := idPerson{Email: "quinn@example.com", Phone: "+34600333444", SSN: "QQ-1234-ZZ"}
	s.idRegister(q, "quinn")
	p := idPerson{Email: "pedro.perez@example.com", Phone: "+34600444555", SSN: "PP-5555-01"}
	code := s.idPreRegister(p)
	customers := s.idCustomerCount(admin)

	tests := []struct {
		name       string
		give       map[string]any
		wantCode   string
		wantFields []string
	}{
		// One wrong code uses one of the five tries; the others are refused before the code is tried.
		{"wrong code", p.registration(idOtherCode(code, 1), nil), "INVALID_CODE", nil},
		{"another e-mail than pre-registered", p.registration(code, map[string]any{"email": "pedro@example.com"}), "INVALID_CODE", nil},
		{"another phone than pre-registered", p.registration(code, map[string]any{"phoneNumber": "+34600444556"}), "INVALID_CODE", nil},
		{"another social security than pre-registered", p.registration(code, map[string]any{"socialSecurity": "PP-5555-02"}), "INVALID_CODE", nil},
		{"institutional username admin", p.registration(code, map[string]any{"username": "admin"}), "FORBIDDEN", nil},
		{"institutional username Bank", p.registration(code, map[string]any{"username": "Bank"}), "FORBIDDEN", nil},
		{"taken username", p.registration(code, map[string]any{"username": "ann"}), "CONFLICT", []string{"username"}},
		{"taken username in capitals", p.registration(code, map[string]any{"username": "QUINN"}), "CONFLICT", []string{"username"}},
		{"e-mail of an admin-made customer", p.registration(code, map[string]any{"email": "ann@example.com"}), "CONFLICT", []string{"email"}},
		{"phone of another customer", p.registration(code, map[string]any{"phoneNumber": q.Phone}), "CONFLICT", []string{"phoneNumber"}},
		{"social security of another customer", p.registration(code, map[string]any{"socialSecurity": q.SSN}), "CONFLICT", []string{"socialSecurity"}},
		{"password too short", p.registration(code, map[string]any{"password": "short"}), "BAD_USER_INPUT", []string{"password"}},
		{"password too long", p.registration(code, map[string]any{"password": strings.Repeat("p", 129)}), "BAD_USER_INPUT", []string{"password"}},
		{"password is the username in another case", p.registration(code, map[string]any{"username": "pedro.perez.1", "password": "Pedro.Perez.1"}),
			"BAD_USER_INPUT", []string{"password"}},
		{"password is the e-mail", p.registration(code, map[string]any{"password": "Pedro.Perez@Example.com"}), "BAD_USER_INPUT", []string{"password"}},
		{"password is the derived username", p.registration(code, map[string]any{"password": "pedro.perez"}), "BAD_USER_INPUT", []string{"password"}},
		{"bad username", p.registration(code, map[string]any{"username": "x!"}), "BAD_USER_INPUT", []string{"username"}},
		{"date of birth in the future", p.registration(code, map[string]any{"dateOfBirth": time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}),
			"BAD_USER_INPUT", []string{"dateOfBirth"}},
		{"several fields at once", p.registration("", map[string]any{"firstName": " ", "city": "", "password": "short"}), "BAD_USER_INPUT",
			[]string{"firstName", "city", "password", "verificationCode"}},
		{"malformed e-mail", p.registration(code, map[string]any{"email": "pedro"}), "BAD_USER_INPUT", []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.on(t)
			r := s.do("", idRegisterMutation, map[string]any{"in": tt.give})
			eaWantError(t, r, tt.wantCode, tt.wantFields...)
			if strings.Contains(string(r.Data), "token") {
				t.Errorf("a refused register returned a session: %s", r.Data)
			}
			if got := s.idCustomerCount(admin); got != customers {
				t.Errorf("customers = %d, want %d", got, customers)
			}
		})
	}
	// Nobody can log in as what the refused registrations named.
	for _, login := range []string{"pedro.perez", "pedro.perez@example.com", "pedro.perez.1"} {
		s.idWantLoginRefused(login, idPassword, "UNAUTHENTICATED")
	}
	// ann and quinn are as they were.
	s.login("ann", "ann-password")
	s.login("quinn", idPassword)

	// The code survived every refusal (one wrong try of five used) and registers now.
	var out struct{ Register idAuth }
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code, nil)}, &out)
	if out.Register.User.Username != "pedro.perez" {
		t.Errorf("registered as %q, want pedro.perez", out.Register.User.Username)
	}
	s.login("pedro.perez", idPassword)
	if got := s.idCustomerCount(admin); got != customers+1 {
		t.Errorf("customers = %d, want %d", got, customers+1)
	}
	// Registered data is taken now, for register and preRegister alike.
	eaWantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(code, map[string]any{"username": "pedro2"})}),
		"CONFLICT", "email", "phoneNumber", "socialSecurity")
	before := s.idSentSoFar()
	eaWantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": p.contact()}), "CONFLICT", "email", "phoneNumber", "socialSecurity")
	s.idWantNothingSent(before, "preRegister of registered data")
}

func TestRegister_fiveWrongCodes_killTheCodeUntilANewPreRegister(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	p := idPerson{Email: "rosa@example.com", Phone: "+34600555666", SSN: "RS-0001"}
	code := s.idPreRegister(p)
	for i := 1; i <= 5; i++ {
		eaWantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(idOtherCode(code, i), nil)}), "INVALID_CODE")
	}
	eaWantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(code, nil)}), "INVALID_CODE")
	if n := s.idCustomerCount(admin); n != 0 {
		t.Errorf("customers = %d, want 0", n)
	}
	s.idWantLoginRefused("rosa", idPassword, "UNAUTHENTICATED")
	// A new preRegister sends a new code, which works.
	code2 := s.idPreRegister(p)
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code2, nil)}, nil)
	s.login("rosa", idPassword)
}

// ---- self-registration ---------------------------------------------------------------------

// idAccountNumber is the viewer's main account number and IBAN.
func (s *idServer) idAccountNumber(token string) (number, ibanStr string) {
	s.t.Helper()
	me := s.idMe(token)
	if me.Customer == nil || me.Customer.Account.Number == "" {
		s.t.Fatalf("me = %+v, want a customer with an account number", me)
	}
	return me.Customer.Account.Number, me.Customer.Account.IBAN
}

// idNumberOf is a customer's main account number and IBAN as the admin sees them: read this
// way, the customer's online access stays unused (selfRegister needs that).
func (s *idServer) idNumberOf(admin, username string) (number, ibanStr string) {
	s.t.Helper()
	var out struct {
		Customers struct {
			Edges []struct {
				Node struct {
					User    struct{ Username string }
					Account struct{ Number, IBAN string }
				}
			}
		}
	}
	s.mustDo(admin, `{ customers(first: 100) { edges { node { user { username } account { number iban } } } } }`, nil, &out)
	for _, e := range out.Customers.Edges {
		if e.Node.User.Username == username {
			return e.Node.Account.Number, e.Node.Account.IBAN
		}
	}
	s.t.Fatalf("no customer %q", username)
	return "", ""
}

func (s *idServer) idSelfRegister(in map[string]any) gqlResponse {
	s.t.Helper()
	return s.do("", idSelfRegisterMutation, map[string]any{"in": in})
}

func idRequestID(t testing.TB, r gqlResponse) string {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("selfRegister: %+v", r.Errors)
	}
	var out struct{ SelfRegister struct{ RequestID string } }
	if err := json.Unmarshal(r.Data, &out); err != nil || out.SelfRegister.RequestID == "" {
		t.Fatalf("selfRegister = %s, want a requestId", r.Data)
	}
	return out.SelfRegister.RequestID
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
	eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "INVALID_CODE")
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

var idRequestIDShape = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

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

	req := func(number, mode, email, mobile string) map[string]any {
		in := map[string]any{"accountNumber": number, "authenticationMode": mode, "username": "eve.online", "password": "eve-new-password"}
		if email != "" {
			in["email"] = email
		}
		if mobile != "" {
			in["mobileNumber"] = mobile
		}
		return in
	}
	unmatched := []struct {
		name string
		give map[string]any
	}{
		{"unknown account number", req("0000000000", "EMAIL", "eve@example.com", "")},
		{"eve's number with fay's e-mail", req(eveNumber, "EMAIL", "fay@example.com", "")},
		{"fay's number with eve's e-mail", req(fayNumber, "EMAIL", "eve@example.com", "")},
		{"eve's number with another mobile", req(eveNumber, "MOBILE", "", "+34633000004")},
		{"eve's e-mail given in MOBILE mode", req(eveNumber, "MOBILE", "eve@example.com", "+34633999999")},
		{"gil's number by MOBILE, gil has no phone", req(gilNumber, "MOBILE", "", "+34633000005")},
		{"eve's IBAN instead of the number", req(eveIBAN, "EMAIL", "eve@example.com", "")},
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
			eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": "000000"}), "INVALID_CODE")
		})
	}

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
			eaWantError(t, s.idSelfRegister(tt.give), tt.wantCode, tt.wantFields...)
			s.idWantNothingSent(before, "a refused selfRegister")
		})
	}
	// Eve's login is untouched by all of the above.
	s.idWantLoginRefused("eve.online", "eve-new-password", "UNAUTHENTICATED")

	// A matching request answers with the same shape; a wrong code changes nothing, the right one works.
	before := s.idSentSoFar()
	id := idRequestID(t, s.idSelfRegister(req(eveNumber, "EMAIL", "eve@example.com", "")))
	if !idRequestIDShape.MatchString(id) {
		t.Errorf("a matching requestId %q is shaped differently", id)
	}
	s.idAwaitSent(before)
	code := idCodeIn(t, s.mail.to("eve@example.com")[0].Text)
	eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": idOtherCode(code, 1)}), "INVALID_CODE")
	s.mustDo("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}, nil)
	s.login("eve.online", "eve-new-password")

	// A username taken between the request and its confirmation: CONFLICT, fay keeps her login.
	before = s.idSentSoFar()
	id = idRequestID(t, s.idSelfRegister(map[string]any{"accountNumber": fayNumber, "authenticationMode": "MOBILE",
		"mobileNumber": "+34633000004", "username": "hal", "password": "fay-new-password"}))
	s.idAwaitSent(before)
	code = idCodeIn(t, s.sms.to("+34633000004")[0].Text)
	s.idNewCustomer(admin, "hal", "", "")
	eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": id, "code": code}), "CONFLICT", "username")
	s.login("fay", "fay-password")
	s.login("hal", "hal-password")
}

// ---- two-step login ------------------------------------------------------------------------

func TestLogin_emailSecondFactor_codeBySMTP(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false)
	admin := s.admin()
	s.idNewCustomer(admin, "hana", "hana@example.com", "")
	s.mint(admin, "hana", "12.5")
	tok := s.login("hana", "hana-password")
	eaWantError(t, s.do("", idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}), "UNAUTHENTICATED")
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
	eaWantError(t, r, "INVALID_CODE")
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
	eaWantError(t, r, "INVALID_CODE")
	// A code is bound to its challenge.
	if firstCode != secondCode {
		r, _ = s.idConfirmLogin(second, firstCode)
		eaWantError(t, r, "INVALID_CODE")
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
	eaWantError(t, s.do(jane, idSetTwoFactorMutation, map[string]any{"m": "SMS"}), "PRECONDITION_FAILED")
	if me := s.idMe(jane); me.TwoFactor != "NONE" {
		t.Errorf("jane's second factor = %s after a refused setTwoFactor, want NONE", me.TwoFactor)
	}
	s.login("jane", "jane-password")
	// Nor EMAIL without an e-mail address.
	s.idNewCustomer(admin, "kai", "", "+34644000002")
	kai := s.login("kai", "kai-password")
	eaWantError(t, s.do(kai, idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}), "PRECONDITION_FAILED")
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
		eaWantError(t, r, "INVALID_CODE")
		if len(r.Errors) > 0 {
			messages = append(messages, r.Errors[0].Message)
		}
	}
	r, tok := s.idConfirmLogin(ch, code)
	eaWantError(t, r, "INVALID_CODE")
	if tok != "" {
		t.Fatal("the right code logged in after five wrong ones")
	}
	if len(r.Errors) > 0 {
		messages = append(messages, r.Errors[0].Message)
	}
	// An unknown challenge answers alike.
	r, _ = s.idConfirmLogin("no-such-challenge", code)
	eaWantError(t, r, "INVALID_CODE")
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
	eaWantError(t, r, "INVALID_CODE")
	if second != "" {
		t.Fatal("a used code logged in twice")
	}
	if s.idMe(first).Username != "lea" {
		t.Error("the first confirmation's session does not work")
	}
}

func TestCodes_expired_refusedEverywhere(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false, "CODE_TTL=2s")
	admin := s.admin()
	s.idNewCustomer(admin, "max", "max@example.com", "")
	s.idNewCustomer(admin, "mia", "mia@example.com", "") // never logs in: may self-register
	maxToken := s.login("max", "max-password")
	number, _ := s.idNumberOf(admin, "mia")
	s.mustDo(maxToken, idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)

	p := idPerson{Email: "nora@example.com", Phone: "+34655000001", SSN: "NR-0001"}
	regCode := s.idPreRegister(p)
	if l := s.idOutboxTo("nora@example.com"); !strings.Contains(l.Text, "expires in 2 seconds") {
		t.Errorf("the message does not say the code's lifetime: %q", l.Text)
	}
	ch := s.idChallenge("max", "max-password")
	loginCode := s.idOutboxTo("max@example.com").Code
	before := s.idSentSoFar()
	req := idRequestID(t, s.idSelfRegister(map[string]any{"accountNumber": number, "authenticationMode": "EMAIL",
		"email": "mia@example.com", "username": "mia.online", "password": "mia-new-password"}))
	s.idAwaitSent(before)
	selfCode := s.idOutboxTo("mia@example.com").Code
	time.Sleep(3 * time.Second)

	eaWantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(regCode, nil)}), "INVALID_CODE")
	r, tok := s.idConfirmLogin(ch, loginCode)
	eaWantError(t, r, "INVALID_CODE")
	if tok != "" {
		t.Error("an expired login code logged in")
	}
	eaWantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": req, "code": selfCode}), "INVALID_CODE")

	// Nothing happened: nora is no customer, mia keeps her login.
	if n := s.idCustomerCount(admin); n != 2 {
		t.Errorf("customers = %d, want only max and mia", n)
	}
	s.idWantLoginRefused("mia.online", "mia-new-password", "UNAUTHENTICATED")
	// Fresh codes work at once.
	ch = s.idChallenge("max", "max-password")
	if _, tok := s.idConfirmLogin(ch, s.idOutboxTo("max@example.com").Code); tok == "" {
		t.Error("a fresh login code did not work")
	}
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(s.idPreRegister(p), nil)}, nil)
}

// ---- password reset ------------------------------------------------------------------------

var idResetTokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{22}\.[0-9]{6}$`)

func TestResetPassword_tokenFromOutbox_setsPasswordAndEndsEverySession(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	p := idPerson{Email: "olga@example.com", Phone: "+34666000001", SSN: "OL-0001"}
	registered := s.idRegister(p, "olga")
	s.mint(admin, "olga", "40")
	loggedIn := s.login("olga", idPassword)
	// Failed logins up to a temporary lockout: the reset lifts it.
	for i := 0; i < 5; i++ {
		s.do("", idLoginMutation, map[string]any{"l": "olga", "p": "wrong-password"})
	}
	s.idWantLoginRefused("olga", idPassword, "ACCOUNT_LOCKED")

	before := s.idSentSoFar()
	s.mustDo("", idRequestResetMutation, map[string]any{"in": map[string]any{
		"email": "OLGA@example.com", "phoneNumber": p.Phone, "socialSecurity": "ol-0001"}}, nil)
	if after := s.idAwaitSent(before); after.outbox != before.outbox+1 {
		t.Fatalf("requestPasswordReset with matching data wrote %d outbox lines, want 1", after.outbox-before.outbox)
	}
	l := s.idOutboxTo("olga@example.com")
	if l.Subject != "Your password reset token" || !idResetTokenShape.MatchString(l.Code) {
		t.Fatalf("reset line = %+v, want a reset token", l)
	}
	token := l.Code

	// Bad tokens, and a weak password that does not use the token up.
	for _, bad := range []string{"", "garbage", token[:len(token)-6] + idOtherCode(token[len(token)-6:], 1), "AAAAAAAAAAAAAAAAAAAAAA." + token[len(token)-6:]} {
		r := s.do("", idResetPasswordMutation, map[string]any{"t": bad, "p": "olga-new-password"})
		eaWantError(t, r, "INVALID_CODE")
	}
	for _, weak := range []string{"short", "OLGA", "olga@example.com"} {
		eaWantError(t, s.do("", idResetPasswordMutation, map[string]any{"t": token, "p": weak}), "BAD_USER_INPUT", "newPassword")
	}
	// Nothing changed yet: the sessions live, the new password does not log in.
	s.idMe(registered)
	s.idMe(loggedIn)

	var out struct{ ResetPassword bool }
	s.mustDo("", idResetPasswordMutation, map[string]any{"t": token, "p": "olga-new-password"}, &out)
	if !out.ResetPassword {
		t.Fatal("resetPassword = false")
	}
	s.idWantNoSession(registered, "register's session after a reset")
	s.idWantNoSession(loggedIn, "a login session after a reset")
	eaWantError(t, s.do("", idResetPasswordMutation, map[string]any{"t": token, "p": "olga-third-password"}), "INVALID_CODE")
	s.idWantLoginRefused("olga", idPassword, "UNAUTHENTICATED")
	s.idWantLoginRefused("olga", "olga-third-password", "UNAUTHENTICATED")
	me := s.idMe(s.login("olga", "olga-new-password"))
	if me.Username != "olga" || me.Customer == nil || me.Customer.Account.Balance.Amount != "40.00" {
		t.Errorf("me = %+v, want olga with 40.00", me)
	}
	idWantValidIBAN(t, me.Customer.Account.IBAN)
	s.login("olga@example.com", "olga-new-password")
}

func TestRequestPasswordReset_sameAnswerWhetherOrNotDataMatch(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false)
	admin := s.admin()
	p := idPerson{Email: "pia@example.com", Phone: "+34677000001", SSN: "PI-0001"}
	s.idRegister(p, "pia")
	s.idNewCustomer(admin, "ron", "ron@example.com", "+34677000002") // admin-made: no social security number
	d := idPerson{Email: "dee@example.com", Phone: "+34677000003", SSN: "DE-0001"}
	s.idRegister(d, "dee")
	s.mustDo(admin, idSetUserStatusMutation, map[string]any{"u": "dee", "s": "DISABLED"}, nil)
	tests := []struct {
		name      string
		give      map[string]any
		wantToken bool
	}{
		{"all three match", p.contact(), true},
		{"unknown e-mail", idPerson{Email: "nobody@example.com", Phone: p.Phone, SSN: p.SSN}.contact(), false},
		{"another phone", idPerson{Email: p.Email, Phone: "+34677000009", SSN: p.SSN}.contact(), false},
		{"another social security number", idPerson{Email: p.Email, Phone: p.Phone, SSN: "PI-0002"}.contact(), false},
		{"an admin-made customer", idPerson{Email: "ron@example.com", Phone: "+34677000002", SSN: "RO-0001"}.contact(), false},
		{"nobody at all", idPerson{Email: "x@example.org", Phone: "+15550000000", SSN: "0000"}.contact(), false},
		{"a disabled customer", d.contact(), false},
	}
	var want []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.on(t)
			before := s.idSentSoFar()
			status, body := s.idRaw("", idRequestResetMutation, map[string]any{"in": tt.give})
			if status != http.StatusOK {
				t.Errorf("status %d", status)
			}
			if want == nil {
				want = body
				if string(bytes.TrimSpace(body)) != `{"data":{"requestPasswordReset":{"ok":true}}}` {
					t.Errorf("body = %s", body)
				}
			} else if !bytes.Equal(body, want) {
				t.Errorf("body = %s, want exactly %s", body, want)
			}
			var after idSent
			if tt.wantToken {
				after = s.idAwaitSent(before)
			} else {
				time.Sleep(200 * time.Millisecond)
				after = s.idSentSoFar()
			}
			if sent := after != before; sent != tt.wantToken {
				t.Errorf("sent = %v (before %+v, after %+v), want %v", sent, before, after, tt.wantToken)
			}
		})
	}
	eaWantError(t, s.do("", idRequestResetMutation, map[string]any{"in": map[string]any{"email": "x", "phoneNumber": "y", "socialSecurity": "!"}}),
		"BAD_USER_INPUT", "email", "phoneNumber", "socialSecurity")
	// The requests changed no password.
	s.login("pia", idPassword)
	s.login("ron", "ron-password")
}

// ---- enumeration ---------------------------------------------------------------------------

func TestChangePassword_customerNamingOthers_forbiddenIdenticallyWhetherTheyExistOrNot(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.customer(admin, "ben")
	change := func(username string) map[string]any {
		return map[string]any{"in": map[string]any{"username": username, "newPassword": "stolen-password",
			"confirmPassword": "stolen-password", "currentPassword": "ann-password"}}
	}
	_, existing := s.idRaw(ann, idChangePasswordMutation, change("ben"))
	_, missing := s.idRaw(ann, idChangePasswordMutation, change("nobody"))
	_, admins := s.idRaw(ann, idChangePasswordMutation, change("admin"))
	eaWantError(t, idDecodeRaw(t, existing), "FORBIDDEN")
	if !bytes.Equal(existing, missing) || !bytes.Equal(existing, admins) {
		t.Errorf("answers differ:\nexisting: %s\nmissing:  %s\nadmin:    %s", existing, missing, admins)
	}
	s.idWantLoginRefused("ben", "stolen-password", "UNAUTHENTICATED")
	s.login("ben", "ben-password")
	s.login("ann", "ann-password")
	s.admin()
}

// idMedian is the median of d (sorted in place).
func idMedian(d []time.Duration) time.Duration {
	slices.Sort(d)
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
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
				eaWantError(t, r, "UNAUTHENTICATED")
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
			eaWantError(t, r, "UNAUTHENTICATED")
		}
		r, p := s.idLoginStep(login, "tom-password")
		eaWantError(t, r, "ACCOUNT_LOCKED")
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

// ---- sessions ------------------------------------------------------------------------------

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
	eaWantError(t, s.do("", `mutation { logout }`, nil), "UNAUTHENTICATED")
	var out struct{ Logout bool }
	s.mustDo(a, `mutation { logout }`, nil, &out)
	if !out.Logout {
		t.Error("logout = false")
	}
	s.idWantNoSession(a, "the logged-out session")
	eaWantError(t, s.do(a, `mutation { logout }`, nil), "UNAUTHENTICATED")
	if s.idMe(b).Username != "wes" {
		t.Error("the other session ended too")
	}
	s.idMe(admin)
}

// ---- user administration -------------------------------------------------------------------

func TestSetUserStatus_lockDisableUnlock_takeEffectAtOnce(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	s.idNewCustomer(admin, "xena", "xena@example.com", "")
	s.idNewCustomer(admin, "yuri", "yuri@example.com", "")
	yuri := s.login("yuri", "yuri-password")
	x1 := s.login("xena", "xena-password")
	x2 := s.login("xena", "xena-password")
	s.mustDo(x2, idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
	pending := s.idChallenge("xena", "xena-password")
	pendingCode := s.idOutboxTo("xena@example.com").Code

	set := func(token, username, status string) gqlResponse {
		return s.do(token, idSetUserStatusMutation, map[string]any{"u": username, "s": status})
	}
	var out struct {
		SetUserStatus struct{ Username, Status string }
	}
	s.mustDo(admin, idSetUserStatusMutation, map[string]any{"u": "XENA", "s": "LOCKED"}, &out)
	if out.SetUserStatus.Username != "xena" || out.SetUserStatus.Status != "LOCKED" {
		t.Errorf("setUserStatus = %+v", out)
	}
	s.idWantNoSession(x1, "a session of a locked user")
	s.idWantNoSession(x2, "another session of a locked user")
	s.idWantLoginRefused("xena", "xena-password", "ACCOUNT_LOCKED")
	r, tok := s.idConfirmLogin(pending, pendingCode)
	eaWantError(t, r, "ACCOUNT_LOCKED")
	if tok != "" {
		t.Error("a challenge started before the lock logged in")
	}

	s.mustDo(admin, idSetUserStatusMutation, map[string]any{"u": "xena", "s": "ACTIVE"}, &out)
	if out.SetUserStatus.Status != "ACTIVE" {
		t.Errorf("status = %s, want ACTIVE", out.SetUserStatus.Status)
	}
	s.idWantNoSession(x1, "a session ended by the lock, after the unlock")
	ch := s.idChallenge("xena", "xena-password")
	_, x3 := s.idConfirmLogin(ch, s.idOutboxTo("xena@example.com").Code)
	s.idMe(x3)

	s.mustDo(admin, idSetUserStatusMutation, map[string]any{"u": "xena", "s": "DISABLED"}, &out)
	s.idWantNoSession(x3, "a session of a disabled user")
	s.idWantLoginRefused("xena", "xena-password", "ACCOUNT_DISABLED")
	s.idWantLoginRefused("xena", "wrong-password", "UNAUTHENTICATED")
	if st := s.idStatuses(admin); st["xena"] != "DISABLED" || st["yuri"] != "ACTIVE" {
		t.Errorf("statuses = %v", st)
	}

	s.mustDo(admin, idCreateUserMutation, map[string]any{"in": map[string]any{"username": "root2", "password": "root2-password", "role": "ADMIN"}}, nil)
	root2 := s.login("root2", "root2-password")
	tests := []struct {
		name, token, username, status, wantCode string
		wantFields                              []string
	}{
		{"unauthenticated", "", "yuri", "LOCKED", "UNAUTHENTICATED", nil},
		{"by a customer", yuri, "xena", "ACTIVE", "FORBIDDEN", nil},
		{"a customer on themself", yuri, "yuri", "DISABLED", "FORBIDDEN", nil},
		{"institutional admin", root2, "admin", "LOCKED", "FORBIDDEN", nil},
		{"institutional bank", admin, "bank", "DISABLED", "FORBIDDEN", nil},
		{"an admin on themself", root2, "root2", "LOCKED", "FORBIDDEN", nil},
		{"unknown user", admin, "nobody", "LOCKED", "NOT_FOUND", nil},
		{"PENDING", admin, "yuri", "PENDING", "BAD_USER_INPUT", []string{"status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eaWantError(t, set(tt.token, tt.username, tt.status), tt.wantCode, tt.wantFields...)
		})
	}
	// Nothing changed: xena still disabled, yuri and both admins active with their sessions.
	if st := s.idStatuses(admin); st["xena"] != "DISABLED" || st["yuri"] != "ACTIVE" {
		t.Errorf("statuses = %v after refusals", st)
	}
	s.idMe(yuri)
	s.idMe(root2)
	s.idMe(admin)
	s.idWantLoginRefused("xena", "xena-password", "ACCOUNT_DISABLED")
}

func TestCreateUser_staffAndAdmins_logInRefusalsCreateNothing(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	cust := s.customer(admin, "zoe")

	var out struct {
		CreateUser struct {
			Username, Email, Phone, Role, Status string
			Customer                             *struct{ ID string }
		}
	}
	s.mustDo(admin, idCreateUserMutation, map[string]any{"in": map[string]any{"username": "Clerk", "password": "clerk-password",
		"email": "clerk@example.com", "phone": "+34688000001", "role": "STAFF"}}, &out)
	if u := out.CreateUser; u.Username != "clerk" || u.Role != "STAFF" || u.Status != "ACTIVE" || u.Customer != nil ||
		u.Email != "clerk@example.com" || u.Phone != "+34688000001" {
		t.Errorf("createUser STAFF = %+v", u)
	}
	s.mustDo(admin, idCreateUserMutation, map[string]any{"in": map[string]any{"username": "boss", "password": "boss-password", "role": "ADMIN"}}, &out)
	if out.CreateUser.Role != "ADMIN" {
		t.Errorf("createUser ADMIN = %+v", out.CreateUser)
	}
	clerk := s.login("clerk", "clerk-password")
	boss := s.login("boss", "boss-password")
	if me := s.idMe(clerk); me.Username != "clerk" || me.Customer != nil {
		t.Errorf("clerk's me = %+v", me)
	}
	// The new admin administers; the clerk does not.
	s.idCustomerCount(boss)
	eaWantError(t, s.do(clerk, `{ customers(first: 1) { totalCount } }`, nil), "FORBIDDEN")

	valid := func(over map[string]any) map[string]any {
		in := map[string]any{"username": "newbie", "password": "newbie-password", "email": "newbie@example.com", "role": "STAFF"}
		for k, v := range over {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	tests := []struct {
		name, token, wantCode string
		give                  map[string]any
		wantFields            []string
	}{
		{"unauthenticated", "", "UNAUTHENTICATED", valid(nil), nil},
		{"by a customer", cust, "FORBIDDEN", valid(nil), nil},
		{"by staff", clerk, "FORBIDDEN", valid(nil), nil},
		{"role CUSTOMER", admin, "BAD_USER_INPUT", valid(map[string]any{"role": "CUSTOMER"}), []string{"role"}},
		{"institutional username", admin, "FORBIDDEN", valid(map[string]any{"username": "bank"}), nil},
		{"taken username", admin, "CONFLICT", valid(map[string]any{"username": "zoe"}), []string{"username"}},
		{"taken e-mail", admin, "CONFLICT", valid(map[string]any{"email": "ZOE@example.com"}), []string{"email"}},
		{"taken phone", admin, "CONFLICT", valid(map[string]any{"phone": "+34688000001"}), []string{"phone"}},
		{"password too short", admin, "BAD_USER_INPUT", valid(map[string]any{"password": "short"}), []string{"password"}},
		{"password is the username", admin, "BAD_USER_INPUT", valid(map[string]any{"username": "newbie-user", "password": "NEWBIE-USER"}), []string{"password"}},
		{"bad username, e-mail and phone", admin, "BAD_USER_INPUT", valid(map[string]any{"username": "-x", "email": "nope", "phone": "12"}),
			[]string{"username", "email", "phone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.on(t)
			eaWantError(t, s.do(tt.token, idCreateUserMutation, tt.give), tt.wantCode, tt.wantFields...)
			in := tt.give["in"].(map[string]any)
			if u := in["username"].(string); u != "zoe" && u != "bank" {
				s.idWantNoLogin(u, in["password"].(string))
			}
		})
	}
	s.login("zoe", "zoe-password")
}

func TestCleanupUnverifiedUsers_keepsFreshRegistrations(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	cust := s.customer(admin, "abe")
	p := idPerson{Email: "bo@example.com", Phone: "+34699000001", SSN: "BO-0001"}
	code := s.idPreRegister(p)
	var out struct{ CleanupUnverifiedUsers int }
	s.mustDo(admin, idCleanupMutation, nil, &out)
	if out.CleanupUnverifiedUsers != 0 {
		t.Errorf("cleanupUnverifiedUsers = %d right after a preRegister, want 0", out.CleanupUnverifiedUsers)
	}
	eaWantError(t, s.do(cust, idCleanupMutation, nil), "FORBIDDEN")
	eaWantError(t, s.do("", idCleanupMutation, nil), "UNAUTHENTICATED")
	// The fresh registration survived the clean-up.
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code, nil)}, nil)
	s.login("bo0", idPassword) // "bo" is too short for a username: padded
	s.login("abe", "abe-password")
}

// ---- rate limits ---------------------------------------------------------------------------

// idClientFrom is an HTTP client whose connections come from the local address ip.
func idClientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
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
	eaWantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: "dan@example.com", Phone: "+34600000011", SSN: "DA-0001"}.contact()}),
		"TOO_MANY_REQUESTS")
	_, body := idRawWith(t, http.DefaultClient, s.URL, "", idLoginMutation, map[string]any{"l": "cleo", "p": "cleo-password"},
		map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"})
	eaWantError(t, idDecodeRaw(t, body), "TOO_MANY_REQUESTS")
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

func TestAuthRateLimit_perAccount_fourthPreRegisterForTheSameEmailRefused(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false, "AUTH_ACCOUNT_RATE_LIMIT=3")
	admin := s.admin()
	p := idPerson{Email: "ela@example.com", Phone: "+34600000021", SSN: "EL-0001"}
	var codes []string
	for i := 0; i < 3; i++ {
		codes = append(codes, s.idPreRegister(p))
	}
	before := s.idSentSoFar()
	eaWantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": p.contact()}), "TOO_MANY_REQUESTS")
	eaWantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: " ELA@Example.com", Phone: p.Phone, SSN: p.SSN}.contact()}),
		"TOO_MANY_REQUESTS")
	s.idWantNothingSent(before, "a rate-limited preRegister")
	// Another e-mail is another account.
	s.idPreRegister(idPerson{Email: "fin@example.com", Phone: "+34600000022", SSN: "FI-0001"})
	// Each preRegister superseded the one before: only the last code registers.
	if codes[0] != codes[2] {
		eaWantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(codes[0], nil)}), "INVALID_CODE")
	}
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(codes[2], nil)}, nil)

	// Logins are limited per account too, whether the account is named by username or e-mail:
	// the fourth for ela is refused, even with the password.
	s.login("ela", idPassword)
	s.login("ELA@example.com", idPassword)
	s.login("ela", idPassword)
	s.idWantLoginRefused("ela@example.com", idPassword, "TOO_MANY_REQUESTS")
	s.idWantLoginRefused("ela", idPassword, "TOO_MANY_REQUESTS")
	s.admin()
	if n := s.idCustomerCount(admin); n != 1 {
		t.Errorf("customers = %d, want 1", n)
	}
}

// ---- failed delivery -----------------------------------------------------------------------

// idClosedPort returns a local address nothing listens on.
func idClosedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestPreRegister_smtpUnreachable_internalErrorAndNoUsableCode(t *testing.T) {
	t.Parallel()
	smtpAddr := idClosedPort(t)
	s := idStart(t, false, false, "SMTP_URL=smtp://"+smtpAddr)
	admin := s.admin()
	p := idPerson{Email: "gus@example.com", Phone: "+34600000031", SSN: "GU-0001"}
	r := s.do("", idPreRegisterMutation, map[string]any{"in": p.contact()})
	eaWantError(t, r, "INTERNAL")
	if len(r.Errors) > 0 {
		msg := strings.ToLower(r.Errors[0].Message)
		_, port, _ := net.SplitHostPort(smtpAddr)
		for _, leak := range []string{"smtp", "dial", "refused", "127.0.0.1", port} {
			if strings.Contains(msg, leak) {
				t.Errorf("INTERNAL message %q leaks %q", r.Errors[0].Message, leak)
			}
		}
	}
	// The outbox line was written before the transport failed; its code is dead all the same.
	var codes []string
	for _, l := range idReadOutbox(t, s.Outbox) {
		if l.To == p.Email {
			codes = append(codes, l.Code)
		}
	}
	codes = append(codes, "000000", "123456")
	for _, c := range codes {
		eaWantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(c, nil)}), "INVALID_CODE")
	}
	if n := s.idCustomerCount(admin); n != 0 {
		t.Errorf("customers = %d, want 0", n)
	}
	s.idWantLoginRefused("gus", idPassword, "UNAUTHENTICATED")

	// A login whose second factor cannot be delivered fails too, and starts no session.
	s.idNewCustomer(admin, "hugo", "hugo@example.com", "")
	s.mustDo(s.login("hugo", "hugo-password"), idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
	r, lp := s.idLoginStep("hugo", "hugo-password")
	eaWantError(t, r, "INTERNAL")
	if lp.ChallengeID != nil || lp.Auth != nil {
		t.Errorf("a login with an undeliverable code returned %+v", lp)
	}
}
