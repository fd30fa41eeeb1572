// The census resolvers' inputs (graph/census.graphqls): the acting clerk, a personId resolved, and
// client input turned into census requests.

package graph

import (
	"context"
	"encoding/json"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/graph/apperr"
	"coffer/graph/census"
	"coffer/graph/identity"
	"coffer/graph/model"
)

// staff returns the acting clerk: STAFF or ADMIN; customers are FORBIDDEN.
func staff(ctx context.Context) (census.Actor, error) {
	v, err := identity.Require(ctx)
	if err != nil {
		return census.Actor{}, err
	}
	if !v.IsStaff() {
		return census.Actor{}, apperr.New(apperr.Forbidden, "staff and administrators only")
	}
	return census.Actor{UserID: v.UserID}, nil
}

// personFor checks the viewer and resolves a personId argument.
func (r *Resolver) personFor(ctx context.Context, ref string) (census.Actor, *ent.Person, error) {
	a, err := staff(ctx)
	if err != nil {
		return a, nil, err
	}
	p, err := r.Census.Resolve(ctx, ref, "personId")
	return a, p, err
}

// externalIDs decodes a JSON object of strings {"<system>": "<id>"}; nil stays nil.
func externalIDs(raw json.RawMessage) (map[string]string, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, apperr.Field("externalIds", "must be an object of strings {\"<system>\": \"<id>\"}")
	}
	return m, nil
}

func (r *Resolver) registerPerson(ctx context.Context, in model.RegisterPersonInput) (*model.RegisterPersonPayload, error) {
	a, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := externalIDs(in.ExternalIds)
	if err != nil {
		return nil, err
	}
	p, pr, err := r.Census.Register(ctx, a, census.Registration{
		Data: census.Data{
			FirstName: &in.FirstName, LastName1: &in.LastName1, LastName2: in.LastName2,
			DocumentType: &in.DocumentType, DocumentID: &in.DocumentID, DocumentScopeCode: &in.DocumentScopeCode,
			BornAt: &in.BornAt, Gender: &in.Gender, Address: &in.Address, AddressScopeCode: &in.AddressScopeCode,
			PostalCode: &in.PostalCode, Email: in.Email, ScopeCode: &in.ScopeCode, Phone: in.Phone, ExternalIDs: ids,
		},
		CensusNumber:          deref(in.PersonID),
		AdditionalInformation: in.AdditionalInformation,
	})
	if err != nil {
		return nil, err
	}
	return &model.RegisterPersonPayload{Person: p, Procedure: pr}, nil
}

func (r *Resolver) changePersonData(ctx context.Context, ref string, in model.PersonDataInput) (*ent.Procedure, error) {
	a, p, err := r.personFor(ctx, ref)
	if err != nil {
		return nil, err
	}
	ids, err := externalIDs(in.ExternalIds)
	if err != nil {
		return nil, err
	}
	return r.Census.RequestDataChange(ctx, a, p, census.Data{
		FirstName: in.FirstName, LastName1: in.LastName1, LastName2: in.LastName2,
		DocumentType: in.DocumentType, DocumentID: in.DocumentID, DocumentScopeCode: in.DocumentScopeCode,
		BornAt: in.BornAt, Gender: in.Gender, Address: in.Address, AddressScopeCode: in.AddressScopeCode,
		PostalCode: in.PostalCode, Email: in.Email, ScopeCode: in.ScopeCode, Phone: in.Phone, ExternalIDs: ids,
	})
}

func (r *Resolver) requestDocumentVerification(ctx context.Context, ref string, files []*model.DocumentFileInput, prioritized *bool) (*ent.Procedure, error) {
	a, p, err := r.personFor(ctx, ref)
	if err != nil {
		return nil, err
	}
	in := make([]census.File, len(files))
	for i, f := range files {
		in[i] = census.File{Filename: f.Filename, ContentType: f.ContentType, Base64Content: f.Base64Content}
	}
	return r.Census.RequestDocumentVerification(ctx, a, p, in, prioritized != nil && *prioritized)
}

// verificationOf is processProcedure's verification argument, "" when omitted.
func verificationOf(v *person.Verification) person.Verification {
	if v == nil {
		return ""
	}
	return *v
}
