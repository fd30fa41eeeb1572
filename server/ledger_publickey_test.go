package main

// setPublicKey with proof of possession (issue 14.6): registering a key needs its signature of a
// publicKeyChallenge; replacing one also needs the current password or the old key's signature.
// Its helpers (prefix "pk") are in ledger_helpers_test.go.

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
)

func TestSetPublicKey_withoutProofOfPossession_refusedAndChangesNothing(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		ben := s.customer(admin, "ben")
		annPub, annPriv := pkNewKey(t)
		otherPub, otherPriv := pkNewKey(t)
		benPub, benPriv := pkNewKey(t)
		pkMustRegister(s, ben, benPriv)
		annC := pkStart(s, ann, annPub)
		benC := pkStart(s, ben, otherPub) // ben's own challenge, for another key
		tests := []struct {
			name       string
			key        ed25519.PublicKey
			proof      map[string]any
			wantCode   string
			wantFields []string
		}{
			{"bare key, as before", annPub, nil, "BAD_USER_INPUT", []string{"challengeId", "signature"}},
			{"no signature", annPub, map[string]any{"c": annC.ChallengeID}, "BAD_USER_INPUT", []string{"signature"}},
			{"signature by another key", annPub, map[string]any{"c": annC.ChallengeID, "s": pkSign(otherPriv, annC)}, "BAD_USER_INPUT", []string{"signature"}},
			{"signature of other bytes", annPub, map[string]any{"c": annC.ChallengeID,
				"s": hex.EncodeToString(ed25519.Sign(annPriv, []byte(annC.Payload+"x")))}, "BAD_USER_INPUT", []string{"signature"}},
			{"unknown challenge", annPub, map[string]any{"c": "AAAAAAAAAAAAAAAAAAAAAA", "s": pkSign(annPriv, annC)}, "BAD_USER_INPUT", []string{"challengeId"}},
			{"challenge for another key", otherPub, map[string]any{"c": annC.ChallengeID, "s": pkSign(otherPriv, annC)}, "BAD_USER_INPUT", []string{"challengeId"}},
			{"another user's challenge", otherPub, map[string]any{"c": benC.ChallengeID, "s": pkSign(otherPriv, benC)}, "BAD_USER_INPUT", []string{"challengeId"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := onT(t, s)
				before := eaSnapshot(t, s, admin, ann, ben)
				wantError(t, pkSet(s, ann, tt.key, tt.proof), tt.wantCode, tt.wantFields...)
				eaUnchanged(t, before, eaSnapshot(t, s, admin, ann, ben))
			})
		}
		if got := pkKeyOf(t, s, ann); got != "<null>" {
			t.Errorf("ann's key after the refusals = %s, want none", got)
		}
		// Ann tries to register ben's published key: she cannot sign for it. (Her new challenge ends
		// her earlier one: one live challenge per user.)
		squat := pkStart(s, ann, benPub)
		wantError(t, pkSet(s, ann, benPub, map[string]any{"c": squat.ChallengeID, "s": pkSign(annPriv, squat)}), "BAD_USER_INPUT", "signature")
		wantError(t, pkSet(s, ann, annPub, map[string]any{"c": annC.ChallengeID, "s": pkSign(annPriv, annC)}), "BAD_USER_INPUT", "challengeId")
		// With the private key (stolen, say) the squat reaches the uniqueness rule: CONFLICT.
		wantError(t, pkSet(s, ann, benPub, map[string]any{"c": squat.ChallengeID, "s": pkSign(benPriv, squat)}), "CONFLICT", "publicKey")
		if got := pkKeyOf(t, s, ben); got != hex.EncodeToString(benPub) {
			t.Errorf("ben's key = %s, want his own", got)
		}
		// The right proof registers the key; the challenge then is used up.
		annC = pkStart(s, ann, annPub)
		var out struct{ SetPublicKey struct{ PublicKey string } }
		s.mustDo(ann, pkSetMutation, map[string]any{"k": hex.EncodeToString(annPub), "c": annC.ChallengeID, "s": pkSign(annPriv, annC)}, &out)
		if out.SetPublicKey.PublicKey != hex.EncodeToString(annPub) || pkKeyOf(t, s, ann) != hex.EncodeToString(annPub) {
			t.Errorf("ann's key = %s, want %x", out.SetPublicKey.PublicKey, annPub)
		}
		wantError(t, pkSet(s, ann, annPub, map[string]any{"c": annC.ChallengeID, "s": pkSign(annPriv, annC)}), "BAD_USER_INPUT", "challengeId")
	})
}

