package identity

import (
	"context"
	"fmt"
	"strings"

	"coffer/ent"
	"coffer/ent/account"
	"coffer/ent/challenge"
	"coffer/ent/customer"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

// CustomerUpdate is updateCustomer's input: Username names whose data changes; nil fields stay
// as they are.
type CustomerUpdate struct {
	Username, Name, Email, Phone, CashoutAddress *string
}

// UpdateResult is updateCustomer's answer: the changed customer (an administrator's change, or
// nothing to change), or the challenge of a customer's own change waiting for its TAN.
type UpdateResult struct {
	Customer    *ent.Customer
	ChallengeID string
}

// customerChange is a validated change; nil fields stay, an empty Phone or CashoutAddress removes
// it. It travels from updateCustomer to confirmCustomerUpdate in the challenge's data.
type customerChange struct {
	Name, Email, Phone, CashoutAddress *string
}

var updateFields = uniqueFields{Email: "email", Phone: "phone"}

// UpdateCustomer changes a customer's name, e-mail, phone and cash-out address. An administrator
// changes anyone's at once. A customer changes only their own e-mail, phone and cash-out address
// (the address money leaves the bank to), and only with a TAN e-mailed to the address on file
// before the change: the change waits in the challenge until ConfirmCustomerUpdate.
func (s *Service) UpdateCustomer(ctx context.Context, v *Viewer, in CustomerUpdate) (*UpdateResult, error) {
	target, err := updateTarget(v, in)
	if err != nil {
		return nil, err
	}
	ch, err := validateChange(in)
	if err != nil {
		return nil, err
	}
	c, err := s.Client.Customer.Query().Where(customer.HasUserWith(user.Username(target))).WithUser().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no customer %q", target)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: update customer: %w", err)
	}
	u := c.Edges.User
	ch = ch.withoutUnchanged(c, u)
	if ch == (customerChange{}) {
		return &UpdateResult{Customer: c}, nil
	}
	if err := s.checkChange(ctx, u, ch); err != nil {
		return nil, err
	}
	if v.IsAdmin() {
		updated, err := s.applyCustomerChange(ctx, c.ID, ch, nil)
		if err != nil {
			return nil, err
		}
		return &UpdateResult{Customer: updated}, nil
	}
	if u.Email == nil {
		return nil, apperr.New(apperr.PreconditionFailed, "there is no e-mail address on file to send the TAN to; ask the bank")
	}
	id, err := s.Codes.Start(ctx, codes.Request{
		Purpose: challenge.PurposeCUSTOMER_UPDATE, Subject: "customer-update:" + userSubject(u.ID), UserID: u.ID,
		Data: ch.data(), Kind: delivery.KindCustomerUpdateTAN, Channel: delivery.ChannelEmail, To: *u.Email,
		Username: u.Username,
	})
	if err != nil {
		return nil, err
	}
	return &UpdateResult{ChallengeID: id}, nil
}

// updateTarget is the username whose data changes. A customer names nobody but themselves and
// may not change their name; both are refused before any look-up, so that the answer says
// nothing about other usernames.
func updateTarget(v *Viewer, in CustomerUpdate) (string, error) {
	if !v.IsAdmin() && v.CustomerID == 0 {
		return "", apperr.New(apperr.Forbidden, "customers and administrators only")
	}
	target := v.Username
	if in.Username != nil {
		target = NormalizeUsername(*in.Username)
	}
	switch {
	case v.IsAdmin() && in.Username == nil:
		return "", apperr.Field("username", "required: whose data changes")
	case !v.IsAdmin() && target != v.Username:
		return "", apperr.New(apperr.Forbidden, "you may only change your own data")
	case !v.IsAdmin() && in.Name != nil:
		return "", apperr.New(apperr.Forbidden, "only the bank changes a customer's name")
	case IsInstitutional(target):
		return "", apperr.New(apperr.Forbidden, "%q is an institutional username", target)
	}
	return target, nil
}

