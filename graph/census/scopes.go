package census

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"coffer/ent"
	"coffer/ent/scope"
	"coffer/graph/apperr"
	"coffer/graph/store"
)

// seedScopes are the scopes every census starts with: a few countries and Spanish regions,
// provinces and municipalities. Administrators add the rest with CreateScope.
//
//go:embed scopes.json
var seedScopes []byte

// ScopeInput is a scope to add.
type ScopeInput struct {
	Name      string          `json:"name"`
	ScopeType string          `json:"scopeType"`
	Code      string          `json:"code"`
	Mappings  json.RawMessage `json:"mappings"`
}

var (
	scopeCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	scopeType = regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`)
)

func (in ScopeInput) check() (ScopeInput, error) {
	f := apperr.Fields{}
	in.Name, in.Code, in.ScopeType = strings.TrimSpace(in.Name), strings.TrimSpace(in.Code), strings.TrimSpace(in.ScopeType)
	text(f, "name", &in.Name, true, 200)
	if !scopeType.MatchString(in.ScopeType) {
		f.Add("scopeType", "must be 1 to 50 lower-case letters, digits or '_', starting with a letter (country, province, ...)")
	}
	if !scopeCode.MatchString(in.Code) {
		f.Add("code", "must be 1 to 64 letters, digits, '_', '.' or '-'")
	}
	m, err := objectOrNil(in.Mappings)
	if err != nil {
		f.Add("mappings", err.Error())
	}
	in.Mappings = m
	return in, f.Err()
}

// SeedScopes adds the embedded scopes that are missing; existing codes are left as they are, so an
// administrator's changes survive restarts.
func (s *Service) SeedScopes(ctx context.Context) error {
	var seeds []ScopeInput
	if err := json.Unmarshal(seedScopes, &seeds); err != nil {
		return fmt.Errorf("census: scopes.json: %w", err)
	}
	_, err := store.InTx(ctx, s.Client, func(tx *ent.Tx) (struct{}, error) {
		for _, in := range seeds {
			in, err := in.check()
			if err != nil {
				return struct{}{}, fmt.Errorf("census: scopes.json %q: %w", in.Code, err)
			}
			err = tx.Scope.Create().SetName(in.Name).SetScopeType(in.ScopeType).SetCode(in.Code).
				SetMappings(in.Mappings).OnConflictColumns(scope.FieldCode).DoNothing().Exec(ctx)
			// DoNothing with nothing inserted reports "no rows" on some dialects: not an error here.
			if err != nil && !strings.Contains(err.Error(), "no rows") {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	return err
}

// CreateScope adds a scope; a taken code is CONFLICT.
func (s *Service) CreateScope(ctx context.Context, in ScopeInput) (*ent.Scope, error) {
	in, err := in.check()
	if err != nil {
		return nil, err
	}
	sc, err := s.Client.Scope.Create().SetName(in.Name).SetScopeType(in.ScopeType).SetCode(in.Code).
		SetMappings(in.Mappings).Save(ctx)
	if store.IsUniqueViolation(err) {
		return nil, apperr.ConflictOn("code", "a scope with this code exists")
	}
	return sc, err
}

// Scopes lists every scope by code.
func (s *Service) Scopes(ctx context.Context) ([]*ent.Scope, error) {
	return s.Client.Scope.Query().Order(ent.Asc(scope.FieldCode)).All(ctx)
}

// ScopesOf returns the scopes a person's codes name (document, address, membership), each once.
func (s *Service) ScopesOf(ctx context.Context, p *ent.Person) ([]*ent.Scope, error) {
	codes := []string{p.DocumentScopeCode, p.AddressScopeCode, p.ScopeCode}
	return s.Client.Scope.Query().Where(scope.CodeIn(codes...)).Order(ent.Asc(scope.FieldCode)).All(ctx)
}
