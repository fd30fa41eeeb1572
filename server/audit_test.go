package main

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/lib/pq"

	"coffer/graph/store"
)

// Tests of the audit log, the login lockout under parallel attempts, and re-authentication for
// security settings. Helpers are prefixed au.

const (
	auLoginMutation     = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status auth { token } } }`
	auTwoFactorMutation = `mutation($m: TwoFactorMethod!, $p: String) {
		setTwoFactor(method: $m, currentPassword: $p) { twoFactor } }`
	auChangePasswordMutation = `mutation($u: String, $n: String!, $c: String) {
		changePassword(input: {username: $u, newPassword: $n, confirmPassword: $n, currentPassword: $c}) }`
)

// auRow is one audit_events row.
type auRow struct {
	ActorID                            sql.NullInt64
	Actor, Role, Action, Outcome, Addr string
	Target, TargetName                 sql.NullString
	RequestID, ClientRequestID         sql.NullString
}

// auOpen opens the database of s (either store) for reading what the server stored.
func auOpen(t testing.TB, s *testServer) *sql.DB {
	t.Helper()
	driver, dsn := "postgres", s.DatabaseURL
	if !store.IsPostgres(dsn) {
		driver, dsn = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// auRows is the audit log of s, oldest first.
func auRows(t testing.TB, s *testServer) []auRow {
	t.Helper()
	rows, err := auOpen(t, s).Query(`SELECT actor_id, actor_username, actor_role, action, outcome, client_addr,
		target, target_name, request_id, client_request_id FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auRow
	for rows.Next() {
		var r auRow
		if err := rows.Scan(&r.ActorID, &r.Actor, &r.Role, &r.Action, &r.Outcome, &r.Addr,
			&r.Target, &r.TargetName, &r.RequestID, &r.ClientRequestID); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// auEvents are the rows of action (all of them when action is ""), as "actor outcome target name".
func auEvents(rows []auRow, action string) []string {
	var out []string
	for _, r := range rows {
		if r.Action == action {
			out = append(out, strings.TrimSpace(r.Actor+" "+r.Outcome+" "+r.Target.String+" "+r.TargetName.String))
		}
	}
	return out
}

// auDo posts an operation with the client's X-Request-Id clientID and returns the response and
// the request id the server answered.
func auDo(t testing.TB, s *testServer, token, clientID, query string, vars map[string]any) (gqlResponse, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", clientID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out, res.Header.Get("X-Request-Id")
}

// auParallelLogins sends n logins at once and counts the answers by error code ("" for none).
func auParallelLogins(t *testing.T, s *testServer, n int, login, password string) map[string]int {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[string]int{}
	for range n {
		wg.Go(func() {
			r, err := s.post("", auLoginMutation, map[string]any{"l": login, "p": password})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			counts[r.code()]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return counts
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
				eaWantError(t, s.do("", auLoginMutation, map[string]any{"l": login, "p": "ann-password"}), "ACCOUNT_LOCKED")
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

// auTwoFactor is the viewer's second factor.
func auTwoFactor(s *testServer, token string) string {
	var me struct{ Me struct{ TwoFactor string } }
	s.mustDo(token, `{ me { twoFactor } }`, nil, &me)
	return me.Me.TwoFactor
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
			eaWantError(t, set("NONE", nil), "BAD_USER_INPUT", "currentPassword")
			eaWantError(t, set("NONE", ""), "BAD_USER_INPUT", "currentPassword")
			eaWantError(t, set("NONE", "wrong-password"), "BAD_USER_INPUT", "currentPassword")
			// Given with another method, it is checked too.
			eaWantError(t, set("EMAIL", "wrong-password"), "BAD_USER_INPUT", "currentPassword")
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
				eaWantError(t, set("NONE", "wrong-password"), "BAD_USER_INPUT", "currentPassword")
			}
			eaWantError(t, set("NONE", "ann-password"), "ACCOUNT_LOCKED")
			eaWantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "ann-password"}), "ACCOUNT_LOCKED")
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
			eaWantError(t, change(ann, map[string]any{"n": "ann-new-password"}), "BAD_USER_INPUT", "currentPassword")
			// Wrong guesses here and at login share one counter.
			eaWantError(t, change(ann, map[string]any{"n": "ann-new-password", "c": "guess-1"}), "BAD_USER_INPUT", "currentPassword")
			eaWantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "guess-2"}), "UNAUTHENTICATED")
			eaWantError(t, change(ann, map[string]any{"n": "ann-new-password", "c": "guess-3"}), "BAD_USER_INPUT", "currentPassword")
			eaWantError(t, change(ann, map[string]any{"n": "ann-new-password", "c": "ann-password"}), "ACCOUNT_LOCKED")
			eaWantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "ann-password"}), "ACCOUNT_LOCKED")

			// An administrator changes another user's password without knowing it; unlocking
			// lifts the lockout. The refused change above changed nothing: the new one works.
			s.mustDo(admin, `mutation { setUserStatus(username: "ann", status: ACTIVE) { status } }`, nil, nil)
			s.mustDo(admin, auChangePasswordMutation, map[string]any{"u": "ann", "n": "ann-admin-set-password"}, nil)
			eaWantError(t, s.do("", auLoginMutation, map[string]any{"l": "ann", "p": "ann-new-password"}), "UNAUTHENTICATED")
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

