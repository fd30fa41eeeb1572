package main

// Who may see and touch what: objects reached by ID answer NOT_FOUND to whoever may not see them,
// exactly as IDs that name nothing; admin-only lists; another's pending transaction; the session
// cookie and its CSRF protection; logout.

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"coffer/graph/gid"
)

const eaNodeQuery = `query($id: ID!) { node(id: $id) { __typename id } }`

// eaParties are three customers and the admin: ann sent ben 10 (transfer), cid is a stranger.
type eaParties struct {
	admin, ann, ben, cid string
	annIDs, benIDs       eaAccount
	// transfer is ann's transfer to ben; creation minted ann's 100; annEntry is ann's SEND line.
	transfer, creation, annEntry string
}

func eaSetUpParties(t *testing.T, s *testServer) eaParties {
	t.Helper()
	p := eaParties{admin: s.admin()}
	p.ann = s.customer(p.admin, "ann")
	p.ben = s.customer(p.admin, "ben")
	p.cid = s.customer(p.admin, "cid")
	s.mint(p.admin, "ann", "100")
	p.transfer = eaSendID(t, s, p.ann, "ben", "10", true)
	p.annIDs, p.benIDs = eaAccountOf(t, s, p.ann), eaAccountOf(t, s, p.ben)
	var out struct {
		Me struct {
			Customer struct {
				Account struct {
					Entries struct {
						Edges []struct {
							Node struct {
								ID, Type    string
								Transaction struct{ ID string }
							}
						}
					}
				}
			}
		}
	}
	s.mustDo(p.ann, `{ me { customer { account { entries(first: 10) { edges { node { id type transaction { id } } } } } } } }`, nil, &out)
	for _, e := range out.Me.Customer.Account.Entries.Edges {
		switch e.Node.Type {
		case "SEND":
			p.annEntry = e.Node.ID
		case "CREATION":
			p.creation = e.Node.Transaction.ID
		}
	}
	if p.annEntry == "" || p.creation == "" {
		t.Fatalf("ann's statement lacks the SEND or the CREATION line: %+v", out)
	}
	return p
}

// eaAnnsObjects are ann's objects by their GraphQL type.
func (p eaParties) eaAnnsObjects() map[string]string {
	return map[string]string{"User": p.annIDs.UserID, "Customer": p.annIDs.CustomerID, "Account": p.annIDs.AccountID,
		"Entry": p.annEntry, "Transaction": p.transfer}
}

// eaMadeUpIDs are well-formed IDs that name nothing: one out of every type's range, one in the
// transactions' range.
func eaMadeUpIDs(t *testing.T, p eaParties) []string {
	t.Helper()
	n, err := gid.Decode(p.transfer)
	if err != nil {
		t.Fatalf("decode %s: %v", p.transfer, err)
	}
	return []string{eaMadeUpID(), gid.Encode(n + 1_000_000)}
}

func TestNode_othersObjects_notFoundExactlyLikeMadeUpIDs(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		p := eaSetUpParties(t, s)
		madeUp := eaMadeUpIDs(t, p)
		missing := s.do(p.cid, eaNodeQuery, map[string]any{"id": madeUp[0]})
		wantError(t, missing, "NOT_FOUND")
		if len(missing.Errors) == 0 {
			t.FailNow()
		}
		want := missing.Errors[0]

		hidden := p.eaAnnsObjects()
		hidden["made-up in range"] = madeUp[1]
		for name, id := range hidden {
			for viewer, token := range map[string]string{"cid": p.cid, "ben": p.ben} {
				if viewer == "ben" && name == "Transaction" {
					continue // ben is a party to the transfer
				}
				t.Run(viewer+" asks for ann's "+name, func(t *testing.T) {
					r := onT(t, s).do(token, eaNodeQuery, map[string]any{"id": id})
					wantError(t, r, "NOT_FOUND")
					if len(r.Errors) != 1 || r.Errors[0].Message != want.Message || r.Errors[0].Extensions.Code != want.Extensions.Code ||
						len(r.Errors[0].Extensions.Fields) != len(want.Extensions.Fields) {
						t.Errorf("errors = %+v, want exactly those of a made-up ID: %+v", r.Errors, want)
					}
					if got := string(r.Data); got != `{"node":null}` {
						t.Errorf("data = %s, want {\"node\":null}", got)
					}
				})
			}
		}

		t.Run("nodes hides each one like a made-up ID", func(t *testing.T) {
			eaWantNodesHidden(t, s, p, madeUp, want)
		})

		t.Run("malformed IDs", func(t *testing.T) {
			for _, give := range []string{"not-an-id", "12345", "", "!!!", p.transfer + "*"} {
				wantError(t, onT(t, s).do(p.cid, eaNodeQuery, map[string]any{"id": give}), "BAD_USER_INPUT", "id")
				wantError(t, onT(t, s).do(p.cid, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
					map[string]any{"ids": []string{p.annIDs.UserID, give}}), "BAD_USER_INPUT", "ids")
			}
		})

		t.Run("unauthenticated", func(t *testing.T) {
			wantError(t, onT(t, s).do("", eaNodeQuery, map[string]any{"id": p.annIDs.UserID}), "UNAUTHENTICATED")
		})

		t.Run("admin sees them all", func(t *testing.T) {
			eaWantAdminSeesAll(t, s, p)
		})
	})
}

