// Package codes is the one mechanism behind every one-time code: e-mail verification, the login's
// second step, registration OTPs, password-reset tokens, phone verification and cash-out TANs.
//
// A code is random (crypto/rand), bound to a purpose and a subject, stored only as a keyed hash,
// expires after a TTL, survives at most MaxAttempts tries and works once. Starting a new challenge
// for the same purpose and subject kills the previous one, so a subject has one live code at a time.
package codes

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/graph/apperr"
	"coffer/graph/delivery"
	"coffer/graph/lookup"
	"coffer/graph/store"
)

// MaxAttempts is how many tries a challenge survives, the right one included.
const MaxAttempts = 5

// Digits is the length of a code a person types.
const Digits = 6

// maxInputBytes bounds what a client may send as an id or a code.
const maxInputBytes = 128

// ErrInvalid is the answer to every failed check: wrong, expired, used, dead or unknown look alike.
var ErrInvalid = apperr.New(apperr.InvalidCode, "the code is wrong, expired or already used")

// Service issues and checks codes.
type Service struct {
	Client *ent.Client
	Sender delivery.Sender
	Key    lookup.Key
	TTL    time.Duration
	Now    func() time.Time
	// Queue, when set, carries StartQuiet's messages in the background.
	Queue *delivery.Queue
	// Budget is the delivery budget that Sender spends (delivery.WithBudget): asked here before
	// a challenge is stored, so that a request beyond it stores nothing and hears why at once.
	Budget *delivery.Budget
}

// Request is a challenge to start and the message that carries its code.
type Request struct {
	Purpose challenge.Purpose
	Subject string // what the code proves, e.g. "email:ana@example.com"
	UserID  int    // 0 when there is no user yet
	Data    map[string]string

	Kind    delivery.Kind
	Channel delivery.Channel
	To      string
	// Username and Amount fill the message's template.
	Username string
	Amount   string
	// Token makes the code a long link-style token (password reset) that carries the challenge's
	// id, so that the token alone finds its challenge.
	Token bool
}

// Start creates the challenge, then delivers its code outside any database transaction. It
// returns the challenge's public id. A failed delivery kills the challenge and is returned.
// Beyond the delivery budget it is TOO_MANY_REQUESTS, and nothing is stored or sent (should a
// concurrent request spend the last message in between, the send is refused and the challenge
// killed, with the same answer).
func (s *Service) Start(ctx context.Context, r Request) (string, error) {
	if err := s.Budget.Check(r.Channel, r.To); err != nil {
		return "", err
	}
	return s.start(ctx, r)
}

// CheckBudget answers as Start would about the delivery budget, spending nothing: for a flow
// that must refuse before it does its own work (a cash-out reserves money before its TAN).
func (s *Service) CheckBudget(ch delivery.Channel, to string) error {
	return s.Budget.Check(ch, to)
}

// start is Start once the budget was asked.
func (s *Service) start(ctx context.Context, r Request) (string, error) {
	publicID, msg, err := s.create(ctx, r, false)
	if err != nil {
		return "", err
	}
	if err := s.Sender.Send(ctx, msg); err != nil {
		return "", s.undelivered(publicID, err)
	}
	return publicID, nil
}

// StartQuiet is Start for flows whose answer must not say whether the data matched: the code
// is sent in the background (through Queue when set), so that the request takes as long as one
// that sent nothing (see Decoy). A failed delivery kills the challenge and is logged.
//
// Beyond the delivery budget it answers as Decoy does: a refusal only a match could earn would
// tell the caller that the data matched.
func (s *Service) StartQuiet(ctx context.Context, r Request) (string, error) {
	if err := s.Budget.Check(r.Channel, r.To); err != nil {
		slog.WarnContext(ctx, "code not sent: delivery budget exhausted", "purpose", r.Purpose, "user_id", r.UserID, "channel", r.Channel)
		return s.Decoy(ctx, r.Purpose)
	}
	if s.Queue == nil {
		return s.start(ctx, r)
	}
	publicID, msg, err := s.create(ctx, r, false)
	if err != nil {
		return "", err
	}
	s.Queue.Enqueue(msg, func(err error) {
		err = s.undelivered(publicID, err)
		slog.Error("code not delivered", "purpose", r.Purpose, "user_id", r.UserID, "error", err)
	})
	return publicID, nil
}

