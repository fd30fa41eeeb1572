// Package coins holds the community-currency rules: minting ("creation") by administrators with
// a target-date window and a monthly limit per recipient, and customers sending coins to each
// other, at once or pending their signature.
package coins

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/gid"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/money"
	"coffer/graph/ratelimit"
)

// Service applies the rules.
type Service struct {
	Ledger *ledger.Ledger
	// SQL is the pool under the ledger's client: recipients are resolved with prepared
	// statements on it (recipient.go).
	SQL *sql.DB
	// MonthlyLimitMinor caps the creations per recipient and calendar month of their target date.
	MonthlyLimitMinor int64
	// Identity re-authenticates a customer who replaces their public key by password.
	Identity *identity.Service
	// KeyChallengeTTL is how long a publicKeyChallenge stays usable (CODE_TTL; 10 minutes when 0).
	KeyChallengeTTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// FailedLookups bounds, per sending user, the sends whose recipient named nobody (nil:
	// unbounded): without it, sendCoins answers "who banks here" for any list of addresses.
	FailedLookups *ratelimit.Limiter

	recipientOnce sync.Once
	recipients    *recipientStatements
}

// PublicKeyOf returns the customer's registered key, nil when none (ent scans a NULL key as an
// empty slice, so emptiness is what counts).
func PublicKeyOf(c *ent.Customer) []byte {
	if c == nil || c.PublicKey == nil || len(*c.PublicKey) == 0 {
		return nil
	}
	return *c.PublicKey
}

// ParsePublicKey decodes a hex Ed25519 public key.
func ParsePublicKey(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("coins: public key must be %d bytes of hex", ed25519.PublicKeySize)
	}
	return b, nil
}

// Mint is createCoins' input as the client sent it.
type Mint struct {
	Recipient Recipient
	// Amount is as the client typed it (Decimal or "CUR:value").
	Amount string
	// TargetDate is the day the coins are created for; nil means now, at every attempt: a retry
	// without one means "now" again, not the first attempt's instant.
	TargetDate *time.Time
	Memo       string
	// AutoSign (nil: true) posts at once; false leaves the creation PENDING, counted against the
	// monthly limit, until another administrator confirms it (four eyes, ConfirmCreation).
	AutoSign *bool
	// IdempotencyKey is the client's key, if any.
	IdempotencyKey *string
}

// mint is a Mint read: the amount parsed, the defaults applied, the key fingerprinted.
type mint struct {
	recipient   Recipient
	amountMinor int64
	targetDate  time.Time // zero: now
	memo        string
	autoSign    bool
	key         *ledger.Key
}

// read parses the amount (BAD_USER_INPUT on amount) before the idempotency key (on
// idempotencyKey), and fingerprints the request as the client meant it.
func (in Mint) read(l *ledger.Ledger) (mint, error) {
	amountMinor, err := l.PositiveAmount("amount", in.Amount)
	if err != nil {
		return mint{}, err
	}
	m := mint{recipient: in.Recipient, amountMinor: amountMinor, memo: in.Memo, autoSign: in.AutoSign == nil || *in.AutoSign}
	targetPart := "now"
	if in.TargetDate != nil {
		m.targetDate, targetPart = *in.TargetDate, in.TargetDate.UTC().Format(time.RFC3339Nano)
	}
	parts := []string{in.Recipient.fingerprint(), ledger.AmountPart(amountMinor), targetPart, in.Memo}
	if !m.autoSign { // appended only when false: keys of earlier auto-signed creations keep their fingerprint
		parts = append(parts, "pending")
	}
	m.key, err = ledger.NewKey(in.IdempotencyKey, "createCoins", parts...)
	return m, err
}

// CheckTargetDate enforces the creation window: the current or the two previous calendar months
// (UTC) of now.
func CheckTargetDate(target, now time.Time) error {
	target, now = target.UTC(), now.UTC()
	first := time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	if target.Before(first) || !target.Before(end) {
		return apperr.Field("targetDate", "must lie in the current or the two previous months")
	}
	return nil
}

