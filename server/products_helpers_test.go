package main

// Helpers of the products, cash-out and live tests (prefix "pt"): the operations on cards, goals,
// bills and cash-outs, their inputs, balances and snapshots, refusal tables (ptCase) and races.

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	ptTxnFields          = `id kind status amount { amount }`
	ptCreateCardMutation = `mutation { createCard { number card { id last4 } } }`
	ptFundCardMutation   = `mutation($in: CardMoveInput!) { fundCard(input: $in) { ` + ptTxnFields + ` } }`
	ptDefundCardMutation = `mutation($in: CardMoveInput!) { defundCard(input: $in) { ` + ptTxnFields + ` } }`
	ptTransferMutation   = `mutation($in: TransferBetweenCardsInput!) { transferBetweenCards(input: $in) { ` + ptTxnFields + ` } }`
	ptDeleteCardMutation = `mutation($n: String!) { deleteCard(cardNumber: $n) }`
	ptGoalFields         = `id name goal { amount } balance { amount } remain { amount } reached account { id kind }`
	ptCreateGoalMutation = `mutation($in: CreateSavingsGoalInput!) { createSavingsGoal(input: $in) { ` + ptGoalFields + ` } }`
	ptTopUpMutation      = `mutation($in: SavingsMoveInput!) { topUpSavings(input: $in) { ` + ptTxnFields + ` } }`
	ptWithdrawMutation   = `mutation($in: SavingsMoveInput!) { withdrawSavings(input: $in) { ` + ptTxnFields + ` } }`
	ptDeleteGoalMutation = `mutation($id: ID!) { deleteSavingsGoal(id: $id) }`
	ptBillFields         = `id name amount { amount } dueDate paid paidAt paidWith { id last4 } transaction { ` + ptTxnFields + ` }`
	ptCreateBillMutation = `mutation($in: CreateBillInput!) { createBill(input: $in) { ` + ptBillFields + ` } }`
	ptPayBillMutation    = `mutation($in: PayBillInput!) { payBill(input: $in) { ` + ptBillFields + ` } }`
	ptCashoutFields      = `id status channel amount { amount currency } cashoutAddress createdAt confirmedAt
		transaction { ` + ptTxnFields + ` }`
	ptCreateCashoutMutation  = `mutation($in: CreateCashoutInput!) { createCashout(input: $in) { ` + ptCashoutFields + ` } }`
	ptConfirmCashoutMutation = `mutation($id: ID!, $tan: String!) { confirmCashout(id: $id, tan: $tan) { ` + ptCashoutFields + ` } }`
	ptAbortCashoutMutation   = `mutation($id: ID!) { abortCashout(id: $id) { ` + ptCashoutFields + ` } }`
	ptNodeQuery              = `query($id: ID!) { node(id: $id) { __typename id } }`
	ptCardByLast4Query       = `query($l: String!) { card(last4: $l) { id } }`
)

// ptStart boots a server on a fresh PostgreSQL database for a test that runs in parallel.
func ptStart(t *testing.T) *testServer {
	t.Helper()
	t.Parallel()
	return startServer(t, "postgres")
}

// ptCustomerWithAddress creates a customer who may cash out (a cashout address, the e-mail
// username@example.com and, unless empty, a phone) and logs them in once.
func ptCustomerWithAddress(t *testing.T, s *testServer, admin, username, phone string) string {
	t.Helper()
	name := strings.ToUpper(username[:1]) + username[1:]
	in := map[string]any{"username": username, "password": username + "-password", "name": name,
		"email": username + "@example.com", "cashoutAddress": ptAddress(name)}
	if phone != "" {
		in["phone"] = phone
	}
	onT(t, s).mustDo(admin, eaCreateCustomerMutation, map[string]any{"in": in}, nil)
	return onT(t, s).login(username, username+"-password")
}

func ptAddress(name string) string {
	return "payto://iban/DE89370400440532013000?receiver-name=" + name
}

// ptCard is a card as its owner knows it: the full number is only ever shown by createCard.
type ptCard struct{ ID, Number, Last4 string }

