package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/challenge"
	"coffer/ent/customer"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

// registerFields names the inputs of preRegister and register.
var registerFields = uniqueFields{Username: "username", Email: "email", Phone: "phoneNumber", SSN: "socialSecurity"}

// Contact is what preRegister and requestPasswordReset take: three facts about a person.
type Contact struct {
	Email, Phone, SocialSecurity string
}

// normalize validates the three facts, naming each bad one in f.
func (c Contact) normalize(f apperr.Fields) Contact {
	email, ok := NormalizeEmail(c.Email)
	if !ok {
		f.Add("email", "not a valid e-mail address")
	}
	phone := strings.TrimSpace(c.Phone)
	if !ValidPhone(phone) {
		f.Add("phoneNumber", "must be an E.164 number such as +34600111222")
	}
	ssn := normalizeSSN(c.SocialSecurity)
	if !ValidSocialSecurity(ssn) {
		f.Add("socialSecurity", "4 to 20 letters, digits or dashes")
	}
	return Contact{Email: email, Phone: phone, SocialSecurity: ssn}
}

func normalizeSSN(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func (s *Service) ssnHash(ssn string) []byte { return s.Key.Hash("ssn", ssn) }

// registrationSubject binds a pre-registration's code to all three facts: register must repeat
// them exactly, or no live challenge matches.
func (s *Service) registrationSubject(c Contact) string {
	return "registration:" + hex.EncodeToString(s.Key.Hash("registration", c.Email+"\x00"+c.Phone+"\x00"+c.SocialSecurity))
}

// PreRegister checks that the e-mail, phone and social security number are unused and e-mails a
// verification code for register.
func (s *Service) PreRegister(ctx context.Context, in Contact) error {
	f := apperr.Fields{}
	c := in.normalize(f)
	checkEmailLook(f, "email", c.Email, true)
	if err := f.Err(); err != nil {
		return err
	}
	if err := s.checkTaken(ctx, uniques{Email: c.Email, Phone: c.Phone, SSNHash: s.ssnHash(c.SocialSecurity)}, registerFields); err != nil {
		return err
	}
	_, err := s.Codes.Start(ctx, codes.Request{
		Purpose: challenge.PurposeEMAIL_VERIFICATION, Subject: s.registrationSubject(c),
		Kind: delivery.KindEmailVerification, Channel: delivery.ChannelEmail, To: c.Email,
	})
	return err
}

// Registration is register's input.
type Registration struct {
	Contact
	FirstName, LastName            string
	DateOfBirth                    time.Time
	Address, City, State, PostCode string
	Password, Code, Username       string
}

// Register creates a customer, their login and main account from a pre-registration, and logs
// them in.
func (s *Service) Register(ctx context.Context, in Registration) (*Session, error) {
	f := apperr.Fields{}
	c := in.Contact.normalize(f)
	rec := customerRecord{
		uniques:   uniques{Email: c.Email, Phone: c.Phone},
		password:  in.Password,
		firstName: requiredText(f, "firstName", in.FirstName, 100),
		lastName:  requiredText(f, "lastName", in.LastName, 100),
		address:   requiredText(f, "address", in.Address, 200),
		city:      requiredText(f, "city", in.City, 100),
		state:     requiredText(f, "state", in.State, 100),
		postCode:  requiredText(f, "postCode", in.PostCode, 20),
	}
	rec.name = rec.firstName + " " + rec.lastName
	now := s.Now()
	dob := in.DateOfBirth
	if !dob.Before(now) || dob.Before(now.AddDate(-150, 0, 0)) {
		f.Add("dateOfBirth", "must be a past date")
	}
	rec.dateOfBirth = &dob
	if ValidSocialSecurity(c.SocialSecurity) {
		rec.SSNHash = s.ssnHash(c.SocialSecurity)
		rec.ssnLast4 = c.SocialSecurity[len(c.SocialSecurity)-4:]
	}
	checkEmailLook(f, "email", c.Email, true)
	username := NormalizeUsername(in.Username)
	if username != "" {
		if err := refuseReserved(username); err != nil {
			return nil, err
		}
		checkUsername(f, "username", username)
	}
	checkPassword(f, "password", in.Password, username, c.Email)
	if strings.TrimSpace(in.Code) == "" {
		f.Add("verificationCode", "required")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if username == "" {
		var err error
		if username, err = s.deriveUsername(ctx, c.Email); err != nil {
			return nil, err
		}
		f := apperr.Fields{}
		if checkPassword(f, "password", in.Password, username, ""); len(f) > 0 {
			return nil, f.Err()
		}
	}
	rec.Username = username
	// Everything that can fail on the input is checked before the code is used up.
	if err := s.checkTaken(ctx, rec.uniques, registerFields); err != nil {
		return nil, err
	}
	code, err := s.Codes.CheckSubject(ctx, challenge.PurposeEMAIL_VERIFICATION, s.registrationSubject(c), strings.TrimSpace(in.Code))
	if err != nil {
		return nil, err
	}
	rec.code = code
	cust, err := s.insertCustomer(ctx, rec, registerFields)
	if err != nil {
		return nil, err
	}
	u, err := s.Client.User.Get(ctx, cust.UserID)
	if err != nil {
		return nil, fmt.Errorf("identity: register: %w", err)
	}
	return s.startSession(ctx, u)
}

func requiredText(f apperr.Fields, field, v string, max int) string {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > max {
		f.Add(field, fmt.Sprintf("required, at most %d characters", max))
	}
	return v
}

var notUsername = regexp.MustCompile(`[^a-z0-9._-]+`)

// deriveUsername makes a free username from an e-mail's local part: "ana.lopez@x" gives
// "ana.lopez", then "ana.lopez2", "ana.lopez3", ... when taken.
func (s *Service) deriveUsername(ctx context.Context, email string) (string, error) {
	base := notUsername.ReplaceAllString(strings.ToLower(email[:strings.LastIndex(email, "@")]), "")
	base = strings.TrimLeft(base, "._-")
	if len(base) > 24 {
		base = base[:24]
	}
	for len(base) < 3 {
		base += "0"
	}
	for i := 1; i <= 50; i++ {
		name := base
		if i > 1 {
			name += strconv.Itoa(i)
		}
		if IsInstitutional(name) || IsReservedName(name) {
			continue
		}
		taken, err := s.Client.User.Query().Where(user.Or(user.Username(name), user.UsernameSkeleton(Skeleton(name)))).Exist(ctx)
		if err != nil {
			return "", fmt.Errorf("identity: derive username: %w", err)
		}
		if !taken {
			return name, nil
		}
	}
	return "", apperr.Field("username", "no free username derives from the e-mail address: choose one")
}

// SelfRegistration is selfRegister's input: online access under a new username and password for a
// customer an administrator created.
type SelfRegistration struct {
	AccountNumber string
	Mode          delivery.Channel // ChannelEmail or ChannelSMS
	Email, Mobile string
	FirstName     string
	MiddleName    string
	LastName      string
	Password      string
	Username      string
}

// SelfRegister sends a code to the customer whose main account number and e-mail (or mobile)
// match, and returns the request's id. When nothing matches it returns an id all the same, one
// that no code confirms, so that the answer does not tell who is a customer.
func (s *Service) SelfRegister(ctx context.Context, in SelfRegistration) (string, error) {
	f := apperr.Fields{}
	username := NormalizeUsername(in.Username)
	if err := refuseReserved(username); err != nil {
		return "", err
	}
	checkUsername(f, "username", username)
	number := strings.TrimSpace(in.AccountNumber)
	if number == "" || len(number) > 64 {
		f.Add("accountNumber", "required")
	}
	var to string
	switch in.Mode {
	case delivery.ChannelEmail:
		email, ok := NormalizeEmail(in.Email)
		if !ok {
			f.Add("email", "a valid e-mail address is required for EMAIL")
		}
		to = email
	case delivery.ChannelSMS:
		to = strings.TrimSpace(in.Mobile)
		if !ValidPhone(to) {
			f.Add("mobileNumber", "an E.164 number such as +34600111222 is required for MOBILE")
		}
	default:
		f.Add("authenticationMode", "EMAIL or MOBILE")
	}
	names := map[string]string{}
	for _, n := range []struct{ field, value string }{{"firstName", in.FirstName}, {"middleName", in.MiddleName}, {"lastName", in.LastName}} {
		v := strings.TrimSpace(n.value)
		if utf8.RuneCountInString(v) > 100 {
			f.Add(n.field, "at most 100 characters")
		}
		if v != "" {
			names[n.field] = v
		}
	}
	emailForRule := ""
	if in.Mode == delivery.ChannelEmail {
		emailForRule = to
	}
	checkPassword(f, "password", in.Password, username, emailForRule)
	if err := f.Err(); err != nil {
		return "", err
	}
	u, err := s.claimableUser(ctx, number, in.Mode, to)
	if err != nil {
		return "", err
	}
	// Whether the username is free is not told here but at confirmation, after the code: the
	// answer to any account number would otherwise tell which usernames exist.
	// The password is hashed either way, so both answers cost the same work.
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return "", err
	}
	// No match answers with a decoy request id after the same database work, and a match sends
	// its code in the background: neither the answer nor its time says whether the data matched.
	if u == nil {
		return s.Codes.Decoy(ctx, challenge.PurposeSELF_REGISTRATION)
	}
	data := map[string]string{"username": username, "password_hash": hash}
	for k, v := range names {
		data[k] = v
	}
	return s.Codes.StartQuiet(ctx, codes.Request{
		Purpose: challenge.PurposeSELF_REGISTRATION, Subject: userSubject(u.ID), UserID: u.ID, Data: data,
		Kind: delivery.KindRegistrationOTP, Channel: in.Mode, To: to, Username: username,
	})
}

// claimableUser returns the user whose customer's main account has number and whose address for
// mode is to, when their online access was never used; nil otherwise.
func (s *Service) claimableUser(ctx context.Context, number string, mode delivery.Channel, to string) (*ent.User, error) {
	acc, err := s.Client.Account.Query().
		Where(account.Number(number), account.KindEQ(account.KindMAIN), account.ClosedAtIsNil(), account.OwnerIDNotNil()).
		WithOwner(func(q *ent.CustomerQuery) { q.WithUser() }).
		Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("identity: self-register lookup: %w", err)
	}
	if acc == nil || acc.Edges.Owner == nil || acc.Edges.Owner.Edges.User == nil {
		return nil, nil
	}
	u := acc.Edges.Owner.Edges.User
	match := (mode == delivery.ChannelEmail && u.Email != nil && *u.Email == to) ||
		(mode == delivery.ChannelSMS && u.Phone != nil && *u.Phone == to && u.PhoneVerified)
	// An unverified phone gets no SMS: that answers as a mismatch does, so it tells nothing.
	// Only online access that was never used may be claimed: the account number and the e-mail
	// are what every counterparty sees, so they must not take over a login in use.
	if !match || IsInstitutional(u.Username) || u.ActivatedAt != nil {
		return nil, nil
	}
	return u, nil
}

