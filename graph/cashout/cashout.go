// Package cashout pays money out of the bank to a customer's cashout address, confirmed by a TAN.
// A cash-out is a pending ledger transaction from the customer's main account to the bank's
// cash-out clearing account: creating it reserves the amount, the TAN posts it, aborting voids it.
package cashout

import (
	"context"
	"fmt"
	"strconv"

	"entgo.io/contrib/entgql"

	"coffer/ent"
	"coffer/ent/cashout"
	"coffer/ent/challenge"
	"coffer/ent/customer"
	"coffer/ent/transaction"
	"coffer/graph/apperr"
	"coffer/graph/codes"
	"coffer/graph/coins"
	"coffer/graph/delivery"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/ratelimit"
)

// AccountCode is the bank's cash-out clearing account.
const AccountCode = "cashouts"

var errNotFound = apperr.New(apperr.NotFound, "cash-out not found")

// Service applies the cash-out rules.
type Service struct {
	Ledger *ledger.Ledger
	Codes  *codes.Service
	// PerUser bounds createCashout calls per user (nil: unbounded): each one can send a TAN.
	PerUser *ratelimit.Limiter
}

// Request is createCashout's input as the client sent it.
type Request struct {
	// Amount is as the client typed it (Decimal or "CUR:value").
	Amount  string
	Channel cashout.Channel
	// IdempotencyKey is the client's key, if any.
	IdempotencyKey *string
}

// request is a Request read: the amount parsed and the key fingerprinted.
type request struct {
	amountMinor int64
	channel     cashout.Channel
	key         *ledger.Key
}

func (in Request) read(l *ledger.Ledger) (request, error) {
	amountMinor, err := l.PositiveAmount("amount", in.Amount)
	if err != nil {
		return request{}, err
	}
	key, err := ledger.NewKey(in.IdempotencyKey, "createCashout", ledger.AmountPart(amountMinor), string(in.Channel))
	return request{amountMinor: amountMinor, channel: in.Channel, key: key}, err
}

func subject(id int) string { return "cashout:" + strconv.Itoa(id) }

// Create reserves the amount for a cash-out to the viewer's cashout address and sends its TAN.
// A retry under the same idempotency key returns the same cash-out, and sends a new TAN only when
// the first one is no longer live.
func (s *Service) Create(ctx context.Context, v *identity.Viewer, in Request) (*ent.Cashout, error) {
	r, err := in.read(s.Ledger)
	if err != nil {
		return nil, err
	}
	if err := s.admit(v); err != nil {
		return nil, err
	}
	msg, address, err := s.tanMessage(ctx, v, r.channel)
	if err != nil {
		return nil, err
	}
	// Refused before any money is reserved; Start takes the budget for real after the commit.
	if err := s.Codes.CheckBudget(msg.Channel, msg.To); err != nil {
		return nil, err
	}
	co, err := s.reserve(ctx, v, r, address)
	if err != nil || co.Status != cashout.StatusPENDING {
		return co, err
	}
	return s.sendTAN(ctx, co, msg)
}

// admit refuses whoever may not cash out (the bank's own users, anyone but a customer) and
// counts the call against the viewer's budget: each one can send a TAN.
func (s *Service) admit(v *identity.Viewer) error {
	if identity.IsInstitutional(v.Username) {
		return apperr.New(apperr.Conflict, "the bank's own users cannot cash out")
	}
	if v.CustomerID == 0 {
		return apperr.New(apperr.Forbidden, "customers only")
	}
	if s.PerUser != nil {
		if ok, wait := s.PerUser.Try(strconv.Itoa(v.UserID)); !ok {
			return apperr.TooMany(wait, "too many cash-outs: try again later")
		}
	}
	return nil
}

