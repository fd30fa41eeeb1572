package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

const adminPassword = "bench-admin-password"

// gqlClient posts GraphQL operations to a server.
type gqlClient struct {
	url  string
	http *http.Client
}

// gqlReply is a GraphQL response: data, or the first error's code and message.
type gqlReply struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

func (r gqlReply) err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", r.Errors[0].Extensions.Code, r.Errors[0].Message)
}

// post sends a prepared request body (see body) and decodes the reply.
func (c *gqlClient) post(ctx context.Context, token string, body []byte) (gqlReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return gqlReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return gqlReply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return gqlReply{}, err
	}
	var out gqlReply
	if err := json.Unmarshal(b, &out); err != nil {
		return gqlReply{}, fmt.Errorf("status %d: %.200s", res.StatusCode, b)
	}
	if res.StatusCode != http.StatusOK && out.err() == nil {
		return out, fmt.Errorf("status %d", res.StatusCode)
	}
	return out, nil
}

// do posts query with vars and decodes data into out (when not nil); a GraphQL error is an error.
func (c *gqlClient) do(ctx context.Context, token, query string, vars map[string]any, out any) error {
	r, err := c.post(ctx, token, body(query, vars))
	if err != nil {
		return err
	}
	if err := r.err(); err != nil {
		return err
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

func body(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err) // only maps of strings and numbers are marshalled here
	}
	return b
}

func (c *gqlClient) login(ctx context.Context, username, password string) (string, error) {
	var out struct {
		Login struct{ Auth struct{ Token string } }
	}
	err := c.do(ctx, "", `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { auth { token } } }`,
		map[string]any{"l": username, "p": password}, &out)
	if err == nil && out.Login.Auth.Token == "" {
		err = fmt.Errorf("login %s: no token", username)
	}
	return out.Login.Auth.Token, err
}

// customer is one seeded customer: its username, session token (senders only) and main account.
type customer struct {
	username  string
	token     string
	userID    int
	accountID int
}

// population is who the workload uses: client i sends from senders[i] to recipients spread over
// the whole recipients list, in both the raw SQL and the GraphQL case.
type population struct {
	senders    []customer
	recipients []customer
}

// seed creates the customers through the API (so that they are exactly what coffer itself
// creates), logs the senders in, mints them coins, and reads the account ids from the database
// for the raw SQL case (not when db is nil).
func seed(ctx context.Context, c *gqlClient, db *sql.DB, senders, recipients int) (*population, error) {
	admin, err := c.login(ctx, "admin", adminPassword)
	if err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	p := &population{senders: make([]customer, senders), recipients: make([]customer, recipients)}
	type job struct {
		c      *customer
		sender bool
	}
	var jobs []job
	for i := range p.senders {
		p.senders[i].username = fmt.Sprintf("sender%03d", i)
		jobs = append(jobs, job{&p.senders[i], true})
	}
	for i := range p.recipients {
		p.recipients[i].username = fmt.Sprintf("recipient%04d", i)
		jobs = append(jobs, job{&p.recipients[i], false})
	}
	// Password hashing dominates: two at a time, one per core.
	work := make(chan job)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for j := range work {
				if err := seedOne(ctx, c, admin, j.c, j.sender); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	if db == nil { // SQLite: the GraphQL cases need no account ids
		return p, nil
	}
	for _, list := range [][]customer{p.senders, p.recipients} {
		for i := range list {
			err := db.QueryRowContext(ctx, `SELECT u.id, a.id FROM accounts a JOIN customers c ON c.id = a.owner_id
				JOIN users u ON u.id = c.user_id WHERE u.username = $1 AND a.kind = 'MAIN'`, list[i].username).Scan(&list[i].userID, &list[i].accountID)
			if err != nil {
				return nil, fmt.Errorf("account of %s: %w", list[i].username, err)
			}
		}
	}
	return p, nil
}

func seedOne(ctx context.Context, c *gqlClient, admin string, cu *customer, sender bool) error {
	password := cu.username + "-password"
	err := c.do(ctx, admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": cu.username, "password": password,
			"name": "Bench " + cu.username, "email": cu.username + "@bench.example"}}, nil)
	if err != nil || !sender {
		return err
	}
	if cu.token, err = c.login(ctx, cu.username, password); err != nil {
		return err
	}
	// A million coins: far more than a sender can send at 0.01 a transfer during the run.
	return c.do(ctx, admin, `mutation($u: String!, $d: Time!) {
		createCoins(input: {recipient: {username: $u}, amount: "1000000", targetDate: $d}) { id } }`,
		map[string]any{"u": cu.username, "d": time.Now().UTC().Format(time.RFC3339)}, nil)
}
