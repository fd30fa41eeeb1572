package main

// User administration over the wire: expired codes, password reset, changing passwords of
// others, setUserStatus and createUser.

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

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

	wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(regCode, nil)}), "INVALID_CODE")
	r, tok := s.idConfirmLogin(ch, loginCode)
	wantError(t, r, "INVALID_CODE")
	if tok != "" {
		t.Error("an expired login code logged in")
	}
	wantError(t, s.do("", idConfirmSelfMutation, map[string]any{"id": req, "code": selfCode}), "INVALID_CODE")

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
		wantError(t, r, "INVALID_CODE")
	}
	for _, weak := range []string{"short", "OLGA", "olga@example.com"} {
		wantError(t, s.do("", idResetPasswordMutation, map[string]any{"t": token, "p": weak}), "BAD_USER_INPUT", "newPassword")
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
	wantError(t, s.do("", idResetPasswordMutation, map[string]any{"t": token, "p": "olga-third-password"}), "INVALID_CODE")
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
	wantError(t, s.do("", idRequestResetMutation, map[string]any{"in": map[string]any{"email": "x", "phoneNumber": "y", "socialSecurity": "!"}}),
		"BAD_USER_INPUT", "email", "phoneNumber", "socialSecurity")
	// The requests changed no password.
	s.login("pia", idPassword)
	s.login("ron", "ron-password")
}

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
	wantError(t, idDecodeRaw(t, existing), "FORBIDDEN")
	if !bytes.Equal(existing, missing) || !bytes.Equal(existing, admins) {
		t.Errorf("answers differ:\nexisting: %s\nmissing:  %s\nadmin:    %s", existing, missing, admins)
	}
	s.idWantLoginRefused("ben", "stolen-password", "UNAUTHENTICATED")
	s.login("ben", "ben-password")
	s.login("ann", "ann-password")
	s.admin()
}

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
	wantError(t, r, "ACCOUNT_LOCKED")
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

	idWantSetUserStatusRefused(t, s, admin, yuri)
}

// idWantSetUserStatusRefused checks the refused setUserStatus calls, and that they changed nothing (xena stays disabled).
func idWantSetUserStatusRefused(t *testing.T, s *idServer, admin, yuri string) {
	t.Helper()
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
			wantError(t, s.do(tt.token, idSetUserStatusMutation, map[string]any{"u": tt.username, "s": tt.status}), tt.wantCode, tt.wantFields...)
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
	wantError(t, s.do(clerk, `{ customers(first: 1) { totalCount } }`, nil), "FORBIDDEN")

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
			wantError(t, s.do(tt.token, idCreateUserMutation, tt.give), tt.wantCode, tt.wantFields...)
			in := tt.give["in"].(map[string]any)
			if u := in["username"].(string); u != "zoe" && u != "bank" {
				s.idWantNoLogin(u, in["password"].(string))
			}
		})
	}
	s.login("zoe", "zoe-password")
}
