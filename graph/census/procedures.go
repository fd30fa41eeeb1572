package census

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/ent/procedure"
	"coffer/graph/apperr"
	"coffer/graph/census/qid"
	"coffer/graph/store"
)

func itoa(n int) string { return strconv.Itoa(n) }

// Actor is the staff member or administrator doing something; it is recorded on what they do.
type Actor struct{ UserID int }

// Registration is registerPerson's input.
type Registration struct {
	Data
	// CensusNumber is the number to give the person ("<n>@census" or "<n>"), for people brought
	// over from another register with their number; empty: the next free number.
	CensusNumber string
	// AdditionalInformation is a JSON object, or nil.
	AdditionalInformation json.RawMessage
}

// Limits on procedures.
const (
	maxCommentLen = 1000
	maxReasonLen  = 1000
	maxChannelLen = 50
)

// censusNumberLock is the advisory lock that serializes the choice of the next census number.
const censusNumberLock = 0x636f66666572_05 // "coffer", census

// Register creates a PENDING person and its REGISTRATION procedure.
func (s *Service) Register(ctx context.Context, a Actor, r Registration) (*ent.Person, *ent.Procedure, error) {
	d, number, info, err := s.checkRegistration(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	type out struct {
		p  *ent.Person
		pr *ent.Procedure
	}
	res, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (out, error) {
		if err := checkUnique(ctx, tx.Client(), d, 0); err != nil {
			return out{}, err
		}
		number, err := s.claimCensusNumber(ctx, tx, number)
		if err != nil {
			return out{}, err
		}
		now := s.now()
		p, err := createPerson(ctx, tx, d, number, info, now)
		if err != nil {
			return out{}, err
		}
		pr, err := tx.Procedure.Create().SetType(procedure.TypeREGISTRATION).SetPersonID(p.ID).
			SetInformation(json.RawMessage(`{"censusNumber":` + strconv.FormatInt(number, 10) + `}`)).
			SetCreatedAt(now).SetCreatedByID(a.UserID).Save(ctx)
		if err != nil {
			return out{}, err
		}
		if err := writeVersion(ctx, tx, a, p, now, nil); err != nil {
			return out{}, err
		}
		return out{p, pr}, nil
	})
	return res.p, res.pr, err
}

// checkRegistration checks a registration, collecting every problem: the person's data (and
// returns it normalized), the census number asked for (0: the next free one) and the additional
// information.
func (s *Service) checkRegistration(ctx context.Context, r Registration) (Data, int64, json.RawMessage, error) {
	d, err := s.normalize(ctx, s.Client, r.Data, nil)
	f := apperr.Fields{}
	if ae, ok := err.(*apperr.Error); ok {
		for k, v := range ae.Fields {
			f.Add(k, v)
		}
	} else if err != nil {
		return d, 0, nil, err
	}
	var number int64
	if r.CensusNumber != "" {
		ref := r.CensusNumber
		if !strings.Contains(ref, "@") {
			ref += "@" + qid.SystemCensus
		}
		id, perr := qid.Parse(ref, nil)
		n, ok := id.CensusNumber()
		if perr != nil || !ok {
			f.Add("personId", "must be a census number such as 123 or 123@census")
		}
		number = n
	}
	info, ierr := objectOrNil(r.AdditionalInformation)
	if ierr != nil {
		f.Add("additionalInformation", ierr.Error())
	}
	return d, number, info, f.Err()
}

// claimCensusNumber returns the number to give a new person: the one asked for (CONFLICT when it
// is taken), or the next free one when number is 0.
func (s *Service) claimCensusNumber(ctx context.Context, tx *ent.Tx, number int64) (int64, error) {
	// Both paths take the numbering lock, so a chosen number and the next free one cannot
	// collide on the unique index (which would blame the wrong client).
	next, err := s.nextCensusNumber(ctx, tx)
	if err != nil {
		return 0, err
	}
	if number == 0 {
		return next, nil
	}
	taken, err := tx.Person.Query().Where(person.CensusNumber(number)).Exist(ctx)
	if err != nil {
		return 0, err
	}
	if taken {
		return 0, apperr.ConflictOn("personId", "census number "+strconv.FormatInt(number, 10)+" is taken")
	}
	return number, nil
}

