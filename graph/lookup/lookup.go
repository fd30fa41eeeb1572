// Package lookup hashes values that coffer must find again but never show again: social security
// numbers, card numbers and one-time codes. A keyed hash (HMAC-SHA256) rather than a plain one,
// because such values are short: a database dump alone must not let anyone try every number.
package lookup

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"coffer/ent"
	"coffer/ent/setting"
)

// MinKeyBytes is the shortest key accepted: 256 bits.
const MinKeyBytes = 32

// settingName is where a generated key is kept so that every instance on the database shares it.
const settingName = "lookup_key"

// Key hashes values with HMAC-SHA256.
type Key struct{ secret []byte }

// NewKey returns a key over secret, which must hold at least MinKeyBytes bytes.
func NewKey(secret []byte) (Key, error) {
	if len(secret) < MinKeyBytes {
		return Key{}, fmt.Errorf("lookup: key of %d bytes, want at least %d", len(secret), MinKeyBytes)
	}
	return Key{secret: append([]byte(nil), secret...)}, nil
}

// Hash returns the keyed hash of value within domain ("ssn", "card", "code"): the domain keeps a
// value of one kind from ever matching a value of another.
func (k Key) Hash(domain, value string) []byte {
	if len(k.secret) == 0 {
		panic("lookup: zero Key used") // a programming error: hashing with no key is a plain hash
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return hmac.Equal(a, b) }

// Load returns the configured key (hex, LOOKUP_KEY), or else the key stored in the database,
// generating and storing it on the first start. stored reports the second case: the key then
// sits next to the data it protects, which the server warns about.
func Load(ctx context.Context, client *ent.Client, configuredHex string) (k Key, stored bool, err error) {
	if configuredHex != "" {
		secret, err := hex.DecodeString(configuredHex)
		if err != nil {
			return Key{}, false, fmt.Errorf("lookup: LOOKUP_KEY is not hex: %w", err)
		}
		k, err := NewKey(secret)
		return k, false, err
	}
	secret := make([]byte, MinKeyBytes)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, false, fmt.Errorf("lookup: random key: %w", err)
	}
	// Several instances may start at once: the first insert wins and everyone reads it back.
	err = client.Setting.Create().SetName(settingName).SetValue(secret).
		OnConflictColumns(setting.FieldName).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // the key existed already

		return Key{}, false, fmt.Errorf("lookup: store key: %w", err)
	}
	s, err := client.Setting.Query().Where(setting.Name(settingName)).Only(ctx)
	if err != nil {
		return Key{}, false, fmt.Errorf("lookup: read key: %w", err)
	}
	k, err = NewKey(s.Value)
	return k, true, err
}