// validateChange checks and normalizes each given field, naming every offending one.
func validateChange(in CustomerUpdate) (customerChange, error) {
	f := apperr.Fields{}
	var ch customerChange
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || len(name) > 200 {
			f.Add("name", "required, at most 200 characters")
		}
		ch.Name = &name
	}
	if in.Email != nil {
		email, ok := NormalizeEmail(*in.Email)
		if !ok {
			f.Add("email", "not a valid e-mail address (it cannot be removed)")
		}
		checkEmailLook(f, "email", email, true)
		ch.Email = &email
	}
	if in.Phone != nil {
		phone := strings.TrimSpace(*in.Phone)
		if phone != "" && !ValidPhone(phone) {
			f.Add("phone", "must be an E.164 number such as +34600111222, or empty to remove it")
		}
		ch.Phone = &phone
	}
	if in.CashoutAddress != nil {
		addr, ok := strings.TrimSpace(*in.CashoutAddress), true
		if addr != "" {
			addr, ok = NormalizeCashoutAddress(addr)
		}
		if !ok {
			f.Add("cashoutAddress", "must be a payto URI such as payto://iban/DE89370400440532013000?receiver-name=Name, or empty to remove it")
		}
		ch.CashoutAddress = &addr
	}
	return ch, f.Err()
}

// withoutUnchanged drops the fields that already hold the value asked for.
func (ch customerChange) withoutUnchanged(c *ent.Customer, u *ent.User) customerChange {
	same := func(p *string, cur string) bool { return p != nil && *p == cur }
	if same(ch.Name, c.Name) {
		ch.Name = nil
	}
	if same(ch.Email, deref(u.Email)) {
		ch.Email = nil
	}
	if same(ch.Phone, deref(u.Phone)) {
		ch.Phone = nil
	}
	if same(ch.CashoutAddress, c.CashoutAddress) {
		ch.CashoutAddress = nil
	}
	return ch
}

// checkChange refuses what the change cannot do to user u: take another user's e-mail or phone
// (CONFLICT naming the field), or remove the phone their second factor uses.
func (s *Service) checkChange(ctx context.Context, u *ent.User, ch customerChange) error {
	if ch.Phone != nil && *ch.Phone == "" && u.TwoFactor == user.TwoFactorSMS {
		return apperr.New(apperr.PreconditionFailed, "the phone is the second factor of this login: choose another method first")
	}
	var taken uniques
	if ch.Email != nil {
		taken.Email = *ch.Email
	}
	if ch.Phone != nil {
		taken.Phone = *ch.Phone
	}
	return s.checkTakenBy(ctx, taken, u.ID)
}

// checkTakenBy is checkTaken for a change of user userID's own values: only another user's count.
func (s *Service) checkTakenBy(ctx context.Context, u uniques, userID int) error {
	f := apperr.Fields{}
	if u.Email != "" {
		taken, err := s.Client.User.Query().
			Where(user.Or(user.Email(u.Email), user.EmailSkeleton(Skeleton(u.Email))), user.IDNEQ(userID)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("identity: check email: %w", err)
		}
		if taken {
			f.Add(updateFields.Email, "already taken")
		}
	}
	if u.Phone != "" {
		taken, err := s.Client.User.Query().Where(user.Phone(u.Phone), user.IDNEQ(userID)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("identity: check phone: %w", err)
		}
		if taken {
			f.Add(updateFields.Phone, "already taken")
		}
	}
	if len(f) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Conflict, Message: "already taken", Fields: f}
}

// ConfirmCustomerUpdate applies the viewer's own change waiting in challengeID with its TAN. A
// challenge of another user answers as a wrong code, and trying it uses up none of its tries; a
// value taken since the request is CONFLICT, checked before the TAN is used up.
func (s *Service) ConfirmCustomerUpdate(ctx context.Context, v *Viewer, challengeID, code string) (*ent.Customer, error) {
	if v.CustomerID == 0 || challengeID == "" || len(challengeID) > 128 {
		return nil, codes.ErrInvalid
	}
	pending, err := s.Client.Challenge.Query().
		Where(challenge.PublicID(challengeID), challenge.PurposeEQ(challenge.PurposeCUSTOMER_UPDATE), challenge.UserID(v.UserID)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, codes.ErrInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("identity: confirm customer update: %w", err)
	}
	u, err := s.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, fmt.Errorf("identity: confirm customer update: %w", err)
	}
	ch := changeFromData(pending.Data)
	if pending.UsedAt == nil {
		if err := s.checkChange(ctx, u, ch); err != nil {
			return nil, err
		}
	}
	tan, err := s.Codes.Check(ctx, challenge.PurposeCUSTOMER_UPDATE, challengeID, code)
	if err != nil {
		return nil, err
	}
	return s.applyCustomerChange(ctx, v.CustomerID, ch, tan)
}

