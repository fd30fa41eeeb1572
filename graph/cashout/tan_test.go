package cashout_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/ent"
	entcashout "coffer/ent/cashout"
	"coffer/ent/challenge"
	"coffer/ent/hook"
	"coffer/graph/apperr"
	"coffer/graph/cashout"
	"coffer/graph/codes"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/pgtest"
	"coffer/graph/testkit"
)

// The TAN is used up in the posting's transaction (inside the hooked posting, under its savepoint
// in a batch): a posting that fails leaves the TAN usable and the money reserved, a wrong TAN's
// try is committed and nothing else changes, and of parallel confirmations one posts.

// modes are the two ways a posting runs: alone, and through the batching poster.
var modes = []string{"alone", "batched"}

func openIn(t *testing.T, st, mode string) *bank {
	t.Helper()
	b := open(t, st)
	if mode == "batched" {
		bt, err := b.Ledger.StartBatching(ledger.BatchConfig{Window: time.Millisecond, Max: 64})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(bt.Close)
	}
	return b
}

// eachMode runs body on each store, alone and batched, with ann's pending cash-out of 400 (of
// 1000) and its TAN; h, when set, is an ent hook on the cash-outs, installed first.
func eachMode(t *testing.T, h ent.Hook, body func(t *testing.T, b *bank, ann *identity.Viewer, co *ent.Cashout, tan string)) {
	for _, st := range pgtest.Stores {
		for _, mode := range modes {
			t.Run(st+"/"+mode, func(t *testing.T) {
				b := openIn(t, st, mode)
				if h != nil {
					b.Ledger.Client.Cashout.Use(h)
				}
				ann := b.customer(t, "ann", "payto://iban/DE89370400440532013000", 1_000)
				co, err := b.Create(context.Background(), ann, cashout.Request{Amount: minorText(400), Channel: entcashout.ChannelEMAIL})
				if err != nil {
					t.Fatal(err)
				}
				body(t, b, ann, co, b.lastTAN(t))
			})
		}
	}
}

// tanOf is the cash-out's TAN challenge.
func (b *bank) tanOf(t *testing.T, co *ent.Cashout) *ent.Challenge {
	t.Helper()
	c, err := b.Ledger.Client.Challenge.Query().
		Where(challenge.PurposeEQ(challenge.PurposeCASHOUT_TAN), challenge.Subject("cashout:"+strconv.Itoa(co.ID))).
		Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantPending checks that nothing moved: the cash-out pending, 400 of 1000 reserved, its TAN
// unused after tries tries.
func (b *bank) wantPending(t *testing.T, v *identity.Viewer, co *ent.Cashout, tries int) {
	t.Helper()
	got, err := b.Ledger.Client.Cashout.Get(context.Background(), co.ID)
	if err != nil || got.Status != entcashout.StatusPENDING {
		t.Fatalf("cash-out %+v, %v; want PENDING", got, err)
	}
	if bal, res := b.main(t, v); bal != 1_000 || res != 400 {
		t.Fatalf("balance %d reserved %d, want 1000 and 400", bal, res)
	}
	if c := b.tanOf(t, co); c.UsedAt != nil || c.Attempts != tries {
		t.Fatalf("TAN used %v after %d tries, want unused after %d", c.UsedAt, c.Attempts, tries)
	}
}

func TestConfirm_postingFailsAfterTheTANCheck_TANStaysUsable(t *testing.T) {
	var failing atomic.Bool
	// A database failure in the posting's transaction, after the TAN was checked and used.
	failConfirmation := func(next ent.Mutator) ent.Mutator {
		return hook.CashoutFunc(func(ctx context.Context, m *ent.CashoutMutation) (ent.Value, error) {
			if s, ok := m.Status(); ok && s == entcashout.StatusCONFIRMED && failing.Load() {
				return nil, errors.New("injected: connection reset by peer")
			}
			return next.Mutate(ctx, m)
		})
	}
	eachMode(t, failConfirmation, func(t *testing.T, b *bank, ann *identity.Viewer, co *ent.Cashout, tan string) {
		ctx := context.Background()
		failing.Store(true)
		_, err := b.Confirm(ctx, ann, co.ID, tan)
		testkit.WantCode(t, err, apperr.Internal)
		b.wantPending(t, ann, co, 1)
		failing.Store(false)
		done, err := b.Confirm(ctx, ann, co.ID, tan)
		if err != nil || done.Status != entcashout.StatusCONFIRMED {
			t.Fatalf("confirm with the same TAN: %+v, %v", done, err)
		}
		if bal, res := b.main(t, ann); bal != 600 || res != 0 {
			t.Fatalf("after confirm: balance %d reserved %d, want 600 and 0", bal, res)
		}
		if c := b.tanOf(t, co); c.UsedAt == nil {
			t.Fatal("the TAN is not used up by the confirmation")
		}
	})
}

func TestConfirm_wrongTAN_tryCommittedNothingElseChanges_fifthKillsTheTAN(t *testing.T) {
	eachMode(t, nil, func(t *testing.T, b *bank, ann *identity.Viewer, co *ent.Cashout, tan string) {
		ctx := context.Background()
		for i := 1; i <= codes.MaxAttempts; i++ {
			_, err := b.Confirm(ctx, ann, co.ID, wrong(tan))
			testkit.WantCode(t, err, apperr.InvalidCode)
			b.wantPending(t, ann, co, i)
		}
		_, err := b.Confirm(ctx, ann, co.ID, tan)
		testkit.WantCode(t, err, apperr.InvalidCode)
		b.wantPending(t, ann, co, codes.MaxAttempts)
	})
}

func TestConfirm_parallelRightTAN_postsOnce(t *testing.T) {
	eachMode(t, nil, func(t *testing.T, b *bank, ann *identity.Viewer, co *ent.Cashout, tan string) {
		ctx := context.Background()
		const n = 4 // within MaxAttempts: every one passes the check
		var confirmed atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.Confirm(ctx, ann, co.ID, tan)
				switch code := apperr.CodeOf(err); {
				case err == nil:
					confirmed.Add(1)
				case code != apperr.InvalidCode && code != apperr.PreconditionFailed:
					t.Errorf("a parallel confirmation: %v, want INVALID_CODE or PRECONDITION_FAILED", err)
				}
			}()
		}
		wg.Wait()
		if got := confirmed.Load(); got != 1 {
			t.Fatalf("%d confirmations succeeded, want 1", got)
		}
		if bal, res := b.main(t, ann); bal != 600 || res != 0 {
			t.Fatalf("after the race: balance %d reserved %d, want 600 and 0", bal, res)
		}
		if c := b.tanOf(t, co); c.UsedAt == nil {
			t.Fatal("the TAN is not used up")
		}
	})
}