// createPerson saves the checked data d as a PENDING person with its external-id look-up rows.
func createPerson(ctx context.Context, tx *ent.Tx, d Data, number int64, info json.RawMessage, now time.Time) (*ent.Person, error) {
	create := tx.Person.Create().SetCensusNumber(number).
		SetFirstName(*d.FirstName).SetLastName1(*d.LastName1).SetDocumentType(*d.DocumentType).
		SetDocumentID(*d.DocumentID).SetDocumentScopeCode(*d.DocumentScopeCode).SetBornAt(*d.BornAt).
		SetGender(*d.Gender).SetAddress(*d.Address).SetAddressScopeCode(*d.AddressScopeCode).
		SetPostalCode(*d.PostalCode).SetScopeCode(*d.ScopeCode).
		SetCreatedAt(now).SetUpdatedAt(now)
	if v := d.LastName2; v != nil && *v != "" {
		create.SetLastName2(*v)
	}
	if v := d.Email; v != nil && *v != "" {
		create.SetEmail(*v)
	}
	if v := d.Phone; v != nil && *v != "" {
		create.SetPhone(*v)
	}
	if d.ExternalIDs != nil {
		create.SetExternalIds(d.ExternalIDs)
	}
	if info != nil {
		create.SetAdditionalInformation(info)
	}
	create.SetSearchKey(SearchKey(&ent.Person{FirstName: *d.FirstName, LastName1: *d.LastName1,
		LastName2: nonEmpty(d.LastName2), DocumentID: *d.DocumentID, Email: nonEmpty(d.Email), Phone: nonEmpty(d.Phone)}))
	p, err := create.Save(ctx)
	if err != nil {
		return nil, uniqueAsConflict(err)
	}
	if err := setExternalIDs(ctx, tx, p.ID, d.ExternalIDs); err != nil {
		return nil, uniqueAsConflict(err)
	}
	return p, nil
}

// nonEmpty is v, or nil when v is nil or empty.
func nonEmpty(v *string) *string {
	if v == nil || *v == "" {
		return nil
	}
	return v
}

