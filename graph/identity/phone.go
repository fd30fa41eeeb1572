package identity

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/hook"
	"coffer/ent/user"
	"coffer/graph/apperr"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

// A user's phone is proved the way a person's is (census), with the same purpose of challenge,
// bound to the user and the number: phoneSubject never looks like census's "person:<id>".
const phonePurpose = challenge.PurposePHONE_VERIFICATION

func phoneSubject(userID int) string { return "user-phone:" + strconv.Itoa(userID) }

// ErrPhoneUnverified refuses to send a code by SMS to a number nobody proved to hold: a number
// typed into register could be anyone's, and every login would then text it.
var ErrPhoneUnverified = apperr.New(apperr.PreconditionFailed,
	"the phone number is not verified: confirm it with startPhoneConfirmation and confirmPhone first")

// VerifiedPhone returns the number an SMS to u may go to: its phone when verified, else
// ErrPhoneUnverified (PRECONDITION_FAILED; also without a phone).
func VerifiedPhone(u *ent.User) (string, error) {
	if u == nil || u.Phone == nil || *u.Phone == "" {
		return "", apperr.New(apperr.PreconditionFailed, "the user has no phone number")
	}
	if !u.PhoneVerified {
		return "", ErrPhoneUnverified
	}
	return *u.Phone, nil
}

// StartPhoneConfirmation texts a code to the viewer's phone, to prove they hold it; confirmPhone
// takes it. A verified phone needs no code (PRECONDITION_FAILED: nothing is sent). The delivery
// budget applies like everywhere (TOO_MANY_REQUESTS).
func (s *Service) StartPhoneConfirmation(ctx context.Context, v *Viewer) (string, error) {
	u, err := s.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return "", fmt.Errorf("identity: start phone confirmation: %w", err)
	}
	if u.Phone == nil || *u.Phone == "" {
		return "", apperr.New(apperr.PreconditionFailed, "the user has no phone number")
	}
	if u.PhoneVerified {
		return "", apperr.New(apperr.PreconditionFailed, "the phone number is already verified")
	}
	return s.Codes.Start(ctx, codes.Request{
		Purpose: phonePurpose, Subject: phoneSubject(u.ID), UserID: u.ID,
		Data: map[string]string{"phone": *u.Phone},
		Kind: delivery.KindPhoneVerification, Channel: delivery.ChannelSMS, To: *u.Phone,
	})
}

// ConfirmPhone checks the code startPhoneConfirmation sent and marks the viewer's phone verified,
// if it is still the number the code went to (a phone changed since is not proved by it).
func (s *Service) ConfirmPhone(ctx context.Context, v *Viewer, challengeID, code string) (*ent.User, error) {
	c, err := s.Codes.Check(ctx, phonePurpose, challengeID, strings.TrimSpace(code))
	if err != nil {
		return nil, err
	}
	// Another user's challenge, or a census one (no user), proves nothing for the viewer.
	if c.UserID == nil || *c.UserID != v.UserID || c.Subject != phoneSubject(v.UserID) {
		return nil, codes.ErrInvalid
	}
	// The code is used up with the change: a failed update leaves it usable.
	_, err = store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := s.Codes.Use(ctx, tx.Client(), c); err != nil {
			return struct{}{}, err
		}
		n, err := tx.User.Update().
			Where(user.ID(v.UserID), user.Phone(c.Data["phone"])).
			SetPhoneVerified(true).Save(ctx)
		if err == nil && n == 0 {
			err = codes.ErrInvalid
		}
		return struct{}{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("identity: confirm phone: %w", err)
	}
	return s.Client.User.Get(ctx, v.UserID)
}

// unverifyChangedPhone is the rule "a changed phone is unverified again", on every update of a
// user's phone whatever the operation that makes it: the proof was for the old number. An update
// that sets phone_verified itself (an administrator's entry, which the bank vouches for) decides
// on its own; setting the same number again keeps the proof when the old value can be read.
func unverifyChangedPhone(next ent.Mutator) ent.Mutator {
	return hook.UserFunc(func(ctx context.Context, m *ent.UserMutation) (ent.Value, error) {
		if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
			return next.Mutate(ctx, m)
		}
		if _, decided := m.PhoneVerified(); decided {
			return next.Mutate(ctx, m)
		}
		phone, set := m.Phone()
		if !set && !m.PhoneCleared() {
			return next.Mutate(ctx, m)
		}
		if m.Op().Is(ent.OpUpdateOne) && set {
			if old, err := m.OldPhone(ctx); err == nil && old != nil && *old == phone {
				return next.Mutate(ctx, m)
			}
		}
		m.SetPhoneVerified(false)
		return next.Mutate(ctx, m)
	})
}
