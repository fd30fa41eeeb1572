// Package identity holds coffer's users and customers: passwords, sessions, login, the
// administrator's customer management and the rules that keep accounts from being enumerated.
package identity

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/customer"
	"coffer/ent/session"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/iban"
	"coffer/graph/ledger"
	"coffer/graph/store"
)

// Service applies the identity rules.
type Service struct {
	Client *ent.Client
	Ledger *ledger.Ledger
	Hasher *Hasher
	Now    func() time.Time
	// SessionIdle ends a session after this long without a request; SessionMaxAge in any case.
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	// MaxFailedLogins consecutive failures lock the account for LockoutDuration.
	MaxFailedLogins int
	LockoutDuration time.Duration
}

// NewService returns a service with the contract's defaults.
func NewService(client *ent.Client, l *ledger.Ledger, h *Hasher) *Service {
	return &Service{
		Client: client, Ledger: l, Hasher: h, Now: time.Now,
		SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		MaxFailedLogins: 5, LockoutDuration: 15 * time.Minute,
	}
}

// BootstrapAdmin creates the administrator "admin" with password, or resets its password and
// status when it no longer matches.
func (s *Service) BootstrapAdmin(ctx context.Context, password string) error {
	u, err := s.Client.User.Query().Where(user.Username("admin")).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("identity: bootstrap admin: %w", err)
	}
	if u != nil {
		ok, err := s.Hasher.Verify(ctx, password, u.PasswordHash)
		if err != nil {
			return err
		}
		if ok && u.Role == user.RoleADMIN && u.Status == user.StatusACTIVE {
			return nil
		}
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if u == nil {
		err = s.Client.User.Create().SetUsername("admin").SetPasswordHash(hash).
			SetRole(user.RoleADMIN).SetStatus(user.StatusACTIVE).Exec(ctx)
		if store.IsUniqueViolation(err) { // another instance won the race
			return nil
		}
		return err
	}
	return s.Client.User.UpdateOne(u).SetPasswordHash(hash).SetRole(user.RoleADMIN).
		SetStatus(user.StatusACTIVE).SetFailedLogins(0).ClearLockedUntil().Exec(ctx)
}

// LoginResult is a completed login, or the challenge of its second step.
type LoginResult struct {
	Session     *Session
	ChallengeID string
}

var errBadCredentials = apperr.New(apperr.Unauthenticated, "invalid login or password")

// Login checks a username or e-mail and a password. Unknown users and wrong passwords get the
// same answer after the same work (a dummy hash is verified), so the answer says nothing about
// who has an account.
func (s *Service) Login(ctx context.Context, login, password string) (*LoginResult, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" || len(login) > 254 || len(password) > maxPasswordLen*4 {
		_, _ = s.Hasher.Verify(ctx, password, "")
		return nil, errBadCredentials
	}
	q := s.Client.User.Query()
	if strings.Contains(login, "@") {
		q.Where(user.Email(login))
	} else {
		q.Where(user.Username(login))
	}
	u, err := q.Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("identity: login lookup: %w", err)
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.Hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errBadCredentials
	}
	now := s.Now()
	// A locked account answers the same whatever the password, or the lock would not stop guessing.
	if u.Status == user.StatusLOCKED || (u.LockedUntil != nil && now.Before(*u.LockedUntil)) {
		return nil, apperr.New(apperr.AccountLocked, "the account is locked")
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
	sess, err := s.startSession(ctx, u)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Session: sess}, nil
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

// NewCustomer is createCustomer's input.
type NewCustomer struct {
	Username, Password, Name string
	Email, Phone             string
	CashoutAddress, IBAN     string
}

// CreateCustomer creates a user, its customer and a main account (admin only).
func (s *Service) CreateCustomer(ctx context.Context, in NewCustomer) (*ent.Customer, error) {
	f := apperr.Fields{}
	username := NormalizeUsername(in.Username)
	if IsInstitutional(username) {
		return nil, apperr.New(apperr.Forbidden, "%q is an institutional username", username)
	}
	checkUsername(f, "username", username)
	var email, cashout, ibanNorm string
	if in.Email != "" {
		var ok bool
		if email, ok = NormalizeEmail(in.Email); !ok {
			f.Add("email", "not a valid e-mail address")
		}
	}
	if in.Phone != "" && !ValidPhone(in.Phone) {
		f.Add("phone", "must be an E.164 number such as +34600111222")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		f.Add("name", "required, at most 200 characters")
	}
	if in.CashoutAddress != "" {
		var ok bool
		if cashout, ok = NormalizeCashoutAddress(in.CashoutAddress); !ok {
			f.Add("cashoutAddress", "must be a payto URI such as payto://iban/DE89370400440532013000?receiver-name=Name")
		}
	}
	if in.IBAN != "" {
		var err error
		if ibanNorm, err = iban.Normalize(in.IBAN); err != nil {
			f.Add("iban", err.Error())
		}
	}
	checkPassword(f, "password", in.Password, username, email)
	if err := f.Err(); err != nil {
		return nil, err
	}
	if err := s.checkTaken(ctx, username, email, in.Phone, ibanNorm); err != nil {
		return nil, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	c, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Customer, error) {
		uc := tx.User.Create().SetUsername(username).SetPasswordHash(hash).
			SetRole(user.RoleCUSTOMER).SetStatus(user.StatusACTIVE).SetCreatedAt(s.Now())
		if email != "" {
			uc.SetEmail(email)
		}
		if in.Phone != "" {
			uc.SetPhone(in.Phone)
		}
		u, err := uc.Save(ctx)
		if err != nil {
			return nil, err
		}
		c, err := tx.Customer.Create().SetUserID(u.ID).SetName(name).SetCashoutAddress(cashout).
			SetCreatedAt(s.Now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		_, err = s.Ledger.Open(ctx, tx, ledger.NewAccount{Kind: account.KindMAIN, OwnerID: c.ID, HolderName: name, IBAN: ibanNorm})
		return c, err
	})
	if store.IsUniqueViolation(err) {
		// Lost a race with another creation: name the field as the pre-check would have.
		if err := s.checkTaken(ctx, username, email, in.Phone, ibanNorm); err != nil {
			return nil, err
		}
		return nil, apperr.New(apperr.Conflict, "already exists")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: create customer: %w", err)
	}
	return c, nil
}

