package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

// LoginResult is a completed login, or the challenge of its second step.
type LoginResult struct {
	Session     *Session
	ChallengeID string
}

var errBadCredentials = apperr.New(apperr.Unauthenticated, "invalid login or password")

var errLocked = apperr.New(apperr.AccountLocked, "the account is locked")

// Login checks a username or e-mail and a password, then starts a session or, for a user with a
// second factor, sends a code and returns its challenge. Unknown users and wrong passwords get
// the same answer after the same work (a dummy hash is verified), and names nobody has "lock"
// after as many failures as real accounts, so the answers say nothing about who has an account.
// Every attempt is in the audit log, never its password.
func (s *Service) Login(ctx context.Context, login, password string) (*LoginResult, error) {
	login = normalizeLogin(login)
	if login == "" || len(login) > 254 || len(password) > maxPasswordLen*4 {
		_, _ = s.Hasher.Verify(ctx, password, "")
		return nil, s.anonymousFailure(ctx, errBadCredentials)
	}
	u, err := s.findByLogin(ctx, login)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, s.phantomLogin(ctx, login, password)
	}
	f := failure{action: audit.LoginFailed, actor: actorOf(u)}
	a, err := s.checkPassword(ctx, u, password, f)
	if errors.Is(err, errWrongPassword) {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	var refusal *apperr.Error
	switch u.Status {
	case user.StatusDISABLED:
		refusal = apperr.New(apperr.AccountDisabled, "the account is disabled")
	case user.StatusPENDING:
		refusal = errBadCredentials
	}
	res, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*LoginResult, error) {
		if err := s.acceptAttempt(ctx, tx, a); err != nil {
			return nil, err
		}
		if refusal != nil {
			return nil, s.writeFailure(ctx, tx.AuditEvent, u, f, refusal.Code)
		}
		return s.passwordAccepted(ctx, tx, u)
	})
	if errors.Is(err, errLocked) {
		// Locked while the password was checked: refused like any attempt from then on.
		if err := s.writeFailure(ctx, s.Client.AuditEvent, u, f, apperr.AccountLocked); err != nil {
			return nil, err
		}
		return nil, errLocked
	}
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	if res.Session == nil {
		if res.ChallengeID, err = s.sendLoginCode(ctx, u); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// passwordAccepted starts u's session in tx, or, when u has a second factor, records that its
// code is to be sent (an empty result).
func (s *Service) passwordAccepted(ctx context.Context, tx *ent.Tx, u *ent.User) (*LoginResult, error) {
	e := audit.Event{Action: audit.LoginSucceeded, Actor: actorOf(u), Target: audit.Target("user", u.ID), TargetName: u.Username}
	if u.TwoFactor != user.TwoFactorNONE || s.requiresTwoFactor(u) {
		e.Action = audit.LoginSecondFactorRequired
		return &LoginResult{}, audit.Write(ctx, tx.AuditEvent, e)
	}
	sess, err := s.newSession(ctx, tx.Client(), u)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Session: sess}, audit.Write(ctx, tx.AuditEvent, e)
}

// phantomLogin answers a login under a name nobody has exactly as a wrong password or a locked
// account would be answered, after the same work.
func (s *Service) phantomLogin(ctx context.Context, login, password string) error {
	claimed := s.phantoms().claim(login, s.Now())
	// The database work of a real account's claim too (a conditional update that here matches no
	// row), so that the time of the answer does not tell whether the name exists.
	if _, err := s.claimAttempt(ctx, &ent.User{}); err != nil && !errors.Is(err, errLocked) {
		return err
	}
	_, _ = s.Hasher.Verify(ctx, password, "")
	if !claimed {
		return s.anonymousFailure(ctx, errLocked)
	}
	return s.anonymousFailure(ctx, errBadCredentials)
}