// auRequests remembers the client's and the server's id of each request a test sent with auDo.
type auRequests struct {
	t        *testing.T
	s        *testServer
	clientOf map[string]string // the server's request id → the client's
}

// do is auDo with a fresh client request id, remembered.
func (a *auRequests) do(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	client := "client-" + strconv.Itoa(len(a.clientOf)+1) + "-chosen"
	r, server := auDo(a.t, a.s, token, client, query, vars)
	if server == client || !auServerRequestID.MatchString(server) {
		a.t.Fatalf("X-Request-Id answered %q for the client's %q, want the server's own", server, client)
	}
	a.clientOf[server] = client
	return r
}

// mustDo is do that fails on an error and decodes data into out.
func (a *auRequests) mustDo(token, query string, vars map[string]any, out any) {
	a.t.Helper()
	r := a.do(token, query, vars)
	if len(r.Errors) > 0 {
		a.t.Fatalf("%s: %+v", query, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			a.t.Fatal(err)
		}
	}
}

var auServerRequestID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// wantRequests checks every row's address and request ids: the server's own id always, and the
// client's kept apart, exactly on the rows of requests that sent one. No row holds a password.
func (a *auRequests) wantRequests(rows []auRow, passwords ...string) {
	a.t.Helper()
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Addr != "127.0.0.1" || !auServerRequestID.MatchString(r.RequestID.String) {
			a.t.Errorf("%s row from %q with request id %q: want 127.0.0.1 and the server's id", r.Action, r.Addr, r.RequestID.String)
		}
		want, ok := a.clientOf[r.RequestID.String]
		if r.ClientRequestID.String != want || r.ClientRequestID.Valid != ok {
			a.t.Errorf("%s row of request %s: client request id %q, want %q", r.Action, r.RequestID.String, r.ClientRequestID.String, want)
		}
		seen[r.RequestID.String] = true
		for _, p := range passwords {
			if strings.Contains(fmt.Sprintf("%v", r), p) {
				a.t.Errorf("%s row holds a password: %+v", r.Action, r)
			}
		}
	}
	for server, client := range a.clientOf {
		if !seen[server] {
			a.t.Errorf("request %s (client %s) left no row", server, client)
		}
	}
}

