package main

// Issue 15.1 over real HTTP: sendCoins must not tell who banks here (funds before the look-up,
// staff and unknown addresses alike, a per-user budget of failed look-ups), and a card number
// must not reveal its owner's e-mail. The probes are the attacker's: one request of aliases.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const abSendSelection = `{ id }`

// abRecipient renders a RecipientInput literal.
func abRecipient(way, value string) string {
	return fmt.Sprintf(`input: {recipient: {%s: %q}, amount: "%%s", autoSign: true}`, way, value)
}

// abProbe sends one request of aliased sendCoins, one per recipient, each of amount, and returns
// each alias's error code ("" for a transfer that went through).
func abProbe(t *testing.T, s *testServer, token, amount string, recipients [][2]string) []string {
	t.Helper()
	args := make([]string, len(recipients))
	for i, r := range recipients {
		args[i] = fmt.Sprintf(abRecipient(r[0], r[1]), amount)
	}
	data, errs := abPost(t, s, token, abAliases("sendCoins", args, abSendSelection), nil)
	return abCodesByAlias(t, data, errs, len(recipients))
}

// abEnumerationCast is a bank with a customer to find, a clerk, the admin and a prober.
func abEnumerationCast(t *testing.T, s *testServer) (admin, eve string, recipients [][2]string) {
	t.Helper()
	admin = s.admin()
	ann := s.customer(admin, "ann")
	_, annIBAN := (&idServer{testServer: s}).idAccountNumber(ann)
	s.mustDo(admin, idCreateUserMutation, map[string]any{"in": map[string]any{
		"username": "clerk", "password": "clerk-password-1", "role": "STAFF", "email": "clerk@bank.example"}}, nil)
	s.mustDo(admin, idCreateUserMutation, map[string]any{"in": map[string]any{
		"username": "boss", "password": "boss-password-1", "role": "ADMIN", "email": "boss@bank.example"}}, nil)
	eve = s.customer(admin, "eve")
	recipients = [][2]string{
		{"email", "ann@example.com"},       // 0 a customer
		{"email", "nobody@example.com"},    // 1 nobody
		{"email", "clerk@bank.example"},    // 2 staff
		{"email", "boss@bank.example"},     // 3 an administrator
		{"username", "clerk"},              // 4 staff by name
		{"iban", annIBAN},                  // 5 a customer by IBAN
		{"iban", "DE89370400440532013000"}, // 6 nobody by IBAN
		{"username", "admin"},              // 7 the institutional name (public)
	}
	return admin, eve, recipients
}

func TestSendCoins_aliasedProbeWithoutFunds_insufficientFundsWhoeverTheRecipient(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st)
			_, eve, recipients := abEnumerationCast(t, s)
			got := abProbe(t, s, eve, "1000.00", recipients)
			for i, code := range got {
				if code != "INSUFFICIENT_FUNDS" {
					t.Errorf("recipient %v: %q, want INSUFFICIENT_FUNDS (the amount says nothing about the recipient)", recipients[i], code)
				}
			}
			if b := s.balance(eve); b != "0.00" {
				t.Errorf("eve's balance = %s, want 0.00", b)
			}
		})
	}
}

func TestSendCoins_staffAndAdminAddresses_notFoundLikeNobody(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st)
			admin, eve, recipients := abEnumerationCast(t, s)
			s.mint(admin, "eve", "10")
			got := abProbe(t, s, eve, "1.00", recipients)
			want := []string{"", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "", "NOT_FOUND", "FORBIDDEN"}
			if !slices.Equal(got, want) {
				t.Errorf("codes = %q, want %q", got, want)
			}
			// Not only the code: the message of a staff address is that of nobody's.
			for _, i := range []int{2, 3} {
				_, errs := abPost(t, s, eve, abAliases("sendCoins", []string{fmt.Sprintf(abRecipient(recipients[i][0], recipients[i][1]), "1.00")}, abSendSelection), nil)
				_, nobody := abPost(t, s, eve, abAliases("sendCoins", []string{fmt.Sprintf(abRecipient("email", "nobody@example.com"), "1.00")}, abSendSelection), nil)
				if len(errs) != 1 || len(nobody) != 1 || errs[0].Message != nobody[0].Message {
					t.Errorf("%v answers %+v, nobody %+v: want the same", recipients[i], errs, nobody)
				}
			}
			if b := s.balance(eve); b != "8.00" {
				t.Errorf("eve's balance = %s, want 8.00 (two transfers to ann)", b)
			}
		})
	}
}

