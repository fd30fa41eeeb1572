// Package identity holds coffer's users and customers: passwords, sessions, login, the
// administrator's customer management and the rules that keep accounts from being enumerated.
package identity

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/customer"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/coalesce"
	"coffer/graph/codes"
	"coffer/graph/iban"
	"coffer/graph/ledger"
	"coffer/graph/lookup"
	"coffer/graph/store"
)

// Service applies the identity rules.
type Service struct {
	Client *ent.Client
	Ledger *ledger.Ledger
	Hasher *Hasher
	Codes  *codes.Service
	// Key hashes social security numbers for look-up.
	Key lookup.Key
	Now func() time.Time
	// SessionIdle ends a session after this long without a request; SessionMaxAge in any case.
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	// MaxFailedLogins consecutive failures lock the account for LockoutDuration.
	MaxFailedLogins int
	LockoutDuration time.Duration
	// RequireTwoFactor (REQUIRE_TWO_FACTOR) makes every customer login two-step (twofactor.go).
	RequireTwoFactor bool
	// SQL, when set, is the pool under Client: authentication runs as a prepared statement on it,
	// shared by concurrent requests (loadAuth).
	SQL *sql.DB
	// authStmt is that statement, prepared on first use; auth runs it in rounds; authOnce sets
	// both up.
	authStmt store.Prepared
	auth     coalesce.Loader[string, *authRow]
	authOnce sync.Once
	// phantom counts failed logins for names nobody has, so that they lock like real accounts
	// do and ACCOUNT_LOCKED does not tell who has an account.
	phantom     *phantomLockout
	phantomOnce sync.Once
}

// NewService returns a service with the contract's defaults.
func NewService(client *ent.Client, l *ledger.Ledger, h *Hasher, c *codes.Service, key lookup.Key) *Service {
	// On the client, so that every phone change, in any package or transaction, obeys it.
	client.User.Use(unverifyChangedPhone)
	return &Service{
		Client: client, Ledger: l, Hasher: h, Codes: c, Key: key, Now: time.Now,
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
		err = lookalikeKeys(s.Client.User.Create(), "admin", "").SetUsername("admin").SetPasswordHash(hash).
			SetRole(user.RoleADMIN).SetStatus(user.StatusACTIVE).Exec(ctx)
		if store.IsUniqueViolation(err) { // another instance won the race
			return nil
		}
		return err
	}
	return s.Client.User.UpdateOne(u).SetPasswordHash(hash).SetRole(user.RoleADMIN).
		SetStatus(user.StatusACTIVE).SetFailedLogins(0).ClearLockedUntil().Exec(ctx)
}

// NewCustomer is createCustomer's input.
type NewCustomer struct {
	Username, Password, Name string
	Email, Phone             string
	CashoutAddress, IBAN     string
}

// CreateCustomer creates a user, its customer and a main account (admin only). A reserved
// username is FORBIDDEN; one that looks like another user's is CONFLICT, as a taken one.
func (s *Service) CreateCustomer(ctx context.Context, in NewCustomer) (*ent.Customer, error) {
	f := apperr.Fields{}
	username := NormalizeUsername(in.Username)
	if err := refuseReserved(username); err != nil {
		return nil, err
	}
	checkUsername(f, "username", username)
	var email, cashout, ibanNorm string
	if in.Email != "" {
		var ok bool
		if email, ok = NormalizeEmail(in.Email); !ok {
			f.Add("email", "not a valid e-mail address")
		}
		checkEmailLook(f, "email", email, true)
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
	rec := customerRecord{
		uniques:  uniques{Username: username, Email: email, Phone: in.Phone, IBAN: ibanNorm},
		password: in.Password, name: name, cashoutAddress: cashout, phoneVerified: in.Phone != "",
	}
	return s.insertCustomer(ctx, rec, createCustomerFields)
}

// uniques are the values no two users, customers or accounts may share.
type uniques struct {
	Username, Email, Phone, IBAN string
	SSNHash                      []byte
}

// uniqueFields names, per operation, the input field behind each unique value.
type uniqueFields struct{ Username, Email, Phone, IBAN, SSN string }

var createCustomerFields = uniqueFields{Username: "username", Email: "email", Phone: "phone", IBAN: "iban"}

// customerRecord is a validated new customer with their login.
type customerRecord struct {
	uniques
	password                       string
	name, firstName, lastName      string
	address, city, state, postCode string
	dateOfBirth                    *time.Time
	ssnLast4, cashoutAddress       string
	// phoneVerified: the bank vouches for a phone an administrator entered; a phone typed into
	// the public register is the registrant's claim until confirmed (startPhoneConfirmation).
	phoneVerified bool
	// code is the registration's e-mail code (Codes.Check), used up in the insert's transaction;
	// nil for an administrator's createCustomer.
	code *ent.Challenge
}

// insertCustomer creates the user, the customer and the main account in one transaction.
func (s *Service) insertCustomer(ctx context.Context, rec customerRecord, names uniqueFields) (*ent.Customer, error) {
	if err := s.checkTaken(ctx, rec.uniques, names); err != nil {
		return nil, err
	}
	hash, err := s.Hasher.Hash(ctx, rec.password)
	if err != nil {
		return nil, err
	}
	c, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Customer, error) {
		if rec.code != nil {
			if err := s.Codes.Use(ctx, tx.Client(), rec.code); err != nil {
				return nil, err
			}
		}
		uc := lookalikeKeys(tx.User.Create(), rec.Username, rec.Email).SetUsername(rec.Username).SetPasswordHash(hash).
			SetRole(user.RoleCUSTOMER).SetStatus(user.StatusACTIVE).SetCreatedAt(s.Now())
		if rec.Email != "" {
			uc.SetEmail(rec.Email)
		}
		if rec.Phone != "" {
			uc.SetPhone(rec.Phone).SetPhoneVerified(rec.phoneVerified)
		}
		u, err := uc.Save(ctx)
		if err != nil {
			return nil, err
		}
		cc := tx.Customer.Create().SetUserID(u.ID).SetName(rec.name).SetCashoutAddress(rec.cashoutAddress).
			SetFirstName(rec.firstName).SetLastName(rec.lastName).SetAddress(rec.address).
			SetCity(rec.city).SetState(rec.state).SetPostCode(rec.postCode).
			SetNillableDateOfBirth(rec.dateOfBirth).SetSocialSecurityLast4(rec.ssnLast4).
			SetCreatedAt(s.Now())
		if rec.SSNHash != nil {
			cc.SetSocialSecurityHash(rec.SSNHash)
		}
		c, err := cc.Save(ctx)
		if err != nil {
			return nil, err
		}
		if _, err = s.Ledger.Open(ctx, tx, ledger.NewAccount{Kind: account.KindMAIN, OwnerID: c.ID, HolderName: rec.name, IBAN: rec.IBAN}); err != nil {
			return nil, err
		}
		// The actor is the administrator (createCustomer), or nobody yet (register).
		return c, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.CustomerCreated, Target: audit.Target("customer", c.ID), TargetName: rec.Username,
		})
	})
	if store.IsUniqueViolation(err) {
		// Lost a race with another creation: name the field as the pre-check would have.
		if err := s.checkTaken(ctx, rec.uniques, names); err != nil {
			return nil, err
		}
		return nil, apperr.New(apperr.Conflict, "already exists")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: create customer: %w", err)
	}
	return c, nil
}