func TestAuditLog_loginsPasswordsAndSecondFactor_withActorTargetAddressAndBothRequestIDs(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := &idServer{testServer: startServer(t, st)}
			a := &auRequests{t: t, s: s.testServer, clientOf: map[string]string{}}
			admin := s.admin()
			a.mustDo(admin, `mutation { createCustomer(input: {username: "ann", password: "ann-password",
				name: "Ann", email: "ann@example.com"}) { id } }`, nil, nil)
			a.do("", auLoginMutation, map[string]any{"l": "ann", "p": "wrong-password"})
			a.do("", auLoginMutation, map[string]any{"l": "nobody", "p": "wrong-password"})
			ann := s.login("ann", "ann-password")
			a.mustDo(ann, auTwoFactorMutation, map[string]any{"m": "EMAIL"}, nil)
			ch := s.idChallenge("ann", "ann-password")
			code := s.idOutboxTo("ann@example.com").Code
			eaWantError(t, a.do("", idConfirmLoginMutation, map[string]any{"id": ch, "code": idOtherCode(code, 3)}), "INVALID_CODE")
			if _, tok := s.idConfirmLogin(ch, code); tok == "" {
				t.Fatal("the second step did not log in")
			}
			a.mustDo(ann, auChangePasswordMutation, map[string]any{"n": "ann-new-password", "c": "ann-password"}, nil)
			// A refused change leaves no OK row.
			eaWantError(t, a.do(ann, auChangePasswordMutation, map[string]any{"n": "ann-third-password", "c": "ann-password"}),
				"BAD_USER_INPUT", "currentPassword")

			// Olga registers herself, locks her account with wrong passwords, and resets it.
			p := idPerson{Email: "olga@example.com", Phone: "+34666000001", SSN: "OL-0001"}
			s.idRegister(p, "olga")
			for range 5 {
				a.do("", auLoginMutation, map[string]any{"l": "olga", "p": "wrong-password"})
			}
			before := s.idSentSoFar()
			s.mustDo("", idRequestResetMutation, map[string]any{"in": p.contact()}, nil)
			s.idAwaitSent(before)
			a.mustDo("", idResetPasswordMutation, map[string]any{"t": s.idOutboxTo("olga@example.com").Code, "p": "olga-new-password"}, nil)

			rows := auRows(t, s.testServer)
			a.wantRequests(rows, "wrong-password", "ann-password", "ann-new-password", "olga-new-password", idPassword)
			ids := auIDs(t, s.testServer)
			tests := []struct {
				give string
				want []string
			}{
				{"customer.created", []string{"admin OK customer:" + ids["c:ann"] + " ann", "OK customer:" + ids["c:olga"] + " olga"}},
				{"login.succeeded", []string{"admin OK user:" + ids["admin"] + " admin", "ann OK user:" + ids["ann"] + " ann",
					"ann OK user:" + ids["ann"] + " ann"}},
				{"login.failed", append([]string{"ann UNAUTHENTICATED user:" + ids["ann"] + " ann", "UNAUTHENTICATED",
					"ann INVALID_CODE user:" + ids["ann"] + " ann"},
					auRepeat("olga UNAUTHENTICATED user:"+ids["olga"]+" olga", 5)...)},
				{"login.second_factor_required", []string{"ann OK user:" + ids["ann"] + " ann"}},
				{"two_factor.changed", []string{"ann OK user:" + ids["ann"] + " ann EMAIL"}},
				{"password.changed", []string{"ann OK user:" + ids["ann"] + " ann"}},
				{"reauthentication.failed", []string{"ann UNAUTHENTICATED user:" + ids["ann"] + " ann"}},
				{"account.locked", []string{"olga OK user:" + ids["olga"] + " olga"}},
				{"password.reset", []string{"olga OK user:" + ids["olga"] + " olga"}},
			}
			for _, tt := range tests {
				if got := auEvents(rows, tt.give); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("%s rows:\n%s\nwant:\n%s", tt.give, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
			for _, r := range rows {
				if r.Action == "login.failed" && r.Actor == "" && (r.ActorID.Valid || r.Target.Valid || r.TargetName.Valid) {
					t.Errorf("a failed login under an unknown name recorded %+v, want nobody and no name", r)
				}
			}
		})
	}
}

