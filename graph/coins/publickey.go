package coins

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"coffer/ent"
	"coffer/ent/challenge"
	"coffer/ent/customer"
	"coffer/graph/apperr"
	"coffer/graph/audit"
	"coffer/graph/gid"
	"coffer/graph/identity"
	"coffer/graph/store"
)

// A public key receives payments (sendCoins by publicKey) and signs the viewer's pending
// transactions, so registering one needs proof of possession: publicKeyChallenge issues a
// challenge bound to the viewer and the key, and setPublicKey takes the key's signature of it.
// Replacing a registered key also needs the current password or the old key's signature, so
// that a stolen session cannot swap the key. Challenges are rows of the challenge table
// (purpose PUBLIC_KEY): single-use, expiring after KeyChallengeTTL, one live per user.

// keyChallengePrefix starts every payload: a signature of it cannot pass for a transaction's.
const keyChallengePrefix = "coffer-public-key-v1"

// defaultKeyChallengeTTL applies when Service.KeyChallengeTTL is zero.
const defaultKeyChallengeTTL = 10 * time.Minute

// KeyChallenge is publicKeyChallenge's answer.
type KeyChallenge struct {
	ID, Payload string
	ExpiresAt   time.Time
}

func keySubject(userID int) string { return "public-key:user:" + strconv.Itoa(userID) }