func ptGoalKey(id string) string { return "goal:" + id }

func ptNewCard(t *testing.T, s *testServer, token string) ptCard {
	t.Helper()
	var out struct {
		CreateCard struct {
			Number string
			Card   struct{ ID, Last4 string }
		}
	}
	onT(t, s).mustDo(token, ptCreateCardMutation, nil, &out)
	return ptCard{ID: out.CreateCard.Card.ID, Number: out.CreateCard.Number, Last4: out.CreateCard.Card.Last4}
}

// ptTxn is the Transaction a money-moving mutation returns.
type ptTxn struct {
	ID, Kind, Status string
	Amount           struct{ Amount string }
}

// ptIn runs mutation with $in = in.
func ptIn(t *testing.T, s *testServer, token, mutation string, in map[string]any) gqlResponse {
	t.Helper()
	return onT(t, s).do(token, mutation, map[string]any{"in": in})
}

// ptOne decodes the single top-level field of a successful response into out.
func ptOne(t *testing.T, r gqlResponse, out any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	if err := ptDecodeOne(r, out); err != nil {
		t.Fatal(err)
	}
}

func ptDecodeOne(r gqlResponse, out any) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &top); err != nil || len(top) != 1 {
		return fmt.Errorf("decode %s: %v", r.Data, err)
	}
	for _, v := range top {
		if err := json.Unmarshal(v, out); err != nil {
			return fmt.Errorf("decode %s: %w", v, err)
		}
	}
	return nil
}

// ptMove runs a money-moving mutation that must succeed and returns its transaction.
func ptMove(t *testing.T, s *testServer, token, mutation string, in map[string]any) ptTxn {
	t.Helper()
	var txn ptTxn
	ptOne(t, ptIn(t, s, token, mutation, in), &txn)
	return txn
}

func ptCardMove(cardID string, amount any) map[string]any {
	return map[string]any{"cardId": cardID, "amount": amount}
}

func ptSavingsMove(goalID, cardID string, amount any) map[string]any {
	return map[string]any{"savingsGoalId": goalID, "cardId": cardID, "amount": amount}
}

func ptCardTransfer(from, to string, amount any) map[string]any {
	return map[string]any{"fromCardNumber": from, "toCardNumber": to, "amount": amount}
}

func ptPayment(billID, cardNumber string) map[string]any {
	return map[string]any{"billId": billID, "cardNumber": cardNumber}
}

// ptWithKey returns a copy of in with an idempotency key.
func ptWithKey(in map[string]any, key string) map[string]any {
	out := maps.Clone(in)
	out["idempotencyKey"] = key
	return out
}

// ptWantTxn asserts a transaction's kind, status and amount.
func ptWantTxn(t *testing.T, got ptTxn, kind, status, amount string) {
	t.Helper()
	if got.ID == "" || got.Kind != kind || got.Status != status || got.Amount.Amount != amount {
		t.Errorf("transaction = %+v, want %s %s %s", got, kind, status, amount)
	}
}

// ptGoal is a savings goal as the API renders it.
type ptGoal struct {
	ID, Name              string
	Goal, Balance, Remain struct{ Amount string }
	Reached               bool
	Account               struct{ ID, Kind string }
}

func ptNewGoal(t *testing.T, s *testServer, token, name, goal string) ptGoal {
	t.Helper()
	var g ptGoal
	ptOne(t, ptIn(t, s, token, ptCreateGoalMutation, map[string]any{"name": name, "goal": goal}), &g)
	return g
}

// ptGoals is the viewer's savingsGoals.
func ptGoals(t *testing.T, s *testServer, token string) []ptGoal {
	t.Helper()
	var out struct{ SavingsGoals []ptGoal }
	onT(t, s).mustDo(token, `{ savingsGoals { `+ptGoalFields+` } }`, nil, &out)
	return out.SavingsGoals
}

