package census

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"coffer/ent"
	"coffer/graph/apperr"
	"coffer/graph/store"
)

// Limits on additional information.
const (
	maxInformationBytes = 64 << 10 // the whole object
	maxValueBytes       = 16 << 10 // one key's value
)

var infoKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// SetAdditionalInformation merges key: value into the person's additional information (a new
// version). jsonValue must parse as JSON; the value null removes the key.
func (s *Service) SetAdditionalInformation(ctx context.Context, a Actor, p *ent.Person, key, jsonValue string) (*ent.Person, error) {
	f := apperr.Fields{}
	if !infoKey.MatchString(key) {
		f.Add("key", "must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter")
	}
	if len(jsonValue) > maxValueBytes {
		f.Add("jsonValue", "must be at most 16 KiB")
	} else if !json.Valid([]byte(jsonValue)) {
		f.Add("jsonValue", "must be valid JSON, e.g. \"text\", 42, true or {\"a\": 1}")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Person, error) {
		locked, err := s.lockPerson(ctx, tx, p.ID)
		if err != nil {
			return nil, err
		}
		m := map[string]json.RawMessage{}
		if len(locked.AdditionalInformation) > 0 && string(locked.AdditionalInformation) != "null" {
			if err := json.Unmarshal(locked.AdditionalInformation, &m); err != nil {
				return nil, err
			}
		}
		if strings.TrimSpace(jsonValue) == "null" {
			delete(m, key)
		} else {
			m[key] = json.RawMessage(jsonValue)
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		if len(raw) > maxInformationBytes {
			return nil, apperr.Field("jsonValue", "the additional information would exceed 64 KiB")
		}
		now := s.now()
		np, err := tx.Person.UpdateOneID(p.ID).SetAdditionalInformation(raw).SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return nil, err
		}
		return np, writeVersion(ctx, tx, a, np, now, nil)
	})
}
