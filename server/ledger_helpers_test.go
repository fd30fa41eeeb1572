package main

// Helpers of the ledger, coins and products tests: the ledger's invariants read through the API,
// money states and snapshots that a refusal must leave alone (prefix "ea"), transactions as a
// customer reads them, public keys (prefix "pk") and parallel requests (prefix "lr").

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/graph/store"
)

// checkLedgerInvariants reads every account and its statement through the API (as the admin) and
// asserts the ledger's rules: all balances sum to zero, no customer account is below zero, each
// account's entries sum to its balance with versions 1..n, and the number of posted transfers is
// wantTransfers.
func checkLedgerInvariants(t *testing.T, s *testServer, admin string, wantTransfers int) {
	t.Helper()
	var out struct {
		Transactions struct{ TotalCount int }
		Customers    struct {
			Edges []struct {
				Node struct{ Account struct{ ID string } }
			}
		}
	}
	s.mustDo(admin, `{ transactions(first: 1, filter: {kind: TRANSFER, status: POSTED}) { totalCount }
		customers(first: 100) { edges { node { account { id } } } } }`, nil, &out)
	if out.Transactions.TotalCount != wantTransfers {
		t.Errorf("posted transfers = %d, want %d (the successful mutations)", out.Transactions.TotalCount, wantTransfers)
	}
	// The issuer is reached through a creation's entries.
	var iss struct {
		Transactions struct {
			Edges []struct {
				Node struct {
					Entries []struct{ Account struct{ ID, Kind string } }
				}
			}
		}
	}
	s.mustDo(admin, `{ transactions(first: 1, filter: {kind: CREATION}) { edges { node { entries { account { id kind } } } } } }`, nil, &iss)
	ids := []string{}
	for _, e := range out.Customers.Edges {
		ids = append(ids, e.Node.Account.ID)
	}
	for _, e := range iss.Transactions.Edges[0].Node.Entries {
		if e.Account.Kind == "SYSTEM" {
			ids = append(ids, e.Account.ID)
		}
	}
	var total int64
	for _, id := range ids {
		balance, kind := accountStatementCheck(t, s, admin, id)
		if kind != "SYSTEM" && balance < 0 {
			t.Errorf("account %s balance %d < 0", id, balance)
		}
		total += balance
	}
	if total != 0 {
		t.Errorf("sum of all balances = %d minor units, want 0", total)
	}
}

// accountStatementCheck pages through an account's whole statement oldest first and checks that
// the entries sum to the balance with versions 1..n. It returns the balance in minor units.
func accountStatementCheck(t *testing.T, s *testServer, admin, id string) (int64, string) {
	t.Helper()
	var sum, lastBalance int64
	version := 0
	var after any
	var kind string
	var balance int64
	for {
		var out struct {
			Node struct {
				Kind    string
				Version int
				Balance struct{ Amount string }
				Entries struct {
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct {
						Node struct {
							Type         string
							Version      int
							Amount       struct{ Amount string }
							BalanceAfter struct{ Amount string }
						}
					}
				}
			}
		}
		s.mustDo(admin, `query($id: ID!, $after: Cursor) { node(id: $id) { ... on Account { kind version balance { amount }
			entries(first: 100, after: $after, order: ASC) { pageInfo { hasNextPage endCursor }
			edges { node { type version amount { amount } balanceAfter { amount } } } } } } }`,
			map[string]any{"id": id, "after": after}, &out)
		kind = out.Node.Kind
		balance = minor(t, out.Node.Balance.Amount)
		for _, e := range out.Node.Entries.Edges {
			version++
			if e.Node.Version != version {
				t.Fatalf("account %s: entry version %d, want %d (no gaps)", id, e.Node.Version, version)
			}
			a := minor(t, e.Node.Amount.Amount)
			if e.Node.Type == "SEND" {
				a = -a
			}
			sum += a
			lastBalance = minor(t, e.Node.BalanceAfter.Amount)
			if lastBalance != sum {
				t.Fatalf("account %s v%d: balanceAfter %d, running sum %d", id, version, lastBalance, sum)
			}
		}
		if !out.Node.Entries.PageInfo.HasNextPage {
			if out.Node.Version != version {
				t.Errorf("account %s: version %d, entries %d", id, out.Node.Version, version)
			}
			break
		}
		after = out.Node.Entries.PageInfo.EndCursor
	}
	if sum != balance {
		t.Errorf("account %s: entries sum to %d, balance %d", id, sum, balance)
	}
	return balance, kind
}