// Decoy does the database work of StartQuiet for a challenge that is dead from the start and
// sends nothing: the answer of a flow that found no match, alike in shape and time to a real one.
func (s *Service) Decoy(ctx context.Context, purpose challenge.Purpose) (string, error) {
	subject, err := randomID()
	if err != nil {
		return "", err
	}
	publicID, _, err := s.create(ctx, Request{Purpose: purpose, Subject: "decoy:" + subject}, true)
	return publicID, err
}

// create stores a new challenge for r, killing the subject's earlier one, and renders the message
// that carries its code. A dead challenge (a decoy) is created already used.
func (s *Service) create(ctx context.Context, r Request, dead bool) (string, delivery.Message, error) {
	publicID, err := randomID()
	if err != nil {
		return "", delivery.Message{}, err
	}
	code, err := randomDigits(Digits)
	if err != nil {
		return "", delivery.Message{}, err
	}
	now := s.Now()
	_, err = store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if _, err := tx.Challenge.Update().
			Where(challenge.PurposeEQ(r.Purpose), challenge.Subject(r.Subject), challenge.UsedAtIsNil()).
			SetUsedAt(now).Save(ctx); err != nil {
			return struct{}{}, err
		}
		c := tx.Challenge.Create().SetPublicID(publicID).SetPurpose(r.Purpose).SetSubject(r.Subject).
			SetCodeHash(s.hash(publicID, code)).SetCreatedAt(now).SetExpiresAt(now.Add(s.TTL))
		if r.UserID != 0 {
			c.SetUserID(r.UserID)
		}
		if r.Data != nil {
			c.SetData(r.Data)
		}
		if dead {
			c.SetUsedAt(now)
		}
		return struct{}{}, c.Exec(ctx)
	})
	if err != nil {
		return "", delivery.Message{}, fmt.Errorf("codes: start: %w", err)
	}
	if dead {
		return publicID, delivery.Message{}, nil
	}
	sent := code
	if r.Token {
		sent = publicID + "." + code
	}
	subject, text, err := delivery.Render(r.Kind, delivery.TemplateData{Code: sent, TTL: s.TTL, Username: r.Username, Amount: r.Amount})
	if err != nil {
		return "", delivery.Message{}, s.undelivered(publicID, err)
	}
	return publicID, delivery.Message{Channel: r.Channel, To: r.To, Subject: subject, Text: text, Code: sent}, nil
}

// undelivered kills the challenge whose code never reached its person: nobody may use it.
func (s *Service) undelivered(publicID string, err error) error {
	if kerr := s.Client.Challenge.Update().Where(challenge.PublicID(publicID)).SetUsedAt(s.Now()).Exec(context.Background()); kerr != nil {
		err = fmt.Errorf("%w (and killing the challenge: %v)", err, kerr)
	}
	return fmt.Errorf("codes: deliver the code: %w", err)
}

// Check checks code against the live challenge publicID of purpose, without using it up: the
// caller uses it (Use) in the transaction of the change it authorises, so that the code and the
// change commit together or not at all. The try is counted before the comparison and committed
// on its own, so that neither concurrent guesses nor a rolled-back change can win more than
// MaxAttempts tries: a wrong code's try stays counted whatever happens next.
func (s *Service) Check(ctx context.Context, purpose challenge.Purpose, publicID, code string) (*ent.Challenge, error) {
	if publicID == "" || len(publicID) > maxInputBytes || len(code) > maxInputBytes {
		return nil, ErrInvalid
	}
	n, err := s.Client.Challenge.Update().
		Where(challenge.PublicID(publicID), challenge.PurposeEQ(purpose), challenge.UsedAtIsNil(),
			challenge.AttemptsLT(MaxAttempts), challenge.ExpiresAtGT(s.Now())).
		AddAttempts(1).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("codes: count try: %w", err)
	}
	if n == 0 {
		return nil, ErrInvalid
	}
	c, err := s.Client.Challenge.Query().Where(challenge.PublicID(publicID)).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("codes: read challenge: %w", err)
	}
	if !lookup.Equal(c.CodeHash, s.hash(publicID, code)) {
		return nil, ErrInvalid
	}
	return c, nil
}

// Use uses up the challenge c that Check accepted, through client: the transaction of the change
// the code authorises (tx.Client()). A challenge used or killed meanwhile (a concurrent try with
// the right code won, or the flow was aborted) is ErrInvalid, and the change must not happen: on
// PostgreSQL the UPDATE waits for a concurrent one's transaction and then finds the row used.
func (s *Service) Use(ctx context.Context, client *ent.Client, c *ent.Challenge) error {
	n, err := client.Challenge.Update().Where(challenge.ID(c.ID), challenge.UsedAtIsNil()).SetUsedAt(s.Now()).Save(ctx)
	if err != nil {
		return fmt.Errorf("codes: use challenge: %w", err)
	}
	if n == 0 {
		return ErrInvalid
	}
	return nil
}

