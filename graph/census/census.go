// Package census is the membership census: people, the procedures that change them, their
// history and the scopes their codes refer to. It knows no GraphQL; resolvers call it.
//
// Every change to a person happens in one database transaction that also writes a PersonVersion
// holding the whole person, so the current row and the newest version always agree and a person
// can be read as they were at any instant. A procedure is accepted or rejected once; accepting
// applies its change in the same transaction.
package census

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/ent/personexternalid"
	"coffer/ent/personversion"
	"coffer/graph/apperr"
	"coffer/graph/census/qid"
	"coffer/graph/codes"
	"coffer/graph/gid"
	"coffer/graph/ratelimit"
)

// Service applies the census rules.
type Service struct {
	Client  *ent.Client
	Dialect string
	Codes   *codes.Service
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// PhoneStartsPerStaff bounds startPhoneVerification per staff user (nil: unbounded); the
	// delivery budget bounds the texts per number.
	PhoneStartsPerStaff *ratelimit.Limiter
}

// now is the clock at the database's precision (microseconds), so that an instant a client reads
// back names exactly the version it was written with.
func (s *Service) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

var errPersonNotFound = apperr.New(apperr.NotFound, "no such person")

// Resolve finds the person a reference names: a qualified identifier ("123@census",
// "X1234567L@document_id", "<id>@<system>") or the person's global ID. field names the input in
// errors. A malformed reference or an unknown system is BAD_USER_INPUT; nobody behind a
// well-formed one is NOT_FOUND.
func (s *Service) Resolve(ctx context.Context, ref, field string) (*ent.Person, error) {
	return s.resolve(ctx, s.Client, ref, field)
}

func (s *Service) resolve(ctx context.Context, c *ent.Client, ref, field string) (*ent.Person, error) {
	id, err := s.resolveID(ctx, c, ref, field)
	if err != nil {
		return nil, err
	}
	p, err := c.Person.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, errPersonNotFound
	}
	return p, err
}

// resolveID maps a reference to the person's row id.
func (s *Service) resolveID(ctx context.Context, c *ent.Client, ref, field string) (int, error) {
	if !strings.Contains(ref, "@") {
		id, err := gid.Decode(ref)
		if err != nil {
			return 0, apperr.Field(field, "must be a qualified identifier such as 123@census, or the person's ID")
		}
		return id, nil
	}
	var lookupErr error
	known := func(system string) bool {
		ok, err := c.PersonExternalID.Query().Where(personexternalid.System(system)).Exist(ctx)
		if err != nil {
			lookupErr = err
		}
		return ok
	}
	q, err := qid.Parse(ref, known)
	if lookupErr != nil {
		return 0, fmt.Errorf("census: known system: %w", lookupErr)
	}
	if err != nil {
		return 0, apperr.Field(field, err.Error())
	}
	var pq *ent.PersonQuery
	switch q.Kind() {
	case qid.KindCensus:
		n, _ := q.CensusNumber()
		pq = c.Person.Query().Where(person.CensusNumber(n))
	case qid.KindDocument:
		pq = c.Person.Query().Where(person.DocumentID(q.Value))
	default:
		row, err := c.PersonExternalID.Query().
			Where(personexternalid.System(q.System), personexternalid.Value(q.Value)).Only(ctx)
		if ent.IsNotFound(err) {
			return 0, errPersonNotFound
		}
		if err != nil {
			return 0, err
		}
		return row.PersonID, nil
	}
	id, err := pq.OnlyID(ctx)
	if ent.IsNotFound(err) {
		return 0, errPersonNotFound
	}
	return id, err
}

// QualifiedID is the registry's own identifier of a person, "<census number>@census".
func QualifiedID(p *ent.Person) string { return qid.Census(p.CensusNumber) }

// lockPerson reads a person for update inside tx: on PostgreSQL a row lock, so that two
// procedures on one person apply one after the other; SQLite's one writer already serializes.
func (s *Service) lockPerson(ctx context.Context, tx *ent.Tx, id int) (*ent.Person, error) {
	q := tx.Person.Query().Where(person.ID(id))
	if s.Dialect == dialect.Postgres {
		q.ForUpdate()
	}
	p, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errPersonNotFound
	}
	return p, err
}

// writeVersion records p, as it is now in tx, valid from at, changed by a (through procedureID
// when a procedure made the change).
// Every version also brings the person's search key up to date (one more statement only when
// the searched fields changed), so that no path that changes a person can forget it.
// The version number is the previous one plus one: every caller has written the person's row
// in tx first, so the row lock orders concurrent writers, and the unique (person_id, version)
// index is the second line of defence.
func writeVersion(ctx context.Context, tx *ent.Tx, a Actor, p *ent.Person, at time.Time, procedureID *int) error {
	if key := SearchKey(p); key != p.SearchKey {
		if err := tx.Person.UpdateOneID(p.ID).SetSearchKey(key).Exec(ctx); err != nil {
			return fmt.Errorf("census: search key: %w", err)
		}
		p.SearchKey = key
	}
	last, err := tx.PersonVersion.Query().Where(personversion.PersonID(p.ID)).
		Order(ent.Desc(personversion.FieldVersion)).Limit(1).Select(personversion.FieldVersion).Ints(ctx)
	if err != nil {
		return fmt.Errorf("census: last version: %w", err)
	}
	number := 1
	if len(last) == 1 {
		number = last[0] + 1
	}
	snap := *p
	snap.Edges = ent.PersonEdges{}
	raw, err := json.Marshal(&snap)
	if err != nil {
		return fmt.Errorf("census: snapshot: %w", err)
	}
	return tx.PersonVersion.Create().SetPersonID(p.ID).SetVersion(number).SetValidFrom(at).SetSnapshot(raw).
		SetNillableProcedureID(procedureID).SetChangedByID(a.UserID).SetCreatedAt(at).Exec(ctx)
}

// PersonAt returns the person as they were at instant at: the newest version valid from at or
// before. Before the person existed it is NOT_FOUND.
func (s *Service) PersonAt(ctx context.Context, p *ent.Person, at time.Time) (*ent.Person, error) {
	v, err := s.Client.PersonVersion.Query().
		Where(personversion.PersonID(p.ID), personversion.ValidFromLTE(at)).
		Order(ent.Desc(personversion.FieldValidFrom), ent.Desc(personversion.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "the person did not exist at that time")
	}
	if err != nil {
		return nil, err
	}
	var old ent.Person
	if err := json.Unmarshal(v.Snapshot, &old); err != nil {
		return nil, fmt.Errorf("census: read snapshot %d: %w", v.ID, err)
	}
	if old.ID != p.ID {
		return nil, errors.New("census: snapshot of another person")
	}
	return &old, nil
}

// MembershipAllowed reports whether a person may be a MEMBER: enabled, adult (18) at now, with a
// verified identity.
func MembershipAllowed(p *ent.Person, now time.Time) bool {
	return p.State == person.StateENABLED && p.Verification == person.VerificationVERIFIED && adult(p.BornAt, now)
}

// AdultAge is the age from which a person may be a member.
const AdultAge = 18

func adult(bornAt, now time.Time) bool {
	y, m, d := bornAt.Date()
	return !time.Date(y+AdultAge, m, d, 0, 0, 0, 0, time.UTC).After(now.UTC())
}

// Allowed is MembershipAllowed at the service's clock.
func (s *Service) Allowed(p *ent.Person) bool { return MembershipAllowed(p, s.now()) }