// minor parses an API decimal of scale 2 into minor units.
func minor(t *testing.T, s string) int64 {
	t.Helper()
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	var v int64
	for _, c := range s {
		if c == '.' {
			continue
		}
		if c < '0' || c > '9' {
			t.Fatalf("not a decimal: %q", s)
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v
}

// eaMoneyState is what a customer sees of their own money.
type eaMoneyState struct {
	Balance, Available, DebitLimit string
	PendingCount, Entries          int
}

// eaCustomerState is eaMoneyState and the registered public key ("<null>" when there is none).
type eaCustomerState struct {
	eaMoneyState
	PublicKey string
}

func eaStateOf(t *testing.T, s *testServer, token string) eaCustomerState {
	t.Helper()
	var out struct {
		Me struct {
			Customer struct {
				PublicKey *string
				Account   struct {
					Balance, Available, DebitLimit struct{ Amount string }
					PendingCount                   int
					Entries                        struct{ TotalCount int }
				}
			}
		}
	}
	onT(t, s).mustDo(token, `{ me { customer { publicKey account { balance { amount } available { amount }
		debitLimit { amount } pendingCount entries(first: 1) { totalCount } } } } }`, nil, &out)
	a := out.Me.Customer.Account
	st := eaCustomerState{eaMoneyState: eaMoneyState{Balance: a.Balance.Amount, Available: a.Available.Amount,
		DebitLimit: a.DebitLimit.Amount, PendingCount: a.PendingCount, Entries: a.Entries.TotalCount}, PublicKey: "<null>"}
	if out.Me.Customer.PublicKey != nil {
		st.PublicKey = *out.Me.Customer.PublicKey
	}
	return st
}

// eaSnapshot renders the bank's counts (as the admin sees them) and the state of each customer
// token, to compare before and after a refused operation.
func eaSnapshot(t *testing.T, s *testServer, admin string, tokens ...string) string {
	t.Helper()
	var out struct {
		Customers, Transactions struct{ TotalCount int }
		Pending                 struct{ TotalCount int }
	}
	onT(t, s).mustDo(admin, `{ customers(first: 1) { totalCount } transactions(first: 1) { totalCount }
		pending: transactions(first: 1, filter: {status: PENDING}) { totalCount } }`, nil, &out)
	var b strings.Builder
	fmt.Fprintf(&b, "customers=%d transactions=%d pending=%d", out.Customers.TotalCount,
		out.Transactions.TotalCount, out.Pending.TotalCount)
	for i, tok := range tokens {
		fmt.Fprintf(&b, "\ncustomer %d: %+v", i, eaStateOf(t, s, tok))
	}
	return b.String()
}

// eaUnchanged fails t when the snapshot differs from before.
func eaUnchanged(t *testing.T, before, after string) {
	t.Helper()
	if before != after {
		t.Errorf("a refused operation changed the state:\nbefore: %s\nafter:  %s", before, after)
	}
}

// eaAccount is a customer's main account as they see it.
type eaAccount struct{ UserID, CustomerID, AccountID, IBAN string }

func eaAccountOf(t *testing.T, s *testServer, token string) eaAccount {
	t.Helper()
	var out struct {
		Me struct {
			ID       string
			Customer struct {
				ID      string
				Account struct{ ID, IBAN string }
			}
		}
	}
	onT(t, s).mustDo(token, `{ me { id customer { id account { id iban } } } }`, nil, &out)
	return eaAccount{UserID: out.Me.ID, CustomerID: out.Me.Customer.ID, AccountID: out.Me.Customer.Account.ID,
		IBAN: out.Me.Customer.Account.IBAN}
}

// eaTxnStatus is the status of a transaction as viewer sees it. It also selects signingPayload:
// with only stored fields selected the server hides a customer's own transaction (see
// TestNode_ownObjects_visibleWhateverTheSelection), which this file does not test.
func eaTxnStatus(t *testing.T, s *testServer, viewer, id string) string {
	t.Helper()
	var out struct{ Transaction struct{ Status string } }
	onT(t, s).mustDo(viewer, `query($id: ID!) { transaction(id: $id) { status signingPayload } }`, map[string]any{"id": id}, &out)
	return out.Transaction.Status
}

// eaSendID sends coins (pending unless autoSign) and returns the transaction's ID.
func eaSendID(t *testing.T, s *testServer, token, to, amount string, autoSign bool) string {
	t.Helper()
	r := onT(t, s).send(token, to, amount, map[string]any{"autoSign": autoSign})
	if len(r.Errors) > 0 {
		t.Fatalf("send %s to %s: %+v", amount, to, r.Errors)
	}
	var out struct{ SendCoins struct{ ID string } }
	eaDecode(t, r, &out)
	return out.SendCoins.ID
}

type crTxn struct {
	ID       string
	Kind     string
	Status   string
	Signable bool
	Amount   struct{ Amount string }
}

type crTxnPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   string
	}
	Edges []struct{ Node crTxn }
}

