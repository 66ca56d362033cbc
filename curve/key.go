package curve

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/curve25519"
)

// KeySize is the size of a Curve25519 key in bytes; Z85Size the length of
// its Z85 text.
const (
	KeySize = 32
	Z85Size = 40
)

// ErrKey means a key is malformed, or a key pair does not match.
var ErrKey = errors.New("brook: invalid CURVE key")

// Key is a Curve25519 key, public or secret. Its text form is Z85 (40
// characters). Being a [32]byte, it is assignable to the key fields of
// the transport's CURVE settings.
type Key [KeySize]byte

// ParseKey reads a key from its 40-character Z85 text.
func ParseKey(z85 string) (Key, error) {
	var k Key
	if len(z85) != Z85Size {
		return k, fmt.Errorf("%w: Z85 key text is %d characters, want %d", ErrKey, len(z85), Z85Size)
	}
	if err := decodeZ85(k[:], z85); err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return k, nil
}

// String returns the key's Z85 text. Mind that for a secret key this is
// the secret itself; KeyPair and Certificate never print theirs.
func (k Key) String() string {
	var b [Z85Size]byte
	encodeZ85(b[:], k[:])
	return string(b[:])
}

// IsZero reports whether k is all zeros (an unset key).
func (k Key) IsZero() bool { return k == Key{} }

// Equal compares two keys in constant time.
func (k Key) Equal(o Key) bool { return subtle.ConstantTimeCompare(k[:], o[:]) == 1 }

// Public returns the public key that belongs to secret key k.
func (k Key) Public() (Key, error) {
	pub, err := curve25519.X25519(k[:], curve25519.Basepoint)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return Key(pub), nil
}

// KeyPair is a long-term CURVE key pair. Printing a KeyPair shows only
// its public key.
type KeyPair struct {
	Public Key
	Secret Key
}

// NewKeyPair generates a key pair from crypto/rand, as
// zmq_curve_keypair does.
func NewKeyPair() (KeyPair, error) {
	var sec Key
	if _, err := rand.Read(sec[:]); err != nil {
		return KeyPair{}, fmt.Errorf("brook: generating a CURVE key: %w", err)
	}
	return KeyPairFromSecret(sec)
}

// KeyPairFromSecret completes a key pair from its secret key (libzmq's
// zmq_curve_public).
func KeyPairFromSecret(secret Key) (KeyPair, error) {
	if secret.IsZero() {
		return KeyPair{}, fmt.Errorf("%w: the secret key is all zeros", ErrKey)
	}
	pub, err := secret.Public()
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{Public: pub, Secret: secret}, nil
}

// Check verifies that the pair is usable: a non-zero secret key whose
// public key is Public. A pair with only the secret key set is completed
// rather than refused.
func (kp *KeyPair) Check() error {
	full, err := KeyPairFromSecret(kp.Secret)
	if err != nil {
		return err
	}
	if kp.Public.IsZero() {
		kp.Public = full.Public
		return nil
	}
	if !kp.Public.Equal(full.Public) {
		return fmt.Errorf("%w: public key %s does not belong to the secret key (its public key is %s)", ErrKey, kp.Public, full.Public)
	}
	return nil
}

// String shows the public key only.
func (kp KeyPair) String() string {
	return fmt.Sprintf("curve.KeyPair{Public: %s, Secret: <hidden>}", kp.Public)
}

// GoString shows the public key only, for %#v.
func (kp KeyPair) GoString() string { return kp.String() }