func (s *Service) nextCensusNumber(ctx context.Context, tx *ent.Tx) (int64, error) {
	if s.Dialect == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(censusNumberLock)); err != nil {
			return 0, fmt.Errorf("census: lock numbers: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT COALESCE(MAX(census_number), 0) FROM "+person.Table)
	if err != nil {
		return 0, fmt.Errorf("census: next number: %w", err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n + 1, rows.Err()
}

func uniqueAsConflict(err error) error {
	if store.IsUniqueViolation(err) {
		msg := strings.ToLower(err.Error())
		switch {
		case strings.Contains(msg, "document"):
			return apperr.ConflictOn("documentId", "another person has this document")
		case strings.Contains(msg, "census"):
			return apperr.ConflictOn("personId", "the census number is taken")
		default:
			return apperr.ConflictOn("externalIds", "another person has one of these external ids")
		}
	}
	return err
}

// open is a person on whom procedures may still be requested.
func open(p *ent.Person) error {
	if p.State == person.StateCANCELLED || p.State == person.StateTRASHED {
		return apperr.New(apperr.PreconditionFailed, "the person is %s", strings.ToLower(string(p.State)))
	}
	return nil
}

// request creates a pending procedure of type t for the person, refusing a second pending one of
// the same type (CONFLICT): a clerk decides on one request at a time. before runs in the same
// transaction after the person is locked, for checks and person changes that come with the request.
func (s *Service) request(ctx context.Context, a Actor, personID int, t procedure.Type, info any, prioritized bool,
	before func(tx *ent.Tx, p *ent.Person, pr *ent.Procedure, now time.Time) error,
) (*ent.Procedure, error) {
	raw, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Procedure, error) {
		p, err := s.lockPerson(ctx, tx, personID)
		if err != nil {
			return nil, err
		}
		if err := open(p); err != nil {
			return nil, err
		}
		pending, err := tx.Procedure.Query().
			Where(procedure.PersonID(p.ID), procedure.TypeEQ(t), procedure.StateEQ(procedure.StatePENDING)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if pending {
			return nil, apperr.New(apperr.Conflict, "the person already has a pending %s procedure", t)
		}
		now := s.now()
		pr, err := tx.Procedure.Create().SetType(t).SetPersonID(p.ID).SetInformation(raw).
			SetPrioritized(prioritized).SetCreatedAt(now).SetCreatedByID(a.UserID).Save(ctx)
		if err != nil {
			return nil, err
		}
		if before != nil {
			if err := before(tx, p, pr, now); err != nil {
				return nil, err
			}
		}
		return pr, nil
	})
}

// DataChange is the information of a PERSON_DATA_CHANGE: the normalized new values.
type DataChange struct {
	FirstName         *string              `json:"firstName,omitempty"`
	LastName1         *string              `json:"lastName1,omitempty"`
	LastName2         *string              `json:"lastName2,omitempty"`
	DocumentType      *person.DocumentType `json:"documentType,omitempty"`
	DocumentID        *string              `json:"documentId,omitempty"`
	DocumentScopeCode *string              `json:"documentScopeCode,omitempty"`
	BornAt            *string              `json:"bornAt,omitempty"`
	Gender            *person.Gender       `json:"gender,omitempty"`
	Address           *string              `json:"address,omitempty"`
	AddressScopeCode  *string              `json:"addressScopeCode,omitempty"`
	PostalCode        *string              `json:"postalCode,omitempty"`
	Email             *string              `json:"email,omitempty"`
	ScopeCode         *string              `json:"scopeCode,omitempty"`
	Phone             *string              `json:"phone,omitempty"`
	ExternalIDs       map[string]string    `json:"externalIds,omitempty"`
}

func (d Data) empty() bool {
	return d.FirstName == nil && d.LastName1 == nil && d.LastName2 == nil && d.DocumentType == nil &&
		d.DocumentID == nil && d.DocumentScopeCode == nil && d.BornAt == nil && d.Gender == nil &&
		d.Address == nil && d.AddressScopeCode == nil && d.PostalCode == nil && d.Email == nil &&
		d.ScopeCode == nil && d.Phone == nil && d.ExternalIDs == nil
}

// RequestDataChange creates a PERSON_DATA_CHANGE procedure holding the checked new values.
func (s *Service) RequestDataChange(ctx context.Context, a Actor, p *ent.Person, d Data) (*ent.Procedure, error) {
	if d.empty() {
		return nil, apperr.Field("input", "give at least one field to change")
	}
	d, err := s.normalize(ctx, s.Client, d, p)
	if err != nil {
		return nil, err
	}
	if err := checkUnique(ctx, s.Client, d, p.ID); err != nil {
		return nil, err
	}
	change := DataChange{FirstName: d.FirstName, LastName1: d.LastName1, LastName2: d.LastName2,
		DocumentType: d.DocumentType, DocumentID: d.DocumentID, DocumentScopeCode: d.DocumentScopeCode,
		Gender: d.Gender, Address: d.Address, AddressScopeCode: d.AddressScopeCode, PostalCode: d.PostalCode,
		Email: d.Email, ScopeCode: d.ScopeCode, Phone: d.Phone, ExternalIDs: d.ExternalIDs}
	if d.BornAt != nil {
		b := d.BornAt.Format(time.DateOnly)
		change.BornAt = &b
	}
	return s.request(ctx, a, p.ID, procedure.TypePERSON_DATA_CHANGE, map[string]any{"changes": change}, false, nil)
}

// RequestCancellation creates a CANCELLATION procedure.
func (s *Service) RequestCancellation(ctx context.Context, a Actor, p *ent.Person, channel, reason string) (*ent.Procedure, error) {
	f := apperr.Fields{}
	channel, reason = strings.TrimSpace(channel), strings.TrimSpace(reason)
	text(f, "channel", &channel, true, maxChannelLen)
	if reason != "" && (!utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxReasonLen) {
		f.Add("reason", "must be at most 1000 characters")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return s.request(ctx, a, p.ID, procedure.TypeCANCELLATION, map[string]string{"channel": channel, "reason": reason}, false, nil)
}

// RequestMembershipLevel creates a MEMBERSHIP_LEVEL_CHANGE procedure. Whether the person may be a
// member is decided when it is accepted, on the person as they are then.
func (s *Service) RequestMembershipLevel(ctx context.Context, a Actor, p *ent.Person, level person.MembershipLevel) (*ent.Procedure, error) {
	if err := person.MembershipLevelValidator(level); err != nil {
		return nil, apperr.Field("level", "must be FOLLOWER or MEMBER")
	}
	if p.MembershipLevel == level {
		return nil, apperr.New(apperr.PreconditionFailed, "the person is already a %s", strings.ToLower(string(level)))
	}
	return s.request(ctx, a, p.ID, procedure.TypeMEMBERSHIP_LEVEL_CHANGE, map[string]string{"level": string(level)}, false, nil)
}

// Decision is how a clerk processes a procedure.
type Decision string

const (
	Accept Decision = "ACCEPT"
	Reject Decision = "REJECT"
)

// Process accepts or rejects a pending procedure and, when accepted, applies its change to the
// person in the same transaction (a new version). A procedure is processed once: a processed one
// is PRECONDITION_FAILED. A rejection needs a comment saying why. verification ("" for none) is
// only for rejecting a DOCUMENT_VERIFICATION: MISTAKE or FRAUD, what the person's verification
// becomes; anything else is BAD_USER_INPUT (verification).
func (s *Service) Process(ctx context.Context, a Actor, procedureID int, decision Decision, comment string,
	verification person.Verification,
) (*ent.Procedure, error) {
	comment = strings.TrimSpace(comment)
	if err := checkDecision(decision, comment, verification); err != nil {
		return nil, err
	}
	var killPhone string
	pr, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Procedure, error) {
		p, pr, err := s.lockPending(ctx, tx, procedureID, verification)
		if err != nil {
			return nil, err
		}
		now := s.now()
		state := procedure.StateREJECTED
		if decision == Accept {
			state = procedure.StateACCEPTED
			if err := s.apply(ctx, tx, a, p, pr, now); err != nil {
				return nil, err
			}
		} else if err := s.reject(ctx, tx, a, p, pr, now, verification); err != nil {
			return nil, err
		}
		if pr.Type == procedure.TypePHONE_VERIFICATION {
			killPhone = subjectOf(p.ID)
		}
		if err := markProcessed(ctx, tx, a, pr.ID, state, comment, now); err != nil {
			return nil, err
		}
		return tx.Procedure.Get(ctx, pr.ID)
	})
	if err == nil && killPhone != "" && s.Codes != nil {
		// The rejected verification's code must not work any more.
		// The procedure is processed either way; a code left alive still needs its pending
		// procedure, which is gone, so verifyPhone refuses it.
		if kerr := s.Codes.Kill(context.WithoutCancel(ctx), phonePurpose, killPhone); kerr != nil {
			slog.ErrorContext(ctx, "census: kill phone code", "err", kerr)
		}
	}
	return pr, err
}