// Create mints coins from the issuer to a customer (administrators only).
func (s *Service) Create(ctx context.Context, admin *identity.Viewer, in Mint) (*ent.Transaction, error) {
	m, err := in.read(s.Ledger)
	if err != nil {
		return nil, err
	}
	issuer, err := s.Ledger.Issuer(ctx)
	if err != nil {
		return nil, err
	}
	// Checked after the idempotency key (a retry gets the first result even once its target
	// date has left the window), before the transaction.
	var toID int
	check := func(ctx context.Context) (err error) {
		if m.targetDate.IsZero() {
			m.targetDate = s.Ledger.Now()
		}
		if err := CheckTargetDate(m.targetDate, s.Ledger.Now()); err != nil {
			return err
		}
		toID, err = s.Resolve(ctx, m.recipient)
		return err
	}
	return s.Ledger.SubmitRunAfter(ctx, admin.UserID, m.key, check, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		t := m.targetDate.UTC()
		if err := s.withinMonthlyLimit(ctx, tx, toID, t, m.amountMinor); err != nil {
			return nil, err
		}
		txn, err := s.Ledger.Transfer(ctx, tx, ledger.Move{
			Kind: transaction.KindCREATION, DebitID: issuer, CreditID: toID, AmountMinor: m.amountMinor,
			Memo: m.memo, TargetDate: &t, InitiatorID: admin.UserID, Pending: !m.autoSign, Key: m.key,
		})
		if err != nil {
			return nil, err
		}
		return txn, s.withinCirculation(ctx, tx, issuer)
	})
}

// withinMonthlyLimit refuses a creation of amountMinor to account toID that takes its creations
// for the calendar month of target beyond MonthlyLimitMinor (pending ones count, voided ones do
// not). The recipient's row lock serializes creations to them, so two concurrent creations cannot
// both pass.
func (s *Service) withinMonthlyLimit(ctx context.Context, tx *ledger.Tx, toID int, target time.Time, amountMinor int64) error {
	if s.Ledger.Dialect == dialect.Postgres {
		if _, err := tx.Account.Query().Where(account.ID(toID)).ForUpdate().Only(ctx); err != nil {
			return err
		}
	}
	monthStart := time.Date(target.Year(), target.Month(), 1, 0, 0, 0, 0, time.UTC)
	var sums []struct{ Sum int64 }
	err := tx.Transaction.Query().
		Where(transaction.CreditAccountID(toID), transaction.KindEQ(transaction.KindCREATION),
			transaction.StatusNEQ(transaction.StatusVOIDED),
			transaction.TargetDateGTE(monthStart), transaction.TargetDateLT(monthStart.AddDate(0, 1, 0))).
		Aggregate(ent.As(ent.Sum(transaction.FieldAmount), "sum")).
		Scan(ctx, &sums)
	if err != nil {
		return fmt.Errorf("coins: monthly sum: %w", err)
	}
	already := int64(0)
	if len(sums) == 1 {
		already = sums[0].Sum
	}
	if already > s.MonthlyLimitMinor-amountMinor {
		return apperr.New(apperr.PreconditionFailed, "the monthly creation limit of %s for this recipient would be exceeded (%s already created for %s)",
			s.Ledger.Currency.Format(s.MonthlyLimitMinor), s.Ledger.Currency.Format(already), monthStart.Format("2006-01"))
	}
	return nil
}

// withinCirculation refuses a creation that takes the money in circulation beyond
// ledger.MaxCirculationMinor. It reads the issuer's balance after the debit (or the reservation
// of a pending creation, counted as if posted), under the row lock the debit took, so concurrent
// creations are counted one after another.
func (s *Service) withinCirculation(ctx context.Context, tx *ledger.Tx, issuer int) error {
	acc, err := tx.Account.Get(ctx, issuer)
	if err != nil {
		return fmt.Errorf("coins: issuer: %w", err)
	}
	if acc.Balance-acc.Reserved < -ledger.MaxCirculationMinor {
		return apperr.New(apperr.PreconditionFailed, "the money in circulation would exceed %s",
			s.Ledger.Currency.Format(ledger.MaxCirculationMinor))
	}
	return nil
}