// ptWantGoal asserts what one of the viewer's goals shows of its progress.
func ptWantGoal(t *testing.T, s *testServer, token, id, balance, remain string, reached bool) {
	t.Helper()
	for _, g := range ptGoals(t, s, token) {
		if g.ID != id {
			continue
		}
		if g.Balance.Amount != balance || g.Remain.Amount != remain || g.Reached != reached {
			t.Errorf("goal %s: balance %s remain %s reached %v, want %s %s %v", g.Name, g.Balance.Amount,
				g.Remain.Amount, g.Reached, balance, remain, reached)
		}
		return
	}
	t.Errorf("goal %s is not in savingsGoals", id)
}

// ptBill is a bill as the API renders it.
type ptBill struct {
	ID, Name string
	Amount   struct{ Amount string }
	DueDate  string
	Paid     bool
	PaidAt   *string
	PaidWith *struct{ ID, Last4 string }
	// Transaction is null until the bill is paid.
	Transaction *ptTxn
}

func ptNewBill(t *testing.T, s *testServer, token, name, amount string, due time.Time) ptBill {
	t.Helper()
	var b ptBill
	ptOne(t, ptIn(t, s, token, ptCreateBillMutation, map[string]any{"name": name, "amount": amount,
		"dueDate": due.UTC().Format(time.RFC3339)}), &b)
	return b
}

// ptBillPage is one page of the viewer's bills.
type ptBillPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   string
	}
	Edges []struct{ Node ptBill }
}

// ptBills pages the viewer's bills; paid and after are left out when nil.
func ptBills(t *testing.T, s *testServer, token string, first int, after, paid any) ptBillPage {
	t.Helper()
	var out struct{ Bills ptBillPage }
	onT(t, s).mustDo(token, `query($f: Int, $a: Cursor, $p: Boolean) { bills(first: $f, after: $a, paid: $p) {
		totalCount pageInfo { hasNextPage endCursor } edges { node { `+ptBillFields+` } } } }`,
		map[string]any{"f": first, "a": after, "p": paid}, &out)
	return out.Bills
}

// ptCashout is a cash-out as the API renders it.
type ptCashout struct {
	ID, Status, Channel, CashoutAddress, CreatedAt string
	Amount                                         struct{ Amount, Currency string }
	ConfirmedAt                                    *string
	Transaction                                    ptTxn
}

func ptNewCashout(t *testing.T, s *testServer, token, amount, channel string) ptCashout {
	t.Helper()
	var co ptCashout
	ptOne(t, ptIn(t, s, token, ptCreateCashoutMutation, map[string]any{"amount": amount, "channel": channel}), &co)
	return co
}

