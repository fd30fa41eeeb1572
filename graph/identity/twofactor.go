package identity

import (
	"coffer/ent"
	"coffer/ent/user"
)

// requiresTwoFactor reports whether u's login takes a second step although u chose no method:
// with RequireTwoFactor (REQUIRE_TWO_FACTOR=1) every customer's does, by e-mail (by SMS when
// there is no e-mail address); administrators and staff keep their own choice.
func (s *Service) requiresTwoFactor(u *ent.User) bool {
	return s.RequireTwoFactor && u.Role == user.RoleCUSTOMER
}