func TestSetPublicKey_replacingAKey_needsTheOldKeyOrTheCurrentPassword(t *testing.T) {
	onStores(t, func(t *testing.T, s *testServer) {
		admin := s.admin()
		ann := s.customer(admin, "ann")
		oldPub, oldPriv := pkNewKey(t)
		newPub, newPriv := pkNewKey(t)
		_, otherPriv := pkNewKey(t)
		pkMustRegister(s, ann, oldPriv)
		c := pkStart(s, ann, newPub)
		sig := pkSign(newPriv, c)
		tests := []struct {
			name       string
			proof      map[string]any
			wantFields []string
		}{
			{"new key's signature only (a stolen session)", map[string]any{"c": c.ChallengeID, "s": sig}, []string{"currentPassword"}},
			{"wrong current password", map[string]any{"c": c.ChallengeID, "s": sig, "p": "not-ann-password"}, []string{"currentPassword"}},
			{"old-key signature by another key", map[string]any{"c": c.ChallengeID, "s": sig, "o": pkSign(otherPriv, c)}, []string{"oldKeySignature"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := onT(t, s)
				wantError(t, pkSet(s, ann, newPub, tt.proof), "BAD_USER_INPUT", tt.wantFields...)
				if got := pkKeyOf(t, s, ann); got != hex.EncodeToString(oldPub) {
					t.Errorf("key = %s, want the old one kept", got)
				}
			})
		}
		// The current password replaces it; then the old key's signature replaces that one.
		s.mustDo(ann, pkSetMutation, map[string]any{"k": hex.EncodeToString(newPub), "c": c.ChallengeID, "s": sig, "p": "ann-password"}, nil)
		if got := pkKeyOf(t, s, ann); got != hex.EncodeToString(newPub) {
			t.Errorf("key after the password proof = %s, want the new one", got)
		}
		thirdPub, thirdPriv := pkNewKey(t)
		c3 := pkStart(s, ann, thirdPub)
		s.mustDo(ann, pkSetMutation, map[string]any{"k": hex.EncodeToString(thirdPub), "c": c3.ChallengeID,
			"s": pkSign(thirdPriv, c3), "o": pkSign(newPriv, c3)}, nil)
		if got := pkKeyOf(t, s, ann); got != hex.EncodeToString(thirdPub) {
			t.Errorf("key after the old-key proof = %s, want the third one", got)
		}
	})
}

func TestPublicKeyChallengeAndSetPublicKey_countAgainstThePerUserRateLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres", "AUTH_ACCOUNT_RATE_LIMIT=3")
	admin := s.admin()
	ann := s.customer(admin, "ann")
	pub, priv := pkNewKey(t)
	var c pkChallenge
	for range 3 {
		c = pkStart(s, ann, pub)
	}
	wantError(t, s.do(ann, pkChallengeMutation, map[string]any{"k": hex.EncodeToString(pub)}), "TOO_MANY_REQUESTS")
	for range 3 {
		wantError(t, pkSet(s, ann, pub, map[string]any{"c": c.ChallengeID, "s": pkSign(priv, pkChallenge{Payload: "x"})}), "BAD_USER_INPUT", "signature")
	}
	wantError(t, pkSet(s, ann, pub, map[string]any{"c": c.ChallengeID, "s": pkSign(priv, c)}), "TOO_MANY_REQUESTS")
	if got := pkKeyOf(t, s, ann); got != "<null>" {
		t.Errorf("key = %s, want none after the refusals", got)
	}
}