// Verify is Check then Use on its own: for a code whose use is the whole change (tests, and
// flows with nothing else to write).
func (s *Service) Verify(ctx context.Context, purpose challenge.Purpose, publicID, code string) (*ent.Challenge, error) {
	c, err := s.Check(ctx, purpose, publicID, code)
	if err != nil {
		return nil, err
	}
	if err := s.Use(ctx, s.Client, c); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckSubject is Check for flows that name the subject rather than the challenge: the live
// challenge of purpose and subject is the only one that can match.
func (s *Service) CheckSubject(ctx context.Context, purpose challenge.Purpose, subject, code string) (*ent.Challenge, error) {
	if len(subject) > 300 {
		return nil, ErrInvalid
	}
	c, err := s.Client.Challenge.Query().
		Where(challenge.PurposeEQ(purpose), challenge.Subject(subject), challenge.UsedAtIsNil()).
		Order(ent.Desc(challenge.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("codes: find challenge: %w", err)
	}
	return s.Check(ctx, purpose, c.PublicID, code)
}

// CheckToken is Check for a Token challenge: the token carries its challenge's id.
func (s *Service) CheckToken(ctx context.Context, purpose challenge.Purpose, token string) (*ent.Challenge, error) {
	id, code, ok := splitToken(token)
	if !ok {
		return nil, ErrInvalid
	}
	return s.Check(ctx, purpose, id, code)
}

// PeekToken returns the live challenge a token names without trying its code, so that a flow can
// check the rest of its input before the token is used up. The token's id alone is a 128-bit
// secret, so peeking tells a guesser nothing.
func (s *Service) PeekToken(ctx context.Context, purpose challenge.Purpose, token string) (*ent.Challenge, error) {
	id, _, ok := splitToken(token)
	if !ok || len(id) > maxInputBytes {
		return nil, ErrInvalid
	}
	c, err := s.Client.Challenge.Query().
		Where(challenge.PublicID(id), challenge.PurposeEQ(purpose), challenge.UsedAtIsNil(),
			challenge.AttemptsLT(MaxAttempts), challenge.ExpiresAtGT(s.Now()), challenge.UserIDNotNil()).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("codes: peek: %w", err)
	}
	return c, nil
}

func splitToken(token string) (id, code string, ok bool) {
	i := strings.LastIndexByte(token, '.')
	if i <= 0 || i == len(token)-1 {
		return "", "", false
	}
	return token[:i], token[i+1:], true
}

// Issued reports whether any challenge of purpose and subject exists, live, used, dead or expired
// (until Purge deletes it).
func (s *Service) Issued(ctx context.Context, purpose challenge.Purpose, subject string) (bool, error) {
	return s.Client.Challenge.Query().
		Where(challenge.PurposeEQ(purpose), challenge.Subject(subject)).
		Exist(ctx)
}

// Kill ends every live challenge of purpose and subject (e.g. an aborted cash-out's TAN).
func (s *Service) Kill(ctx context.Context, purpose challenge.Purpose, subject string) error {
	return s.Client.Challenge.Update().
		Where(challenge.PurposeEQ(purpose), challenge.Subject(subject), challenge.UsedAtIsNil()).
		SetUsedAt(s.Now()).Exec(ctx)
}

func (s *Service) hash(publicID, code string) []byte {
	return s.Key.Hash("code", publicID+"\x00"+code)
}

// randomID is a challenge's public id: 128 random bits, URL-safe.
func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("codes: random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// randomDigits returns n uniformly random decimal digits.
func randomDigits(n int) (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", fmt.Errorf("codes: random code: %w", err)
	}
	return fmt.Sprintf("%0*d", n, v), nil
}

// Purge deletes the challenges created before cutoff, all of them dead by then, and returns how
// many of those of the purposes in unverified were never used: registrations nobody completed.
func (s *Service) Purge(ctx context.Context, client *ent.Client, cutoff time.Time, unverified ...challenge.Purpose) (int, error) {
	n, err := client.Challenge.Query().
		Where(challenge.CreatedAtLT(cutoff), challenge.PurposeIn(unverified...), challenge.UsedAtIsNil()).
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("codes: count unverified: %w", err)
	}
	if _, err := client.Challenge.Delete().Where(challenge.CreatedAtLT(cutoff)).Exec(ctx); err != nil {
		return 0, fmt.Errorf("codes: purge: %w", err)
	}
	return n, nil
}