// checkDecision checks Process's input before anything is read: the decision, the verification a
// rejection may carry and the comment (trimmed already), collecting every problem.
func checkDecision(decision Decision, comment string, verification person.Verification) error {
	f := apperr.Fields{}
	if decision != Accept && decision != Reject {
		f.Add("decision", "must be ACCEPT or REJECT")
	}
	switch {
	case verification == "":
	case decision != Reject:
		f.Add("verification", "only a rejection carries a verification")
	case verification != person.VerificationMISTAKE && verification != person.VerificationFRAUD:
		f.Add("verification", "must be MISTAKE or FRAUD")
	}
	if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > maxCommentLen {
		f.Add("comment", "must be at most 1000 characters")
	} else if decision == Reject && comment == "" {
		f.Add("comment", "say why the procedure is rejected")
	}
	return f.Err()
}

// lockPending locks the procedure's person and returns them with the procedure read under that
// lock: NOT_FOUND when there is no such procedure, BAD_USER_INPUT (verification) when a
// verification is given for another type, PRECONDITION_FAILED when it is no longer pending.
func (s *Service) lockPending(ctx context.Context, tx *ent.Tx, procedureID int, verification person.Verification,
) (*ent.Person, *ent.Procedure, error) {
	pr, err := tx.Procedure.Get(ctx, procedureID)
	if ent.IsNotFound(err) {
		return nil, nil, apperr.New(apperr.NotFound, "no such procedure")
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := s.lockPerson(ctx, tx, pr.PersonID)
	if err != nil {
		return nil, nil, err
	}
	// Re-read under the person's lock: a concurrent processing of the same procedure has
	// committed by now, and it must not be applied twice.
	if pr, err = tx.Procedure.Get(ctx, procedureID); err != nil {
		return nil, nil, err
	}
	if verification != "" && pr.Type != procedure.TypeDOCUMENT_VERIFICATION {
		return nil, nil, apperr.Field("verification", "only a DOCUMENT_VERIFICATION carries a verification")
	}
	if pr.State != procedure.StatePENDING {
		return nil, nil, apperr.New(apperr.PreconditionFailed, "the procedure was already %s", strings.ToLower(string(pr.State)))
	}
	return p, pr, nil
}

// markProcessed records the decision on the procedure: its new state, when and by whom, and the
// comment when there is one.
func markProcessed(ctx context.Context, tx *ent.Tx, a Actor, procedureID int, state procedure.State, comment string,
	now time.Time,
) error {
	// Conditional, as a second line behind the person's lock: a procedure leaves PENDING once.
	up := tx.Procedure.Update().Where(procedure.ID(procedureID), procedure.StateEQ(procedure.StatePENDING)).
		SetState(state).SetProcessedAt(now).SetProcessedByID(a.UserID)
	if comment != "" {
		up.SetComment(comment)
	}
	n, err := up.Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.PreconditionFailed, "the procedure was already processed")
	}
	return nil
}