func TestSendCoins_failedLookupBudget_countsAliasesThenRefusesBeforeTheLookup(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres", "RECIPIENT_MISSES_PER_HOUR=3")
	admin := s.admin()
	s.customer(admin, "ann")
	eve := s.customer(admin, "eve")
	bob := s.customer(admin, "bob")
	s.mint(admin, "eve", "5")
	s.mint(admin, "bob", "5")
	var probes [][2]string
	for i := range 5 {
		probes = append(probes, [2]string{"email", fmt.Sprintf("guess%d@example.com", i)})
	}
	got := abProbe(t, s, eve, "1.00", probes)
	want := []string{"NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS"}
	if !slices.Equal(got, want) {
		t.Fatalf("codes = %q, want %q", got, want)
	}
	// Spent: even a real customer is refused before the look-up, so a hit tells nothing.
	r := s.send(eve, "ann", "1.00", nil)
	wantError(t, r, "TOO_MANY_REQUESTS")
	_, errs := abPost(t, s, eve, abAliases("sendCoins", []string{fmt.Sprintf(abRecipient("email", "ann@example.com"), "1.00")}, abSendSelection), nil)
	abWantTooMany(t, errs, "a send after the failed look-up budget is spent")
	if b := s.balance(eve); b != "5.00" {
		t.Errorf("eve's balance = %s, want 5.00", b)
	}
	// The budget is eve's: bob sends as usual.
	if r := s.send(bob, "ann", "1.00", nil); len(r.Errors) > 0 {
		t.Errorf("bob's send: %+v", r.Errors)
	}
}

// abCounterparty is a statement line's other side.
type abCounterparty struct {
	Name, Email, Iban, PublicKey, CardNumber *string
}

type abLine struct {
	Type         string
	Amount       struct{ Amount string }
	Counterparty *abCounterparty
}

// abCardHistory is every line of the viewer's cards' histories.
func abCardHistory(t *testing.T, s *testServer, token string) []abLine {
	t.Helper()
	var out struct {
		Cards []struct {
			History struct{ Edges []struct{ Node abLine } }
		}
	}
	s.mustDo(token, `{ cards { history(first: 50) { edges { node { type amount { amount }
		counterparty { name email iban publicKey cardNumber } } } } } }`, nil, &out)
	var lines []abLine
	for _, c := range out.Cards {
		for _, e := range c.History.Edges {
			lines = append(lines, e.Node)
		}
	}
	return lines
}

func abWantCardCounterparty(t *testing.T, who string, cp *abCounterparty, name, last4 string) {
	t.Helper()
	raw, _ := json.Marshal(cp)
	if cp == nil || cp.Name == nil || *cp.Name != name || cp.CardNumber == nil || !strings.HasSuffix(*cp.CardNumber, last4) ||
		strings.Contains(*cp.CardNumber, "@") || cp.Email != nil || cp.Iban != nil || cp.PublicKey != nil {
		t.Errorf("%s sees the counterparty %s, want only the name %q and the card masked to its last4 %s", who, raw, name, last4)
	}
}

