package identity

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/codes"
	"coffer/graph/delivery"
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
func (s *Service) Login(ctx context.Context, login, password string) (*LoginResult, error) {
	login = normalizeLogin(login)
	if login == "" || len(login) > 254 || len(password) > maxPasswordLen*4 {
		_, _ = s.Hasher.Verify(ctx, password, "")
		return nil, errBadCredentials
	}
	u, err := s.findByLogin(ctx, login)
	if err != nil {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.Hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if u == nil {
		if s.phantoms().locked(login, now) {
			return nil, errLocked
		}
		s.phantoms().fail(login, now)
		return nil, errBadCredentials
	}
	// A locked account answers the same whatever the password, or the lock would not stop guessing.
	if u.Status == user.StatusLOCKED || (u.LockedUntil != nil && now.Before(*u.LockedUntil)) {
		return nil, errLocked
	}
	if !ok {
		if err := s.recordFailure(ctx, u); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if u.Status == user.StatusDISABLED {
		return nil, apperr.New(apperr.AccountDisabled, "the account is disabled")
	}
	if u.Status == user.StatusPENDING {
		return nil, errBadCredentials
	}
	if u.FailedLogins != 0 || u.LockedUntil != nil {
		if err := s.Client.User.UpdateOne(u).SetFailedLogins(0).ClearLockedUntil().Exec(ctx); err != nil {
			return nil, fmt.Errorf("identity: reset failures: %w", err)
		}
	}
	if u.TwoFactor != user.TwoFactorNONE || s.requiresTwoFactor(u) {
		id, err := s.sendLoginCode(ctx, u)
		if err != nil {
			return nil, err
		}
		return &LoginResult{ChallengeID: id}, nil
	}
	sess, err := s.startSession(ctx, u)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Session: sess}, nil
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
		r.Channel, r.To = delivery.ChannelSMS, *u.Phone
	case u.TwoFactor == user.TwoFactorNONE && u.Email != nil: // required without a chosen method
		r.Channel, r.To = delivery.ChannelEmail, *u.Email
	case u.TwoFactor == user.TwoFactorNONE && u.Phone != nil:
		r.Channel, r.To = delivery.ChannelSMS, *u.Phone
	default:
		// setTwoFactor refuses a method without its address; an address removed since must not
		// turn the second factor off silently.
		return "", apperr.New(apperr.PreconditionFailed, "the second factor has no address to send the code to")
	}
	return s.Codes.Start(ctx, r)
}

// ConfirmLogin completes a login with the code its second step sent.
func (s *Service) ConfirmLogin(ctx context.Context, challengeID, code string) (*Session, error) {
	c, err := s.Codes.Verify(ctx, challenge.PurposeLOGIN, challengeID, code)
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
	switch EffectiveStatus(u, s.Now()) {
	case user.StatusLOCKED:
		return nil, errLocked
	case user.StatusDISABLED:
		return nil, apperr.New(apperr.AccountDisabled, "the account is disabled")
	case user.StatusPENDING:
		return nil, codes.ErrInvalid
	}
	return s.startSession(ctx, u)
}

// recordFailure counts a failed login atomically and locks the account at the threshold.
func (s *Service) recordFailure(ctx context.Context, u *ent.User) error {
	updated, err := s.Client.User.UpdateOneID(u.ID).AddFailedLogins(1).Save(ctx)
	if err != nil {
		return fmt.Errorf("identity: count failure: %w", err)
	}
	if updated.FailedLogins < s.MaxFailedLogins {
		return nil
	}
	slog.InfoContext(ctx, "account locked after failed logins", "user_id", u.ID)
	return s.Client.User.UpdateOneID(u.ID).SetFailedLogins(0).SetLockedUntil(s.Now().Add(s.LockoutDuration)).Exec(ctx)
}

// SetTwoFactor chooses the viewer's second factor; the method needs an address to send to.
func (s *Service) SetTwoFactor(ctx context.Context, v *Viewer, method user.TwoFactor) (*ent.User, error) {
	u, err := s.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, fmt.Errorf("identity: set two factor: %w", err)
	}
	switch {
	case method == user.TwoFactorEMAIL && u.Email == nil:
		return nil, apperr.New(apperr.PreconditionFailed, "the user has no e-mail address")
	case method == user.TwoFactorSMS && u.Phone == nil:
		return nil, apperr.New(apperr.PreconditionFailed, "the user has no phone number")
	}
	return s.Client.User.UpdateOne(u).SetTwoFactor(method).Save(ctx)
}

func userSubject(id int) string { return "user:" + strconv.Itoa(id) }
