package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"coffer/ent"
	"coffer/ent/entry"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/ledger"
)

func transfer(from, to int, amountMinor int64) ledger.Posting {
	return ledger.Posting{Move: ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: amountMinor}}
}

// checkStatement asserts that the account's entries have versions 1..n with running balances
// that end at the account's balance and version.
func checkStatement(t *testing.T, l *ledger.Ledger, accountID int) {
	t.Helper()
	entries, err := l.Client.Entry.Query().Where(entry.AccountID(accountID)).Order(ent.Asc(entry.FieldVersion)).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var balance int64
	for i, e := range entries {
		balance += e.Amount
		if e.Version != int64(i+1) || e.BalanceAfter != balance {
			t.Fatalf("account %d entry %d: version %d balance after %d, want %d and %d", accountID, i, e.Version, e.BalanceAfter, i+1, balance)
		}
	}
	if a := get(t, l, accountID); a.Balance != balance || a.Version != int64(len(entries)) {
		t.Errorf("account %d: balance %d version %d, its entries say %d and %d", accountID, a.Balance, a.Version, balance, len(entries))
	}
}

// TestBatch_insufficientFundsMidBatch_failsThatPostingAlone: within one batch each posting is
// checked against the balances as the postings before it left them; the one the money no longer
// covers fails alone and the others commit.
func TestBatch_insufficientFundsMidBatch_failsThatPostingAlone(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			a, b, c, empty := openAccount(t, l, "a"), openAccount(t, l, "b"), openAccount(t, l, "c"), openAccount(t, l, "empty")
			fund(t, l, a, 100)
			results, errs := ledger.PostAsOneBatch(l, []ledger.Posting{
				transfer(a, b, 60), transfer(a, b, 60), transfer(a, c, 30), transfer(empty, b, 10), transfer(c, b, 30),
			})
			wantCodes := []apperr.Code{"", apperr.InsufficientFunds, "", apperr.InsufficientFunds, ""}
			for i, want := range wantCodes {
				if got := apperr.CodeOf(errs[i]); (want == "" && errs[i] != nil) || (want != "" && got != want) {
					t.Errorf("posting %d: %v, want code %q", i, errs[i], want)
				}
				if (results[i].Transaction != nil) != (want == "") {
					t.Errorf("posting %d: transaction %v", i, results[i].Transaction)
				}
			}
			for id, want := range map[int]int64{a: 10, b: 90, c: 0, empty: 0} {
				if got := get(t, l, id).Balance; got != want {
					t.Errorf("account %d: balance %d, want %d", id, got, want)
				}
				checkStatement(t, l, id)
			}
			if n := l.Client.Transaction.Query().Where(transaction.KindEQ(transaction.KindTRANSFER)).CountX(context.Background()); n != 3 {
				t.Errorf("%d transfers stored, want 3", n)
			}
		})
	}
}

// newInitiator creates a user for idempotency keys (unique per initiator).
func newInitiator(t *testing.T, l *ledger.Ledger) int {
	t.Helper()
	u, err := l.Client.User.Create().SetUsername("payer").SetPasswordHash("x").SetRole(user.RoleCUSTOMER).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestBatch_keyReusedInOneBatch: the same key with the same request twice in one batch posts
// once and answers both with that transaction; with another request it is CONFLICT.
func TestBatch_keyReusedInOneBatch(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			initiator := newInitiator(t, l)
			a, b := openAccount(t, l, "a"), openAccount(t, l, "b")
			fund(t, l, a, 100)
			keyed := func(amountMinor int64) ledger.Posting {
				p := transfer(a, b, amountMinor)
				value := "k1"
				key, err := ledger.NewKey(&value, "send", fmt.Sprint(amountMinor))
				if err != nil {
					t.Fatal(err)
				}
				p.InitiatorID, p.Key = initiator, key
				return p
			}
			results, errs := ledger.PostAsOneBatch(l, []ledger.Posting{keyed(10), keyed(10), keyed(20)})
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("same request twice: %v, %v", errs[0], errs[1])
			}
			if results[0].Transaction.ID != results[1].Transaction.ID {
				t.Errorf("same request twice: transactions %d and %d, want one", results[0].Transaction.ID, results[1].Transaction.ID)
			}
			if apperr.CodeOf(errs[2]) != apperr.Conflict {
				t.Errorf("another request under the key: %v, want CONFLICT", errs[2])
			}
			if got := get(t, l, b).Balance; got != 10 {
				t.Errorf("b: balance %d, want 10 (moved once)", got)
			}
			checkStatement(t, l, a)
			checkStatement(t, l, b)
		})
	}
}