// Send is sendCoins' input as the client sent it.
type Send struct {
	Recipient Recipient
	// Amount is as the client typed it (Decimal or "CUR:value").
	Amount string
	Memo   string
	// AutoSign (nil: true) posts at once; false makes the transfer wait, funds reserved, for
	// confirmation.
	AutoSign *bool
	// IdempotencyKey is the client's key, if any.
	IdempotencyKey *string
}

// send is a Send read: the amount parsed, the default applied, the key fingerprinted.
type send struct {
	recipient   Recipient
	amountMinor int64
	memo        string
	autoSign    bool
	key         *ledger.Key
}

func (in Send) read(l *ledger.Ledger) (send, error) {
	amountMinor, err := l.PositiveAmount("amount", in.Amount)
	if err != nil {
		return send{}, err
	}
	autoSign := in.AutoSign == nil || *in.AutoSign
	key, err := ledger.NewKey(in.IdempotencyKey, "sendCoins", in.Recipient.fingerprint(), ledger.AmountPart(amountMinor),
		in.Memo, strconv.FormatBool(autoSign))
	return send{recipient: in.Recipient, amountMinor: amountMinor, memo: in.Memo, autoSign: autoSign, key: key}, err
}

// Send moves coins from the viewer's main account to another customer's.
//
// The answer must not tell who banks here: an amount the sender cannot pay is INSUFFICIENT_FUNDS
// before the recipient is looked up, and look-ups that name nobody spend a per-user budget
// (TOO_MANY_REQUESTS once spent, before any look-up).
func (s *Service) Send(ctx context.Context, v *identity.Viewer, req Send) (*ent.Transaction, error) {
	in, err := req.read(s.Ledger)
	if err != nil {
		return nil, err
	}
	if in.autoSign && in.recipient.byUsernameOnly() {
		return s.sendToUsername(ctx, v, in)
	}
	var toID int
	check := func(ctx context.Context) (err error) {
		if err := s.checkFunds(ctx, v, in.amountMinor); err != nil {
			return err
		}
		return s.resolveCounted(ctx, v, in.recipient, &toID)
	}
	move := func(ctx context.Context, client *ent.Client) (ledger.Move, error) {
		fromID, err := viewerAccount(ctx, client, v)
		if err != nil {
			return ledger.Move{}, err
		}
		if toID == fromID {
			return ledger.Move{}, apperr.Field("recipient", "you cannot send coins to yourself")
		}
		return ledger.Move{Kind: transaction.KindTRANSFER, DebitID: fromID, CreditID: toID, AmountMinor: in.amountMinor,
			Memo: in.memo, InitiatorID: v.UserID, Pending: !in.autoSign, Key: in.key}, nil
	}
	if in.autoSign {
		// Posted at once: the ledger's poster may batch it with other postings (docs/ledger.md).
		return s.Ledger.SubmitAfter(ctx, v.UserID, in.key, func(ctx context.Context) (ledger.Posting, error) {
			if err := check(ctx); err != nil {
				return ledger.Posting{}, err
			}
			m, err := move(ctx, s.Ledger.Client)
			return ledger.Posting{Move: m}, err
		})
	}
	return s.Ledger.SubmitRunAfter(ctx, v.UserID, in.key, check, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		m, err := move(ctx, tx.Client())
		if err != nil {
			return nil, err
		}
		return s.Ledger.Transfer(ctx, tx, m)
	})
}

