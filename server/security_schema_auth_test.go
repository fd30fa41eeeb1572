package main

// Who may call what is written in the schema: every root field carries @auth or @public
// (graph/authz.go checks @auth), and the same codes come back over HTTP and WebSocket.

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"coffer/graph/generated"
)

// saPublic are the root fields anyone may call: the ways in (login, registration, password
// reset). Adding one is a decision to take here, not by accident in the schema.
var saPublic = []string{"confirmLogin", "confirmSelfRegistration", "login", "preRegister", "register",
	"requestPasswordReset", "resetPassword", "selfRegister"}

func TestSchema_everyRootFieldCarriesAuthOrPublic(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var public []string
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, f := range root.Fields {
			if root == schema.Query && f.Name[0] == '_' {
				continue // __schema, __type: introspection, governed by its own switch
			}
			auth, pub := f.Directives.ForName("auth"), f.Directives.ForName("public")
			switch {
			case (auth == nil) == (pub == nil):
				t.Errorf("%s.%s: carries %s, want exactly one of @auth and @public", root.Name, f.Name,
					map[bool]string{true: "neither", false: "both"}[auth == nil])
			case pub != nil:
				public = append(public, f.Name)
			case auth.Arguments.ForName("role") != nil && len(auth.Arguments.ForName("role").Value.Children) == 0:
				t.Errorf("%s.%s: @auth(role: []) lets nobody in", root.Name, f.Name)
			}
		}
	}
	sort.Strings(public)
	if !slices.Equal(public, saPublic) {
		t.Errorf("@public root fields = %v, want %v", public, saPublic)
	}
}

// TestAuth_eachRuleKind_sameCodesForEveryCaller calls one field of each rule kind as nobody, a
// customer, a clerk and an administrator: UNAUTHENTICATED without a session, FORBIDDEN for a
// role the field does not allow, an answer otherwise.
func TestAuth_eachRuleKind_sameCodesForEveryCaller(t *testing.T) {
	s := startServer(t, "postgres")
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mustDo(admin, `mutation { createUser(input: {username: "clerk", password: "clerk-password-1", role: STAFF}) { id } }`, nil, nil)
	clerk := s.login("clerk", "clerk-password-1")
	callers := []struct{ name, token string }{{"nobody", ""}, {"customer", ann}, {"staff", clerk}, {"admin", admin}}
	const ok, unauth, forbidden = "", "UNAUTHENTICATED", "FORBIDDEN"
	tests := []struct {
		rule, query string
		want        [4]string // nobody, customer, staff, admin
	}{
		{"@public", `mutation { requestPasswordReset(input: {email: "nobody@example.com", phoneNumber: "+34600111222", socialSecurity: "1234"}) { ok } }`,
			[4]string{ok, ok, ok, ok}},
		{"@auth", `{ me { username } }`, [4]string{unauth, ok, ok, ok}},
		{"@auth(role: [CUSTOMER])", `{ cards { id } }`, [4]string{unauth, ok, forbidden, forbidden}},
		{"@auth(role: [STAFF, ADMIN])", `{ scopes { code } }`, [4]string{unauth, forbidden, ok, ok}},
		{"@auth(role: [ADMIN])", `{ customers(first: 1) { totalCount } }`, [4]string{unauth, forbidden, forbidden, ok}},
		{"@auth(role: [CUSTOMER, ADMIN])", `{ cashouts(first: 1) { totalCount } }`, [4]string{unauth, ok, forbidden, ok}},
	}
	for _, tt := range tests {
		for i, c := range callers {
			t.Run(tt.rule+" by "+c.name, func(t *testing.T) {
				r := s.do(c.token, tt.query, nil)
				if tt.want[i] == ok {
					if len(r.Errors) > 0 {
						t.Fatalf("errors %+v, want an answer", r.Errors)
					}
					return
				}
				wantError(t, r, tt.want[i])
				var data map[string]json.RawMessage
				_ = json.Unmarshal(r.Data, &data)
				for field, v := range data {
					if string(v) != "null" {
						t.Errorf("%s = %s, want null: the resolver must not run", field, v)
					}
				}
			})
		}
	}
	t.Run("the refusal names who may call", func(t *testing.T) {
		r := s.do(clerk, `{ cashouts(first: 1) { totalCount } }`, nil)
		if len(r.Errors) == 0 || r.Errors[0].Message != "customers and administrators only" {
			t.Fatalf("errors %+v, want \"customers and administrators only\"", r.Errors)
		}
	})
}

// TestAuth_subscription_roleCheckedOverWebSocket: the directive runs on the WebSocket path too
// (a socket without a session is closed at connection_init, TestLive_rejections).
func TestAuth_subscription_roleCheckedOverWebSocket(t *testing.T) {
	s := startServer(t, "postgres")
	admin := s.admin()
	ann := s.customer(admin, "ann")
	const sub = `subscription { transactionUpdated { id status } }`
	for _, proto := range []string{lvTransportWS, lvLegacyWS} {
		c := lvConnect(t, s, proto, admin)
		_, errs, _ := c.next(c.subscribe(sub, nil), 10*time.Second)
		if len(errs) == 0 || errs[0].Extensions.Code != "FORBIDDEN" {
			t.Errorf("%s: administrator's transactionUpdated: errors %+v, want FORBIDDEN", proto, errs)
		}
		c = lvConnect(t, s, proto, ann)
		id := c.subscribe(sub, nil)
		c.quiet(id, 200*time.Millisecond) // subscribed: nothing to say yet
		s.mint(admin, "ann", "1")
		if data, errs, ok := c.next(id, 10*time.Second); !ok || len(errs) > 0 {
			t.Errorf("%s: customer's transactionUpdated: ok=%v errors=%+v data=%s, want the creation", proto, ok, errs, data)
		}
	}
}
