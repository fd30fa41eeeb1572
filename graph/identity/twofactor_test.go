package identity

import (
	"testing"

	"coffer/ent"
	"coffer/ent/user"
)

func TestRequiresTwoFactor(t *testing.T) {
	tests := []struct {
		name     string
		required bool
		role     user.Role
		want     bool
	}{
		{"off: a customer logs in with the password", false, user.RoleCUSTOMER, false},
		{"on: a customer takes two steps", true, user.RoleCUSTOMER, true},
		{"on: an administrator keeps their choice", true, user.RoleADMIN, false},
		{"on: staff keep their choice", true, user.RoleSTAFF, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Service{RequireTwoFactor: tt.required}
			if got := s.requiresTwoFactor(&ent.User{Role: tt.role}); got != tt.want {
				t.Errorf("requiresTwoFactor = %v, want %v", got, tt.want)
			}
		})
	}
}