// sendToUsername is Send, posted at once, to a recipient named by username: the ledger resolves
// the name in the posting's own transaction (ledger.Payee), with the names of the other transfers
// of its batch, and answers in Send's order: funds, the look-up budget, the name, not oneself.
func (s *Service) sendToUsername(ctx context.Context, v *identity.Viewer, in send) (*ent.Transaction, error) {
	budget := strconv.Itoa(v.UserID)
	txn, err := s.Ledger.SubmitAfter(ctx, v.UserID, in.key, func(ctx context.Context) (ledger.Posting, error) {
		fromID, err := viewerAccount(ctx, s.Ledger.Client, v)
		if err != nil {
			return ledger.Posting{}, err
		}
		s.recipientOnce.Do(func() { s.recipients = newRecipientStatements(s.Ledger.Dialect, s.SQL) })
		payee := &ledger.Payee{Book: s.recipients.payees, Name: identity.NormalizeUsername(in.recipient.Username),
			Missing: errRecipientNotFound,
			Accept: func(creditID int) error {
				if creditID == fromID {
					return apperr.Field("recipient", "you cannot send coins to yourself")
				}
				return nil
			}}
		if s.FailedLookups != nil {
			if ok, wait := s.FailedLookups.Peek(budget); !ok {
				payee.Refused = apperr.TooMany(wait, "too many recipients not found: try again later")
			}
		}
		if payee.Refused == nil && identity.IsInstitutional(in.recipient.Username) {
			payee.Refused = institutional()
		}
		return ledger.Posting{Move: ledger.Move{Kind: transaction.KindTRANSFER, DebitID: fromID, AmountMinor: in.amountMinor,
			Memo: in.memo, InitiatorID: v.UserID, Key: in.key}, Payee: payee}, nil
	})
	if err != nil && IsLookupMiss(err) && s.FailedLookups != nil {
		s.FailedLookups.Allow(budget)
	}
	return txn, err
}

// checkFunds refuses an amount the viewer's main account cannot pay now. The transfer checks again
// under its lock; this read only makes the answer independent of the recipient.
func (s *Service) checkFunds(ctx context.Context, v *identity.Viewer, amountMinor int64) error {
	fromID, err := viewerAccount(ctx, s.Ledger.Client, v)
	if err != nil {
		return err
	}
	// Read with the concurrent sendCoins' senders in one statement (recipient.go).
	s.recipientOnce.Do(func() { s.recipients = newRecipientStatements(s.Ledger.Dialect, s.SQL) })
	availableMinor, found, err := s.recipients.available.Load(ctx, int64(fromID))
	if err == nil && !found {
		err = fmt.Errorf("account %d not found", fromID)
	}
	if err != nil {
		return fmt.Errorf("coins: read sender's account: %w", err)
	}
	if availableMinor < amountMinor {
		return apperr.New(apperr.InsufficientFunds, "insufficient funds")
	}
	return nil
}

// resolveCounted is Resolve under the viewer's failed look-up budget.
func (s *Service) resolveCounted(ctx context.Context, v *identity.Viewer, r Recipient, toID *int) error {
	key := strconv.Itoa(v.UserID)
	if s.FailedLookups != nil {
		if ok, wait := s.FailedLookups.Peek(key); !ok {
			return apperr.TooMany(wait, "too many recipients not found: try again later")
		}
	}
	id, err := s.Resolve(ctx, r)
	if err != nil && IsLookupMiss(err) && s.FailedLookups != nil {
		s.FailedLookups.Allow(key)
	}
	*toID = id
	return err
}

// viewerAccount is the id of the viewer's main account: the one authentication read along with
// the session (no statement), else looked up.
func viewerAccount(ctx context.Context, client *ent.Client, v *identity.Viewer) (int, error) {
	if v.MainAccountID != 0 {
		return v.MainAccountID, nil
	}
	acc, err := MainAccount(ctx, client, v.CustomerID)
	if err != nil {
		return 0, err
	}
	return acc.ID, nil
}

