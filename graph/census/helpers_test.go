package census_test

import (
	"errors"
	"time"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/graph/apperr"
)

type entPerson struct {
	state person.State
	ver   person.Verification
	born  time.Time
}

func (p entPerson) ent() *ent.Person {
	return &ent.Person{State: p.state, Verification: p.ver, BornAt: p.born}
}

func asAppErr(err error, target **apperr.Error) bool { return errors.As(err, target) }