// auRepeat is n copies of s.
func auRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// auIDs maps each username to its user id and "c:"+username to its customer id, as strings.
func auIDs(t testing.TB, s *testServer) map[string]string {
	t.Helper()
	rows, err := auOpen(t, s).Query(`SELECT u.username, u.id, COALESCE(c.id, 0) FROM users u LEFT JOIN customers c ON c.user_id = u.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name string
		var userID, customerID int
		if err := rows.Scan(&name, &userID, &customerID); err != nil {
			t.Fatal(err)
		}
		out[name] = strconv.Itoa(userID)
		if customerID != 0 {
			out["c:"+name] = strconv.Itoa(customerID)
		}
	}
	return out
}

func TestAuditLog_adminTargetsAndStaffReads_recorded_refusedChangesLeaveNoOKRow(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st)
			a := &auRequests{t: t, s: s, clientOf: map[string]string{}}
			admin := s.admin()
			ann := s.customer(admin, "ann")
			s.customer(admin, "cyd")
			s.mint(admin, "ann", "10")
			a.mustDo(admin, `mutation { createUser(input: {username: "clerk", password: "clerk-password-1", role: STAFF}) { id } }`, nil, nil)
			clerk := s.login("clerk", "clerk-password-1")
			var me struct {
				Me struct {
					Customer struct{ Account struct{ ID, Number string } }
				}
			}
			s.mustDo(ann, `{ me { customer { account { id number } } } }`, nil, &me)
			acc := me.Me.Customer.Account

			a.mustDo(admin, `mutation($a: ID!) { setDebitLimit(accountId: $a, limit: "50") { id } }`, map[string]any{"a": acc.ID}, nil)
			a.mustDo(admin, `mutation { setUserStatus(username: "ann", status: LOCKED) { status } }`, nil, nil)
			a.mustDo(admin, `mutation { deleteCustomer(username: "cyd") }`, nil, nil)
			// Refused: no row says they happened.
			eaWantError(t, a.do(admin, `mutation { deleteCustomer(username: "ann") }`, nil), "PRECONDITION_FAILED")
			eaWantError(t, a.do(admin, `mutation { setUserStatus(username: "admin", status: LOCKED) { status } }`, nil), "FORBIDDEN")
			eaWantError(t, a.do(admin, `mutation($a: ID!) { setDebitLimit(accountId: $a, limit: "-1") { id } }`, map[string]any{"a": acc.ID}), "BAD_USER_INPUT")

			var reg struct {
				RegisterPerson struct{ Person ppPerson }
			}
			s.mustDo(clerk, ppRegister, map[string]any{"in": ppInput(nil)}, &reg)
			p := reg.RegisterPerson.Person
			a.mustDo(clerk, `query($id: String!) { person(id: $id) { firstName } }`, map[string]any{"id": p.QualifiedID}, nil)
			a.mustDo(clerk, `{ people(first: 10) { edges { node { firstName } } } }`, nil, nil)
			// A person nobody has is not a read of personal data.
			eaWantError(t, s.do(clerk, `query { person(id: "999999@census") { firstName } }`, nil), "NOT_FOUND")

			rows := auRows(t, s)
			a.wantRequests(rows, "clerk-password-1")
			ids := auIDs(t, s)
			personID := auPersonID(t, s, p.QualifiedID)
			tests := []struct {
				give string
				want []string
			}{
				{"account.debit_limit_changed", []string{"admin OK account:" + auAccountID(t, s, acc.Number) + " " + acc.Number + " 5000"}},
				{"user.status_changed", []string{"admin OK user:" + ids["ann"] + " ann LOCKED"}},
				{"user.created", []string{"admin OK user:" + ids["clerk"] + " clerk STAFF"}},
				{"customer.deleted", []string{"admin OK customer:" + auCustomerOf(rows, "cyd") + " cyd"}},
				// registerPerson's answer shows the person through procedure { person }, then person.
				{"person.read", []string{"clerk OK person:" + personID, "clerk OK person:" + personID + " " + p.QualifiedID}},
				{"people.read", []string{"clerk OK person:" + personID}},
			}
			for _, tt := range tests {
				if got := auEvents(rows, tt.give); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("%s rows:\n%s\nwant:\n%s", tt.give, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
			// Each administrator's and clerk's mutation also has its row, refused ones with their code.
			var requests []string
			for _, r := range rows {
				if r.Actor == "admin" && !strings.Contains(r.Action, ".") {
					requests = append(requests, r.Action+" "+r.Outcome)
				}
			}
			want := "createCustomer OK,createCustomer OK,createCoins OK,createUser OK,setDebitLimit OK,setUserStatus OK," +
				"deleteCustomer OK,deleteCustomer PRECONDITION_FAILED,setUserStatus FORBIDDEN,setDebitLimit BAD_USER_INPUT"
			if got := strings.Join(requests, ","); got != want {
				t.Errorf("the admin's mutations recorded as %s, want %s", got, want)
			}
		})
	}
}

// auCustomerOf is the customer id that the customer.created row of username names.
func auCustomerOf(rows []auRow, username string) string {
	for _, r := range rows {
		if r.Action == "customer.created" && r.TargetName.String == username {
			return strings.TrimPrefix(r.Target.String, "customer:")
		}
	}
	return "none"
}

// auAccountID is the id of the account with number.
func auAccountID(t testing.TB, s *testServer, number string) string {
	t.Helper()
	var id int
	if err := auOpen(t, s).QueryRow(`SELECT id FROM accounts WHERE number = '` + number + `'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(id)
}

// auPersonID is the id of the person with the qualified id "<census number>@census".
func auPersonID(t testing.TB, s *testServer, qualifiedID string) string {
	t.Helper()
	number, _, _ := strings.Cut(qualifiedID, "@")
	var id int
	if err := auOpen(t, s).QueryRow(`SELECT id FROM persons WHERE census_number = '` + number + `'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(id)
}

// setPublicKey is being rewritten to need proof of possession: this test registers a key the way
// the mutation takes it on this branch; the audit row is the point.
func TestAuditLog_publicKeyChange_recordedWithTheKey(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st)
			admin := s.admin()
			ann := s.customer(admin, "ann")
			pub, priv := pkNewKey(t)
			key := hex.EncodeToString(pub)
			pkMustRegister(s, ann, priv)
			ids := auIDs(t, s)
			got := auEvents(auRows(t, s), "public_key.changed")
			if want := "ann OK customer:" + ids["c:ann"] + " ann " + key; len(got) != 1 || got[0] != want {
				t.Errorf("public_key.changed rows %q, want %q", got, want)
			}
		})
	}
}
