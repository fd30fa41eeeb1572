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
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
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
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			a, b, c, empty := openAccount(t, l, "a"), openAccount(t, l, "b"), openAccount(t, l, "c"), openAccount(t, l, "empty")
			testkit.Mint(t, l, a, 100)
			results, errs, failed := ledger.PostAsOneBatchFailed(l, []ledger.Posting{
				transfer(a, b, 60), transfer(a, b, 60), transfer(a, c, 30), transfer(empty, b, 10), transfer(c, b, 30),
			})
			if failed {
				t.Fatal("the batch failed as a whole: its statements are wrong")
			}
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
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			initiator := newInitiator(t, l)
			a, b := openAccount(t, l, "a"), openAccount(t, l, "b")
			testkit.Mint(t, l, a, 100)
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
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			initiator := newInitiator(t, l)
			a, b := openAccount(t, l, "a"), openAccount(t, l, "b")
			testkit.Mint(t, l, a, 100)
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
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			b := startBatching(t, l)
			const accounts, senders, each = 5, 20, 10
			ids := openAccounts(t, l, accounts)
			// Only the first account has money at the start: many postings find none.
			testkit.Mint(t, l, ids[0], 50)
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

// hooked is a hooked posting that moves amountMinor from one account to another (pending when
// reserve), then runs side (its side write), as a product's flow does inside Run.
func hooked(l *ledger.Ledger, from, to int, amountMinor int64, reserve bool, side func(context.Context, *ledger.Tx) error) ledger.Posting {
	return ledger.Posting{Hook: func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		txn, err := l.Transfer(ctx, tx, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to,
			AmountMinor: amountMinor, Pending: reserve})
		if err != nil || side == nil {
			return txn, err
		}
		return txn, side(ctx, tx)
	}}
}

// TestBatch_hookRefused_rollsBackItsPostingAlone: a hooked posting whose side check refuses it
// after its entries are written (a bill found paid, a card frozen) loses its transaction, entries
// and balance changes to its savepoint; the plain and hooked postings around it commit, and every
// account's versions stay 1..n.
func TestBatch_hookRefused_rollsBackItsPostingAlone(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			a, b, c := openAccount(t, l, "a"), openAccount(t, l, "b"), openAccount(t, l, "c")
			testkit.Mint(t, l, a, 100)
			refuse := func(context.Context, *ledger.Tx) error {
				return apperr.New(apperr.PreconditionFailed, "the bill is already paid")
			}
			results, errs := ledger.PostAsOneBatch(l, []ledger.Posting{
				transfer(a, b, 10), hooked(l, a, c, 20, false, refuse), hooked(l, a, c, 30, false, nil), transfer(a, b, 5),
				hooked(l, a, b, 50, false, nil), // 100-10-30-5 = 55 left, then 50: covered only without the refused 20
			})
			wantCodes := []apperr.Code{"", apperr.PreconditionFailed, "", "", ""}
			for i, want := range wantCodes {
				if got := apperr.CodeOf(errs[i]); (want == "" && errs[i] != nil) || (want != "" && got != want) {
					t.Errorf("posting %d: %v, want code %q", i, errs[i], want)
				}
				if (results[i].Transaction != nil) != (want == "") {
					t.Errorf("posting %d: transaction %v", i, results[i].Transaction)
				}
			}
			for id, want := range map[int]int64{a: 5, b: 65, c: 30} {
				if got := get(t, l, id).Balance; got != want {
					t.Errorf("account %d: balance %d, want %d", id, got, want)
				}
				checkStatement(t, l, id)
			}
			if n := l.Client.Transaction.Query().Where(transaction.KindEQ(transaction.KindTRANSFER)).CountX(context.Background()); n != 4 {
				t.Errorf("%d transfers stored, want 4 (the refused one rolled back)", n)
			}
		})
	}
}