const crTxnFields = `totalCount pageInfo { hasNextPage endCursor } edges { node { id kind status signable amount { amount } } }`

// crMyTransactions is the viewer's Customer.transactions page.
func crMyTransactions(t *testing.T, s *testServer, token string, vars map[string]any) crTxnPage {
	t.Helper()
	var out struct {
		Me struct {
			Customer struct{ Transactions crTxnPage }
		}
	}
	s.mustDo(token, `query($first: Int, $after: Cursor, $status: TransactionStatus) { me { customer {
		transactions(first: $first, after: $after, status: $status) { `+crTxnFields+` } } } }`, vars, &out)
	return out.Me.Customer.Transactions
}

// lrParallel runs n copies of op at once (op gets its index) and returns their responses.
func lrParallel(t *testing.T, s *testServer, n int, op func(i int) (token, query string, vars map[string]any)) []gqlResponse {
	t.Helper()
	out := make([]gqlResponse, n)
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token, query, vars := op(i)
			start.Wait()
			out[i], errs[i] = s.post(token, query, vars)
		}()
	}
	start.Done()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// lrCodes counts the responses by their error code ("" for success).
func lrCodes(rs []gqlResponse) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.code()]++
	}
	return m
}

// lrCashout is a cash-out with its transaction's status, as its owner sees it.
type lrCashout struct {
	ID, Status  string
	Transaction struct{ ID, Status string }
}

func lrCashoutsOf(t *testing.T, s *testServer, token string) map[string]lrCashout {
	t.Helper()
	var out struct {
		Cashouts struct{ Edges []struct{ Node lrCashout } }
	}
	onT(t, s).mustDo(token, `{ cashouts(first: 100) { edges { node { id status transaction { id status } } } } }`, nil, &out)
	m := map[string]lrCashout{}
	for _, e := range out.Cashouts.Edges {
		m[e.Node.ID] = e.Node
	}
	return m
}

// lrStatement is the viewer's main-account statement: each entry's type, amount and counterparty.
type lrStatementLine struct {
	Type         string
	Amount       struct{ Amount string }
	Counterparty *struct {
		Name  string
		Email *string
		Iban  *string
	}
}

func lrStatement(t *testing.T, s *testServer, token string) []lrStatementLine {
	t.Helper()
	var out struct {
		Me struct {
			Customer struct {
				Account struct {
					Entries struct {
						Edges []struct{ Node lrStatementLine }
					}
				}
			}
		}
	}
	onT(t, s).mustDo(token, `{ me { customer { account { entries(first: 50) { edges { node {
		type amount { amount } counterparty { name email iban } } } } } } } }`, nil, &out)
	lines := []lrStatementLine{}
	for _, e := range out.Me.Customer.Account.Entries.Edges {
		lines = append(lines, e.Node)
	}
	return lines
}

