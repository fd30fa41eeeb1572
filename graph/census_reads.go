// The census resolvers' reads (graph/census.graphqls): a person, the people, the procedures queue and
// versions, with what the selection asks for loaded at once and every read of personal data audited.

package graph

import (
	"context"
	"encoding/json"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"coffer/ent"
	"coffer/ent/person"
	"coffer/graph/audit"
	"coffer/graph/census"
	"coffer/graph/model"
)

// personQuery answers person(id, withScope, versionAt).
func (r *Resolver) personQuery(ctx context.Context, ref string, versionAt *time.Time) (*ent.Person, error) {
	p, err := r.Census.Resolve(ctx, ref, "id")
	if err == nil && versionAt != nil {
		p, err = r.Census.PersonAt(ctx, p, *versionAt)
	}
	if err != nil {
		return nil, err
	}
	// A clerk's read of personal data is recorded before the data leaves: no record, no data.
	err = audit.Write(ctx, r.Client.AuditEvent, audit.Event{Action: audit.PersonRead, Target: audit.Target("person", p.ID), TargetName: ref})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// people pages the census by census number.
func (r *Resolver) people(ctx context.Context, first *int, after *entgql.Cursor[int], last *int, before *entgql.Cursor[int], filter *model.PersonFilter) (*ent.PersonConnection, error) {
	first, last, err := pageArgs(first, last)
	if err != nil {
		return nil, err
	}
	q := r.Client.Person.Query()
	if filter != nil {
		if filter.State != nil {
			q.Where(person.StateEQ(*filter.State))
		}
		if filter.MembershipLevel != nil {
			q.Where(person.MembershipLevelEQ(*filter.MembershipLevel))
		}
		if filter.Verification != nil {
			q.Where(person.VerificationEQ(*filter.Verification))
		}
		if filter.ScopeCode != nil {
			q.Where(person.ScopeCode(*filter.ScopeCode))
		}
		if filter.Search != nil {
			match, err := census.SearchPredicate(*filter.Search)
			if err != nil {
				return nil, err
			}
			if match != nil {
				q.Where(match)
			}
		}
	}
	// Census numbers are given in order, except those kept from another register; ids are the
	// insertion order, stable under concurrent registrations.
	conn, err := q.Paginate(ctx, after, first, before, last)
	if err != nil {
		return nil, err
	}
	// The page's people are recorded as read before the data leaves: no record, no data.
	e := audit.Event{Action: audit.PeopleRead}
	if len(conn.Edges) > 0 {
		ids := make([]int, len(conn.Edges))
		for i, edge := range conn.Edges {
			ids[i] = edge.Node.ID
		}
		e.Target = audit.Targets("person", ids)
	}
	if err := audit.Write(ctx, r.Client.AuditEvent, e); err != nil {
		return nil, err
	}
	return conn, nil
}

// wantScopes reports whether Person.scopes should resolve: not when an enclosing person query
// asked for no scopes.
func wantScopes(ctx context.Context) bool {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Field.Name == "person" && fc.Object == "Query" {
			w, _ := fc.Args["withScope"].(*bool)
			return w != nil && *w
		}
	}
	return true
}

func (r *Resolver) personScopes(ctx context.Context, p *ent.Person) ([]*ent.Scope, error) {
	if !wantScopes(ctx) {
		return nil, nil
	}
	return r.Census.ScopesOf(ctx, p)
}

// userOf loads a clerk for processedBy/createdBy.
func (r *Resolver) userOf(ctx context.Context, id *int) (*ent.User, error) {
	if id == nil {
		return nil, nil
	}
	u, err := r.Client.User.Get(ctx, *id)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

func jsonOf(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// censusPage bounds a page request and notes whether totalCount was asked for.
func censusPage(ctx context.Context, first *int, after *entgql.Cursor[int], last *int, before *entgql.Cursor[int]) (census.Page, error) {
	first, last, err := pageArgs(first, last)
	if err != nil {
		return census.Page{}, err
	}
	return census.Page{First: first, Last: last, After: after, Before: before, WantTotal: selects(ctx, "totalCount")}, nil
}

// selects reports whether the current field's selection asks for the field at path (e.g.
// "edges", "node", "person"), through fragments too.
func selects(ctx context.Context, path ...string) bool {
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for i, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				if i == len(path)-1 {
					return true
				}
				next = append(next, graphql.CollectFields(op, f.Selections, nil)...)
			}
		}
		fields = next
	}
	return false
}

// procedureQueue answers procedures: the clerks' queue, with the page's people, clerks and (when
// asked for) files loaded in one statement each.
func (r *Resolver) procedureQueue(ctx context.Context, first *int, after *entgql.Cursor[int], last *int, before *entgql.Cursor[int], filter *model.ProcedureFilter) (*census.ProcedureConnection, error) {
	pg, err := censusPage(ctx, first, after, last, before)
	if err != nil {
		return nil, err
	}
	var f census.QueueFilter
	if filter != nil {
		f = census.QueueFilter{State: filter.State, Type: filter.Type, Prioritized: filter.Prioritized, ScopeCode: filter.ScopeCode}
	}
	return r.Census.Queue(ctx, f, pg, census.QueueLoad{
		Person: selects(ctx, "edges", "node", "person"),
		Users:  selects(ctx, "edges", "node", "createdBy") || selects(ctx, "edges", "node", "processedBy"),
		Files:  selects(ctx, "edges", "node", "files"),
	})
}

// personVersions answers Person.versions: the person's history, oldest first.
func (r *Resolver) personVersions(ctx context.Context, p *ent.Person, first *int, after *entgql.Cursor[int], last *int, before *entgql.Cursor[int]) (*census.VersionConnection, error) {
	if _, err := staff(ctx); err != nil {
		return nil, err
	}
	pg, err := censusPage(ctx, first, after, last, before)
	if err != nil {
		return nil, err
	}
	return r.Census.Versions(ctx, p.ID, pg, selects(ctx, "edges", "node", "procedure"))
}