// applyCustomerChange writes a validated change of a customer's data in one transaction: the one
// place such a change is made (an audit record of it belongs here). A value another user took
// meanwhile is CONFLICT naming the field, and nothing changes. A phone an administrator enters
// counts as verified (the bank vouches for it); a customer's new phone is unverified until proved
// (a hook on the client clears the flag on any other phone change).
//
// tan is the customer's TAN (Codes.Check), used up in the change's transaction so that a change
// that fails leaves it usable; nil for an administrator's change, which needs none.
func (s *Service) applyCustomerChange(ctx context.Context, customerID int, ch customerChange, tan *ent.Challenge) (*ent.Customer, error) {
	byAdmin := tan == nil
	var userID int
	_, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if tan != nil {
			if err := s.Codes.Use(ctx, tx.Client(), tan); err != nil {
				return struct{}{}, err
			}
		}
		c, err := tx.Customer.Query().Where(customer.ID(customerID)).WithUser().Only(ctx)
		if err != nil {
			return struct{}{}, err
		}
		userID = c.UserID
		if ch.Phone != nil && *ch.Phone == "" && c.Edges.User.TwoFactor == user.TwoFactorSMS {
			return struct{}{}, apperr.New(apperr.PreconditionFailed, "the phone is the second factor of this login: choose another method first")
		}
		uu := tx.User.UpdateOneID(c.UserID)
		if ch.Email != nil {
			uu.SetEmail(*ch.Email).SetEmailSkeleton(Skeleton(*ch.Email))
		}
		if ch.Phone != nil && *ch.Phone == "" {
			uu.ClearPhone()
		} else if ch.Phone != nil {
			uu.SetPhone(*ch.Phone)
			if byAdmin {
				uu.SetPhoneVerified(true)
			}
		}
		if err := uu.Exec(ctx); err != nil {
			return struct{}{}, err
		}
		cu := tx.Customer.UpdateOneID(customerID)
		if ch.CashoutAddress != nil {
			cu.SetCashoutAddress(*ch.CashoutAddress)
		}
		if ch.Name != nil {
			cu.SetName(*ch.Name)
			// Statements show the holder's name as the counterparty.
			if err := tx.Account.Update().Where(account.OwnerID(customerID)).SetHolderName(*ch.Name).Exec(ctx); err != nil {
				return struct{}{}, err
			}
		}
		if err := cu.Exec(ctx); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, audit.Write(ctx, tx.AuditEvent, audit.Event{Action: audit.CustomerUpdated,
			Target: audit.Target("customer", customerID), TargetName: c.Edges.User.Username + " " + ch.fieldNames()})
	})
	if store.IsUniqueViolation(err) {
		taken := uniques{Email: deref(ch.Email), Phone: deref(ch.Phone)}
		if err := s.checkTakenBy(ctx, taken, userID); err != nil {
			return nil, err
		}
		return nil, apperr.New(apperr.Conflict, "already taken")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: apply customer change: %w", err)
	}
	return s.Client.Customer.Get(ctx, customerID)
}

// fieldNames lists the fields the change sets, for the audit log (not their values: personal data).
func (ch customerChange) fieldNames() string {
	var names []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", ch.Name}, {"email", ch.Email}, {"phone", ch.Phone}, {"cashoutAddress", ch.CashoutAddress}} {
		if f.v != nil {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ",")
}

func (ch customerChange) data() map[string]string {
	d := map[string]string{}
	for k, p := range map[string]*string{"name": ch.Name, "email": ch.Email, "phone": ch.Phone, "cashoutAddress": ch.CashoutAddress} {
		if p != nil {
			d[k] = *p
		}
	}
	return d
}

func changeFromData(d map[string]string) customerChange {
	get := func(k string) *string {
		if v, ok := d[k]; ok {
			return &v
		}
		return nil
	}
	return customerChange{Name: get("name"), Email: get("email"), Phone: get("phone"), CashoutAddress: get("cashoutAddress")}
}