// apply makes an accepted procedure's change to the locked person p and writes the version.
func (s *Service) apply(ctx context.Context, tx *ent.Tx, a Actor, p *ent.Person, pr *ent.Procedure, now time.Time) error {
	if pr.Type == procedure.TypeREGISTRATION {
		if p.State != person.StatePENDING {
			return apperr.New(apperr.PreconditionFailed, "the person is %s, not pending", strings.ToLower(string(p.State)))
		}
	} else if err := open(p); err != nil {
		return err
	}
	up := tx.Person.UpdateOneID(p.ID).SetUpdatedAt(now)
	switch pr.Type {
	case procedure.TypeREGISTRATION:
		up.SetState(person.StateENABLED)
	case procedure.TypeCANCELLATION:
		up.SetState(person.StateCANCELLED)
	case procedure.TypeDOCUMENT_VERIFICATION:
		up.SetVerification(person.VerificationVERIFIED)
	case procedure.TypePHONE_VERIFICATION:
		return apperr.New(apperr.PreconditionFailed, "a phone verification is completed by verifyPhone with the code sent; it can only be rejected")
	case procedure.TypeMEMBERSHIP_LEVEL_CHANGE:
		var info struct{ Level person.MembershipLevel }
		if err := json.Unmarshal(pr.Information, &info); err != nil {
			return fmt.Errorf("census: procedure %d: %w", pr.ID, err)
		}
		if info.Level == person.MembershipLevelMEMBER && !MembershipAllowed(p, now) {
			return apperr.New(apperr.PreconditionFailed, "only an enabled adult with a verified identity may be a member")
		}
		up.SetMembershipLevel(info.Level)
	case procedure.TypePERSON_DATA_CHANGE:
		var info struct{ Changes DataChange }
		if err := json.Unmarshal(pr.Information, &info); err != nil {
			return fmt.Errorf("census: procedure %d: %w", pr.ID, err)
		}
		if err := applyChange(ctx, tx, p, info.Changes, up); err != nil {
			return err
		}
	}
	np, err := up.Save(ctx)
	if err != nil {
		return uniqueAsConflict(err)
	}
	if err := writeVersion(ctx, tx, a, np, now, &pr.ID); err != nil {
		return err
	}
	if np.State == person.StateCANCELLED && p.State != person.StateCANCELLED {
		return s.closeOthers(ctx, tx, a, np, pr.ID, now, "the person was cancelled")
	}
	return nil
}