func TestTransferBetweenCards_counterparty_holderNameAndMaskedNumberOnly(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st)
			admin := s.admin()
			ann, ben := s.customer(admin, "ann"), s.customer(admin, "ben")
			s.mint(admin, "ann", "10")
			a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ben)
			ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "1"))
			// The attacker's probe: 0.01 to a card number.
			ptMove(t, s, ann, ptTransferMutation, ptCardTransfer(a.Number, b.Number, "0.01"))

			var received *abLine
			for _, l := range abCardHistory(t, s, ben) {
				if l.Type == "RECEIVE" {
					received = &l
				}
			}
			if received == nil {
				t.Fatal("ben's card has no RECEIVE line")
			}
			abWantCardCounterparty(t, "ben", received.Counterparty, "Ann", a.Last4)
			var sent *abLine
			for _, l := range abCardHistory(t, s, ann) {
				if l.Type == "SEND" && l.Amount.Amount == "0.01" {
					sent = &l
				}
			}
			if sent == nil {
				t.Fatal("ann's card has no SEND line of 0.01")
			}
			abWantCardCounterparty(t, "ann", sent.Counterparty, "Ben", b.Last4)

			// A transfer between main accounts still names the known user by e-mail.
			if r := s.send(ann, "ben", "1.00", nil); len(r.Errors) > 0 {
				t.Fatalf("send: %+v", r.Errors)
			}
			var st struct {
				Me struct {
					Customer struct {
						Account struct {
							Entries struct{ Edges []struct{ Node abLine } }
						}
					}
				}
			}
			s.mustDo(ben, `{ me { customer { account { entries(first: 1) { edges { node { type amount { amount }
				counterparty { name email iban publicKey cardNumber } } } } } } } }`, nil, &st)
			edges := st.Me.Customer.Account.Entries.Edges
			if len(edges) != 1 || edges[0].Node.Counterparty == nil || edges[0].Node.Counterparty.Email == nil ||
				*edges[0].Node.Counterparty.Email != "ann@example.com" || edges[0].Node.Counterparty.CardNumber != nil {
				t.Errorf("ben's main statement = %+v, want ann by e-mail and no card", edges)
			}
		})
	}
}

// abAliases builds one mutation of n aliased calls of field with the given arguments.
func abAliases(field string, args []string, selection string) string {
	var b strings.Builder
	b.WriteString("mutation {")
	for i, a := range args {
		fmt.Fprintf(&b, " a%d: %s(%s) %s", i, field, a, selection)
	}
	b.WriteString(" }")
	return b.String()
}

// abCodesByAlias maps each alias of a response to its error's code ("" when it succeeded).
func abCodesByAlias(t *testing.T, data json.RawMessage, errs []abError, n int) []string {
	t.Helper()
	out := make([]string, n)
	for _, e := range errs {
		if len(e.Path) == 0 {
			t.Fatalf("error without a path: %+v", e)
		}
		alias, _ := e.Path[0].(string)
		var i int
		if _, err := fmt.Sscanf(alias, "a%d", &i); err != nil || i >= n {
			t.Fatalf("error path %v", e.Path)
		}
		out[i] = e.Extensions.Code
	}
	return out
}

func TestTransferBetweenCards_guessedNumbers_fundsFirstThenTheLookupBudget(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st, "RECIPIENT_MISSES_PER_HOUR=2")
			admin := s.admin()
			ann, ben := s.customer(admin, "ann"), s.customer(admin, "ben")
			s.mint(admin, "ann", "10")
			a, b := ptNewCard(t, s, ann), ptNewCard(t, s, ben)
			ptMove(t, s, ann, ptFundCardMutation, ptCardMove(a.ID, "1"))
			transfer := func(to, amount string) string {
				return fmt.Sprintf(`input: {fromCardNumber: %q, toCardNumber: %q, amount: %q}`, a.Number, to, amount)
			}
			probe := func(amount string, numbers ...string) []string {
				args := make([]string, len(numbers))
				for i, n := range numbers {
					args[i] = transfer(n, amount)
				}
				data, errs := abPost(t, s, ann, abAliases("transferBetweenCards", args, "{ id }"), nil)
				return abCodesByAlias(t, data, errs, len(numbers))
			}
			// More than the card holds: the same answer for a real card and a made-up one.
			if got := probe("5.00", b.Number, ptMadeUpNumber()); !slices.Equal(got, []string{"INSUFFICIENT_FUNDS", "INSUFFICIENT_FUNDS"}) {
				t.Errorf("unpayable probes = %q, want INSUFFICIENT_FUNDS for both", got)
			}
			// Payable: made-up numbers spend the budget, then even a real card is refused unlooked.
			got := probe("0.01", ptMadeUpNumber(), ptMadeUpNumber(), ptMadeUpNumber(), b.Number)
			if want := []string{"NOT_FOUND", "NOT_FOUND", "TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS"}; !slices.Equal(got, want) {
				t.Errorf("probes = %q, want %q", got, want)
			}
			// One budget with sendCoins.
			wantError(t, s.send(ann, "ben", "1.00", nil), "TOO_MANY_REQUESTS")
			ptWantBalances(t, s, ann, "ann", map[string]string{"main": "9.00", a.key(): "1.00"})
			ptWantBalances(t, s, ben, "ben", map[string]string{"main": "0.00", b.key(): "0.00"})
		})
	}
}
