package identity

import (
	"context"
	"fmt"

	"coffer/graph/apperr"
)

// CheckCurrentPassword re-authenticates the viewer for a security setting (replacing a public
// key): a wrong password is BAD_USER_INPUT {currentPassword} and counts as a failed login, so a
// stolen session cannot guess the password here faster than at login; a locked account is
// ACCOUNT_LOCKED whatever the password.
func (s *Service) CheckCurrentPassword(ctx context.Context, v *Viewer, password string) error {
	u, err := s.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return fmt.Errorf("identity: re-authenticate: %w", err)
	}
	if EffectiveStatus(u, s.Now()) != u.Status {
		return errLocked
	}
	ok, err := s.Hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordFailure(ctx, u); err != nil {
			return err
		}
		return apperr.Field("currentPassword", "is wrong")
	}
	return nil
}