// TestBatch_hookSideWriteFails_rollsBackItsEntriesAndRunsAlone: a side write that fails in the
// database (not a client's mistake) rolls back its posting's entries to the savepoint, the others
// commit, and the posting runs again alone after the batch, getting the error it has alone.
func TestBatch_hookSideWriteFails_rollsBackItsEntriesAndRunsAlone(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			a, b := openAccount(t, l, "a"), openAccount(t, l, "b")
			testkit.Mint(t, l, a, 100)
			runs := 0
			broken := func(ctx context.Context, tx *ledger.Tx) error {
				runs++
				_, err := tx.ExecContext(ctx, `INSERT INTO "no_such_table" ("x") VALUES (1)`)
				return err
			}
			results, errs := ledger.PostAsOneBatch(l, []ledger.Posting{
				hooked(l, a, b, 10, false, nil), hooked(l, a, b, 20, false, broken), transfer(a, b, 30),
			})
			if errs[0] != nil || errs[2] != nil || results[0].Transaction == nil || results[2].Transaction == nil {
				t.Fatalf("the healthy postings: %v, %v", errs[0], errs[2])
			}
			if errs[1] == nil || apperr.CodeOf(errs[1]) != apperr.Internal || results[1].Transaction != nil {
				t.Errorf("the broken side write: %v, %v, want an internal error", results[1].Transaction, errs[1])
			}
			if runs != 2 {
				t.Errorf("the broken hook ran %d times, want 2 (in the batch, then alone)", runs)
			}
			if got := get(t, l, b).Balance; got != 40 {
				t.Errorf("b: balance %d, want 40", got)
			}
			checkStatement(t, l, a)
			checkStatement(t, l, b)
		})
	}
}

// TestBatch_reservationsAndSettlements_keepReservedEqualToPending: reservations, a posting and a
// void of pending transactions in one batch leave each account's reserved equal to its pending
// debits, and the settled transactions posted or voided.
func TestBatch_reservationsAndSettlements_keepReservedEqualToPending(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			a, b := openAccount(t, l, "a"), openAccount(t, l, "b")
			testkit.Mint(t, l, a, 100)
			first, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: a, CreditID: b, AmountMinor: 20, Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			second, err := move(l, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: a, CreditID: b, AmountMinor: 30, Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			settle := func(id int, post bool) ledger.Posting {
				return ledger.SettlePosting(func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
					if post {
						return l.Post(ctx, tx, id, transaction.KindTRANSFER)
					}
					return l.Void(ctx, tx, id, transaction.KindTRANSFER)
				})
			}
			// The plain posting goes first (its set-based statements), then the hooked ones in order.
			_, errs := ledger.PostAsOneBatch(l, []ledger.Posting{
				transfer(a, b, 30),                                     // 100 - 50 reserved: covered, 20 left
				settle(first.ID, true), hooked(l, a, b, 40, true, nil), // 20 left: not covered
				settle(second.ID, false),       // 50 left
				hooked(l, a, b, 40, true, nil), // 10 left
				hooked(l, a, b, 15, true, nil), // not covered
				settle(first.ID, true),         // posted already
			})
			wantCodes := []apperr.Code{"", "", apperr.InsufficientFunds, "", "", apperr.InsufficientFunds, apperr.PreconditionFailed}
			for i, want := range wantCodes {
				if got := apperr.CodeOf(errs[i]); (want == "" && errs[i] != nil) || (want != "" && got != want) {
					t.Errorf("posting %d: %v, want code %q", i, errs[i], want)
				}
			}
			acc := get(t, l, a)
			var pending []struct{ Sum int64 }
			l.Client.Transaction.Query().Where(transaction.DebitAccountID(a), transaction.StatusEQ(transaction.StatusPENDING)).
				Aggregate(ent.As(ent.Sum(transaction.FieldAmount), "sum")).ScanX(context.Background(), &pending)
			if acc.Balance != 50 || acc.Reserved != 40 || len(pending) != 1 || pending[0].Sum != 40 {
				t.Errorf("a: balance %d reserved %d, pending debits %v; want 50, 40, 40", acc.Balance, acc.Reserved, pending)
			}
			if s := l.Client.Transaction.GetX(context.Background(), second.ID).Status; s != transaction.StatusVOIDED {
				t.Errorf("the voided reservation is %s", s)
			}
			checkStatement(t, l, a)
			checkStatement(t, l, b)
		})
	}
}

