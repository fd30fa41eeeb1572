package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
)

// Identity, signatures and the census' data operations.

// opPassword: wrong current password and mismatched confirmation (BAD_USER_INPUT), another
// user's password (FORBIDDEN), or a real change, after which the new password logs in.
func (s *sim) opPassword(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	q := `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	fresh := fmt.Sprintf("%s-Changed%d", c.username, w.step)
	switch w.rng.IntN(4) {
	case 0:
		r := s.call(w, true, c.token, q, map[string]any{"in": map[string]any{"newPassword": fresh, "confirmPassword": fresh, "currentPassword": "not-the-password"}})
		s.expect(w, "changePassword.wrongCurrent", c, "", r, "BAD_USER_INPUT")
	case 1:
		r := s.call(w, true, c.token, q, map[string]any{"in": map[string]any{"newPassword": fresh, "confirmPassword": fresh + "x", "currentPassword": c.password}})
		s.expect(w, "changePassword.mismatch", c, "", r, "BAD_USER_INPUT")
	case 2:
		r := s.call(w, true, c.token, q, map[string]any{"in": map[string]any{"username": "admin", "newPassword": fresh, "confirmPassword": fresh}})
		s.expect(w, "changePassword.other", c, "admin", r, "FORBIDDEN")
	case 3:
		if c.subscribed {
			return // its subscriber's session must live on
		}
		r := s.callSettle(w, c.token, q, map[string]any{"in": map[string]any{"newPassword": fresh, "confirmPassword": fresh, "currentPassword": c.password}}, nil)
		if !s.expect(w, "changePassword", c, "", r, "") {
			return
		}
		s.mu.Lock()
		c.password = fresh
		s.mu.Unlock()
		s.login(w, "login.oldPassword", c, c.username, "wrong-"+fresh, "UNAUTHENTICATED")
		s.relogin(w, c)
	}
}

// opRegister: an anonymous client pre-registers, gets the code from the outbox, tries a wrong one
// (INVALID_CODE), registers, and reads its new empty account; a second pre-registration with the
// same e-mail is CONFLICT.
func (s *sim) opRegister(w *worker) {
	name := s.newName("reg")
	n := s.nextName.Add(1)
	email := name + "@sim.example"
	phone := fmt.Sprintf("+3460%07d", n%10_000_000)
	ssn := fmt.Sprintf("SSN-%d-%d", s.seed%100000, n)
	in := map[string]any{"email": email, "phoneNumber": phone, "socialSecurity": ssn}
	sent := s.e.outbox.count(email)
	r := s.call(w, true, "", `mutation($in: PreRegisterInput!) { preRegister(input: $in) { ok } }`, map[string]any{"in": in})
	if !s.expect(w, "preRegister", nil, email, r, "", "TOO_MANY_REQUESTS") {
		return
	}
	code, ok := s.e.outbox.wait(email, sent)
	if !ok {
		s.violate(w.step, "preRegister", nil, email+": no code reached the outbox")
		return
	}
	reg := func(code string, done ...string) reply {
		if len(done) == 0 { // a wrong code: not retried, every wrong try counts
			return s.call(w, false, "", `mutation($in: RegisterInput!) { register(input: $in) { token user { username } } }`,
				map[string]any{"in": map[string]any{"firstName": "Reg", "lastName": "Istered", "email": email, "phoneNumber": phone,
					"dateOfBirth": "1991-02-03", "socialSecurity": ssn, "address": "Calle 1", "city": "Madrid", "state": "MD",
					"postCode": "28013", "password": name + "-Password1", "verificationCode": code, "username": name}})
		}
		// A registration whose answer a fault lost may have committed: its retry then finds the
		// e-mail taken (CONFLICT, checked first) or the code used (INVALID_CODE). Seed 960117.
		return s.callSettle(w, "", `mutation($in: RegisterInput!) { register(input: $in) { token user { username } } }`,
			map[string]any{"in": map[string]any{"firstName": "Reg", "lastName": "Istered", "email": email, "phoneNumber": phone,
				"dateOfBirth": "1991-02-03", "socialSecurity": ssn, "address": "Calle 1", "city": "Madrid", "state": "MD",
				"postCode": "28013", "password": name + "-Password1", "verificationCode": code, "username": name}}, codeIn(done...))
	}
	wrong := []byte(code)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	s.expect(w, "register.wrongCode", nil, email, reg(string(wrong)), "INVALID_CODE")
	r = reg(code, "INVALID_CODE", "CONFLICT")
	if !s.expect(w, "register", nil, email, r, "") {
		return
	}
	if string(r.Data) == "null" {
		return // registered by an attempt whose answer was lost: no token to go on with
	}
	var out struct{ Register struct{ Token string } }
	if r.decode(&out) != nil || out.Register.Token == "" {
		s.violate(w.step, "register", nil, "no token: "+string(r.Data))
		return
	}
	r = s.call(w, true, out.Register.Token, `{ me { username customer { balance { amount } cards { id } } } }`, nil)
	if s.expect(w, "register.me", nil, name, r, "") {
		var me struct {
			Me struct {
				Username string
				Customer struct {
					Balance struct{ Amount string }
					Cards   []struct{ ID string }
				}
			}
		}
		if r.decode(&me) == nil && (me.Me.Username != name || me.Me.Customer.Balance.Amount != "0.00" || len(me.Me.Customer.Cards) != 0) {
			s.violate(w.step, "register.me", nil, fmt.Sprintf("a new customer reads %s", r.Data))
		}
	}
	r = s.call(w, true, "", `mutation($in: PreRegisterInput!) { preRegister(input: $in) { ok } }`, map[string]any{"in": in})
	s.expect(w, "preRegister.taken", nil, email, r, "CONFLICT", "TOO_MANY_REQUESTS")
}

const qSetKey = `mutation($k: String!, $c: String, $s: String) { setPublicKey(publicKey: $k, challengeId: $c, signature: $s) { publicKey } }`

// opSignature gives a customer an Ed25519 key: from then on its pending transfers are confirmed
// with a signature of their signingPayload (opSettle); here a confirmation without one, or with a
// wrong one, is BAD_USER_INPUT and changes nothing.
func (s *sim) opSignature(w *worker) {
	c := s.pickCustomer(w)
	if c == nil {
		return
	}
	s.mu.Lock()
	key := c.key
	open := c.open("transfer")
	s.mu.Unlock()
	if key == nil {
		seed := make([]byte, ed25519.SeedSize)
		for i := range seed {
			seed[i] = byte(w.rng.IntN(256))
		}
		k := ed25519.NewKeyFromSeed(seed)
		pub := hex.EncodeToString(k.Public().(ed25519.PublicKey))
		// Proof of possession: a challenge for this key, its payload signed by the key.
		r := s.callThroughFault(w, c.token, `mutation($k: String!) { publicKeyChallenge(publicKey: $k) { challengeId payload } }`,
			map[string]any{"k": pub})
		var ch struct {
			PublicKeyChallenge struct{ ChallengeID, Payload string }
		}
		if !s.expect(w, "publicKeyChallenge", c, "", r, "") || r.decode(&ch) != nil {
			return
		}
		sig := ed25519.Sign(k, []byte(ch.PublicKeyChallenge.Payload))
		if w.rng.IntN(4) == 0 {
			// Signed by another key: BAD_USER_INPUT, the key stays unset and the challenge usable.
			other := ed25519.NewKeyFromSeed(append(seed[1:], seed[0]+1))
			r = s.call(w, false, c.token, qSetKey, map[string]any{"k": pub, "c": ch.PublicKeyChallenge.ChallengeID,
				"s": hex.EncodeToString(ed25519.Sign(other, []byte(ch.PublicKeyChallenge.Payload)))})
			s.expect(w, "setPublicKey.wrongSignature", c, "", r, "BAD_USER_INPUT")
		}
		epoch := s.e.epoch.Load()
		r = s.callThroughFault(w, c.token, qSetKey, map[string]any{"k": pub, "c": ch.PublicKeyChallenge.ChallengeID, "s": hex.EncodeToString(sig)})
		allowed := []string{""}
		if s.e.crossed(epoch) {
			// A lost first answer may have set the key: the retry's challenge is then used up.
			allowed = append(allowed, "BAD_USER_INPUT")
		}
		if s.expect(w, "setPublicKey", c, "", r, allowed...) || r.code() == "BAD_USER_INPUT" && len(allowed) > 1 {
			s.mu.Lock()
			c.key = k
			s.mu.Unlock()
		}
		return
	}
	if len(open) == 0 {
		return
	}
	p := open[w.rng.IntN(len(open))]
	sig := any(nil)
	if w.rng.IntN(2) == 0 {
		sig = hex.EncodeToString(ed25519.Sign(key, []byte("not the payload")))
	}
	r := s.call(w, true, c.token, `mutation($id: ID!, $s: String) { confirmTransaction(id: $id, signature: $s) { id } }`,
		map[string]any{"id": p.id, "s": sig})
	s.expect(w, "confirmTransaction.badSignature", c, p.id, r, "BAD_USER_INPUT")
}

// signature signs pending p's signingPayload with c's key ("" when c has none).
func (s *sim) signature(w *worker, c *customer, p *pending) (string, bool) {
	s.mu.Lock()
	key := c.key
	s.mu.Unlock()
	if key == nil {
		return "", true
	}
	r := s.call(w, true, c.token, `query($id: ID!) { transaction(id: $id) { signingPayload } }`, map[string]any{"id": p.id})
	var out struct {
		Transaction struct{ SigningPayload string }
	}
	if !s.expect(w, "transaction.signingPayload", c, p.id, r, "") || r.decode(&out) != nil || out.Transaction.SigningPayload == "" {
		return "", false
	}
	return hex.EncodeToString(ed25519.Sign(key, []byte(out.Transaction.SigningPayload))), true
}

// opPersonData: the clerk changes a person's data, sets additional information (valid and
// invalid JSON), and verifies a phone with a wrong code (INVALID_CODE).
func (s *sim) opPersonData(w *worker) {
	p := s.pickPerson(w)
	if p == nil {
		return
	}
	switch w.rng.IntN(4) {
	case 0:
		r := s.call(w, true, s.staff, `mutation($p: String!, $in: PersonDataInput!) { changePersonData(personId: $p, input: $in) { id } }`,
			map[string]any{"p": p.id, "in": map[string]any{"address": fmt.Sprintf("Calle Nueva %d", w.step)}})
		s.addProcedure(w, "changePersonData", p, r, "changePersonData")
	case 1:
		r := s.call(w, true, s.staff, `mutation($p: String!, $k: String!, $v: String!) { setAdditionalInformation(personId: $p, key: $k, jsonValue: $v) { id } }`,
			map[string]any{"p": p.id, "k": "sim", "v": fmt.Sprintf(`{"step": %d}`, w.step)})
		s.expect(w, "setAdditionalInformation", nil, p.id, r, "", "PRECONDITION_FAILED")
	case 2:
		r := s.call(w, true, s.staff, `mutation($p: String!, $k: String!, $v: String!) { setAdditionalInformation(personId: $p, key: $k, jsonValue: $v) { id } }`,
			map[string]any{"p": p.id, "k": "sim", "v": `{"unclosed": `})
		s.expect(w, "setAdditionalInformation.badJson", nil, p.id, r, "BAD_USER_INPUT")
	case 3:
		phone := fmt.Sprintf("+3461%07d", w.rng.IntN(10_000_000))
		sent := s.e.outbox.count(phone) // a random number may have been verified before
		startEpoch := s.e.epoch.Load()
		r := s.call(w, true, s.staff, `mutation($p: String!, $ph: String!) { startPhoneVerification(personId: $p, phone: $ph) { id } }`,
			map[string]any{"p": p.id, "ph": phone})
		if !s.expect(w, "startPhoneVerification", nil, p.id, r, "", "PRECONDITION_FAILED", "CONFLICT", "TOO_MANY_REQUESTS") {
			return
		}
		code, ok := s.e.outbox.wait(phone, sent)
		if !ok {
			s.violate(w.step, "startPhoneVerification", nil, phone+": no code reached the outbox")
			return
		}
		crossed := s.e.crossed(startEpoch)
		wrong := []byte(code)
		wrong[0] = '0' + (wrong[0]-'0'+1)%10
		r = s.call(w, false, s.staff, `mutation($p: String!, $c: String!, $ph: String!) { verifyPhone(personId: $p, receivedCode: $c, phone: $ph) { id } }`,
			map[string]any{"p": p.id, "c": string(wrong), "ph": phone})
		s.expect(w, "verifyPhone.wrongCode", nil, p.id, r, "INVALID_CODE")
		epoch := s.e.epoch.Load()
		r = s.call(w, true, s.staff, `mutation($p: String!, $c: String!, $ph: String!) { verifyPhone(personId: $p, receivedCode: $c, phone: $ph) { phoneVerification } }`,
			map[string]any{"p": p.id, "c": code, "ph": phone})
		allowed := []string{""}
		if crossed || s.e.crossed(epoch) {
			// The code may be a rolled-back first try's, or a first try committed and lost only
			// its answer (a try that failed no longer spends it: it is used in the change's
			// transaction).
			allowed = append(allowed, "INVALID_CODE")
		}
		if !s.expect(w, "verifyPhone", nil, p.id, r, allowed...) && r.code() == "INVALID_CODE" {
			s.count("verifyPhone.codeSpentInFault", "ok")
		}
	}
}
