package main

// Helpers of the identity tests (identity_*_test.go): a server with an SMTP server and an SMS
// webhook (idStart), the identity operations, and reads of the state a refusal must leave alone.
// Codes are read where a person would find them: a real SMTP server, an SMS webhook, or the
// outbox file (mailbox_helpers_test.go). Helpers carry the prefix "id".

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
	c := *s
	c.testServer = onT(t, s.testServer)
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

var idRequestIDShape = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// ---- two-step login ------------------------------------------------------------------------

// ---- password reset ------------------------------------------------------------------------

var idResetTokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{22}\.[0-9]{6}$`)

// ---- enumeration ---------------------------------------------------------------------------

// idMedian is the median of d (sorted in place).
func idMedian(d []time.Duration) time.Duration {
	slices.Sort(d)
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

// ---- sessions ------------------------------------------------------------------------------

// ---- user administration -------------------------------------------------------------------

// ---- rate limits ---------------------------------------------------------------------------

// idClientFrom is an HTTP client whose connections come from the local address ip.
func idClientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
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

// crLastCode is the last code the outbox holds for address to.
func crLastCode(t *testing.T, s *testServer, to string) string {
	t.Helper()
	lines := idReadOutbox(t, s.Outbox)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].To == to {
			return lines[i].Code
		}
	}
	t.Fatalf("no code sent to %s", to)
	return ""
}

// crCreate creates a customer with contact data through the wire, without logging in.
func crCreate(s *testServer, admin, username, name, email, phone string) {
	s.t.Helper()
	s.mustDo(admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": username, "password": username + "-password",
			"name": name, "email": email, "phone": phone}}, nil)
}

type crCustomer struct {
	Name, Email, Phone, CashoutAddress string
	User                               struct{ Username string }
	Account                            struct{ Iban string }
}

const crCustomerFields = `name email phone cashoutAddress user { username } account { iban }`

func crLookUp(t *testing.T, s *testServer, admin, username string) crCustomer {
	t.Helper()
	var out struct{ Customer crCustomer }
	s.mustDo(admin, `query($u: String!) { customer(username: $u) { `+crCustomerFields+` } }`, map[string]any{"u": username}, &out)
	return out.Customer
}

func crSearch(t *testing.T, s *testServer, admin, text string) (int, []string) {
	t.Helper()
	var out struct {
		Customers struct {
			TotalCount int
			Edges      []struct{ Node crCustomer }
		}
	}
	s.mustDo(admin, `query($s: String) { customers(first: 10, search: $s) { totalCount edges { node { user { username } } } } }`,
		map[string]any{"s": text}, &out)
	var names []string
	for _, e := range out.Customers.Edges {
		names = append(names, e.Node.User.Username)
	}
	slices.Sort(names)
	return out.Customers.TotalCount, names
}

const crUpdate = `mutation($in: UpdateCustomerInput!) { updateCustomer(input: $in) { challengeId customer { ` + crCustomerFields + ` } } }`

type crUpdatePayload struct {
	UpdateCustomer struct {
		ChallengeID *string
		Customer    *crCustomer
	}
}

// idOnStores runs body once per store, in parallel, on an outbox-only server.
func idOnStores(t *testing.T, body func(t *testing.T, s *idServer)) {
	t.Helper()
	onStores(t, func(t *testing.T, s *testServer) { body(t, &idServer{testServer: s}) })
}