// applyChange adds a data change to up, checking again what may have changed since the request.
func applyChange(ctx context.Context, tx *ent.Tx, p *ent.Person, ch DataChange, up *ent.PersonUpdateOne) error {
	d := Data{DocumentID: ch.DocumentID, ExternalIDs: ch.ExternalIDs}
	if err := checkUnique(ctx, tx.Client(), d, p.ID); err != nil {
		return err
	}
	setText := func(v *string, set func(string) *ent.PersonUpdateOne) {
		if v != nil {
			set(*v)
		}
	}
	setText(ch.FirstName, up.SetFirstName)
	setText(ch.LastName1, up.SetLastName1)
	setText(ch.DocumentScopeCode, up.SetDocumentScopeCode)
	setText(ch.Address, up.SetAddress)
	setText(ch.AddressScopeCode, up.SetAddressScopeCode)
	setText(ch.PostalCode, up.SetPostalCode)
	setText(ch.ScopeCode, up.SetScopeCode)
	optional := func(v *string, set func(string) *ent.PersonUpdateOne, clear func() *ent.PersonUpdateOne) {
		switch {
		case v == nil:
		case *v == "":
			clear()
		default:
			set(*v)
		}
	}
	optional(ch.LastName2, up.SetLastName2, up.ClearLastName2)
	optional(ch.Email, up.SetEmail, up.ClearEmail)
	if ch.Phone != nil && (p.Phone == nil || *p.Phone != *ch.Phone) {
		// A new number is not verified, whatever the old one was.
		optional(ch.Phone, up.SetPhone, up.ClearPhone)
		up.SetPhoneVerification(person.PhoneVerificationNOT_VERIFIED)
	}
	if ch.Gender != nil {
		up.SetGender(*ch.Gender)
	}
	if ch.BornAt != nil {
		b, err := time.Parse(time.DateOnly, *ch.BornAt)
		if err != nil {
			return err
		}
		up.SetBornAt(b)
	}
	if ch.DocumentType != nil {
		up.SetDocumentType(*ch.DocumentType)
	}
	newDoc := ch.DocumentID != nil && *ch.DocumentID != p.DocumentID ||
		ch.DocumentType != nil && *ch.DocumentType != p.DocumentType
	if ch.DocumentID != nil {
		up.SetDocumentID(*ch.DocumentID)
	}
	if newDoc {
		// A verification proved the old document; the new one is not proved yet.
		up.SetVerification(person.VerificationNOT_VERIFIED)
	}
	if ch.ExternalIDs != nil {
		up.SetExternalIds(ch.ExternalIDs)
		if err := setExternalIDs(ctx, tx, p.ID, ch.ExternalIDs); err != nil {
			return uniqueAsConflict(err)
		}
	}
	return nil
}

