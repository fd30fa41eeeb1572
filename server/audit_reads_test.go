package main

import (
	"strings"
	"testing"
)

// TestAuditLog_staffReadsThroughNodesProceduresAndVersions_recorded: every path that shows a
// person to a clerk writes its row before the data leaves, as person and people do: node and
// nodes of a person, personProcedures, Procedure.person (through node, and the queue's page in one
// row) and Person.versions. Reads that show no person write none.
func TestAuditLog_staffReadsThroughNodesProceduresAndVersions_recorded(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			c := ppStartOn(t, st)
			var reg struct {
				RegisterPerson struct {
					Person    struct{ ID, QualifiedID string }
					Procedure struct{ ID string }
				}
			}
			c.mustDo(c.staff, `mutation($in: RegisterPersonInput!) { registerPerson(input: $in) { person { id qualifiedId } procedure { id } } }`,
				map[string]any{"in": ppInput(nil)}, &reg)
			p, procID := reg.RegisterPerson.Person, reg.RegisterPerson.Procedure.ID
			reads := []struct {
				q    string
				vars map[string]any
			}{
				{`query($id: ID!) { node(id: $id) { ... on Person { firstName } } }`, map[string]any{"id": p.ID}},
				{`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{p.ID, procID}}},
				{`query($p: String!) { personProcedures(personId: $p) { id } }`, map[string]any{"p": p.QualifiedID}},
				{`query($id: ID!) { node(id: $id) { ... on Procedure { person { firstName } } } }`, map[string]any{"id": procID}},
				{`{ procedures(first: 10) { edges { node { person { firstName } } } } }`, nil},
				{`query($id: String!) { person(id: $id) { versions { edges { node { version person { firstName } } } } } }`, map[string]any{"id": p.QualifiedID}},
				// No person in the answer: no row.
				{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": procID}},
				{`{ procedures(first: 10) { edges { node { id state } } } }`, nil},
			}
			for _, r := range reads {
				c.mustDo(c.staff, r.q, r.vars, nil)
			}
			rows := auRows(t, c.testServer)
			person := "clerk OK person:" + auPersonID(t, c.testServer, p.QualifiedID)
			tests := []struct {
				action string
				want   []string
			}{
				// node, Procedure.person through node, person.
				{"person.read", []string{person + " " + p.ID, person, person + " " + p.QualifiedID}},
				// nodes (the procedure among the ids is no person), the queue's page.
				{"people.read", []string{person, person}},
				{"person.procedures_read", []string{person + " " + p.QualifiedID}},
				{"person.versions_read", []string{person}},
			}
			for _, tt := range tests {
				if got := auEvents(rows, tt.action); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("%s rows:\n%s\nwant:\n%s", tt.action, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}