// eaWantAdminSeesAll checks that the administrator finds each of ann's objects by node and nodes.
func eaWantAdminSeesAll(t *testing.T, s *testServer, p eaParties) {
	t.Helper()
	objects := p.eaAnnsObjects()
	ids := make([]string, 0, len(objects))
	for typ, id := range objects {
		var out struct {
			Node *struct{ Typename, ID string }
		}
		onT(t, s).mustDo(p.admin, `query($id: ID!) { node(id: $id) { typename: __typename id } }`, map[string]any{"id": id}, &out)
		if out.Node == nil || out.Node.Typename != typ || out.Node.ID != id {
			t.Errorf("admin node(%s) = %+v, want the %s", id, out.Node, typ)
		}
		ids = append(ids, id)
	}
	var out struct{ Nodes []*struct{ ID string } }
	onT(t, s).mustDo(p.admin, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, &out)
	for i, n := range out.Nodes {
		if n == nil || n.ID != ids[i] {
			t.Errorf("admin nodes[%d] = %+v, want %s", i, n, ids[i])
		}
	}
}

// eaWantNodesHidden checks that nodes(ids:) hides each of ann's objects from cid like a made-up ID (want is that error), and shows cid's own user.
func eaWantNodesHidden(t *testing.T, s *testServer, p eaParties, madeUp []string, want gqlError) {
	t.Helper()
	cidUser := eaAccountOf(t, s, p.cid).UserID
	ids := []string{p.annIDs.UserID, p.annIDs.CustomerID, p.annIDs.AccountID, p.annEntry, p.transfer, madeUp[0], madeUp[1], cidUser}
	r := onT(t, s).do(p.cid, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, map[string]any{"ids": ids})
	var out struct {
		Nodes []*struct{ Typename, ID string }
	}
	eaDecode(t, r, &out)
	if len(out.Nodes) != len(ids) {
		t.Fatalf("nodes = %s, want %d entries", r.Data, len(ids))
	}
	for i, n := range out.Nodes[:len(ids)-1] {
		if n != nil {
			t.Errorf("nodes[%d] (%s) = %+v, want null", i, ids[i], n)
		}
	}
	if last := out.Nodes[len(ids)-1]; last == nil || last.ID != cidUser {
		t.Errorf("cid's own user = %+v, want %s", last, cidUser)
	}
	if len(r.Errors) != len(ids)-1 {
		t.Errorf("%d errors, want %d: %+v", len(r.Errors), len(ids)-1, r.Errors)
	}
	for _, e := range r.Errors {
		if e.Extensions.Code != "NOT_FOUND" || e.Message != want.Message {
			t.Errorf("error %+v, want NOT_FOUND %q", e, want.Message)
		}
	}
}