// anonymousFailure records a failed login under a name nobody has, and returns refusal. The name
// is not recorded: it may be a password typed into the wrong field.
func (s *Service) anonymousFailure(ctx context.Context, refusal *apperr.Error) error {
	// In a transaction, as a real account's failure is recorded: the same work, the same time.
	_, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		return struct{}{}, audit.Write(ctx, tx.AuditEvent, audit.Event{Action: audit.LoginFailed, Actor: &audit.Actor{}, Outcome: string(refusal.Code)})
	})
	if err != nil {
		return err
	}
	return refusal
}

func normalizeLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// findByLogin returns the user whose username or e-mail is login (normalized), or nil.
func (s *Service) findByLogin(ctx context.Context, login string) (*ent.User, error) {
	q := s.Client.User.Query()
	if strings.Contains(login, "@") {
		q.Where(user.Email(login))
	} else {
		q.Where(user.Username(login))
	}
	u, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity: login lookup: %w", err)
	}
	return u, nil
}

// LoginAccount names the account a login attempt is against, for per-account rate limits: the
// user when the name or e-mail is someone's, so that both share one budget, else the name.
func (s *Service) LoginAccount(ctx context.Context, login string) (string, error) {
	login = normalizeLogin(login)
	if login == "" || len(login) > 254 {
		return "name:" + login, nil
	}
	u, err := s.findByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	if u == nil {
		return "name:" + login, nil
	}
	return userSubject(u.ID), nil
}

func (s *Service) phantoms() *phantomLockout {
	s.phantomOnce.Do(func() { s.phantom = newPhantomLockout(s.MaxFailedLogins, s.LockoutDuration) })
	return s.phantom
}

func (s *Service) sendLoginCode(ctx context.Context, u *ent.User) (string, error) {
	r := codes.Request{
		Purpose: challenge.PurposeLOGIN, Subject: userSubject(u.ID), UserID: u.ID,
		Kind: delivery.KindLoginCode, Username: u.Username,
	}
	switch {
	case u.TwoFactor == user.TwoFactorEMAIL && u.Email != nil:
		r.Channel, r.To = delivery.ChannelEmail, *u.Email
	case u.TwoFactor == user.TwoFactorSMS && u.Phone != nil:
		// The password was right, so refusing says nothing an attacker did not already prove.
		phone, err := VerifiedPhone(u)
		if err != nil {
			return "", err
		}
		r.Channel, r.To = delivery.ChannelSMS, phone
	case u.TwoFactor == user.TwoFactorNONE && u.Email != nil: // required without a chosen method
		r.Channel, r.To = delivery.ChannelEmail, *u.Email
	case u.TwoFactor == user.TwoFactorNONE && u.Phone != nil:
		phone, err := VerifiedPhone(u)
		if err != nil {
			return "", err
		}
		r.Channel, r.To = delivery.ChannelSMS, phone
	default:
		// setTwoFactor refuses a method without its address; an address removed since must not
		// turn the second factor off silently.
		return "", apperr.New(apperr.PreconditionFailed, "the second factor has no address to send the code to")
	}
	return s.Codes.Start(ctx, r)
}

