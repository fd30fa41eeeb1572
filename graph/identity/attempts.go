package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"coffer/ent"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/store"
)

// errWrongPassword is a wrong password, counted and recorded; each caller answers it its own way
// (login UNAUTHENTICATED, a settings change BAD_USER_INPUT on currentPassword).
var errWrongPassword = errors.New("identity: wrong password")

// attempt is one password attempt claimed against a user's failure counter.
type attempt struct {
	user *ent.User
	// last marks the attempt that took the counter to the limit: it locked the account before its
	// password was checked, so that no other attempt could start meanwhile.
	last bool
}

// failure says how a refused attempt is recorded: the audit action, and the actor (nil: the
// context's, i.e. the logged-in viewer re-authenticating).
type failure struct {
	action string
	actor  *audit.Actor
}

// checkPassword claims an attempt at u's password, then checks the password. The claim comes
// first and is one conditional update, so parallel attempts cannot outrun the lockout: at most
// MaxFailedLogins are checked before the account locks, and the others, right password or not,
// get errLocked without their password being checked (a dummy hash is, for the same time). A wrong
// password is errWrongPassword, counted and recorded; a right one returns the attempt, which the
// caller accepts in the transaction of what the password allows.
func (s *Service) checkPassword(ctx context.Context, u *ent.User, password string, f failure) (*attempt, error) {
	if u.Status == user.StatusLOCKED {
		return nil, s.refuseLocked(ctx, u, password, f)
	}
	a, err := s.claimAttempt(ctx, u)
	if errors.Is(err, errLocked) {
		return nil, s.refuseLocked(ctx, u, password, f)
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.Hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := s.failAttempt(ctx, a, f); err != nil {
			return nil, err
		}
		return nil, errWrongPassword
	}
	return a, nil
}

// claimAttempt counts an attempt at u's password unless the account is locked or the attempts
// already claimed reach the limit (errLocked). The attempt that reaches it locks the account at
// once and resets the counter, so a crash while its password is checked leaves a lockout that ends,
// never a counter stuck at the limit.
func (s *Service) claimAttempt(ctx context.Context, u *ent.User) (*attempt, error) {
	now := s.Now()
	return store.InTx(ctx, s.Client, func(tx *ent.Tx) (*attempt, error) {
		n, err := tx.User.Update().
			Where(user.ID(u.ID), user.StatusNEQ(user.StatusLOCKED), user.FailedLoginsLT(s.MaxFailedLogins),
				user.Or(user.LockedUntilIsNil(), user.LockedUntilLTE(now))).
			AddFailedLogins(1).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("identity: claim attempt: %w", err)
		}
		if n == 0 {
			return nil, errLocked
		}
		// The update holds the row until commit: this is the count it made.
		failed, err := tx.User.Query().Where(user.ID(u.ID)).Select(user.FieldFailedLogins).Int(ctx)
		if err != nil {
			return nil, fmt.Errorf("identity: claim attempt: %w", err)
		}
		if failed < s.MaxFailedLogins {
			return &attempt{user: u}, nil
		}
		err = tx.User.UpdateOneID(u.ID).SetFailedLogins(0).SetLockedUntil(now.Add(s.LockoutDuration)).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("identity: claim attempt: %w", err)
		}
		return &attempt{user: u, last: true}, nil
	})
}

// failAttempt records a's wrong password; the counter keeps the attempt. The last attempt's lock,
// set when it was claimed, starts again from now and is recorded with it.
func (s *Service) failAttempt(ctx context.Context, a *attempt, f failure) error {
	_, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := s.writeFailure(ctx, tx.AuditEvent, a.user, f, apperr.Unauthenticated); err != nil {
			return struct{}{}, err
		}
		if !a.last {
			return struct{}{}, nil
		}
		if err := tx.User.UpdateOneID(a.user.ID).SetLockedUntil(s.Now().Add(s.LockoutDuration)).Exec(ctx); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.AccountLocked, Actor: f.actor,
			Target: audit.Target("user", a.user.ID), TargetName: a.user.Username,
		})
	})
	if err != nil {
		return fmt.Errorf("identity: record failed attempt: %w", err)
	}
	if a.last {
		slog.InfoContext(ctx, "account locked after failed logins", "user_id", a.user.ID)
	}
	return nil
}

// acceptAttempt ends a's attempt, whose password was right, inside tx: the counter starts again
// from zero. An attempt claimed before the account locked, but checked after, is errLocked: a
// right password cannot win past the limit. The last attempt lifts the lock it set itself.
func (s *Service) acceptAttempt(ctx context.Context, tx *ent.Tx, a *attempt) error {
	up := tx.User.Update().Where(user.ID(a.user.ID), user.StatusNEQ(user.StatusLOCKED)).SetFailedLogins(0)
	if a.last {
		up.ClearLockedUntil()
	} else {
		up.Where(user.Or(user.LockedUntilIsNil(), user.LockedUntilLTE(s.Now())))
	}
	n, err := up.Save(ctx)
	if err != nil {
		return fmt.Errorf("identity: accept attempt: %w", err)
	}
	if n == 0 {
		return errLocked
	}
	return nil
}

// refuseLocked answers an attempt at a locked account: after the work a checked password costs
// (a locked account answers the same whatever the password, in the same time), with its record.
func (s *Service) refuseLocked(ctx context.Context, u *ent.User, password string, f failure) error {
	_, _ = s.Hasher.Verify(ctx, password, "")
	if err := s.writeFailure(ctx, s.Client.AuditEvent, u, f, apperr.AccountLocked); err != nil {
		return err
	}
	return errLocked
}

// writeFailure records a refused attempt at u's password with outcome.
func (s *Service) writeFailure(ctx context.Context, events *ent.AuditEventClient, u *ent.User, f failure, outcome apperr.Code) error {
	return audit.Write(ctx, events, audit.Event{
		Action: f.action, Actor: f.actor, Outcome: string(outcome),
		Target: audit.Target("user", u.ID), TargetName: u.Username,
	})
}

// reauthenticate checks the viewer's current password before a security setting changes, counted
// like a login: missing or wrong is BAD_USER_INPUT on currentPassword, a locked account
// ACCOUNT_LOCKED. The attempt it returns is accepted in the change's transaction.
func (s *Service) reauthenticate(ctx context.Context, u *ent.User, currentPassword string) (*attempt, error) {
	if currentPassword == "" {
		return nil, apperr.Field("currentPassword", "required")
	}
	a, err := s.checkPassword(ctx, u, currentPassword, failure{action: audit.ReauthenticationFailed})
	if errors.Is(err, errWrongPassword) {
		return nil, apperr.Field("currentPassword", "is wrong")
	}
	return a, err
}

// CheckCurrentPassword re-authenticates the viewer before a security change that another package
// makes (e.g. replacing a public key), counted like a login: BAD_USER_INPUT on currentPassword
// when missing or wrong, ACCOUNT_LOCKED when the account is locked. A right password resets the
// count at once; callers that change identity's own rows accept the attempt in their transaction.
func (s *Service) CheckCurrentPassword(ctx context.Context, v *Viewer, currentPassword string) error {
	u, err := s.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return fmt.Errorf("identity: check current password: %w", err)
	}
	a, err := s.reauthenticate(ctx, u, currentPassword)
	if err != nil {
		return err
	}
	_, err = store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		return struct{}{}, s.acceptAttempt(ctx, tx, a)
	})
	return err
}