// PublicKeyChallenge starts a proof of possession of publicKey for the viewer, ending their
// earlier challenge.
func (s *Service) PublicKeyChallenge(ctx context.Context, v *identity.Viewer, publicKey string) (*KeyChallenge, error) {
	key, err := ParsePublicKey(publicKey)
	if err != nil {
		return nil, apperr.Field("publicKey", "must be 64 hexadecimal characters (32 bytes)")
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("coins: key challenge: %w", err)
	}
	now := s.now()
	ttl := s.KeyChallengeTTL
	if ttl <= 0 {
		ttl = defaultKeyChallengeTTL
	}
	kc := &KeyChallenge{ID: base64.RawURLEncoding.EncodeToString(b), ExpiresAt: now.Add(ttl).UTC().Truncate(time.Second)}
	kc.Payload = strings.Join([]string{keyChallengePrefix, kc.ID, gid.Encode(v.CustomerID), hex.EncodeToString(key),
		kc.ExpiresAt.Format(time.RFC3339)}, "|")
	digest := sha256.Sum256([]byte(kc.Payload))
	_, err = store.InTx(ctx, s.Ledger.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := tx.Challenge.Update().
			Where(challenge.PurposeEQ(challenge.PurposePUBLIC_KEY), challenge.Subject(keySubject(v.UserID)), challenge.UsedAtIsNil()).
			SetUsedAt(now).Exec(ctx); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Challenge.Create().SetPublicID(kc.ID).SetPurpose(challenge.PurposePUBLIC_KEY).
			SetSubject(keySubject(v.UserID)).SetUserID(v.UserID).SetCodeHash(digest[:]).
			SetData(map[string]string{"publicKey": hex.EncodeToString(key), "payload": kc.Payload}).
			SetCreatedAt(now).SetExpiresAt(kc.ExpiresAt).Exec(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("coins: key challenge: %w", err)
	}
	return kc, nil
}

// KeyProof is setPublicKey's input.
type KeyProof struct {
	PublicKey, ChallengeID, Signature string
	// One of these when a key is registered already.
	CurrentPassword, OldKeySignature string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// validSignature reports whether sigHex is key's Ed25519 signature of payload.
func validSignature(key []byte, payload, sigHex string) bool {
	sig, err := hex.DecodeString(sigHex)
	return err == nil && len(sig) == ed25519.SignatureSize && ed25519.Verify(ed25519.PublicKey(key), []byte(payload), sig)
}

// SetPublicKey registers the viewer's Ed25519 public key once its proof holds (see above); the
// challenge is used up in the same transaction that sets the key. This is the one function that
// changes a customer's key.
func (s *Service) SetPublicKey(ctx context.Context, v *identity.Viewer, in KeyProof) (*ent.Customer, error) {
	f := apperr.Fields{}
	key, err := ParsePublicKey(in.PublicKey)
	if err != nil {
		f.Add("publicKey", "must be 64 hexadecimal characters (32 bytes)")
	}
	if in.ChallengeID == "" || len(in.ChallengeID) > 64 {
		f.Add("challengeId", "required: the challengeId of publicKeyChallenge for this key")
	}
	if in.Signature == "" {
		f.Add("signature", "required: the key's hex Ed25519 signature of the challenge's payload")
	}
	c, err := s.Ledger.Client.Customer.Get(ctx, v.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("coins: set public key: %w", err)
	}
	old := PublicKeyOf(c)
	replacing := old != nil && key != nil && !ed25519.PublicKey(old).Equal(ed25519.PublicKey(key))
	if replacing && in.CurrentPassword == "" && in.OldKeySignature == "" {
		f.Add("currentPassword", "required to replace the registered key (or give oldKeySignature)")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	ch, err := s.liveKeyChallenge(ctx, v, in.ChallengeID, key)
	if err != nil {
		return nil, err
	}
	payload := ch.Data["payload"]
	if !validSignature(key, payload, in.Signature) {
		return nil, apperr.Field("signature", "must be the new key's hex Ed25519 signature of the challenge's payload")
	}
	if replacing {
		if err := s.proveOldKey(ctx, v, old, payload, in); err != nil {
			return nil, err
		}
	}
	return s.storeKey(ctx, v, ch.ID, key)
}

// liveKeyChallenge returns the viewer's live challenge id for key; anything else names challengeId.
func (s *Service) liveKeyChallenge(ctx context.Context, v *identity.Viewer, id string, key []byte) (*ent.Challenge, error) {
	ch, err := s.Ledger.Client.Challenge.Query().
		Where(challenge.PublicID(id), challenge.PurposeEQ(challenge.PurposePUBLIC_KEY), challenge.UserID(v.UserID),
			challenge.UsedAtIsNil(), challenge.ExpiresAtGT(s.now())).
		Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("coins: key challenge: %w", err)
	}
	if ch == nil || ch.Data["publicKey"] != hex.EncodeToString(key) {
		return nil, errKeyChallenge
	}
	return ch, nil
}

var errKeyChallenge = apperr.Field("challengeId", "unknown, expired, used or for another key: start again with publicKeyChallenge")

// proveOldKey checks the proof that may replace the registered key: its signature of the same
// payload, else the current password.
func (s *Service) proveOldKey(ctx context.Context, v *identity.Viewer, old []byte, payload string, in KeyProof) error {
	if in.OldKeySignature != "" {
		if !validSignature(old, payload, in.OldKeySignature) {
			return apperr.Field("oldKeySignature", "must be the registered key's hex Ed25519 signature of the challenge's payload")
		}
		return nil
	}
	if s.Identity == nil {
		return apperr.Field("oldKeySignature", "required to replace the registered key")
	}
	return s.Identity.CheckCurrentPassword(ctx, v, in.CurrentPassword)
}

// storeKey uses up the challenge and sets the key in one transaction: a refused key (another
// customer's) leaves the challenge live.
func (s *Service) storeKey(ctx context.Context, v *identity.Viewer, challengeID int, key []byte) (*ent.Customer, error) {
	c, err := store.InTx(ctx, s.Ledger.Client, func(tx *ent.Tx) (*ent.Customer, error) {
		n, err := tx.Challenge.Update().
			Where(challenge.ID(challengeID), challenge.UsedAtIsNil(), challenge.ExpiresAtGT(s.now())).
			SetUsedAt(s.now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 { // a concurrent setPublicKey used it
			return nil, errKeyChallenge
		}
		taken, err := tx.Customer.Query().Where(customer.PublicKey(key), customer.IDNEQ(v.CustomerID)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if taken {
			return nil, errKeyTaken
		}
		c, err := tx.Customer.UpdateOneID(v.CustomerID).SetPublicKey(key).Save(ctx)
		if err != nil {
			return nil, err
		}
		return c, audit.Write(ctx, tx.AuditEvent, audit.Event{Action: audit.PublicKeyChanged,
			Target: audit.Target("customer", v.CustomerID), TargetName: v.Username + " " + hex.EncodeToString(key)})
	})
	if store.IsUniqueViolation(err) {
		return nil, errKeyTaken
	}
	if err != nil {
		if ae := (*apperr.Error)(nil); errors.As(err, &ae) {
			return nil, ae
		}
		return nil, fmt.Errorf("coins: set public key: %w", err)
	}
	return store.Detach(c), nil
}

var errKeyTaken = apperr.ConflictOn("publicKey", "this public key belongs to another customer")
