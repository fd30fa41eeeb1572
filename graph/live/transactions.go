package live

import (
	"context"
	"fmt"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/transaction"
)

// maxRemembered bounds the statuses a transaction subscriber remembers to drop repeats.
const maxRemembered = 1024

// txnSub is one transactionUpdated subscription: pushed to, with a bounded buffer.
type txnSub struct {
	out  chan *ent.Transaction
	fail chan error
	// sent is the status last sent per transaction; only the hub's goroutine touches it.
	sent map[int]transaction.Status
}

// TransactionFilter says whose transactions a subscription follows.
type TransactionFilter struct {
	UserID int
	// OwnerID is the customer whose accounts' transactions are followed.
	OwnerID int
	OnError func(error)
}

// Transactions subscribes to the status changes (created pending or posted, posted, voided) of
// the transactions touching the owner's accounts. Updates are live only: a client that was away
// re-reads its transactions.
func (h *Hub) Transactions(ctx context.Context, f TransactionFilter) (<-chan *ent.Transaction, error) {
	if err := h.admit(f.UserID); err != nil {
		return nil, err
	}
	s := &txnSub{out: make(chan *ent.Transaction, h.limits.Buffer), fail: make(chan error, 1),
		sent: map[int]transaction.Status{}}
	h.mu.Lock()
	add(h.txnByOwner, f.OwnerID, s)
	h.mu.Unlock()
	out := make(chan *ent.Transaction)
	go func() {
		defer close(out)
		defer h.release(f.UserID)
		defer func() {
			h.mu.Lock()
			remove(h.txnByOwner, f.OwnerID, s)
			h.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-s.fail:
				if f.OnError != nil {
					f.OnError(err)
				}
				return
			case t := <-s.out:
				select {
				case out <- t:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// deliverTransactions reads the batch's transactions and pushes each to the subscribers of
// its parties; a subscriber whose buffer is full is ended with ErrFellBehind.
func (h *Hub) deliverTransactions(ctx context.Context, ids []int) error {
	txns, err := h.client.Transaction.Query().Where(transaction.IDIn(ids...)).All(ctx)
	if err != nil {
		return fmt.Errorf("live: read transactions: %w", err)
	}
	accountIDs := make([]int, 0, 2*len(txns))
	for _, t := range txns {
		accountIDs = append(accountIDs, t.DebitAccountID, t.CreditAccountID)
	}
	accs, err := h.client.Account.Query().Where(account.IDIn(accountIDs...)).
		Select(account.FieldID, account.FieldOwnerID).All(ctx)
	if err != nil {
		return fmt.Errorf("live: read accounts: %w", err)
	}
	ownerOf := map[int]int{}
	for _, a := range accs {
		if a.OwnerID != nil {
			ownerOf[a.ID] = *a.OwnerID
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range txns {
		owners := []int{ownerOf[t.DebitAccountID]}
		if o := ownerOf[t.CreditAccountID]; o != owners[0] {
			owners = append(owners, o)
		}
		for _, o := range owners {
			for s := range h.txnByOwner[o] {
				s.push(t)
			}
		}
	}
	return nil
}

func (s *txnSub) push(t *ent.Transaction) {
	if s.sent[t.ID] == t.Status {
		return // two notifications that read the same status
	}
	if len(s.sent) >= maxRemembered {
		clear(s.sent)
	}
	s.sent[t.ID] = t.Status
	select {
	case s.out <- t:
	default:
		select {
		case s.fail <- ErrFellBehind:
		default:
		}
	}
}