// tanMessage addresses the TAN on the channel the customer chose, and returns their cashout
// address; either missing is PRECONDITION_FAILED.
func (s *Service) tanMessage(ctx context.Context, v *identity.Viewer, channel cashout.Channel) (codes.Request, string, error) {
	c, err := s.Ledger.Client.Customer.Query().Where(customer.ID(v.CustomerID)).WithUser().Only(ctx)
	if err != nil {
		return codes.Request{}, "", fmt.Errorf("cashout: customer: %w", err)
	}
	if c.CashoutAddress == "" {
		return codes.Request{}, "", apperr.New(apperr.PreconditionFailed, "no cashout address is set for this customer")
	}
	msg := codes.Request{Purpose: challenge.PurposeCASHOUT_TAN, UserID: v.UserID, Kind: delivery.KindCashoutTAN, Username: v.Username}
	u := c.Edges.User
	switch {
	case channel == cashout.ChannelEMAIL && u.Email != nil:
		msg.Channel, msg.To = delivery.ChannelEmail, *u.Email
	case channel == cashout.ChannelSMS && u.Phone != nil:
		phone, err := identity.VerifiedPhone(u)
		if err != nil {
			return codes.Request{}, "", err
		}
		msg.Channel, msg.To = delivery.ChannelSMS, phone
	default:
		return codes.Request{}, "", apperr.New(apperr.PreconditionFailed, "no address on file for the %s channel", channel)
	}
	return msg, c.CashoutAddress, nil
}

// reserve moves the amount, pending, from the customer's main account to the clearing account and
// records the cash-out, under the request's key: a retry returns the first cash-out as it is now.
func (s *Service) reserve(ctx context.Context, v *identity.Viewer, r request, address string) (*ent.Cashout, error) {
	clearing, err := s.Ledger.EnsureSystemAccount(ctx, AccountCode, "Cash-outs", false)
	if err != nil {
		return nil, err
	}
	txn, err := s.Ledger.SubmitRun(ctx, v.UserID, r.key, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		main, err := coins.MainAccount(ctx, tx.Client(), v.CustomerID)
		if err != nil {
			return nil, err
		}
		txn, err := s.Ledger.Transfer(ctx, tx, ledger.Move{
			Kind: transaction.KindCASHOUT, DebitID: main.ID, CreditID: clearing, AmountMinor: r.amountMinor,
			Memo: "Cash-out", InitiatorID: v.UserID, Pending: true, Key: r.key,
		})
		if err != nil {
			return nil, err
		}
		err = tx.Cashout.Create().SetCustomerID(v.CustomerID).SetAmount(r.amountMinor).SetChannel(r.channel).
			SetCashoutAddress(address).SetTransactionID(txn.ID).SetCreatedAt(s.Ledger.Now()).Exec(ctx)
		return txn, err
	})
	if err != nil {
		return nil, err
	}
	co, err := s.Ledger.Client.Cashout.Query().Where(cashout.TransactionID(txn.ID)).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("cashout: read back: %w", err)
	}
	return co, nil
}

// sendTAN sends a pending cash-out's TAN, unless one was ever issued: a retry under the same key
// sends one only when the first request ended between its commit and the send. A TAN killed by
// wrong tries or expired stays dead, or every retry would grant five more guesses.
func (s *Service) sendTAN(ctx context.Context, co *ent.Cashout, msg codes.Request) (*ent.Cashout, error) {
	issued, err := s.Codes.Issued(ctx, challenge.PurposeCASHOUT_TAN, subject(co.ID))
	if err != nil || issued {
		return co, err
	}
	msg.Subject = subject(co.ID)
	msg.Amount = s.Ledger.Currency.Format(co.Amount) + " " + s.Ledger.Currency.Code
	if _, err := s.Codes.Start(ctx, msg); err != nil {
		// Nobody can confirm a cash-out whose TAN never arrived: release the money.
		if _, aerr := s.abort(context.WithoutCancel(ctx), co); aerr != nil {
			err = fmt.Errorf("%w (and aborting: %v)", err, aerr)
		}
		return nil, err
	}
	return co, nil
}

// List is the cash-outs v may list: all of them for an administrator, their own for a customer;
// anyone else (staff without a customer) is FORBIDDEN. Page it with NewestFirst.
func List(client *ent.Client, v *identity.Viewer) (*ent.CashoutQuery, error) {
	if v.IsAdmin() {
		return client.Cashout.Query(), nil
	}
	if v.CustomerID == 0 {
		return nil, apperr.New(apperr.Forbidden, "customers and administrators only")
	}
	return client.Cashout.Query().Where(cashout.CustomerID(v.CustomerID)), nil
}