// TestBatch_keyAlreadyStored_batchFallsBackToLonePostings: a key stored after the look-up but
// before the batch makes the batch's INSERT fail as a whole; nothing of it stays, and each
// posting then runs alone: the repeat gets the stored transaction, the other posts.
func TestBatch_keyAlreadyStored_batchFallsBackToLonePostings(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			initiator := newInitiator(t, l)
			a, b := openAccount(t, l, "a"), openAccount(t, l, "b")
			fund(t, l, a, 100)
			value := "k1"
			key, err := ledger.NewKey(&value, "send", "10")
			if err != nil {
				t.Fatal(err)
			}
			p := transfer(a, b, 10)
			p.InitiatorID, p.Key = initiator, key
			first, err := move(l, p.Move)
			if err != nil {
				t.Fatal(err)
			}
			results, errs := ledger.PostAsOneBatch(l, []ledger.Posting{transfer(a, b, 5), p})
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("errors %v, %v", errs[0], errs[1])
			}
			if results[1].Transaction.ID != first.ID {
				t.Errorf("the repeat got transaction %d, want the stored %d", results[1].Transaction.ID, first.ID)
			}
			if got := get(t, l, b).Balance; got != 15 {
				t.Errorf("b: balance %d, want 15", got)
			}
			checkStatement(t, l, a)
			checkStatement(t, l, b)
		})
	}
}

// TestBatcher_parallelTransfers_conserveMoneyWithoutVersionGaps: many concurrent postings through
// the poster, some of them beyond the money there is, leave every account's statement gap-free
// and the money where the successful answers say it went.
func TestBatcher_parallelTransfers_conserveMoneyWithoutVersionGaps(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			b, err := l.StartBatching(ledger.BatchConfig{Window: time.Millisecond, Max: 16})
			if err != nil {
				t.Fatal(err)
			}
			const accounts, senders, each = 5, 20, 10
			ids := make([]int, accounts)
			for i := range ids {
				ids[i] = openAccount(t, l, fmt.Sprint("acc", i))
			}
			// Only the first account has money at the start: many postings find none.
			fund(t, l, ids[0], 50)
			funded := map[int]int64{ids[0]: 50}
			var mu sync.Mutex
			moved := map[int]int64{}
			var ok, short int
			var wg sync.WaitGroup
			for s := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range each {
						from, to := ids[(s+n)%accounts], ids[(s+n+1+s%(accounts-1))%accounts]
						r, err := l.Submit(context.Background(), transfer(from, to, int64(7+s)))
						mu.Lock()
						switch {
						case err == nil && r.Transaction != nil:
							ok++
							moved[from] -= int64(7 + s)
							moved[to] += int64(7 + s)
						case apperr.CodeOf(err) == apperr.InsufficientFunds:
							short++
						default:
							t.Errorf("submit: %v", err)
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			b.Close()
			if ok == 0 || short == 0 {
				t.Errorf("want successes and INSUFFICIENT_FUNDS, got %d and %d", ok, short)
			}
			for _, id := range ids {
				if got := get(t, l, id).Balance; got != funded[id]+moved[id] {
					t.Errorf("account %d: balance %d, want %d", id, got, funded[id]+moved[id])
				}
				checkStatement(t, l, id)
			}
		})
	}
}