// The owner must see their own objects whatever fields the query selects. The server loads the
// node with only the selected columns (ent's field collection) and then decides visibility from
// columns such as the account's owner or the transaction's accounts, which are then missing.
func TestNode_ownObjects_visibleWhateverTheSelection(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		p := eaSetUpParties(t, s)
		selections := map[string]string{
			"__typename and id": `query($id: ID!) { node(id: $id) { typename: __typename id } }`,
			"with an unstored field": `query($id: ID!) { node(id: $id) { typename: __typename id
				... on Account { available { amount } } ... on Transaction { signingPayload }
				... on Entry { counterparty { name } } } }`,
		}
		for typ, id := range p.eaAnnsObjects() {
			for name, q := range selections {
				t.Run(typ+" by "+name, func(t *testing.T) {
					r := onT(t, s).do(p.ann, q, map[string]any{"id": id})
					var out struct {
						Node *struct{ Typename, ID string }
					}
					eaDecode(t, r, &out)
					if len(r.Errors) > 0 || out.Node == nil || out.Node.Typename != typ || out.Node.ID != id {
						t.Errorf("ann's node(%s) = %s, errors %+v; want her %s", id, r.Data, r.Errors, typ)
					}
				})
			}
		}
		for _, q := range []string{
			`query($id: ID!) { transaction(id: $id) { id } }`,
			`query($id: ID!) { transaction(id: $id) { id status amount { amount } } }`,
			`query($id: ID!) { transaction(id: $id) { entries { id } } }`,
		} {
			for viewer, token := range map[string]string{"ann": p.ann, "ben": p.ben} {
				t.Run(viewer+" "+q[len(`query($id: ID!) { `):], func(t *testing.T) {
					r := onT(t, s).do(token, q, map[string]any{"id": p.transfer})
					if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"transaction":{`) {
						t.Errorf("%s's transaction(%s) = %s, errors %+v; want it visible to a party", viewer, p.transfer, r.Data, r.Errors)
					}
				})
			}
		}
	})
}

func TestTransaction_visibleToPartiesAndAdmin_notFoundForOthers(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		p := eaSetUpParties(t, s)
		const q = `query($id: ID!) { transaction(id: $id) { id kind status amount { amount } } }`
		for viewer, token := range map[string]string{"ann": p.ann, "ben": p.ben, "admin": p.admin} {
			t.Run(viewer+" sees it", func(t *testing.T) {
				r := onT(t, s).do(token, q, map[string]any{"id": p.transfer})
				var out struct {
					Transaction *struct {
						ID, Kind, Status string
						Amount           struct{ Amount string }
					}
				}
				eaDecode(t, r, &out)
				if len(r.Errors) > 0 || out.Transaction == nil || out.Transaction.ID != p.transfer ||
					out.Transaction.Kind != "TRANSFER" || out.Transaction.Status != "POSTED" || out.Transaction.Amount.Amount != "10.00" {
					t.Errorf("transaction = %s, errors %+v; want the posted 10.00 transfer", r.Data, r.Errors)
				}
			})
		}
		t.Run("cid gets NOT_FOUND like a made-up ID", func(t *testing.T) {
			r := onT(t, s).do(p.cid, q, map[string]any{"id": p.transfer})
			missing := onT(t, s).do(p.cid, q, map[string]any{"id": eaMadeUpIDs(t, p)[1]})
			wantError(t, r, "NOT_FOUND")
			wantError(t, missing, "NOT_FOUND")
			if len(r.Errors) > 0 && len(missing.Errors) > 0 && r.Errors[0].Message != missing.Errors[0].Message {
				t.Errorf("message %q, a made-up ID's %q: they must not differ", r.Errors[0].Message, missing.Errors[0].Message)
			}
		})
		t.Run("an account's ID is not a transaction", func(t *testing.T) {
			wantError(t, onT(t, s).do(p.ann, q, map[string]any{"id": p.annIDs.AccountID}), "NOT_FOUND")
		})
		t.Run("unauthenticated", func(t *testing.T) {
			wantError(t, onT(t, s).do("", q, map[string]any{"id": p.transfer}), "UNAUTHENTICATED")
		})
	})
}

func TestAdminLists_forbiddenForCustomers_unauthenticatedWithoutToken(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		s.mint(admin, "ann", "1")
		queries := map[string]string{
			"customers":    `{ customers(first: 10) { totalCount edges { node { id } } } }`,
			"transactions": `{ transactions(first: 10) { totalCount edges { node { id } } } }`,
		}
		tests := []struct {
			name     string
			token    string
			wantCode string
		}{
			{"customer", ann, "FORBIDDEN"},
			{"no token", "", "UNAUTHENTICATED"},
			{"unknown token", "not-a-session-token", "UNAUTHENTICATED"},
		}
		for list, q := range queries {
			for _, tt := range tests {
				t.Run(list+" by "+tt.name, func(t *testing.T) {
					r := onT(t, s).do(tt.token, q, nil)
					wantError(t, r, tt.wantCode)
					if strings.Contains(string(r.Data), "totalCount") {
						t.Errorf("data = %s, want nothing of the list", r.Data)
					}
				})
			}
			t.Run(list+" by the admin", func(t *testing.T) {
				var out map[string]struct{ TotalCount int }
				onT(t, s).mustDo(admin, q, nil, &out)
				if out[list].TotalCount != 1 {
					t.Errorf("%s totalCount = %d, want 1", list, out[list].TotalCount)
				}
			})
		}
	})
}

func TestPendingTransaction_othersConfirmOrCancel_notFoundAndStaysPending(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		p := eaSetUpParties(t, s)
		pending := eaSendID(t, s, p.ann, "ben", "30", false)
		madeUp := eaMadeUpIDs(t, p)[1]
		for _, op := range []struct{ name, q string }{{"confirm", eaConfirmMutation}, {"cancel", eaCancelMutation}} {
			want := s.do(p.cid, op.q, map[string]any{"id": madeUp})
			wantError(t, want, "NOT_FOUND")
			for viewer, token := range map[string]string{"ben (the recipient)": p.ben, "cid": p.cid} {
				t.Run(viewer+" "+op.name+"s", func(t *testing.T) {
					before := eaSnapshot(t, s, p.admin, p.ann, p.ben, p.cid)
					r := onT(t, s).do(token, op.q, map[string]any{"id": pending})
					wantError(t, r, "NOT_FOUND")
					if len(r.Errors) > 0 && len(want.Errors) > 0 && r.Errors[0].Message != want.Errors[0].Message {
						t.Errorf("message %q, a made-up ID's %q: they must not differ", r.Errors[0].Message, want.Errors[0].Message)
					}
					eaUnchanged(t, before, eaSnapshot(t, s, p.admin, p.ann, p.ben, p.cid))
					if got := eaTxnStatus(t, s, p.ann, pending); got != "PENDING" {
						t.Errorf("status = %s, want PENDING", got)
					}
				})
			}
		}
		if got := eaStateOf(t, s, p.ann); got.Balance != "90.00" || got.Available != "60.00" || got.PendingCount != 1 {
			t.Errorf("ann = %+v, want 90.00 with 60.00 available and 1 pending", got)
		}
		// The sender still can.
		var out struct{ CancelTransaction struct{ Status string } }
		s.mustDo(p.ann, eaCancelMutation, map[string]any{"id": pending}, &out)
		if out.CancelTransaction.Status != "VOIDED" {
			t.Errorf("ann's cancel = %+v, want VOIDED", out.CancelTransaction)
		}
	})
}

// eaHTTPResult is a raw HTTP answer: a refusal need not be GraphQL.
type eaHTTPResult struct {
	status  int
	cookies []*http.Cookie
	body    gqlResponse
	raw     string
}

// eaRaw sends one request to /query: method, content type, body, optional session cookie and
// extra headers.
func eaRaw(t *testing.T, s *testServer, method, contentType, body string, cookie *http.Cookie, headers map[string]string) eaHTTPResult {
	t.Helper()
	path := "/query"
	if method == http.MethodGet {
		path, body = path+"?"+body, ""
	}
	h := maps.Clone(headers)
	if h == nil {
		h = map[string]string{}
	}
	if cookie != nil {
		h["Cookie"] = (&http.Cookie{Name: cookie.Name, Value: cookie.Value}).String()
	}
	r := hdRequest(t, s.URL, method, path, contentType, body, h)
	return eaHTTPResult{status: r.status, cookies: (&http.Response{Header: r.header}).Cookies(), body: r.body, raw: r.raw}
}

func eaJSONBody(query string) string {
	b, _ := json.Marshal(map[string]any{"query": query})
	return string(b)
}

// eaCookieLogin logs in over raw HTTP and returns the session cookie and the token of the body.
func eaCookieLogin(t *testing.T, s *testServer, username, password string) (*http.Cookie, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": eaLoginMutation, "variables": map[string]any{"l": username, "p": password}})
	res := eaRaw(t, s, http.MethodPost, "application/json", string(b), nil, nil)
	var out struct {
		Login struct{ Auth struct{ Token string } }
	}
	if res.status != http.StatusOK || len(res.body.Errors) > 0 || json.Unmarshal(res.body.Data, &out) != nil {
		t.Fatalf("login %s: %d %s", username, res.status, res.raw)
	}
	for _, c := range res.cookies {
		if c.Name == "session" {
			return c, out.Login.Auth.Token
		}
	}
	t.Fatalf("login %s set no session cookie; cookies %v", username, res.cookies)
	return nil, ""
}

// eaSendMutation sends 1 to ben: if any refused request ran it, a balance would show it.
const eaSendMutation = "mutation { " + hdSend + " { id } }"

// eaCrossSite are the headers a browser adds to a request from another site.
var eaCrossSite = map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}

// cookieRefusalTests are requests carrying ann's session cookie that must not run a mutation.
var cookieRefusalTests = []struct {
	name        string
	method      string
	contentType string
	body        string
	headers     map[string]string
}{
	{"text/plain", http.MethodPost, "text/plain", eaJSONBody(eaSendMutation), nil},
	{"text/plain;charset=UTF-8", http.MethodPost, "text/plain;charset=UTF-8", eaJSONBody(eaSendMutation), nil},
	{"hdSendForm post", http.MethodPost, "application/x-www-hdSendForm-urlencoded", hdSendForm, nil},
	{"multipart without JSON", http.MethodPost, "multipart/hdSendForm-data; boundary=x",
		"--x\r\nContent-Disposition: hdSendForm-data; name=\"query\"\r\n\r\n" + eaSendMutation + "\r\n--x--\r\n", nil},
	{"no content type", http.MethodPost, "", eaJSONBody(eaSendMutation), nil},
	{"mutation over GET", http.MethodGet, "", hdSendForm, nil},
	{"cross-site JSON with Origin and Sec-Fetch-Site", http.MethodPost, "application/json", eaJSONBody(eaSendMutation), eaCrossSite},
	{"cross-site JSON with Sec-Fetch-Site only", http.MethodPost, "application/json", eaJSONBody(eaSendMutation),
		map[string]string{"Sec-Fetch-Site": "cross-site"}},
	{"JSON from a foreign Origin only", http.MethodPost, "application/json", eaJSONBody(eaSendMutation),
		map[string]string{"Origin": "https://eaCrossSite.example"}},
	{"cross-site text/plain", http.MethodPost, "text/plain", eaJSONBody(eaSendMutation), eaCrossSite},
}

func TestCookieSession_httpOnlyLax_andRefusedAcrossSitesOrWithoutJSON(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		s.mint(admin, "ann", "100")
		cookie, token := eaCookieLogin(t, s, "ann", "ann-password")

		t.Run("the login sets an HttpOnly SameSite=Lax session cookie", func(t *testing.T) {
			if cookie.Value != token || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie = %+v, want session=<the token>; HttpOnly; SameSite=Lax", cookie)
			}
			if cookie.Secure {
				t.Errorf("cookie = %+v: Secure in development mode, where the server speaks plain HTTP", cookie)
			}
			if !cookie.Expires.IsZero() && !cookie.Expires.After(time.Now()) {
				t.Errorf("cookie expires %v, want in the future", cookie.Expires)
			}
		})
		t.Run("a same-origin JSON request with the cookie is authenticated", func(t *testing.T) {
			res := eaRaw(t, s, http.MethodPost, "application/json", eaJSONBody(eaMeQuery), cookie, nil)
			if res.status != http.StatusOK || !strings.Contains(string(res.body.Data), `"username":"ann"`) {
				t.Errorf("me with the cookie = %d %s, want ann", res.status, res.raw)
			}
		})

		for _, tt := range cookieRefusalTests {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				before := eaSnapshot(t, s, admin, ann, ben)
				res := eaRaw(t, s, tt.method, tt.contentType, tt.body, cookie, tt.headers)
				if res.status < 400 && len(res.body.Errors) == 0 {
					t.Errorf("answer %d %s, want a refusal", res.status, res.raw)
				}
				if strings.Contains(string(res.body.Data), `"sendCoins":{`) {
					t.Errorf("the mutation ran: %s", res.raw)
				}
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
			})
		}

		t.Run("a same-origin JSON mutation with the cookie runs", func(t *testing.T) {
			res := eaRaw(t, s, http.MethodPost, "application/json", eaJSONBody(eaSendMutation), cookie,
				map[string]string{"Origin": s.URL, "Sec-Fetch-Site": "same-origin"})
			if res.status != http.StatusOK || len(res.body.Errors) > 0 {
				t.Errorf("answer %d %s, want the transfer", res.status, res.raw)
			}
			if a, b := onT(t, s).balance(ann), onT(t, s).balance(ben); a != "99.00" || b != "1.00" {
				t.Errorf("balances ann=%s ben=%s, want 99.00 and 1.00", a, b)
			}
		})
	})
}

func TestLogout_makesTokenAndCookieUnusable(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		s.mint(admin, "ann", "100")
		other := s.login("ann", "ann-password")

		var out struct{ Logout bool }
		s.mustDo(ann, `mutation { logout }`, nil, &out)
		if !out.Logout {
			t.Fatal("logout = false, want true")
		}
		wantError(t, s.do(ann, eaMeQuery, nil), "UNAUTHENTICATED")
		wantError(t, s.do(ann, `mutation { logout }`, nil), "UNAUTHENTICATED")
		before := eaSnapshot(t, s, admin, other, ben)
		wantError(t, s.send(ann, "ben", "1", nil), "UNAUTHENTICATED")
		eaUnchanged(t, before, eaSnapshot(t, s, admin, other, ben))
		// Only that session ended.
		s.mustDo(other, eaMeQuery, nil, nil)

		cookie, token := eaCookieLogin(t, s, "ann", "ann-password")
		res := eaRaw(t, s, http.MethodPost, "application/json", eaJSONBody(`mutation { logout }`), cookie, nil)
		if res.status != http.StatusOK || len(res.body.Errors) > 0 {
			t.Fatalf("logout with the cookie = %d %s", res.status, res.raw)
		}
		cleared := false
		for _, c := range res.cookies {
			if c.Name == "session" && (c.MaxAge < 0 || c.Value == "") {
				cleared = true
			}
		}
		if !cleared {
			t.Errorf("logout's cookies %v, want the session cookie cleared", res.cookies)
		}
		res = eaRaw(t, s, http.MethodPost, "application/json", eaJSONBody(eaMeQuery), cookie, nil)
		if res.body.code() != "UNAUTHENTICATED" {
			t.Errorf("me with the logged-out cookie = %d %s, want UNAUTHENTICATED", res.status, res.raw)
		}
		wantError(t, s.do(token, eaMeQuery, nil), "UNAUTHENTICATED")
	})
}

// TestTransactionEntries_customerSeesOnlyOwnLine: each party of a transfer sees only their own line
// of it (never the other side's balanceAfter); the admin sees both.
func TestTransactionEntries_customerSeesOnlyOwnLine(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		p := eaSetUpParties(t, s)
		tests := []struct {
			give      string
			token     string
			wantLines []string // "TYPE balanceAfter"
		}{
			{give: "ann", token: p.ann, wantLines: []string{"SEND 90.00"}},
			{give: "ben", token: p.ben, wantLines: []string{"RECEIVE 10.00"}},
			{give: "admin", token: p.admin, wantLines: []string{"SEND 90.00", "RECEIVE 10.00"}},
		}
		for _, tt := range tests {
			var out struct {
				Transaction struct {
					Entries []struct {
						Type         string
						BalanceAfter struct{ Amount string }
					}
				}
			}
			s.mustDo(tt.token, `query($id: ID!) { transaction(id: $id) { entries { type balanceAfter { amount } } } }`,
				map[string]any{"id": p.transfer}, &out)
			got := []string{}
			for _, e := range out.Transaction.Entries {
				got = append(got, e.Type+" "+e.BalanceAfter.Amount)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantLines, ",") {
				t.Errorf("%s sees lines %v, want %v", tt.give, got, tt.wantLines)
			}
		}
	})
}
