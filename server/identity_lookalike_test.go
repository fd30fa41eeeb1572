package main

// Look-alike identities (issue 15.5): reserved names and names or e-mail addresses that render
// like another user's are refused on every way in (createCustomer, register, selfRegister,
// createUser), and nothing is created. Uses the "id" helpers (identity_helpers_test.go).

import (
	"context"
	"testing"

	"coffer/graph/store"
)

// lookalikeCustomerTests are createCustomer calls whose username or e-mail is reserved or looks like another user's.
var lookalikeCustomerTests = []struct {
	name, username, email string
	wantCode              string
	wantFields            []string
}{
	{"bank.security", "bank.security", "", "FORBIDDEN", nil},
	{"administrator2", "administrator2", "", "FORBIDDEN", nil},
	{"support", "support", "", "FORBIDDEN", nil},
	{"root", "root", "", "FORBIDDEN", nil},
	{"a reserved part", "alice.support", "", "FORBIDDEN", nil},
	{"the bank's own name", "coffer-help", "", "FORBIDDEN", nil},
	{"a look-alike of admin", "adrnin", "", "FORBIDDEN", nil},
	{"a look-alike of support", "supp0rt", "", "FORBIDDEN", nil},
	{"a look-alike of alice", "a1ice", "", "CONFLICT", []string{"username"}},
	{"a look-alike of mary", "rnary", "", "CONFLICT", []string{"username"}},
	{"a Cyrillic a in the domain", "alice2", "alice@exаmple.com", "BAD_USER_INPUT", []string{"email"}},
	{"a Greek o in the local part", "alice2", "alοce@example.com", "BAD_USER_INPUT", []string{"email"}},
	{"a reserved name before the @", "alice2", "security@example.org", "BAD_USER_INPUT", []string{"email"}},
	{"a domain like the bank's name", "alice2", "alice@c0ffer.com", "BAD_USER_INPUT", []string{"email"}},
	{"a look-alike of alice's address", "alice2", "alice@examp1e.com", "CONFLICT", []string{"email"}},
	{"an all-Cyrillic look-alike domain", "zed2", "zed@аррӏе.com", "CONFLICT", []string{"email"}},
}

func TestLookalikeIdentities_refusedOnEveryWayIn_createNothing(t *testing.T) {
	idOnStores(t, func(t *testing.T, s *idServer) {
		admin := s.admin()
		s.idNewCustomer(admin, "alice", "alice@example.com", "")
		s.idNewCustomer(admin, "mary", "zed@apple.com", "")
		customers := s.idCustomerCount(admin)
		create := func(username, email string) gqlResponse {
			return s.do(admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"username": username, "password": "long-password-1", "name": "Alice Smith", "email": email}})
		}
		for _, tt := range lookalikeCustomerTests {
			t.Run("createCustomer "+tt.name, func(t *testing.T) {
				wantError(t, create(tt.username, tt.email), tt.wantCode, tt.wantFields...)
			})
		}
		if n := s.idCustomerCount(admin); n != customers {
			t.Errorf("customers = %d after the refusals, want %d", n, customers)
		}

		// register: the e-mail is refused before any code is sent, the username before the code is used.
		before := s.idSentSoFar()
		wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: "alice@exаmple.com", Phone: "+34699000001", SSN: "AL-0001"}.contact()}),
			"BAD_USER_INPUT", "email")
		wantError(t, s.do("", idPreRegisterMutation, map[string]any{"in": idPerson{Email: "alice@examp1e.com", Phone: "+34699000001", SSN: "AL-0001"}.contact()}),
			"CONFLICT", "email")
		s.idWantNothingSent(before, "a refused preRegister")
		p := idPerson{Email: "ann.smith@example.net", Phone: "+34699000002", SSN: "AS-0002"}
		code := s.idPreRegister(p)
		wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(code, map[string]any{"username": "bank.security"})}), "FORBIDDEN")
		wantError(t, s.do("", idRegisterMutation, map[string]any{"in": p.registration(code, map[string]any{"username": "a1ice"})}), "CONFLICT", "username")
		if n := s.idCustomerCount(admin); n != customers {
			t.Errorf("customers = %d after the refused registrations, want %d", n, customers)
		}
		s.mustDo("", idRegisterMutation, map[string]any{"in": p.registration(code, map[string]any{"username": "ann.smith"})}, nil)

		// selfRegister refuses reserved names at once (they are no secret).
		number, _ := s.idNumberOf(admin, "alice")
		wantError(t, s.idSelfRegister(map[string]any{"accountNumber": number, "authenticationMode": "EMAIL",
			"email": "alice@example.com", "username": "administrator2", "password": "alice-new-password"}), "FORBIDDEN")

		// Staff may carry institutional names, never admin or bank, nor a look-alike of a user.
		staff := func(username, email string) gqlResponse {
			return s.do(admin, idCreateUserMutation, map[string]any{"in": map[string]any{"username": username,
				"password": "staff-password-1", "email": email, "role": "STAFF"}})
		}
		s.mustDo(admin, idCreateUserMutation, map[string]any{"in": map[string]any{"username": "support",
			"password": "staff-password-1", "email": "support@coffer.example", "role": "STAFF"}}, nil)
		wantError(t, staff("bank", "bank@coffer.example"), "FORBIDDEN")
		wantError(t, staff("a1ice", "a1ice@coffer.example"), "CONFLICT", "username")
		wantError(t, staff("clerk", "clerk@cоffer.example"), "BAD_USER_INPUT", "email")
		// A customer cannot take the look-alike of a staff name either.
		wantError(t, create("supp0rt.desk", ""), "FORBIDDEN")
	})
}

func TestLookalikeKeys_ofUsersWrittenBeforeThem_filledAtStartUp(t *testing.T) {
	idOnStores(t, func(t *testing.T, s *idServer) {
		admin := s.admin()
		s.idNewCustomer(admin, "alice", "alice@example.com", "")
		// As a database from before the keys: the users have none.
		db, err := store.Open(context.Background(), s.DatabaseURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.Exec(`UPDATE users SET username_skeleton = NULL, email_skeleton = NULL`); err != nil {
			t.Fatal(err)
		}
		db.SQL.Close()
		// The next start fills them in: look-alikes of alice are refused on the new server.
		s2 := &idServer{testServer: startServer(t, storeOf(s.DatabaseURL), "DATABASE_URL="+s.DatabaseURL)}
		admin2 := s2.admin()
		customers := s2.idCustomerCount(admin2)
		create := func(username, email string) gqlResponse {
			return s2.do(admin2, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"username": username, "password": "long-password-1", "name": "Alice", "email": email}})
		}
		wantError(t, create("a1ice", "other@example.com"), "CONFLICT", "username")
		wantError(t, create("alice2", "alice@examp1e.com"), "CONFLICT", "email")
		if n := s2.idCustomerCount(admin2); n != customers {
			t.Errorf("customers = %d, want %d", n, customers)
		}
	})
}

// storeOf names the store a DATABASE_URL belongs to.
func storeOf(url string) string {
	if store.IsPostgres(url) {
		return "postgres"
	}
	return "sqlite"
}