// ConfirmSelfRegistration applies a self-registration: the customer's login takes the new
// username and password, its online access counts as activated, and every earlier session ends.
// A username taken (or looked like) by another user is CONFLICT {username} here, after the code,
// and the code is used up: the customer starts again with another username. A customer who
// logged in since the request gets INVALID_CODE, as for a used code. Otherwise the code is used
// up in the transaction of the change, so that a failed change leaves it usable.
func (s *Service) ConfirmSelfRegistration(ctx context.Context, requestID, code string) (*ent.User, error) {
	c, err := s.Codes.Check(ctx, challenge.PurposeSELF_REGISTRATION, requestID, strings.TrimSpace(code))
	if err != nil {
		return nil, err
	}
	if c.UserID == nil {
		return nil, codes.ErrInvalid
	}
	username := c.Data["username"]
	if err := s.checkUsernameFree(ctx, username, *c.UserID); apperr.Is(err, apperr.Conflict) {
		// The answer to this request, not a failure: the name is in the challenge, so the code
		// could never do more (a concurrent use that won changes nothing here).
		if uerr := s.Codes.Use(ctx, s.Client, c); uerr != nil && !errors.Is(uerr, codes.ErrInvalid) {
			return nil, uerr
		}
		return nil, err
	} else if err != nil {
		return nil, err
	}
	u, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.User, error) {
		if err := s.Codes.Use(ctx, tx.Client(), c); err != nil {
			return nil, err
		}
		n, err := tx.User.Update().Where(user.ID(*c.UserID), user.ActivatedAtIsNil()).
			SetUsername(username).SetUsernameSkeleton(Skeleton(username)).
			SetPasswordHash(c.Data["password_hash"]).SetActivatedAt(s.Now()).
			SetFailedLogins(0).ClearLockedUntil().Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 { // activated (or deleted) since the request
			return nil, codes.ErrInvalid
		}
		u, err := tx.User.Get(ctx, *c.UserID)
		if err != nil {
			return nil, err
		}
		cu := tx.Customer.Update().Where(customer.UserID(u.ID))
		if v, ok := c.Data["firstName"]; ok {
			cu.SetFirstName(v)
		}
		if v, ok := c.Data["middleName"]; ok {
			cu.SetMiddleName(v)
		}
		if v, ok := c.Data["lastName"]; ok {
			cu.SetLastName(v)
		}
		if _, err := cu.Save(ctx); err != nil {
			return nil, err
		}
		return u, s.revokeSessions(ctx, tx.Client(), u.ID, 0)
	})
	if ent.IsNotFound(err) || errors.Is(err, codes.ErrInvalid) {
		return nil, codes.ErrInvalid
	}
	if store.IsUniqueViolation(err) {
		return nil, apperr.ConflictOn("username", "taken, or too like another user's: register again with another")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: confirm self-registration: %w", err)
	}
	return u, nil
}
