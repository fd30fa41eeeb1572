package identity

import (
	"context"
	"fmt"
	"log/slog"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/customer"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

// RequestPasswordReset e-mails a reset token when the e-mail, phone and social security number
// all belong to one customer. It answers the same whether or not they do: a failed delivery is
// logged rather than returned, since an error would tell the caller that the data matched.
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
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("identity: password reset lookup: %w", err)
	}
	if u.Status == user.StatusDISABLED {
		return nil
	}
	_, err = s.Codes.Start(ctx, codes.Request{
		Purpose: challenge.PurposePASSWORD_RESET, Subject: userSubject(u.ID), UserID: u.ID,
		Kind: delivery.KindPasswordReset, Channel: delivery.ChannelEmail, To: c.Email,
		Username: u.Username, Token: true,
	})
	if err != nil {
		slog.ErrorContext(ctx, "password reset token not delivered", "user_id", u.ID, "error", err)
	}
	return nil
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
	if _, err := s.Codes.VerifyToken(ctx, challenge.PurposePASSWORD_RESET, token); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	_, err = store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := tx.User.UpdateOneID(u.ID).SetPasswordHash(hash).SetFailedLogins(0).ClearLockedUntil().Exec(ctx); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, s.revokeSessions(ctx, tx.Client(), u.ID, 0)
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