// TestBatcher_parallelHookedPostings_keepReservedEqualToPending: concurrent reservations, their
// confirmations and voids (hooked postings) and plain transfers through the poster leave every
// account's reserved equal to its pending debits and its statement without version gaps.
func TestBatcher_parallelHookedPostings_keepReservedEqualToPending(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			l := open(t, st)
			b := startBatching(t, l)
			const accounts, workers, each = 4, 12, 8
			ids := openAccounts(t, l, accounts)
			for _, id := range ids {
				testkit.Mint(t, l, id, 100)
			}
			ctx := context.Background()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					hookedPostings(t, l, ids, w, each)
				}()
			}
			wg.Wait()
			b.Close()
			var total int64
			for _, id := range ids {
				acc := get(t, l, id)
				total += acc.Balance
				var pending []struct{ Sum int64 }
				l.Client.Transaction.Query().Where(transaction.DebitAccountID(id), transaction.StatusEQ(transaction.StatusPENDING)).
					Aggregate(ent.As(ent.Sum(transaction.FieldAmount), "sum")).ScanX(ctx, &pending)
				if len(pending) != 1 || pending[0].Sum != acc.Reserved {
					t.Errorf("account %d: reserved %d, pending debits %v", id, acc.Reserved, pending)
				}
				checkStatement(t, l, id)
			}
			if total != accounts*100 {
				t.Errorf("the accounts hold %d together, want %d", total, accounts*100)
			}
		})
	}
}

// hookedPostings is worker w's share of the test above: each postings between the accounts ids,
// alternately a plain transfer and a reservation that is posted, voided or left pending.
func hookedPostings(t *testing.T, l *ledger.Ledger, ids []int, w, each int) {
	ctx := context.Background()
	accounts := len(ids)
	for n := range each {
		from, to := ids[(w+n)%accounts], ids[(w+n+1)%accounts]
		if n%2 == 1 {
			if _, err := l.Submit(ctx, transfer(from, to, 3)); err != nil && apperr.CodeOf(err) != apperr.InsufficientFunds {
				t.Errorf("transfer: %v", err)
			}
			continue
		}
		txn, err := l.SubmitRun(ctx, 0, nil, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
			return l.Transfer(ctx, tx, ledger.Move{Kind: transaction.KindTRANSFER, DebitID: from, CreditID: to, AmountMinor: 5, Pending: true})
		})
		if apperr.CodeOf(err) == apperr.InsufficientFunds {
			continue
		}
		if err != nil {
			t.Errorf("reserve: %v", err)
			continue
		}
		if (w+n)%3 == 0 {
			continue // stays pending
		}
		_, err = l.SubmitApply(ctx, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
			if w%2 == 0 {
				return l.Post(ctx, tx, txn.ID, transaction.KindTRANSFER)
			}
			return l.Void(ctx, tx, txn.ID, transaction.KindTRANSFER)
		})
		if err != nil {
			t.Errorf("settle: %v", err)
		}
	}
}

// startBatching starts the poster the parallel tests share: a 1 ms window, at most 16 a batch.
func startBatching(t *testing.T, l *ledger.Ledger) *ledger.Batcher {
	t.Helper()
	b, err := l.StartBatching(ledger.BatchConfig{Window: time.Millisecond, Max: 16})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openAccounts opens n empty accounts named acc0, acc1, ...
func openAccounts(t *testing.T, l *ledger.Ledger, n int) []int {
	t.Helper()
	ids := make([]int, n)
	for i := range ids {
		ids[i] = openAccount(t, l, fmt.Sprint("acc", i))
	}
	return ids
}