// reject applies what a rejection means for the person: a rejected registration trashes them; a
// rejected document verification sets the verification the clerk gave (MISTAKE or FRAUD), or
// MISTAKE when the person was waiting for it (VERIFICATION_REQUESTED or _RECEIVED).
func (s *Service) reject(ctx context.Context, tx *ent.Tx, a Actor, p *ent.Person, pr *ent.Procedure, now time.Time,
	verification person.Verification,
) error {
	waiting := p.Verification == person.VerificationVERIFICATION_RECEIVED ||
		p.Verification == person.VerificationVERIFICATION_REQUESTED
	if verification == "" && waiting {
		verification = person.VerificationMISTAKE
	}
	up := tx.Person.UpdateOneID(p.ID).SetUpdatedAt(now)
	switch {
	case pr.Type == procedure.TypeREGISTRATION && p.State == person.StatePENDING:
		up.SetState(person.StateTRASHED)
	case pr.Type == procedure.TypeDOCUMENT_VERIFICATION && verification != "" && verification != p.Verification:
		up.SetVerification(verification)
	default:
		return nil
	}
	np, err := up.Save(ctx)
	if err != nil {
		return err
	}
	if err := writeVersion(ctx, tx, a, np, now, &pr.ID); err != nil {
		return err
	}
	if np.State == person.StateTRASHED {
		return s.closeOthers(ctx, tx, a, np, pr.ID, now, "the registration was rejected")
	}
	return nil
}

// closeOthers rejects the person's other pending procedures once nothing can be applied to them.
func (s *Service) closeOthers(ctx context.Context, tx *ent.Tx, a Actor, p *ent.Person, except int, now time.Time, why string) error {
	return tx.Procedure.Update().
		Where(procedure.PersonID(p.ID), procedure.StateEQ(procedure.StatePENDING), procedure.IDNEQ(except)).
		SetState(procedure.StateREJECTED).SetProcessedAt(now).SetProcessedByID(a.UserID).SetComment(why).
		Exec(ctx)
}

// Pending lists a person's pending procedures: prioritized document verifications first, then
// oldest first.
func (s *Service) Pending(ctx context.Context, p *ent.Person) ([]*ent.Procedure, error) {
	all, err := s.Client.Procedure.Query().
		Where(procedure.PersonID(p.ID), procedure.StateEQ(procedure.StatePENDING)).
		Order(ent.Asc(procedure.FieldCreatedAt), ent.Asc(procedure.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	first := make([]*ent.Procedure, 0, len(all))
	var rest []*ent.Procedure
	for _, pr := range all {
		if pr.Type == procedure.TypeDOCUMENT_VERIFICATION && pr.Prioritized {
			first = append(first, pr)
		} else {
			rest = append(rest, pr)
		}
	}
	return append(first, rest...), nil
}

// Procedures lists all of a person's procedures (or only the pending ones), oldest first.
func (s *Service) Procedures(ctx context.Context, personID int, pendingOnly bool) ([]*ent.Procedure, error) {
	q := s.Client.Procedure.Query().Where(procedure.PersonID(personID))
	if pendingOnly {
		q.Where(procedure.StateEQ(procedure.StatePENDING))
	}
	return q.Order(ent.Asc(procedure.FieldCreatedAt), ent.Asc(procedure.FieldID)).All(ctx)
}

// objectOrNil checks that raw, when given, is a JSON object.
func objectOrNil(raw json.RawMessage) (json.RawMessage, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("must be a JSON object")
	}
	if len(raw) > maxInformationBytes {
		return nil, fmt.Errorf("must be at most 64 KiB")
	}
	return raw, nil
}