// MainAccount returns a customer's main account.
func MainAccount(ctx context.Context, client *ent.Client, customerID int) (*ent.Account, error) {
	acc, err := client.Account.Query().
		Where(account.OwnerID(customerID), account.KindEQ(account.KindMAIN)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.PreconditionFailed, "the customer has no main account")
	}
	return acc, err
}

// SigningPayload is what a customer with a public key signs to confirm a pending transaction.
func SigningPayload(txn *ent.Transaction, c money.Currency) string {
	return strings.Join([]string{
		"coffer-transaction-v1", gid.Encode(txn.ID), c.Code, c.Format(txn.Amount),
		strconv.Itoa(txn.DebitAccountID), strconv.Itoa(txn.CreditAccountID),
	}, "|")
}

// SettledByOwner are the kinds of pending transaction that confirmTransaction and
// cancelTransaction settle (API.md §7). Every other kind has its own flow: a cash-out's
// transaction moves only with its TAN (confirmCashout) or abortCashout.
var SettledByOwner = []transaction.Kind{transaction.KindTRANSFER, transaction.KindCREATION}

// ownPending loads a transaction the viewer sent; another's is NOT_FOUND, as a missing one. One of
// another flow (a cash-out's) is PRECONDITION_FAILED, before any signature is looked at.
func (s *Service) ownPending(ctx context.Context, client *ent.Client, v *identity.Viewer, txnID int) (*ent.Transaction, error) {
	txn, err := client.Transaction.Query().
		Where(transaction.ID(txnID), transaction.HasDebitAccountWith(account.OwnerID(v.CustomerID))).
		Only(ctx)
	if ent.IsNotFound(err) || v.CustomerID == 0 {
		return nil, apperr.New(apperr.NotFound, "transaction not found")
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(SettledByOwner, txn.Kind) {
		return nil, ledger.ErrOtherFlow(txn.Kind)
	}
	return txn, nil
}

// Confirm posts a pending transaction the viewer sent. When the viewer has registered a public
// key, signature must be its Ed25519 signature (hex) of the SigningPayload.
func (s *Service) Confirm(ctx context.Context, v *identity.Viewer, txnID int, signature string) (*ent.Transaction, error) {
	if v.IsAdmin() {
		return s.SettleCreation(ctx, v, txnID, true)
	}
	txn, err := s.ownPending(ctx, s.Ledger.Client, v, txnID)
	if err != nil {
		return nil, err
	}
	c, err := s.Ledger.Client.Customer.Get(ctx, v.CustomerID)
	if err != nil {
		return nil, err
	}
	if txn.Status != transaction.StatusPENDING {
		return nil, apperr.New(apperr.PreconditionFailed, "the transaction is no longer pending")
	}
	if key := PublicKeyOf(c); key != nil {
		sig, err := hex.DecodeString(signature)
		payload := SigningPayload(txn, s.Ledger.Currency)
		if signature == "" || err != nil || len(sig) != ed25519.SignatureSize ||
			!ed25519.Verify(ed25519.PublicKey(key), []byte(payload), sig) {
			return nil, apperr.Field("signature", "must be the hex Ed25519 signature of the transaction's signingPayload")
		}
	}
	return s.Ledger.SubmitApply(ctx, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		return s.Ledger.Post(ctx, tx, txn.ID, SettledByOwner...)
	})
}

// Cancel voids a pending transaction the viewer sent, releasing the reserved funds.
func (s *Service) Cancel(ctx context.Context, v *identity.Viewer, txnID int) (*ent.Transaction, error) {
	if v.IsAdmin() {
		return s.SettleCreation(ctx, v, txnID, false)
	}
	txn, err := s.ownPending(ctx, s.Ledger.Client, v, txnID)
	if err != nil {
		return nil, err
	}
	return s.Ledger.SubmitApply(ctx, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		return s.Ledger.Void(ctx, tx, txn.ID, SettledByOwner...)
	})
}