// checkTaken names, as CONFLICT, the first of the unique values already in use.
func (s *Service) checkTaken(ctx context.Context, username, email, phone, ibanNorm string) error {
	f := apperr.Fields{}
	if n, err := s.Client.User.Query().Where(user.Username(username)).Exist(ctx); err != nil {
		return err
	} else if n {
		f.Add("username", "already taken")
	}
	if email != "" {
		if n, err := s.Client.User.Query().Where(user.Email(email)).Exist(ctx); err != nil {
			return err
		} else if n {
			f.Add("email", "already taken")
		}
	}
	if phone != "" {
		if n, err := s.Client.User.Query().Where(user.Phone(phone)).Exist(ctx); err != nil {
			return err
		} else if n {
			f.Add("phone", "already taken")
		}
	}
	if ibanNorm != "" {
		if n, err := s.Client.Account.Query().Where(account.Iban(ibanNorm)).Exist(ctx); err != nil {
			return err
		} else if n {
			f.Add("iban", "already taken")
		}
	}
	if len(f) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Conflict, Message: "already taken", Fields: f}
}

// DeleteCustomer removes a customer's login and closes their accounts; the accounts' history stays
// in the ledger. Refused while any of the accounts holds or reserves money.
func (s *Service) DeleteCustomer(ctx context.Context, username string) error {
	username = NormalizeUsername(username)
	if IsInstitutional(username) {
		return apperr.New(apperr.Forbidden, "%q is an institutional username", username)
	}
	_, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		c, err := tx.Customer.Query().Where(customer.HasUserWith(user.Username(username))).Only(ctx)
		if ent.IsNotFound(err) {
			return struct{}{}, apperr.New(apperr.NotFound, "no customer %q", username)
		}
		if err != nil {
			return struct{}{}, err
		}
		// Closing first takes the accounts' row locks, so no movement can slip in before the check.
		now := s.Now()
		if _, err := tx.Account.Update().Where(account.OwnerID(c.ID), account.ClosedAtIsNil()).SetClosedAt(now).Save(ctx); err != nil {
			return struct{}{}, err
		}
		busy, err := tx.Account.Query().
			Where(account.OwnerID(c.ID), account.Or(account.BalanceNEQ(0), account.ReservedNEQ(0))).
			Exist(ctx)
		if err != nil {
			return struct{}{}, err
		}
		if busy {
			return struct{}{}, apperr.New(apperr.PreconditionFailed, "the customer's accounts are not empty")
		}
		// The foreign keys do not cascade: detach the accounts, then remove sessions, customer, user.
		if _, err := tx.Account.Update().Where(account.OwnerID(c.ID)).ClearOwnerID().Save(ctx); err != nil {
			return struct{}{}, err
		}
		if _, err := tx.Session.Delete().Where(session.UserID(c.UserID)).Exec(ctx); err != nil {
			return struct{}{}, err
		}
		if err := tx.Customer.DeleteOneID(c.ID).Exec(ctx); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.User.DeleteOneID(c.UserID).Exec(ctx)
	})
	return err
}

// ChangePassword changes a password: a customer or clerk only their own (with the current
// password), an administrator anyone's.
func (s *Service) ChangePassword(ctx context.Context, v *Viewer, username, newPassword, confirmPassword, currentPassword string) error {
	target := v.Username
	if username != "" {
		target = NormalizeUsername(username)
	}
	self := target == v.Username
	// Checked before any lookup, so that a customer learns nothing about other usernames.
	if !self && !v.IsAdmin() {
		return apperr.New(apperr.Forbidden, "you may only change your own password")
	}
	u, err := s.Client.User.Query().Where(user.Username(target)).Only(ctx)
	if ent.IsNotFound(err) {
		return apperr.New(apperr.NotFound, "no user %q", target)
	}
	if err != nil {
		return err
	}
	f := apperr.Fields{}
	if newPassword != confirmPassword {
		f.Add("confirmPassword", "does not match newPassword")
	}
	email := ""
	if u.Email != nil {
		email = *u.Email
	}
	checkPassword(f, "newPassword", newPassword, u.Username, email)
	if err := f.Err(); err != nil {
		return err
	}
	if self {
		ok, err := s.Hasher.Verify(ctx, currentPassword, u.PasswordHash)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Field("currentPassword", "is wrong")
		}
	}
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	_, err = store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := tx.User.UpdateOne(u).SetPasswordHash(hash).Exec(ctx); err != nil {
			return struct{}{}, err
		}
		keep := 0
		if self {
			keep = v.SessionID
		}
		return struct{}{}, s.revokeSessions(ctx, tx.Client(), u.ID, keep)
	})
	return err
}
