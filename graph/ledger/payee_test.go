package ledger_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/coalesce"
	"coffer/graph/ledger"
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
)

// holderBook resolves names to the accounts with that holder name, with a real statement on the
// querier it is given, and remembers each call's names.
type holderBook struct {
	postgres bool

	mu    sync.Mutex
	calls [][]string
}

func (b *holderBook) Resolve(ctx context.Context, q ledger.Querier, names []string) (map[string]int, error) {
	b.mu.Lock()
	b.calls = append(b.calls, slices.Sorted(slices.Values(names)))
	b.mu.Unlock()
	arg, err := coalesce.Keys(b.postgres, names)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT "holder_name", "id" FROM "accounts" WHERE `+coalesce.In(b.postgres, `"holder_name"`), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[string]int{}
	for rows.Next() {
		var name string
		var id int
		if err := rows.Scan(&name, &id); err != nil {
			return nil, err
		}
		found[name] = id
	}
	return found, rows.Err()
}

// namedCase is a posting to a named payee and the code it must be answered with.
type namedCase struct {
	from    int
	name    string
	amount  int64
	refused error
	want    apperr.Code
}

func namedPosting(book *holderBook, c namedCase) ledger.Posting {
	from := c.from
	return ledger.Posting{
		Move: ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, AmountMinor: c.amount},
		Payee: &ledger.Payee{Book: book, Name: c.name, Refused: c.refused,
			Missing: apperr.New(apperr.NotFound, "recipient not found"),
			Accept: func(creditID int) error {
				if creditID == from {
					return apperr.Field("recipient", "you cannot send coins to yourself")
				}
				return nil
			}},
	}
}

// namedCases: each refusal in the order a transfer answers in (funds, then a refusal known
// before the look-up, then the name, then the payee itself), and two that pass.
func namedCases(a, empty int) []namedCase {
	tooMany := apperr.TooMany(0, "too many recipients not found")
	return []namedCase{
		{from: a, name: "b", amount: 10},
		{from: empty, name: "nobody", amount: 10, want: apperr.InsufficientFunds},
		{from: empty, name: "b", amount: 10, refused: tooMany, want: apperr.InsufficientFunds},
		{from: a, name: "nobody", amount: 10, want: apperr.NotFound},
		{from: a, name: "refused-only", amount: 10, refused: tooMany, want: apperr.TooManyRequests},
		{from: a, name: "a", amount: 10, want: apperr.BadUserInput},
		{from: a, name: "c", amount: 5},
	}
}

func checkNamedAnswers(t *testing.T, cases []namedCase, results []ledger.Result, errs []error) {
	t.Helper()
	for i, c := range cases {
		got := apperr.CodeOf(errs[i])
		if (c.want == "" && errs[i] != nil) || (c.want != "" && got != c.want) {
			t.Errorf("posting %d (%s, %d): %v, want code %q", i, c.name, c.amount, errs[i], c.want)
		}
		if (results[i].Transaction != nil) != (c.want == "") {
			t.Errorf("posting %d: transaction %v", i, results[i].Transaction)
		}
	}
}

// TestNamedPayees_answerInTransferOrder_oneLookUpForABatch: a batch resolves the names of all
// its postings with one statement of its own transaction (the refused posting's name not among
// them), and answers each posting as a lone transfer would; without the poster each named
// posting runs in a transaction of its own and gets the same answer.
func TestNamedPayees_answerInTransferOrder_oneLookUpForABatch(t *testing.T) {
	for _, st := range pgtest.Stores {
		for _, batched := range []bool{true, false} {
			t.Run(fmt.Sprint(st, "/batched=", batched), func(t *testing.T) {
				t.Parallel()
				l := open(t, st)
				a, b, c, empty := openAccount(t, l, "a"), openAccount(t, l, "b"), openAccount(t, l, "c"), openAccount(t, l, "empty")
				testkit.Mint(t, l, a, 100)
				book := &holderBook{postgres: l.Dialect == dialect.Postgres}
				cases := namedCases(a, empty)
				postings := make([]ledger.Posting, len(cases))
				for i, nc := range cases {
					postings[i] = namedPosting(book, nc)
				}
				results, errs := make([]ledger.Result, len(cases)), make([]error, len(cases))
				if batched {
					results, errs = ledger.PostAsOneBatch(l, postings)
					if want := [][]string{{"a", "b", "c", "nobody"}}; !slices.EqualFunc(book.calls, want, slices.Equal) {
						t.Errorf("look-ups %v, want %v", book.calls, want)
					}
				} else {
					for i, p := range postings {
						results[i], errs[i] = l.Submit(context.Background(), p)
					}
				}
				checkNamedAnswers(t, cases, results, errs)
				if results[0].Transaction.CreditAccountID != b || results[6].Transaction.CreditAccountID != c {
					t.Errorf("credited %d and %d, want %d and %d", results[0].Transaction.CreditAccountID, results[6].Transaction.CreditAccountID, b, c)
				}
				for id, want := range map[int]int64{a: 85, b: 10, c: 5, empty: 0} {
					if got := get(t, l, id).Balance; got != want {
						t.Errorf("account %d: balance %d, want %d", id, got, want)
					}
					checkStatement(t, l, id)
				}
			})
		}
	}
}
