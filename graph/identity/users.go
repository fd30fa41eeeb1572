package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/store"
)

// NewUser is createUser's input: a clerk or an administrator.
type NewUser struct {
	Username, Password string
	Email, Phone       string
	Role               user.Role
}

var createUserFields = uniqueFields{Username: "username", Email: "email", Phone: "phone"}

// CreateUser creates a STAFF or ADMIN user (administrators only; checked by the caller). Staff
// may have the reserved names customers may not (support, security.desk), but not "admin" or
// "bank", nor a name or e-mail address that looks like another user's.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*ent.User, error) {
	f := apperr.Fields{}
	username := NormalizeUsername(in.Username)
	if IsInstitutional(username) {
		return nil, apperr.New(apperr.Forbidden, "%q is an institutional username", username)
	}
	checkUsername(f, "username", username)
	if in.Role != user.RoleSTAFF && in.Role != user.RoleADMIN {
		f.Add("role", "STAFF or ADMIN; customers are created with createCustomer")
	}
	var email string
	if in.Email != "" {
		var ok bool
		if email, ok = NormalizeEmail(in.Email); !ok {
			f.Add("email", "not a valid e-mail address")
		}
		checkEmailLook(f, "email", email, false)
	}
	phone := strings.TrimSpace(in.Phone)
	if phone != "" && !ValidPhone(phone) {
		f.Add("phone", "must be an E.164 number such as +34600111222")
	}
	checkPassword(f, "password", in.Password, username, email)
	if err := f.Err(); err != nil {
		return nil, err
	}
	u := uniques{Username: username, Email: email, Phone: phone}
	if err := s.checkTaken(ctx, u, createUserFields); err != nil {
		return nil, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	created, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.User, error) {
		uc := lookalikeKeys(tx.User.Create(), username, email).SetUsername(username).SetPasswordHash(hash).SetRole(in.Role).
			SetStatus(user.StatusACTIVE).SetCreatedAt(s.Now())
		if email != "" {
			uc.SetEmail(email)
		}
		if phone != "" {
			uc.SetPhone(phone).SetPhoneVerified(true) // an administrator entered it: the bank vouches
		}
		created, err := uc.Save(ctx)
		if err != nil {
			return nil, err
		}
		return created, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.UserCreated, Target: audit.Target("user", created.ID), TargetName: username + " " + string(in.Role),
		})
	})
	if store.IsUniqueViolation(err) {
		if err := s.checkTaken(ctx, u, createUserFields); err != nil {
			return nil, err
		}
		return nil, apperr.New(apperr.Conflict, "already exists")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: create user: %w", err)
	}
	return created, nil
}

// SetUserStatus locks, unlocks or disables a user (administrators only; checked by the caller).
// Locking and disabling end the user's sessions; unlocking also lifts a temporary lockout.
func (s *Service) SetUserStatus(ctx context.Context, v *Viewer, username string, status user.Status) (*ent.User, error) {
	username = NormalizeUsername(username)
	if IsInstitutional(username) {
		return nil, apperr.New(apperr.Forbidden, "%q is an institutional user", username)
	}
	if username == v.Username {
		return nil, apperr.New(apperr.Forbidden, "you cannot change your own status")
	}
	if status == user.StatusPENDING {
		return nil, apperr.Field("status", "ACTIVE, LOCKED or DISABLED")
	}
	return store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.User, error) {
		u, err := tx.User.Query().Where(user.Username(username)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, apperr.New(apperr.NotFound, "no user %q", username)
		}
		if err != nil {
			return nil, err
		}
		up := tx.User.UpdateOne(u).SetStatus(status)
		if status == user.StatusACTIVE {
			up.SetFailedLogins(0).ClearLockedUntil()
		}
		u, err = up.Save(ctx)
		if err != nil {
			return nil, err
		}
		if status != user.StatusACTIVE {
			if err := s.revokeSessions(ctx, tx.Client(), u.ID, 0); err != nil {
				return nil, err
			}
		}
		return u, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.UserStatusChanged, Target: audit.Target("user", u.ID), TargetName: username + " " + string(status),
		})
	})
}

// UnverifiedAfter is how long a registration may wait for its code before it is cleaned up.
const UnverifiedAfter = 24 * time.Hour

// CleanupUnverified deletes registrations and self-registrations never verified within
// UnverifiedAfter (with every other challenge that old) and returns how many registrations went.
// client is the caller's: the hourly job runs it inside the transaction that holds its lock.
func (s *Service) CleanupUnverified(ctx context.Context, client *ent.Client) (int, error) {
	cutoff := s.Now().Add(-max(UnverifiedAfter, s.Codes.TTL))
	return s.Codes.Purge(ctx, client, cutoff, challenge.PurposeEMAIL_VERIFICATION, challenge.PurposeSELF_REGISTRATION)
}
