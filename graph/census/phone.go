package census

import (
	"context"
	"encoding/json"
	"strconv"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/person"
	"coffer/ent/procedure"
	"coffer/graph/apperr"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

const phonePurpose = challenge.PurposePHONE_VERIFICATION

// subjectOf is what a person's phone code is bound to; one live code per person.
func subjectOf(personID int) string { return "person:" + strconv.Itoa(personID) }

// phoneOrOwn is phone, or the person's own number when phone is empty; a person without one is
// BAD_USER_INPUT (phone).
func phoneOrOwn(p *ent.Person, phone string) (string, error) {
	if phone != "" {
		return phone, nil
	}
	if p.Phone == nil || *p.Phone == "" {
		return "", apperr.Field("phone", "the person has no phone number on file: give one")
	}
	return *p.Phone, nil
}

// StartPhoneVerification sends an SMS code to phone and opens a PHONE_VERIFICATION procedure
// holding the number. A new start supersedes the person's previous one: its code dies and its
// procedure is rejected. An empty phone means the person's own.
func (s *Service) StartPhoneVerification(ctx context.Context, a Actor, p *ent.Person, phone string) (*ent.Procedure, error) {
	phone, err := phoneOrOwn(p, phone)
	if err != nil {
		return nil, err
	}
	if !e164.MatchString(phone) {
		return nil, apperr.Field("phone", "must be an E.164 number such as +34600111222")
	}
	if err := open(p); err != nil {
		return nil, err
	}
	if s.PhoneStartsPerStaff != nil {
		if ok, wait := s.PhoneStartsPerStaff.Try(strconv.Itoa(a.UserID)); !ok {
			return nil, apperr.TooMany(wait, "too many phone verifications started: try again later")
		}
	}
	if _, err := s.Codes.Start(ctx, codes.Request{
		Purpose: phonePurpose, Subject: subjectOf(p.ID), Kind: delivery.KindPhoneVerification,
		Channel: delivery.ChannelSMS, To: phone,
	}); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(map[string]string{"phone": phone})
	pr, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Procedure, error) {
		locked, err := s.lockPerson(ctx, tx, p.ID)
		if err != nil {
			return nil, err
		}
		if err := open(locked); err != nil {
			return nil, err
		}
		now := s.now()
		if err := tx.Procedure.Update().
			Where(procedure.PersonID(p.ID), procedure.TypeEQ(procedure.TypePHONE_VERIFICATION), procedure.StateEQ(procedure.StatePENDING)).
			SetState(procedure.StateREJECTED).SetProcessedAt(now).SetProcessedByID(a.UserID).
			SetComment("superseded by a new phone verification").Exec(ctx); err != nil {
			return nil, err
		}
		return tx.Procedure.Create().SetType(procedure.TypePHONE_VERIFICATION).SetPersonID(p.ID).
			SetInformation(raw).SetCreatedAt(now).SetCreatedByID(a.UserID).Save(ctx)
	})
	if err != nil {
		_ = s.Codes.Kill(context.WithoutCancel(ctx), phonePurpose, subjectOf(p.ID))
		return nil, err
	}
	return pr, nil
}

// VerifyPhone checks the code sent by StartPhoneVerification for the same number. On success the
// number becomes the person's, VERIFIED, the procedure is accepted, and anybody else whose
// verified number it was is marked REASSIGNED (each a new version). A wrong, expired or used code,
// or another number than the one the code went to, is INVALID_CODE. An empty phone means the
// person's own.
func (s *Service) VerifyPhone(ctx context.Context, a Actor, p *ent.Person, code, phone string) (*ent.Person, error) {
	phone, err := phoneOrOwn(p, phone)
	if err != nil {
		return nil, err
	}
	pr, err := s.Client.Procedure.Query().
		Where(procedure.PersonID(p.ID), procedure.TypeEQ(procedure.TypePHONE_VERIFICATION), procedure.StateEQ(procedure.StatePENDING)).
		Order(ent.Desc(procedure.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, codes.ErrInvalid
	}
	if err != nil {
		return nil, err
	}
	var info struct{ Phone string }
	if err := json.Unmarshal(pr.Information, &info); err != nil {
		return nil, err
	}
	if info.Phone != phone {
		// The code went to another number: refused without using a try.
		return nil, codes.ErrInvalid
	}
	c, err := s.Codes.CheckSubject(ctx, phonePurpose, subjectOf(p.ID), code)
	if err != nil {
		return nil, err
	}
	// The code is used up with the change it authorises: a refused or failed change leaves it usable.
	return store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Person, error) {
		if err := s.Codes.Use(ctx, tx.Client(), c); err != nil {
			return nil, err
		}
		locked, err := s.lockPerson(ctx, tx, p.ID)
		if err != nil {
			return nil, err
		}
		if err := open(locked); err != nil {
			return nil, err
		}
		now := s.now()
		n, err := tx.Procedure.Update().Where(procedure.ID(pr.ID), procedure.StateEQ(procedure.StatePENDING)).
			SetState(procedure.StateACCEPTED).SetProcessedAt(now).SetProcessedByID(a.UserID).Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, codes.ErrInvalid
		}
		others, err := tx.Person.Query().Where(person.Phone(phone), person.IDNEQ(p.ID),
			person.PhoneVerificationEQ(person.PhoneVerificationVERIFIED)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			no, err := tx.Person.UpdateOneID(o.ID).SetPhoneVerification(person.PhoneVerificationREASSIGNED).
				SetUpdatedAt(now).Save(ctx)
			if err != nil {
				return nil, err
			}
			if err := writeVersion(ctx, tx, a, no, now, &pr.ID); err != nil {
				return nil, err
			}
		}
		np, err := tx.Person.UpdateOneID(p.ID).SetPhone(phone).SetPhoneVerification(person.PhoneVerificationVERIFIED).
			SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return nil, err
		}
		return np, writeVersion(ctx, tx, a, np, now, &pr.ID)
	})
}