// checkTaken names, as CONFLICT, every unique value already in use, and a username or e-mail
// address that looks like one in use (the same skeleton: lookalike.go).
func (s *Service) checkTaken(ctx context.Context, u uniques, names uniqueFields) error {
	f := apperr.Fields{}
	checks := []struct {
		field string
		skip  bool
		exist func() (bool, error)
	}{
		{names.Username, u.Username == "", func() (bool, error) {
			return s.Client.User.Query().Where(user.Or(user.Username(u.Username), user.UsernameSkeleton(Skeleton(u.Username)))).Exist(ctx)
		}},
		{names.Email, u.Email == "", func() (bool, error) {
			return s.Client.User.Query().Where(user.Or(user.Email(u.Email), user.EmailSkeleton(Skeleton(u.Email)))).Exist(ctx)
		}},
		{names.Phone, u.Phone == "", func() (bool, error) { return s.Client.User.Query().Where(user.Phone(u.Phone)).Exist(ctx) }},
		{names.IBAN, u.IBAN == "", func() (bool, error) { return s.Client.Account.Query().Where(account.Iban(u.IBAN)).Exist(ctx) }},
		{names.SSN, u.SSNHash == nil, func() (bool, error) {
			return s.Client.Customer.Query().Where(customer.SocialSecurityHash(u.SSNHash)).Exist(ctx)
		}},
	}
	for _, c := range checks {
		if c.skip {
			continue
		}
		taken, err := c.exist()
		if err != nil {
			return fmt.Errorf("identity: check %s: %w", c.field, err)
		}
		if taken {
			f.Add(c.field, "already taken")
		}
	}
	if len(f) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Conflict, Message: "already taken", Fields: f}
}

// DeleteCustomer removes a customer's login, products and personal data and closes their
// accounts; the ledger keeps the accounts and their history (customer_delete.go). Refused while
// any of the accounts holds or reserves money or takes part in a pending transaction.
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
		if err := s.deleteCustomer(ctx, tx, c); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.CustomerDeleted, Target: audit.Target("customer", c.ID), TargetName: username,
		})
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
	// One's own password needs the current one, counted like a login (reauthenticate); an
	// administrator changing another user's does not.
	var a *attempt
	if self {
		if a, err = s.reauthenticate(ctx, u, currentPassword); err != nil {
			return err
		}
	}
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	_, err = store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if a != nil {
			if err := s.acceptAttempt(ctx, tx, a); err != nil {
				return struct{}{}, err
			}
		}
		if err := tx.User.UpdateOne(u).SetPasswordHash(hash).Exec(ctx); err != nil {
			return struct{}{}, err
		}
		keep := 0
		if self {
			keep = v.SessionID
		}
		if err := s.revokeSessions(ctx, tx.Client(), u.ID, keep); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, audit.Write(ctx, tx.AuditEvent, audit.Event{
			Action: audit.PasswordChanged, Target: audit.Target("user", u.ID), TargetName: u.Username,
		})
	})
	return err
}