// ptCashoutIDs is the viewer's cashouts connection: its totalCount and IDs, newest first.
func ptCashoutIDs(t *testing.T, s *testServer, token string) (int, []string) {
	t.Helper()
	var out struct {
		Cashouts struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	onT(t, s).mustDo(token, `{ cashouts(first: 100) { totalCount edges { node { id } } } }`, nil, &out)
	ids := []string{}
	for _, e := range out.Cashouts.Edges {
		ids = append(ids, e.Node.ID)
	}
	return out.Cashouts.TotalCount, ids
}

// ptBalances is the balance of every account the viewer holds: "main", then card.key() for each
// active card and ptGoalKey(id) for each savings goal.
func ptBalances(t *testing.T, s *testServer, token string) map[string]string {
	t.Helper()
	type item struct {
		ID      string
		Balance struct{ Amount string }
	}
	var out struct {
		Me struct {
			Customer struct {
				Balance      struct{ Amount string }
				Cards        []item
				SavingsGoals []item
			}
		}
	}
	onT(t, s).mustDo(token, `{ me { customer { balance { amount } cards { id balance { amount } }
		savingsGoals { id balance { amount } } } } }`, nil, &out)
	c := out.Me.Customer
	got := map[string]string{"main": c.Balance.Amount}
	for _, card := range c.Cards {
		got[ptCard{ID: card.ID}.key()] = card.Balance.Amount
	}
	for _, g := range c.SavingsGoals {
		got[ptGoalKey(g.ID)] = g.Balance.Amount
	}
	return got
}

// ptWantBalances asserts the balance of every account the viewer holds, and that they hold no
// other account.
func ptWantBalances(t *testing.T, s *testServer, token, who string, want map[string]string) {
	t.Helper()
	if got := ptBalances(t, s, token); !maps.Equal(got, want) {
		t.Errorf("%s's balances = %v, want %v", who, got, want)
	}
}

// ptCustomerStateQuery is everything a customer sees of their money and products.
const ptCustomerStateQuery = `{ me { customer {
	account { balance { amount } available { amount } pendingCount version }
	cards { id last4 status balance { amount } account { available { amount } version } }
	savingsGoals { id name goal { amount } balance { amount } remain { amount } reached account { version } }
	bills(first: 100) { totalCount edges { node { id paid paidAt paidWith { id } transaction { id status } } } } } }
	cashouts(first: 100) { totalCount edges { node { id status confirmedAt transaction { status } } } } }`

// ptSnapshot renders the bank's counts (as the admin sees them) and everything each customer
// token sees of their money and products, to compare before and after a refused operation.
func ptSnapshot(t *testing.T, s *testServer, admin string, tokens ...string) string {
	t.Helper()
	var b strings.Builder
	var raw json.RawMessage
	onT(t, s).mustDo(admin, `{ customers(first: 1) { totalCount } transactions(first: 1) { totalCount }
		pending: transactions(first: 1, filter: {status: PENDING}) { totalCount } cashouts(first: 1) { totalCount } }`, nil, &raw)
	b.Write(raw)
	for i, tok := range tokens {
		onT(t, s).mustDo(tok, ptCustomerStateQuery, nil, &raw)
		fmt.Fprintf(&b, "\ncustomer %d: %s", i, raw)
	}
	return b.String()
}

// ptCase is one refused call: who makes it, what they send, and what the answer must be. When
// likeMadeUp is set, the same query with those variables (naming nothing) must answer the same.
type ptCase struct {
	name       string
	as         string
	query      string
	vars       map[string]any
	wantCode   string
	wantFields []string
	likeMadeUp map[string]any
}

// ptRefusals runs each case against a snapshot of the watched customers: the call fails as it
// must and nothing changes.
func ptRefusals(t *testing.T, s *testServer, admin string, tokens map[string]string, watch []string, tests []ptCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, ok := tokens[tt.as]
			if !ok {
				t.Fatalf("no token for %q", tt.as)
			}
			before := ptSnapshot(t, s, admin, watch...)
			r := onT(t, s).do(token, tt.query, tt.vars)
			wantError(t, r, tt.wantCode, tt.wantFields...)
			if tt.likeMadeUp != nil {
				ptWantLike(t, r, onT(t, s).do(token, tt.query, tt.likeMadeUp))
			}
			eaUnchanged(t, before, ptSnapshot(t, s, admin, watch...))
		})
	}
}

// ptWantLike asserts that got answers exactly like want, the answer for something that does not
// exist: same data, same codes, same messages.
func ptWantLike(t *testing.T, got, want gqlResponse) {
	t.Helper()
	if string(got.Data) != string(want.Data) || len(got.Errors) != len(want.Errors) {
		t.Errorf("answer %s %+v differs from the answer for a made-up one %s %+v", got.Data, got.Errors, want.Data, want.Errors)
		return
	}
	for i := range got.Errors {
		g, w := got.Errors[i], want.Errors[i]
		if g.Message != w.Message || g.Extensions.Code != w.Extensions.Code || !maps.Equal(g.Extensions.Fields, w.Extensions.Fields) {
			t.Errorf("error %+v differs from the error for a made-up one %+v", g, w)
		}
	}
}

