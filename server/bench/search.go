package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/lib/pq"

	"coffer/ent"
	"coffer/graph/census"
)

// The people search: people(filter: {search}) over a census of -people people (100,000 by
// default), written straight into the database as registerPerson writes them (the search key by
// census.SearchKey), since registering 100,000 people through the API would measure nothing here.

// searchQuery is the clerk's search: the first page of 20 and the total.
const searchQuery = `query($s: String) { people(first: 20, filter: {search: $s}) {
	totalCount edges { node { qualifiedId firstName lastName1 } } } }`

// searchTerms are what the clients search for, one at random per request: a first name, a
// surname, both, a name with its accent, an e-mail and a phone fragment, a document prefix.
var searchTerms = []string{"lucia", "nunez", "maria garcia", "Iñaki", "joaquin.ruiz", "600123", "0001234", "sofia romero", "ángel"}

var (
	benchFirstNames = []string{"Lucía", "María", "José", "Ángel", "Sofía", "Iñaki", "Nuria", "Joaquín", "Carmen", "Pablo",
		"Elena", "Andrés", "Marta", "Raúl", "Inés", "Jesús", "Ana", "Óscar", "Paula", "Rubén", "Irene", "Adrián", "Julia",
		"Hugo", "Noelia", "Álvaro", "Belén", "Iván", "Rocío", "Sergio"}
	benchSurnames = []string{"García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz",
		"Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres",
		"Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega",
		"Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido"}
)

// seedPeople writes n ENABLED people with COPY, 10,000 a transaction, then ANALYZEs the table so
// that the planner knows its size. Names come from the lists above (accents included), half of
// the people have an e-mail, everyone a phone; document numbers are unique.
func seedPeople(ctx context.Context, db *sql.DB, n int) error {
	rng := rand.New(rand.NewPCG(18, 2026))
	cols := []string{"census_number", "first_name", "last_name1", "last_name2", "document_type", "document_id",
		"document_scope_code", "born_at", "gender", "address", "address_scope_code", "postal_code", "email", "scope_code",
		"phone", "state", "membership_level", "verification", "phone_verification", "created_at", "updated_at", "search_key"}
	const batch = 10_000
	now := time.Now().UTC()
	for start := 0; start < n; start += batch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmt, err := tx.Prepare(pq.CopyIn("persons", cols...))
		if err != nil {
			tx.Rollback()
			return err
		}
		for i := start; i < min(n, start+batch); i++ {
			p := benchPerson(rng, i)
			if _, err := stmt.ExecContext(ctx, int64(i+1), p.FirstName, p.LastName1, p.LastName2, "DNI", p.DocumentID, "ES",
				time.Date(1950+i%55, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC), "UNDISCLOSED", "Calle Mayor 1",
				"ES-28079", "28013", p.Email, "ES-MD", p.Phone, "ENABLED", "FOLLOWER", "NOT_VERIFIED", "NOT_VERIFIED",
				now, now, census.SearchKey(p)); err != nil {
				tx.Rollback()
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			tx.Rollback()
			return err
		}
		if err := stmt.Close(); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err := db.ExecContext(ctx, "ANALYZE persons")
	return err
}

func benchPerson(rng *rand.Rand, i int) *ent.Person {
	first := benchFirstNames[rng.IntN(len(benchFirstNames))]
	last1 := benchSurnames[rng.IntN(len(benchSurnames))]
	last2 := benchSurnames[rng.IntN(len(benchSurnames))]
	p := &ent.Person{FirstName: first, LastName1: last1, LastName2: &last2,
		DocumentID: fmt.Sprintf("%08d%c", i, "TRWAGMYFPDXBNJZSQVHLCKE"[i%23])}
	phone := fmt.Sprintf("+346%08d", rng.IntN(100_000_000))
	p.Phone = &phone
	if i%2 == 0 {
		email := fmt.Sprintf("%s.%s%d@example.org", census.Fold(first), census.Fold(last1), i)
		p.Email = &email
	}
	return p
}

// staffTokens creates a clerk and logs it in once per client: one session each, as separate
// clerks' browsers would have.
func staffTokens(ctx context.Context, c *gqlClient, clients int) ([]string, error) {
	admin, err := c.login(ctx, "admin", adminPassword)
	if err != nil {
		return nil, err
	}
	const password = "bench-clerk-password"
	if err := c.do(ctx, admin, `mutation($p: String!) { createUser(input: {username: "benchclerk", password: $p, role: STAFF}) { id } }`,
		map[string]any{"p": password}, nil); err != nil {
		return nil, err
	}
	tokens := make([]string, clients)
	for i := range tokens {
		if tokens[i], err = c.login(ctx, "benchclerk", password); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// cofferSearch is people(filter: {search}) over HTTP with the client's clerk session, a random
// term of searchTerms each time (the bodies encoded before the clock starts).
func cofferSearch(c *wireClient, tokens []string) op {
	bodies := make([][]byte, len(searchTerms))
	for i, s := range searchTerms {
		bodies[i] = body(searchQuery, map[string]any{"s": s})
	}
	return func(ctx context.Context, client int, rng *rand.Rand) error {
		r, err := c.post(ctx, client, tokens[client], bodies[rng.IntN(len(bodies))])
		if err != nil {
			return err
		}
		return r.err()
	}
}

// rawSearch is the limit: the two statements coffer's people search runs for the same term (the
// total and the first page of 20 plus one, every column, by id), with the same folded words,
// straight through database/sql + lib/pq, without HTTP, GraphQL or a session look-up.
func rawSearch(db *sql.DB) op {
	type prepared struct {
		where string
		args  []any
	}
	terms := make([]prepared, len(searchTerms))
	for i, s := range searchTerms {
		var conds []string
		for _, w := range strings.Fields(census.Fold(s)) {
			terms[i].args = append(terms[i].args, "%"+w+"%")
			conds = append(conds, fmt.Sprintf(`"persons"."search_key" LIKE $%d`, len(terms[i].args)))
		}
		terms[i].where = strings.Join(conds, " AND ")
	}
	return func(ctx context.Context, client int, rng *rand.Rand) error {
		t := terms[rng.IntN(len(terms))]
		var total int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "persons" WHERE `+t.where, t.args...).Scan(&total); err != nil {
			return err
		}
		rows, err := db.QueryContext(ctx, `SELECT * FROM "persons" WHERE `+t.where+` ORDER BY "persons"."id" LIMIT 21`, t.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return rows.Err()
	}
}
