package main

// Registration over the wire (preRegister, register): the code by SMTP or from the outbox, the
// derived username, refusals that create nothing and keep the code usable, wrong codes, failed
// deliveries, the per-account rate limit and the clean-up of unverified users.

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestRegister_codeBySMTP_createsUserCustomerAndEmptyMainAccount(t *testing.T) {
	t.Parallel()
	s := idStart(t, true, false)
	admin := s.admin()
	customersBefore := s.idCustomerCount(admin)
	p := idPerson{Email: "Ana.Lopez@Example.com", Phone: "+34600111222", SSN: "123-45-6789"}

	code := idPreRegisterBySMTP(t, s, admin, p, customersBefore)

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

	idWantDerivedUsernames(t, s)
}

// idPreRegisterBySMTP pre-registers p, checks the one e-mail and the outbox line, and returns the code.
func idPreRegisterBySMTP(t *testing.T, s *idServer, admin string, p idPerson, customersBefore int) string {
	t.Helper()
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
	return code
}

func idWantDerivedUsernames(t *testing.T, s *idServer) {
	t.Helper()
	// Another person with the same local part gets the next free derived username, one whose local
	// part looks like a taken username skips the look-alikes, and an e-mail whose local part is a
	// reserved name is refused (it would never derive "admin" either).
	wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: "admin@example.net", Phone: "+34600111444", SSN: "Y7654321"}.contact()}),
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
			wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": tt.give}), tt.wantCode, tt.wantFields...)
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
			wantError(t, r, tt.wantCode, tt.wantFields...)
			if strings.Contains(string(r.Data), "token") {
				t.Errorf("a refused register returned a session: %s", r.Data)
			}
			if got := s.idCustomerCount(admin); got != customers {
				t.Errorf("customers = %d, want %d", got, customers)
			}
		})
	}
	idWantRegisterAfterRefusals(t, s, admin, p, code, customers)
}

// idWantRegisterAfterRefusals checks that the refusals left no login and spent no code: p registers with code now, and its data are taken after.
func idWantRegisterAfterRefusals(t *testing.T, s *idServer, admin string, p idPerson, code string, customers int) {
	t.Helper()
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
	wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(code, map[string]any{"username": "pedro2"})}),
		"CONFLICT", "email", "phoneNumber", "socialSecurity")
	before := s.idSentSoFar()
	wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": p.contact()}), "CONFLICT", "email", "phoneNumber", "socialSecurity")
	s.idWantNothingSent(before, "preRegister of registered data")
}

func TestRegister_fiveWrongCodes_killTheCodeUntilANewPreRegister(t *testing.T) {
	t.Parallel()
	s := idStart(t, false, false)
	admin := s.admin()
	p := idPerson{Email: "rosa@example.com", Phone: "+34600555666", SSN: "RS-0001"}
	code := s.idPreRegister(p)
	for i := 1; i <= 5; i++ {
		wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(idOtherCode(code, i), nil)}), "INVALID_CODE")
	}
	wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(code, nil)}), "INVALID_CODE")
	if n := s.idCustomerCount(admin); n != 0 {
		t.Errorf("customers = %d, want 0", n)
	}
	s.idWantLoginRefused("rosa", idPassword, "UNAUTHENTICATED")
	// A new preRegister sends a new code, which works.
	code2 := s.idPreRegister(p)
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code2, nil)}, nil)
	s.login("rosa", idPassword)
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
	wantError(t, s.do(cust, idCleanupMutation, nil), "FORBIDDEN")
	wantError(t, s.do("", idCleanupMutation, nil), "UNAUTHENTICATED")
	// The fresh registration survived the clean-up.
	s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code, nil)}, nil)
	s.login("bo0", idPassword) // "bo" is too short for a username: padded
	s.login("abe", "abe-password")
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
	wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": p.contact()}), "TOO_MANY_REQUESTS")
	wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: " ELA@Example.com", Phone: p.Phone, SSN: p.SSN}.contact()}),
		"TOO_MANY_REQUESTS")
	s.idWantNothingSent(before, "a rate-limited preRegister")
	// Another e-mail is another account.
	s.idPreRegister(idPerson{Email: "fin@example.com", Phone: "+34600000022", SSN: "FI-0001"})
	// Each preRegister superseded the one before: only the last code registers.
	if codes[0] != codes[2] {
		wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(codes[0], nil)}), "INVALID_CODE")
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

func TestPreRegister_smtpUnreachable_internalErrorAndNoUsableCode(t *testing.T) {
	t.Parallel()
	smtpAddr := idClosedPort(t)
	s := idStart(t, false, false, "SMTP_URL=smtp://"+smtpAddr)
	admin := s.admin()
	p := idPerson{Email: "gus@example.com", Phone: "+34600000031", SSN: "GU-0001"}
	r := s.do("", idPreRegisterMutation, map[string]any{"in": p.contact()})
	wantError(t, r, "INTERNAL")
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
		wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(c, nil)}), "INVALID_CODE")
	}
	if n := s.idCustomerCount(admin); n != 0 {
		t.Errorf("customers = %d, want 0", n)
	}
	s.idWantLoginRefused("gus", idPassword, "UNAUTHENTICATED")

	// A login whose second factor cannot be delivered fails too, and starts no session.
	s.idNewCustomer(admin, "hugo", "hugo@example.com", "")
	s.mustDo(s.login("hugo", "hugo-password"), idSetTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
	r, lp := s.idLoginStep("hugo", "hugo-password")
	wantError(t, r, "INTERNAL")
	if lp.ChallengeID != nil || lp.Auth != nil {
		t.Errorf("a login with an undeliverable code returned %+v", lp)
	}
}