// ConfirmLogin completes a login with the code its second step sent.
func (s *Service) ConfirmLogin(ctx context.Context, challengeID, code string) (*Session, error) {
	c, err := s.Codes.Check(ctx, challenge.PurposeLOGIN, challengeID, code)
	if errors.Is(err, codes.ErrInvalid) {
		return nil, s.secondStepFailed(ctx, challengeID)
	}
	if err != nil {
		return nil, err
	}
	if c.UserID == nil {
		return nil, codes.ErrInvalid
	}
	u, err := s.Client.User.Get(ctx, *c.UserID)
	if ent.IsNotFound(err) {
		return nil, codes.ErrInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("identity: confirm login: %w", err)
	}
	// The account may have been locked or disabled between the two steps.
	var refusal *apperr.Error
	switch EffectiveStatus(u, s.Now()) {
	case user.StatusLOCKED:
		refusal = errLocked
	case user.StatusDISABLED:
		refusal = apperr.New(apperr.AccountDisabled, "the account is disabled")
	case user.StatusPENDING:
		refusal = codes.ErrInvalid
	}
	if refusal != nil {
		// The right code for a login refused meanwhile is used up all the same, as it always was.
		if err := s.Codes.Use(ctx, s.Client, c); err != nil && !errors.Is(err, codes.ErrInvalid) {
			return nil, err
		}
		f := failure{action: audit.LoginFailed, actor: actorOf(u)}
		if err := s.writeFailure(ctx, s.Client.AuditEvent, u, f, refusal.Code); err != nil {
			return nil, err
		}
		return nil, refusal
	}
	// The code is used up with the session it opens: a failed login leaves it usable.
	sess, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*Session, error) {
		if err := s.Codes.Use(ctx, tx.Client(), c); err != nil {
			return nil, err
		}
		sess, err := s.newSession(ctx, tx.Client(), u)
		if err != nil {
			return nil, err
		}
		return sess, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.LoginSucceeded, Actor: actorOf(u), Target: audit.Target("user", u.ID), TargetName: u.Username,
		})
	})
	if errors.Is(err, codes.ErrInvalid) { // a concurrent try with the right code won
		return nil, s.secondStepFailed(ctx, challengeID)
	}
	return sess, err
}

// SetTwoFactor chooses the viewer's second factor; the method needs an address to send to, and
// SMS a verified phone. Turning it off needs the current password (reauthenticate), which is
// checked whenever it is given; the change and its audit record commit together.
func (s *Service) SetTwoFactor(ctx context.Context, v *Viewer, method user.TwoFactor, currentPassword string) (*ent.User, error) {
	u, err := s.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, fmt.Errorf("identity: set two factor: %w", err)
	}
	switch {
	case method == user.TwoFactorEMAIL && u.Email == nil:
		return nil, apperr.New(apperr.PreconditionFailed, "the user has no e-mail address")
	case method == user.TwoFactorSMS:
		if _, err := VerifiedPhone(u); err != nil {
			return nil, err
		}
	}
	var a *attempt
	if method == user.TwoFactorNONE || currentPassword != "" {
		if a, err = s.reauthenticate(ctx, u, currentPassword); err != nil {
			return nil, err
		}
	}
	return store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.User, error) {
		if a != nil {
			if err := s.acceptAttempt(ctx, tx, a); err != nil {
				return nil, err
			}
		}
		updated, err := tx.User.UpdateOneID(u.ID).SetTwoFactor(method).Save(ctx)
		if err != nil {
			return nil, err
		}
		return updated, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.TwoFactorChanged, Target: audit.Target("user", u.ID), TargetName: u.Username + " " + string(method),
		})
	})
}

func userSubject(id int) string { return "user:" + strconv.Itoa(id) }

// secondStepFailed records a wrong, expired or used login code against the challenge's user (or
// nobody, for a challenge that does not exist) and answers INVALID_CODE.
func (s *Service) secondStepFailed(ctx context.Context, challengeID string) error {
	var u *ent.User
	if len(challengeID) <= 200 {
		c, err := s.Client.Challenge.Query().
			Where(challenge.PublicID(challengeID), challenge.PurposeEQ(challenge.PurposeLOGIN)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return fmt.Errorf("identity: failed second step: %w", err)
		}
		if c != nil && c.UserID != nil {
			if u, err = s.Client.User.Get(ctx, *c.UserID); err != nil && !ent.IsNotFound(err) {
				return fmt.Errorf("identity: failed second step: %w", err)
			}
		}
	}
	if u == nil {
		return s.anonymousFailure(ctx, codes.ErrInvalid)
	}
	f := failure{action: audit.LoginFailed, actor: actorOf(u)}
	if err := s.writeFailure(ctx, s.Client.AuditEvent, u, f, apperr.InvalidCode); err != nil {
		return err
	}
	return codes.ErrInvalid
}
