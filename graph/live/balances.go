package live

import (
	"context"
	"fmt"
	"time"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/entry"
	"coffer/graph/apperr"
)

// replayPage bounds the entries read per query while catching up.
const replayPage = 200

// BalanceFilter says what a balance subscription watches. The caller has already decided that
// the viewer may see those accounts.
type BalanceFilter struct {
	// UserID is the subscriber, for the per-user cap.
	UserID int
	// AccountIDs are the accounts watched; when empty, every account of OwnerID is, including
	// accounts opened after the subscription started (delivered from their first change).
	AccountIDs []int
	OwnerID    int
	// AfterVersion, when set, replays the changes after it first (per account; an account whose
	// version is lower replays nothing). Unset: only changes after the subscription started.
	AfterVersion *int64
	// OnError is told why the stream ends early (ErrFellBehind, a database error); the events
	// channel is closed right after.
	OnError func(error)
}

// Balances subscribes to the changes of the filter's accounts. The channel is closed when ctx
// ends or the subscription fails (OnError says why).
func (h *Hub) Balances(ctx context.Context, f BalanceFilter) (<-chan *BalanceEvent, error) {
	if f.AfterVersion != nil && *f.AfterVersion < 0 {
		return nil, apperr.Field("afterVersion", "must not be negative")
	}
	if len(f.AccountIDs) == 0 && f.OwnerID == 0 {
		return nil, apperr.Field("accountId", "name an account: the viewer has none")
	}
	if err := h.admit(f.UserID); err != nil {
		return nil, err
	}
	p := &pump{h: h, f: f, w: &waker{c: make(chan struct{}, 1)}, last: map[int]int64{}, avail: map[int]int64{}}
	// Registered before the first read: a change committed after that read rings the bell, a
	// change before it is part of what the read sees. Nothing falls between the two.
	h.watch(p.w, f, true)
	if err := p.start(ctx); err != nil {
		h.watch(p.w, f, false)
		h.release(f.UserID)
		return nil, err
	}
	out := make(chan *BalanceEvent, h.limits.Buffer)
	go func() {
		defer close(out)
		defer h.release(f.UserID)
		defer h.watch(p.w, f, false)
		if err := p.run(ctx, out); err != nil && ctx.Err() == nil && f.OnError != nil {
			f.OnError(err)
		}
	}()
	return out, nil
}

func (h *Hub) watch(w *waker, f BalanceFilter, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	op := add[int, *waker]
	if !on {
		op = remove[int, *waker]
	}
	if len(f.AccountIDs) > 0 {
		for _, id := range f.AccountIDs {
			op(h.byAccount, id, w)
		}
		return
	}
	op(h.byOwner, f.OwnerID, w)
}

// pump is one balance subscription: it delivers, per account, every version after the last one
// it delivered, reading them from the ledger's entries when its bell rings.
type pump struct {
	h *Hub
	f BalanceFilter
	w *waker
	// last is the version delivered per account; avail the available amount last delivered.
	last  map[int]int64
	avail map[int]int64
}

func (p *pump) accounts(ctx context.Context) ([]*ent.Account, error) {
	q := p.h.client.Account.Query()
	if len(p.f.AccountIDs) > 0 {
		q.Where(account.IDIn(p.f.AccountIDs...))
	} else {
		q.Where(account.OwnerID(p.f.OwnerID))
	}
	accs, err := q.Order(ent.Asc(account.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("live: read accounts: %w", err)
	}
	return accs, nil
}

// start fixes where each account's stream begins.
func (p *pump) start(ctx context.Context) error {
	accs, err := p.accounts(ctx)
	if err != nil {
		return err
	}
	if len(p.f.AccountIDs) > 0 && len(accs) != len(p.f.AccountIDs) {
		return apperr.New(apperr.NotFound, "account not found")
	}
	for _, a := range accs {
		from := a.Version
		if p.f.AfterVersion != nil {
			from = min(*p.f.AfterVersion, a.Version)
		}
		p.last[a.ID] = from
		p.avail[a.ID] = available(a, a.Balance)
	}
	return nil
}

func (p *pump) run(ctx context.Context, out chan<- *BalanceEvent) error {
	for {
		if err := p.catchUp(ctx, out); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.w.c:
		}
	}
}

// catchUp delivers every change of the watched accounts that is not delivered yet.
func (p *pump) catchUp(ctx context.Context, out chan<- *BalanceEvent) error {
	accs, err := p.accounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accs {
		if _, known := p.last[a.ID]; !known {
			// Opened after the subscription started: all of its history is new to the subscriber.
			p.last[a.ID], p.avail[a.ID] = 0, a.DebitLimit
		}
		// Up to the version read with the account row, so that Available is computed from a
		// consistent row; later versions ring the bell again.
		for p.last[a.ID] < a.Version {
			entries, err := p.h.client.Entry.Query().
				Where(entry.AccountID(a.ID), entry.VersionGT(p.last[a.ID]), entry.VersionLTE(a.Version)).
				Order(ent.Asc(entry.FieldVersion)).Limit(replayPage).All(ctx)
			if err != nil {
				return fmt.Errorf("live: read entries: %w", err)
			}
			if len(entries) == 0 {
				return fmt.Errorf("live: account %d: versions %d..%d have no entries", a.ID, p.last[a.ID]+1, a.Version)
			}
			for _, e := range entries {
				// The unique (account, version) index forbids duplicates; a gap would be a ledger bug.
				if e.Version != p.last[a.ID]+1 {
					return fmt.Errorf("live: account %d: version %d follows %d", a.ID, e.Version, p.last[a.ID])
				}
				ev := &BalanceEvent{Account: a, Entry: e, BalanceMinor: e.BalanceAfter,
					AvailableMinor: available(a, e.BalanceAfter), Version: e.Version, At: e.BookedAt}
				if err := p.send(ctx, out, ev); err != nil {
					return err
				}
				p.last[a.ID], p.avail[a.ID] = e.Version, ev.AvailableMinor
			}
		}
		// A reservation, its release or a new debit limit changes what is available without a
		// statement line: delivered with the unchanged version and no entry.
		if av := available(a, a.Balance); av != p.avail[a.ID] {
			ev := &BalanceEvent{Account: a, BalanceMinor: a.Balance, AvailableMinor: av, Version: a.Version, At: time.Now().UTC().Truncate(time.Microsecond)}
			if err := p.send(ctx, out, ev); err != nil {
				return err
			}
			p.avail[a.ID] = av
		}
	}
	return nil
}

// send hands ev to the subscriber, waiting at most SlowAfter while its buffer is full.
func (p *pump) send(ctx context.Context, out chan<- *BalanceEvent, ev *BalanceEvent) error {
	select {
	case out <- ev:
		return nil
	default:
	}
	t := time.NewTimer(p.h.limits.SlowAfter)
	defer t.Stop()
	select {
	case out <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrFellBehind
	}
}
