package main

// The client kit's server side (docs/client-kit.md): @oneOf on RecipientInput and automatic
// persisted queries. Helpers carry the prefix "ck".

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
)

// TestSendCoins_recipientNotExactlyOne_isBadUserInputOnRecipient_inlineOrInVariables: gqlparser
// refuses an inline literal that breaks @oneOf during validation and the domain refuses the same
// value given in variables (gqlparser does not check variables against @oneOf); clients get
// BAD_USER_INPUT with extensions.fields.recipient either way, and nothing moves.
func TestSendCoins_recipientNotExactlyOne_isBadUserInputOnRecipient_inlineOrInVariables(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite")
	admin := s.admin()
	alice := s.customer(admin, "alice")
	bob := s.customer(admin, "bob")
	s.mint(admin, "alice", "10")

	var oneOf struct{ Type struct{ IsOneOf bool } }
	s.mustDo(alice, `{ type: __type(name: "RecipientInput") { isOneOf } }`, nil, &oneOf)
	if !oneOf.Type.IsOneOf {
		t.Error("RecipientInput.isOneOf = false, want the @oneOf directive in the schema")
	}
	inline := []string{
		`{username: "bob", email: "bob@example.com"}`,
		`{}`,
		`{username: null}`,
	}
	for _, r := range inline {
		resp := s.do(alice, `mutation { sendCoins(input: {recipient: `+r+`, amount: "1"}) { id } }`, nil)
		ckWantRecipientRefused(t, "inline "+r, resp)
	}
	inVariables := []map[string]any{
		{"username": "bob", "email": "bob@example.com"},
		{},
		{"username": nil},
		{"username": ""},
	}
	for _, r := range inVariables {
		resp := s.send(alice, "", "1", map[string]any{"recipient": r})
		ckWantRecipientRefused(t, "variables", resp)
	}
	if got := s.balance(alice); got != "10.00" {
		t.Errorf("alice's balance = %s, want 10.00 (nothing sent)", got)
	}
	if got := s.balance(bob); got != "0.00" {
		t.Errorf("bob's balance = %s, want 0.00", got)
	}
}

func ckWantRecipientRefused(t *testing.T, what string, resp gqlResponse) {
	t.Helper()
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions.Code != "BAD_USER_INPUT" || resp.Errors[0].Extensions.Fields["recipient"] == "" {
		t.Errorf("%s: errors %+v, want one BAD_USER_INPUT with fields.recipient", what, resp.Errors)
	}
}

// TestPersistedQueries_hashOnlyRequest_isServedAfterRegistration follows Apollo's protocol: the
// hash alone is PERSISTED_QUERY_NOT_FOUND until a request registers the text with its hash, then
// served. A malformed extension is the client's mistake (BAD_REQUEST), and the document limits
// apply to the text a hash stands for, not only to texts sent in full.
func TestPersistedQueries_hashOnlyRequest_isServedAfterRegistration(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite", "GRAPHQL_MAX_SELECTIONS=3")
	alice := s.customer(s.admin(), "alice")
	const query = `{ me { username } }`
	hash := ckSHA256(query)

	if resp := ckPersisted(t, s, alice, "", hash, 1); resp.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %+v, want PERSISTED_QUERY_NOT_FOUND", resp.Errors)
	}
	for _, sent := range []string{query, ""} { // registration, then the hash alone
		resp := ckPersisted(t, s, alice, sent, hash, 1)
		var out struct{ Me struct{ Username string } }
		if len(resp.Errors) > 0 || json.Unmarshal(resp.Data, &out) != nil || out.Me.Username != "alice" {
			t.Fatalf("query %q with its hash: %s %+v", sent, resp.Data, resp.Errors)
		}
	}
	if resp := ckPersisted(t, s, alice, `{ me { id } }`, hash, 1); resp.code() != "BAD_REQUEST" {
		t.Errorf("a hash that is not the query's: %+v, want BAD_REQUEST", resp.Errors)
	}
	if resp := ckPersisted(t, s, alice, "", hash, 2); resp.code() != "BAD_REQUEST" {
		t.Errorf("APQ version 2: %+v, want BAD_REQUEST", resp.Errors)
	}
	// A text over GRAPHQL_MAX_SELECTIONS is refused when registered and when named by its hash.
	const wide = `{ me { id username email role } }`
	for _, sent := range []string{wide, ""} {
		if resp := ckPersisted(t, s, alice, sent, ckSHA256(wide), 1); resp.code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("wide query %q: %s %+v, want GRAPHQL_VALIDATION_FAILED", sent, resp.Data, resp.Errors)
		}
	}
}

func ckSHA256(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

// ckPersisted posts an APQ request: the query text (empty: the hash only) and its hash.
func ckPersisted(t *testing.T, s *testServer, token, query, hash string, version int) gqlResponse {
	t.Helper()
	body := map[string]any{"extensions": map[string]any{
		"persistedQuery": map[string]any{"version": version, "sha256Hash": hash}}}
	if query != "" {
		body["query"] = query
	}
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("status %d: %v", res.StatusCode, err)
	}
	return out
}
