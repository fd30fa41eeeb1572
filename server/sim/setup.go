package main

import (
	"fmt"
	"strings"
	"time"
)

const (
	qLogin = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status auth { token } } }`
	qMe    = `{ me { username customer { account { id } } } }`
)

// login returns a session token for username, "" (after recording the answer) when it fails.
func (s *sim) login(w *worker, kind string, c *customer, username, password string, allowed ...string) (string, reply) {
	r := s.call(w, true, "", qLogin, map[string]any{"l": username, "p": password})
	if len(allowed) == 0 {
		allowed = []string{""}
	}
	if !s.expect(w, kind, c, "login "+username, r, allowed...) {
		return "", r
	}
	var out struct {
		Login struct {
			Status string
			Auth   struct{ Token string }
		}
	}
	if err := r.decode(&out); err != nil || out.Login.Auth.Token == "" {
		s.violate(w.step, kind, c, fmt.Sprintf("login %s answered without a token: %.200s", username, r.Data))
		return "", r
	}
	return out.Login.Auth.Token, r
}

// setup logs the admin in, creates a clerk, the lock-out victim and the first customers, and mints
// them coins.
func (s *sim) setup(w *worker, workers []*worker) error {
	tok, r := s.login(w, "setup", nil, "admin", adminPassword)
	if tok == "" {
		return fmt.Errorf("admin login: %s %v %+v", r.code(), r.err, r.Errors)
	}
	s.admin = tok
	staff := s.newName("clerk")
	r = s.call(w, true, s.admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": staff, "password": staff + "-Password1", "email": staff + "@sim.example", "role": "STAFF"}})
	if !s.expect(w, "setup", nil, "createUser STAFF", r, "") {
		return fmt.Errorf("create clerk: %s %+v", r.code(), r.Errors)
	}
	s.staffEmail = staff + "@sim.example"
	if s.staff, _ = s.login(w, "setup", nil, staff, staff+"-Password1"); s.staff == "" {
		return fmt.Errorf("clerk login failed")
	}
	victim := s.createCustomer(w, "setup")
	if victim == nil {
		return fmt.Errorf("could not create the lock-out victim")
	}
	s.victim = victim.username
	victim.deleting = true // no worker drives it
	for i := range s.o.customers {
		wk := workers[i%len(workers)]
		c := s.createCustomer(wk, "setup")
		if c == nil {
			return fmt.Errorf("could not create customer %d", i)
		}
		s.mint(wk, "setup", c, 100000)
	}
	return nil
}

// createCustomer creates a customer through the admin, logs it in and adds it to the model as
// w's; nil when any step fails (the failure is recorded).
func (s *sim) createCustomer(w *worker, kind string) *customer {
	name := s.newName("cu")
	c := &customer{username: name, password: name + "-Password1", email: name + "@sim.example", worker: w.idx}
	r := s.call(w, false, s.admin, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id account { id } } }`,
		map[string]any{"in": map[string]any{"username": name, "password": c.password, "email": c.email,
			"name": "Sim " + strings.ToUpper(name), "cashoutAddress": "payto://iban/DE89370400440532013000?receiver-name=Sim"}})
	if !s.expect(w, kind, c, "createCustomer", r, "") {
		return nil
	}
	var out struct {
		CreateCustomer struct {
			ID      string
			Account struct{ ID string }
		}
	}
	if !s.decodeOK(w, kind, c, r, &out) {
		return nil
	}
	c.main = &account{id: out.CreateCustomer.Account.ID, kind: "MAIN"}
	if c.token, _ = s.login(w, kind, c, name, c.password); c.token == "" {
		return nil
	}
	s.mu.Lock()
	s.customers = append(s.customers, c)
	s.byName[name] = c
	w.mine = append(w.mine, c)
	s.mu.Unlock()
	return c
}

// relogin logs c in again (after a logout or a block), retrying while a fault makes the answer
// INTERNAL or lost, so that the customer keeps a working session.
func (s *sim) relogin(w *worker, c *customer) {
	deadline := time.Now().Add(time.Minute)
	for {
		tok, r := s.login(w, "login", c, c.username, c.password, "", "INTERNAL", "TRANSPORT")
		if tok != "" {
			s.mu.Lock()
			c.token = tok
			s.mu.Unlock()
			return
		}
		if !s.e.inFault() && r.code() != "TRANSPORT" || time.Now().After(deadline) || s.ctx.Err() != nil {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// mint creates amount coins for c (admin, createCoins with an idempotency key).
func (s *sim) mint(w *worker, kind string, c *customer, amount int64) bool {
	key := s.key(w, "mint")
	r := s.call(w, true, s.admin, `mutation($in: CreateCoinsInput!) { createCoins(input: $in) { id status } }`,
		map[string]any{"in": map[string]any{"recipient": map[string]any{"username": c.username}, "amount": dec(amount),
			"memo": "sim", "idempotencyKey": key}})
	allowed := []string{""}
	if c.deleting || c.deleted {
		allowed = append(allowed, "NOT_FOUND")
	}
	if !s.expect(w, kind, c, "createCoins "+dec(amount), r, allowed...) {
		s.lost(c, r)
		return false
	}
	s.mu.Lock()
	c.main.balance += amount
	s.mu.Unlock()
	return true
}

// key is a fresh idempotency key, the same for the same seed, worker and step.
func (s *sim) key(w *worker, what string) string {
	w.keys++
	return fmt.Sprintf("%s-%d-%d-%d-%d", what, s.seed, w.idx, w.step, w.keys)
}

// lost marks c's model as unknown when an answer never came.
func (s *sim) lost(c *customer, r reply) {
	if (r.err != nil || r.code() == "INTERNAL") && c != nil {
		s.mu.Lock()
		c.dirty = true
		s.mu.Unlock()
	}
}