// ptLuhnValid reports whether number passes the Luhn check.
func ptLuhnValid(number string) bool {
	sum := 0
	for i := range len(number) {
		d := int(number[len(number)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// ptMadeUpNumber is a well-formed, Luhn-valid card number with the bank's prefix that was never
// issued (a 1 in 10^9 chance otherwise).
func ptMadeUpNumber() string {
	base := fmt.Sprintf("400000%09d", rand.IntN(1_000_000_000))
	for d := '0'; d <= '9'; d++ {
		if n := base + string(d); ptLuhnValid(n) {
			return n
		}
	}
	panic("no check digit")
}

// ptGrouped writes a card number in groups of four separated by sep.
func ptGrouped(number, sep string) string {
	return strings.Join([]string{number[0:4], number[4:8], number[8:12], number[12:16]}, sep)
}

// ptOutboxLine is one message of the OUTBOX_FILE.
type ptOutboxLine struct{ Channel, To, Subject, Text, Code, At string }

func ptOutbox(path string) ([]ptOutboxLine, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []ptOutboxLine
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var m ptOutboxLine
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("outbox line %q: %w", line, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// ptLastTAN is the latest message to `to` whose text names the amount ("12.34 EUR").
func ptLastTAN(path, to, amount string) (ptOutboxLine, error) {
	lines, err := ptOutbox(path)
	if err != nil {
		return ptOutboxLine{}, err
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].To == to && strings.Contains(lines[i].Text, amount) {
			return lines[i], nil
		}
	}
	return ptOutboxLine{}, fmt.Errorf("no message to %s for %s in the outbox", to, amount)
}

func ptTAN(t *testing.T, s *testServer, to, amount string) ptOutboxLine {
	t.Helper()
	m, err := ptLastTAN(s.Outbox, to, amount)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9]{6,}$`).MatchString(m.Code) || !strings.Contains(m.Text, m.Code) {
		t.Errorf("TAN message %+v: want a code of 6 or more digits, written in the text", m)
	}
	return m
}

// ptWrongCode is a code of the same length that differs from code in its last digit.
func ptWrongCode(code string) string {
	last := code[len(code)-1]
	return code[:len(code)-1] + string('0'+(last-'0'+1)%10)
}

// ptSystemAccounts returns the bank's SYSTEM account that the latest posted transaction of each
// kind touched (CREATION: the issuer; BILL_PAYMENT, CASHOUT: the clearing accounts), by kind.
func ptSystemAccounts(t *testing.T, s *testServer, admin string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, kind := range []string{"CREATION", "BILL_PAYMENT", "CASHOUT"} {
		var txs struct {
			Transactions struct {
				Edges []struct {
					Node struct {
						Entries []struct{ Account struct{ ID, Kind string } }
					}
				}
			}
		}
		onT(t, s).mustDo(admin, `query($f: TransactionFilter) { transactions(first: 1, filter: $f) {
			edges { node { entries { account { id kind } } } } } }`,
			map[string]any{"f": map[string]any{"kind": kind, "status": "POSTED"}}, &txs)
		for _, e := range txs.Transactions.Edges {
			for _, en := range e.Node.Entries {
				if en.Account.Kind == "SYSTEM" {
					out[kind] = en.Account.ID
				}
			}
		}
	}
	return out
}

// ptCheckAllAccounts is checkLedgerInvariants over every account products open as well:
// checkLedgerInvariants reads the customers' main accounts and the issuer only, so its sum is not
// zero while money sits on a card, in a savings goal or in a clearing account. It checks each
// active card's and goal's account, and the bill-payment and cash-out clearing accounts, with
// accountStatementCheck (entries sum to the balance, versions 1..n), that no customer account is
// below zero, that all balances sum to zero and that wantTransfers TRANSFERs are posted. It
// returns the clearing accounts' balances in minor units by transaction kind.
func ptCheckAllAccounts(t *testing.T, s *testServer, admin string, wantTransfers int) map[string]int64 {
	t.Helper()
	type acc struct{ Account struct{ ID string } }
	var out struct {
		Transactions struct{ TotalCount int }
		Customers    struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Account      struct{ ID string }
					Cards        []acc
					SavingsGoals []acc
				}
			}
		}
	}
	onT(t, s).mustDo(admin, `{ transactions(first: 1, filter: {kind: TRANSFER, status: POSTED}) { totalCount }
		customers(first: 100) { totalCount edges { node { account { id } cards { account { id } } savingsGoals { account { id } } } } } }`,
		nil, &out)
	if out.Transactions.TotalCount != wantTransfers {
		t.Errorf("posted transfers = %d, want %d (the successful sendCoins)", out.Transactions.TotalCount, wantTransfers)
	}
	if out.Customers.TotalCount > 100 {
		t.Fatalf("%d customers: page through them", out.Customers.TotalCount)
	}
	var ids []string
	for _, e := range out.Customers.Edges {
		ids = append(ids, e.Node.Account.ID)
		for _, c := range e.Node.Cards {
			ids = append(ids, c.Account.ID)
		}
		for _, g := range e.Node.SavingsGoals {
			ids = append(ids, g.Account.ID)
		}
	}
	system := ptSystemAccounts(t, s, admin)
	for _, id := range system {
		ids = append(ids, id)
	}
	var total int64
	balances := map[string]int64{}
	for _, id := range ids {
		balance, kind := accountStatementCheck(t, s, admin, id)
		if kind != "SYSTEM" && balance < 0 {
			t.Errorf("account %s (%s) balance %d < 0", id, kind, balance)
		}
		balances[id] = balance
		total += balance
	}
	if total != 0 {
		t.Errorf("sum of all balances (main, card, savings, system) = %d minor units, want 0", total)
	}
	clearing := map[string]int64{}
	for kind, id := range system {
		if kind != "CREATION" {
			clearing[kind] = balances[id]
		}
	}
	return clearing
}

// ptCountTxns is how many transactions of kind and status there are (as the admin sees them).
func ptCountTxns(t *testing.T, s *testServer, admin, kind, status string) int {
	t.Helper()
	var out struct{ Transactions struct{ TotalCount int } }
	onT(t, s).mustDo(admin, `query($f: TransactionFilter) { transactions(first: 1, filter: $f) { totalCount } }`,
		map[string]any{"f": map[string]any{"kind": kind, "status": status}}, &out)
	return out.Transactions.TotalCount
}

// ptExpiry is the last day of the month four years after now, as a Date.
func ptExpiry(now time.Time) string {
	y, m, _ := now.UTC().Date()
	return time.Date(y+4, m+1, 0, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// ptWantTrue asserts that a Boolean mutation succeeded with true.
func ptWantTrue(t *testing.T, r gqlResponse) {
	t.Helper()
	var ok bool
	if len(r.Errors) > 0 || ptDecodeOne(r, &ok) != nil || !ok {
		t.Fatalf("answer %s %+v, want true", r.Data, r.Errors)
	}
}

// ptRace runs n copies of call at once (released together) and returns each one's error code,
// "" for a success, "<transport: ...>" for a failed request.
func ptRace(n int, call func(i int) (gqlResponse, error)) []string {
	codes := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := call(i)
			if err != nil {
				codes[i] = "<transport: " + err.Error() + ">"
				return
			}
			codes[i] = r.code()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

// ptTally counts the codes ptRace returned.
func ptTally(codes []string) map[string]int {
	out := map[string]int{}
	for _, c := range codes {
		out[c]++
	}
	return out
}

// key names the card in a ptBalances map.
func (c ptCard) key() string { return "card:" + c.ID }

func (p ptBillPage) names() []string {
	out := []string{}
	for _, e := range p.Edges {
		out = append(out, e.Node.Name)
	}
	return out
}

// ptCashoutVars are createCashout's variables.
func ptCashoutVars(amount any, channel string) map[string]any {
	return map[string]any{"in": map[string]any{"amount": amount, "channel": channel}}
}

// ptConfirmVars are confirmCashout's variables.
func ptConfirmVars(id, tan string) map[string]any { return map[string]any{"id": id, "tan": tan} }

// ptIDVars are the variables of an operation taking one id.
func ptIDVars(v string) map[string]any { return map[string]any{"id": v} }
