package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// The customers_search cases (API.md §7): an administrator's customers(search:) over
// searchCustomers customers, against its plain-SQL baseline, customers_search_sql.
const (
	searchCustomers = 100_000
	// searchBodies is how many different search texts the GraphQL case cycles through, encoded
	// before the clock starts.
	searchBodies = 1024
	// customersSearchQuery is the page an administrator's customer list shows.
	customersSearchQuery = `query($s: String!) { customers(first: 20, search: $s) { totalCount
		edges { node { id name email phone } } } }`
	// customersSearchSQL is what a hand-written handler would run for the same page: the same
	// union of the five columns' matches (each over its trigram index), the page and the total in
	// one statement.
	customersSearchSQL = `WITH hits AS (
		SELECT id FROM customers WHERE name ILIKE $1
		UNION SELECT c.id FROM customers c JOIN users u ON u.id = c.user_id
			WHERE u.username ILIKE $1 OR u.email ILIKE $1 OR u.phone ILIKE $1
		UNION SELECT owner_id FROM accounts WHERE owner_id IS NOT NULL AND iban ILIKE $1)
		SELECT c.id, c.name, u.email, u.phone, count(*) OVER ()
		FROM customers c JOIN users u ON u.id = c.user_id WHERE c.id IN (SELECT id FROM hits)
		ORDER BY c.id LIMIT 21`
)

// searchText is the i-th customer's number as it appears in their username, e-mail and name: a
// text matching one seeded customer or a few, as an administrator looking someone up types it.
func searchText(rng *rand.Rand) string { return fmt.Sprintf("%06d", rng.IntN(searchCustomers)) }

// customerSearchCases seeds the searchable customers (only when a customers_search case is
// selected) and returns the two cases.
func customerSearchCases(ctx context.Context, selected func(string) bool, db *sql.DB, api *gqlClient,
	c *wireClient, srv *child, logf func(string, ...any)) ([]benchCase, error) {
	if !selected("customers_search") && !selected("customers_search_sql") {
		return nil, nil
	}
	admin, err := api.login(ctx, "admin", adminPassword)
	if err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	logf("seeding %d customers for the search (SQL, as createCustomer writes them)", searchCustomers)
	if err := seedSearchCustomers(ctx, db); err != nil {
		return nil, fmt.Errorf("seed search customers: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := make([][]byte, searchBodies)
	for i := range bodies {
		bodies[i] = body(customersSearchQuery, map[string]any{"s": searchText(rng)})
	}
	gql := func(ctx context.Context, client int, rng *rand.Rand) error {
		r, err := c.post(ctx, client, admin, bodies[rng.IntN(len(bodies))])
		if err != nil {
			return err
		}
		return r.err()
	}
	plain := func(ctx context.Context, client int, rng *rand.Rand) error {
		rows, err := db.QueryContext(ctx, customersSearchSQL, "%"+searchText(rng)+"%")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, total int
			var name string
			var email, phone sql.NullString
			if err := rows.Scan(&id, &name, &email, &phone, &total); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	return []benchCase{
		{key: "customers_search_sql", label: "customers search SQL", op: plain},
		{key: "customers_search", label: "coffer customers(search)", server: srv, op: gql},
	}, nil
}

// seedSearchCustomers writes searchCustomers customers with a login and a main account each, in
// three statements, then vacuums and analyzes the three tables.
func seedSearchCustomers(ctx context.Context, db *sql.DB) error {
	now := time.Now().UTC()
	stmts := []string{
		`INSERT INTO users (username, email, phone, password_hash, role, status, two_factor, failed_logins, created_at)
			SELECT 'cust' || lpad(i::text, 6, '0'), 'cust' || lpad(i::text, 6, '0') || '@example.org',
				'+3469' || lpad(i::text, 7, '0'), 'not-a-hash', 'CUSTOMER', 'ACTIVE', 'NONE', 0, $1
			FROM generate_series(0, ` + fmt.Sprint(searchCustomers-1) + `) AS i`,
		`INSERT INTO customers (user_id, name, cashout_address, created_at)
			SELECT id, 'Customer ' || substr(username, 5) || ' Searchable', '', $1 FROM users WHERE username LIKE 'cust%'`,
		`INSERT INTO accounts (kind, iban, number, currency, holder_name, created_at, owner_id)
			SELECT 'MAIN', 'XX00SRCH' || lpad(c.id::text, 14, '0'), 'S' || c.id, 'EUR', c.name, $1, c.id
			FROM customers c JOIN users u ON u.id = c.user_id WHERE u.username LIKE 'cust%'`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s, now); err != nil {
			return err
		}
	}
	// VACUUM also moves the rows just inserted out of the trigram indexes' pending lists (GIN's
	// fastupdate), which every search would otherwise scan in full; autovacuum does the same in
	// production once a table has changed enough.
	_, err := db.ExecContext(ctx, `VACUUM ANALYZE users, customers, accounts`)
	return err
}

// customersSearchSummary fills the summary's search figures: p99 at one client, and coffer's rate
// over the baseline's, each at its best client count.
func (r *report) customersSearchSummary(clients []int) {
	if _, ok := r.Cases["customers_search"]; !ok {
		return
	}
	s := &r.Summary
	var coffer, plain float64
	for _, n := range clients {
		coffer = max(coffer, r.Cases["customers_search"][n].PerSecond)
		plain = max(plain, r.Cases["customers_search_sql"][n].PerSecond)
	}
	p99 := r.Cases["customers_search"][clients[0]].P99Ms
	s.CustomersSearchP99Ms, s.CustomersSearchRatio = &p99, ratio(coffer, plain)
}

func (r *report) printCustomersSearch(w io.Writer) {
	if _, ok := r.Cases["customers_search"]; !ok {
		return
	}
	for _, n := range r.Clients {
		fmt.Fprintf(w, "%-22s %7d %9.3f\n", "customers search", n,
			ratio(r.Cases["customers_search"][n].PerSecond, r.Cases["customers_search_sql"][n].PerSecond))
	}
}
