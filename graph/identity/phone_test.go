package identity

import (
	"context"
	"path/filepath"
	"testing"

	"coffer/ent/user"
	"coffer/graph/lookup"
	"coffer/graph/store"
)

// TestChangedPhone_isUnverifiedAgain_whateverTheUpdate: no operation changes a user's phone yet
// (updateCustomer is coming), so the rule is held by a hook on the client and tested here.
func TestChangedPhone_isUnverifiedAgain_whateverTheUpdate(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	NewService(db.Client, nil, nil, nil, lookup.Key{})
	u := db.Client.User.Create().SetUsername("ana").SetPasswordHash("x").SetRole(user.RoleCUSTOMER).
		SetPhone("+34600000001").SetPhoneVerified(true).SaveX(ctx)

	verified := func() bool { return db.Client.User.GetX(ctx, u.ID).PhoneVerified }
	tests := []struct {
		name   string
		update func()
		want   bool
	}{
		{"the same number again", func() { db.Client.User.UpdateOneID(u.ID).SetPhone("+34600000001").ExecX(ctx) }, true},
		{"another field", func() { db.Client.User.UpdateOneID(u.ID).SetFailedLogins(1).ExecX(ctx) }, true},
		{"a new number", func() { db.Client.User.UpdateOneID(u.ID).SetPhone("+34600000002").ExecX(ctx) }, false},
		{"an administrator's number, vouched", func() {
			db.Client.User.UpdateOneID(u.ID).SetPhone("+34600000003").SetPhoneVerified(true).ExecX(ctx)
		}, true},
		{"a bulk update in a transaction", func() {
			tx, err := db.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tx.User.Update().Where(user.ID(u.ID)).SetPhone("+34600000004").ExecX(ctx)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"vouched again", func() { db.Client.User.UpdateOneID(u.ID).SetPhoneVerified(true).ExecX(ctx) }, true},
		{"the phone removed", func() { db.Client.User.UpdateOneID(u.ID).ClearPhone().ExecX(ctx) }, false},
	}
	for _, tt := range tests {
		tt.update()
		if got := verified(); got != tt.want {
			t.Errorf("after %s: phoneVerified = %v, want %v", tt.name, got, tt.want)
		}
	}
}
