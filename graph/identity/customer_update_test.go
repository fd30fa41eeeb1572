package identity

import (
	"errors"
	"testing"

	"coffer/ent/user"
	"coffer/graph/apperr"
)

func codeOf(err error) apperr.Code {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err != nil {
		return "other"
	}
	return ""
}

func TestUpdateTarget(t *testing.T) {
	admin := &Viewer{UserID: 1, Username: "admin", Role: user.RoleADMIN}
	ana := &Viewer{UserID: 2, Username: "ana", Role: user.RoleCUSTOMER, CustomerID: 5}
	clerk := &Viewer{UserID: 3, Username: "clerk", Role: user.RoleSTAFF}
	str := func(s string) *string { return &s }
	tests := []struct {
		name   string
		viewer *Viewer
		give   CustomerUpdate
		want   string
		code   apperr.Code
	}{
		{"a customer changes their own", ana, CustomerUpdate{Email: str("a@example.com")}, "ana", ""},
		{"a customer names themselves", ana, CustomerUpdate{Username: str(" ANA ")}, "ana", ""},
		{"a customer names another", ana, CustomerUpdate{Username: str("bob")}, "", apperr.Forbidden},
		{"a customer changes their name", ana, CustomerUpdate{Name: str("Ana B")}, "", apperr.Forbidden},
		{"an administrator names the customer", admin, CustomerUpdate{Username: str("bob"), Name: str("Bob")}, "bob", ""},
		{"an administrator names nobody", admin, CustomerUpdate{Name: str("Bob")}, "", apperr.BadUserInput},
		{"an institutional name", admin, CustomerUpdate{Username: str("bank")}, "", apperr.Forbidden},
		{"staff", clerk, CustomerUpdate{Username: str("clerk")}, "", apperr.Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := updateTarget(tt.viewer, tt.give)
			if got != tt.want || codeOf(err) != tt.code {
				t.Errorf("updateTarget = %q, %v; want %q, %q", got, err, tt.want, tt.code)
			}
		})
	}
}

func TestValidateChange_namesEveryBadField(t *testing.T) {
	str := func(s string) *string { return &s }
	_, err := validateChange(CustomerUpdate{Name: str(" "), Email: str(""), Phone: str("0600"), CashoutAddress: str("mailto:x")})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput {
		t.Fatalf("err = %v, want BAD_USER_INPUT", err)
	}
	for _, f := range []string{"name", "email", "phone", "cashoutAddress"} {
		if _, ok := ae.Fields[f]; !ok {
			t.Errorf("fields %v lack %s", ae.Fields, f)
		}
	}
	ch, err := validateChange(CustomerUpdate{Email: str(" Ana@Example.com "), Phone: str(""), CashoutAddress: str("")})
	if err != nil || *ch.Email != "ana@example.com" || *ch.Phone != "" || *ch.CashoutAddress != "" || ch.Name != nil {
		t.Errorf("validateChange = %+v, %v: want the e-mail lower-cased and phone and address removed", ch, err)
	}
	if got := changeFromData(ch.data()); *got.Email != *ch.Email || *got.Phone != "" || got.Name != nil {
		t.Errorf("the change does not survive the challenge's data: %+v", got)
	}
}

func TestEscapeLike(t *testing.T) {
	if got := escapeLike(`50%_a\b`); got != `50\%\_a\\b` {
		t.Errorf("escapeLike = %q", got)
	}
}