// NewestFirst orders cash-out pages by creation, newest first.
var NewestFirst = &ent.CashoutOrder{Direction: entgql.OrderDirectionDesc, Field: ent.CashoutOrderFieldCreatedAt}

// Own returns one of the viewer's cash-outs; another's is NOT_FOUND, as a missing one.
func Own(ctx context.Context, client *ent.Client, v *identity.Viewer, id int) (*ent.Cashout, error) {
	co, err := client.Cashout.Query().Where(cashout.ID(id), cashout.CustomerID(v.CustomerID)).Only(ctx)
	if ent.IsNotFound(err) || v.CustomerID == 0 {
		return nil, errNotFound
	}
	return co, err
}

var errNotPending = apperr.New(apperr.PreconditionFailed, "the cash-out is no longer pending")

// Confirm posts a pending cash-out with its TAN; the TAN is used up in the posting's transaction.
func (s *Service) Confirm(ctx context.Context, v *identity.Viewer, id int, tan string) (*ent.Cashout, error) {
	co, err := Own(ctx, s.Ledger.Client, v, id)
	if err != nil {
		return nil, err
	}
	if co.Status != cashout.StatusPENDING {
		return nil, errNotPending
	}
	// The try is counted (and committed) here, outside the posting: a refused posting rolls back
	// to its savepoint, and a wrong TAN's try must stay counted.
	c, err := s.Codes.CheckSubject(ctx, challenge.PurposeCASHOUT_TAN, subject(co.ID), tan)
	if err != nil {
		return nil, err
	}
	_, err = s.Ledger.SubmitApply(ctx, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		// The TAN is used up with the posting, so that a failed posting leaves it usable; first,
		// so that of two confirmations with it the second is INVALID_CODE, as it always was.
		if err := s.Codes.Use(ctx, tx.Client(), c); err != nil {
			return nil, err
		}
		posted, err := s.Ledger.Post(ctx, tx, co.TransactionID, transaction.KindCASHOUT)
		if err != nil {
			return nil, err
		}
		n, err := tx.Cashout.Update().Where(cashout.ID(co.ID), cashout.StatusEQ(cashout.StatusPENDING)).
			SetStatus(cashout.StatusCONFIRMED).SetConfirmedAt(s.Ledger.Now()).Save(ctx)
		if err == nil && n == 0 {
			err = errNotPending
		}
		return posted, err
	})
	if err != nil {
		return nil, err
	}
	return s.Ledger.Client.Cashout.Get(ctx, co.ID)
}

// Abort voids a pending cash-out, releasing the money, and kills its TAN.
func (s *Service) Abort(ctx context.Context, v *identity.Viewer, id int) (*ent.Cashout, error) {
	co, err := Own(ctx, s.Ledger.Client, v, id)
	if err != nil {
		return nil, err
	}
	return s.abort(ctx, co)
}

func (s *Service) abort(ctx context.Context, co *ent.Cashout) (*ent.Cashout, error) {
	if co.Status != cashout.StatusPENDING {
		return nil, errNotPending
	}
	_, err := s.Ledger.SubmitApply(ctx, func(ctx context.Context, tx *ledger.Tx) (*ent.Transaction, error) {
		voided, err := s.Ledger.Void(ctx, tx, co.TransactionID, transaction.KindCASHOUT)
		if err != nil {
			return nil, err
		}
		n, err := tx.Cashout.Update().Where(cashout.ID(co.ID), cashout.StatusEQ(cashout.StatusPENDING)).
			SetStatus(cashout.StatusABORTED).SetAbortedAt(s.Ledger.Now()).Save(ctx)
		if err == nil && n == 0 {
			err = errNotPending
		}
		return voided, err
	})
	if err != nil {
		return nil, err
	}
	if err := s.Codes.Kill(ctx, challenge.PurposeCASHOUT_TAN, subject(co.ID)); err != nil {
		return nil, fmt.Errorf("cashout: kill TAN: %w", err)
	}
	return s.Ledger.Client.Cashout.Get(ctx, co.ID)
}
