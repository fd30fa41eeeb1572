package identity

import (
	"context"
	"fmt"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/customer"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

// RequestPasswordReset e-mails a reset token when the e-mail, phone and social security number
// all belong to one customer. It answers the same, after the same database work, whether or not
// they do: the token is sent in the background and a failed delivery is logged, since an error
// or a slower answer would tell the caller that the data matched.
func (s *Service) RequestPasswordReset(ctx context.Context, in Contact) error {
	f := apperr.Fields{}
	c := in.normalize(f)
	if err := f.Err(); err != nil {
		return err
	}
	u, err := s.Client.User.Query().
		Where(user.Email(c.Email), user.Phone(c.Phone),
			user.HasCustomerWith(customer.SocialSecurityHash(s.ssnHash(c.SocialSecurity)))).
		Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("identity: password reset lookup: %w", err)
	}
	if u == nil || u.Status == user.StatusDISABLED {
		_, err = s.Codes.Decoy(ctx, challenge.PurposePASSWORD_RESET)
		return err
	}
	_, err = s.Codes.StartQuiet(ctx, codes.Request{
		Purpose: challenge.PurposePASSWORD_RESET, Subject: userSubject(u.ID), UserID: u.ID,
		Kind: delivery.KindPasswordReset, Channel: delivery.ChannelEmail, To: c.Email,
		Username: u.Username, Token: true,
	})
	return err
}

// ResetPassword sets a new password with a reset token; every session of the user ends and a
// temporary lockout is lifted.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	c, err := s.Codes.PeekToken(ctx, challenge.PurposePASSWORD_RESET, token)
	if err != nil {
		return err
	}
	u, err := s.Client.User.Get(ctx, *c.UserID)
	if ent.IsNotFound(err) {
		return codes.ErrInvalid
	}
	if err != nil {
		return fmt.Errorf("identity: reset password: %w", err)
	}
	// The password rules are checked before the token is used up, so a weak password costs nothing.
	f := apperr.Fields{}
	checkPassword(f, "newPassword", newPassword, u.Username, deref(u.Email))
	if err := f.Err(); err != nil {
		return err
	}
	tok, err := s.Codes.CheckToken(ctx, challenge.PurposePASSWORD_RESET, token)
	if err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	// The token is used up with the new password: a failed change leaves it usable.
	_, err = store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := s.Codes.Use(ctx, tx.Client(), tok); err != nil {
			return struct{}{}, err
		}
		if err := tx.User.UpdateOneID(u.ID).SetPasswordHash(hash).SetFailedLogins(0).ClearLockedUntil().Exec(ctx); err != nil {
			return struct{}{}, err
		}
		if err := s.revokeSessions(ctx, tx.Client(), u.ID, 0); err != nil {
			return struct{}{}, err
		}
		// Nobody is logged in: the actor is the user whose token was used.
		return struct{}{}, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.PasswordReset, Actor: actorOf(u), Target: audit.Target("user", u.ID), TargetName: u.Username,
		})
	})
	if err != nil {
		return fmt.Errorf("identity: reset password: %w", err)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