// lrHistory gives a customer (with a cashout address) every product there is, and leaves them at
// zero: a card funded and emptied, a second card deleted, a savings goal topped up, emptied and
// deleted, a paid and an unpaid bill, a confirmed and an aborted cash-out; the rest goes to "stay".
func lrHistory(t *testing.T, s *testServer, admin, gone string) {
	t.Helper()
	s.mint(admin, "gone", "100")
	c1, c2 := ptNewCard(t, s, gone), ptNewCard(t, s, gone)
	mv := func(mutation string, in map[string]any) { ptOne(t, ptIn(t, s, gone, mutation, in), &ptTxn{}) }
	mv(ptFundCardMutation, map[string]any{"cardId": c1.ID, "amount": "10"})
	var goal struct{ ID string }
	ptOne(t, ptIn(t, s, gone, ptCreateGoalMutation, map[string]any{"name": "Bike", "goal": "50"}), &goal)
	mv(ptTopUpMutation, map[string]any{"savingsGoalId": goal.ID, "cardId": c1.ID, "amount": "4"})
	mv(ptWithdrawMutation, map[string]any{"savingsGoalId": goal.ID, "cardId": c1.ID, "amount": "4"})
	onT(t, s).mustDo(gone, ptDeleteGoalMutation, map[string]any{"id": goal.ID}, nil)
	var paid, unpaid struct{ ID string }
	ptOne(t, ptIn(t, s, gone, ptCreateBillMutation, map[string]any{"name": "Power", "amount": "3", "dueDate": "2030-01-01T00:00:00Z"}), &paid)
	ptOne(t, ptIn(t, s, gone, ptCreateBillMutation, map[string]any{"name": "Rent", "amount": "500", "dueDate": "2030-01-01T00:00:00Z"}), &unpaid)
	ptOne(t, ptIn(t, s, gone, ptPayBillMutation, map[string]any{"billId": paid.ID, "cardNumber": c1.Number}), &struct{}{})
	mv(ptDefundCardMutation, map[string]any{"cardId": c1.ID, "amount": "7"})
	onT(t, s).mustDo(gone, ptDeleteCardMutation, map[string]any{"n": c2.Number}, nil)
	co := ptNewCashout(t, s, gone, "10", "EMAIL")
	tan := ptTAN(t, s, "gone@example.com", "10.00 EUR")
	ptOne(t, s.do(gone, ptConfirmCashoutMutation, map[string]any{"id": co.ID, "tan": tan.Code}), &struct{}{})
	co2 := ptNewCashout(t, s, gone, "5", "EMAIL")
	ptOne(t, s.do(gone, ptAbortCashoutMutation, map[string]any{"id": co2.ID}), &struct{}{})
	if r := s.send(gone, "stay", "87", nil); len(r.Errors) > 0 {
		t.Fatalf("send the rest: %+v", r.Errors)
	}
	if got := ptBalances(t, s, gone); got["main"] != "0.00" || got[c1.key()] != "0.00" {
		t.Fatalf("gone's balances before the delete = %v, want all zero", got)
	}
}

const (
	// lrMaxAmount is money.MaxAmountMinor at scale 2, lrPastMax one minor unit beyond it.
	lrMaxAmount = "10000000000000.00"
	lrPastMax   = "10000000000000.01"
)

// lrOpen opens the test server's database directly, for a state no API call can reach.
func lrOpen(t *testing.T, s *testServer) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), s.DatabaseURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// lrAt renders t in a fixed zone of offsetHours, as a client far from UTC sends it.
func lrAt(t time.Time, offsetHours int) string {
	return t.In(time.FixedZone("", offsetHours*3600)).Format(time.RFC3339Nano)
}

const (
	pkChallengeMutation = `mutation($k: String!) { publicKeyChallenge(publicKey: $k) { challengeId payload expiresAt } }`
	pkSetMutation       = `mutation($k: String!, $c: String, $s: String, $p: String, $o: String) {
		setPublicKey(publicKey: $k, challengeId: $c, signature: $s, currentPassword: $p, oldKeySignature: $o) { publicKey } }`
)

// pkChallenge is a publicKeyChallenge answer.
type pkChallenge struct{ ChallengeID, Payload string }

func pkNewKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// pkStart asks for a challenge for pub as token's user.
func pkStart(s *testServer, token string, pub ed25519.PublicKey) pkChallenge {
	s.t.Helper()
	var out struct{ PublicKeyChallenge pkChallenge }
	s.mustDo(token, pkChallengeMutation, map[string]any{"k": hex.EncodeToString(pub)}, &out)
	return out.PublicKeyChallenge
}

// pkSign is priv's hex signature of c's payload.
func pkSign(priv ed25519.PrivateKey, c pkChallenge) string {
	return hex.EncodeToString(ed25519.Sign(priv, []byte(c.Payload)))
}

// pkSet calls setPublicKey for pub with the given proof (nil values are left out).
func pkSet(s *testServer, token string, pub ed25519.PublicKey, proof map[string]any) gqlResponse {
	s.t.Helper()
	vars := map[string]any{"k": hex.EncodeToString(pub)}
	for k, v := range proof {
		vars[k] = v
	}
	return s.do(token, pkSetMutation, vars)
}

// pkMustRegister registers priv's key for token's user, who has none yet, with a fresh challenge.
func pkMustRegister(s *testServer, token string, priv ed25519.PrivateKey) {
	s.t.Helper()
	pub := priv.Public().(ed25519.PublicKey)
	c := pkStart(s, token, pub)
	if r := pkSet(s, token, pub, map[string]any{"c": c.ChallengeID, "s": pkSign(priv, c)}); len(r.Errors) > 0 {
		s.t.Fatalf("setPublicKey: %+v", r.Errors)
	}
}

func pkKeyOf(t *testing.T, s *testServer, token string) string {
	t.Helper()
	return eaStateOf(t, s, token).PublicKey
}

func (p crTxnPage) amounts() []string {
	var out []string
	for _, e := range p.Edges {
		out = append(out, e.Node.Amount.Amount+" "+e.Node.Status)
	}
	return out
}
