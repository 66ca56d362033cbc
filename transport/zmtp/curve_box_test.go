package zmtp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// The box key of RFC 7748's Alice and Bob (section 6.1): their X25519
// shared secret is the RFC's, and its HSalsa20 is NaCl's "firstkey" from
// the crypto_box tests of "Cryptography in NaCl".
func TestBoxKeyVectors(t *testing.T) {
	var aliceSecret, bobPublic [keySize]byte
	copy(aliceSecret[:], unhex(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
	copy(bobPublic[:], unhex(t, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
	k, err := boxKey(&bobPublic, &aliceSecret)
	require.NoError(t, err)
	assert.Equal(t, "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389", hex.EncodeToString(k[:]))
}

func TestBoxKeySymmetricAndLikeNaCl(t *testing.T) {
	ap, as, err := newKeyPair()
	require.NoError(t, err)
	bp, bs, err := newKeyPair()
	require.NoError(t, err)
	k1, err := boxKey(&bp, &as)
	require.NoError(t, err)
	k2, err := boxKey(&ap, &bs)
	require.NoError(t, err)
	assert.Equal(t, k1, k2)
	var nacl [32]byte
	box.Precompute(&nacl, &bp, &as)
	assert.Equal(t, nacl, k1)
}

// A low-order public key gives an all-zero product: refused.
func TestBoxKeyRefusesLowOrderKeys(t *testing.T) {
	_, s, err := newKeyPair()
	require.NoError(t, err)
	var zero [keySize]byte
	_, err = boxKey(&zero, &s)
	assert.ErrorIs(t, err, ErrDecrypt)
}

// The MESSAGE box is secretbox with nonce prefix + short nonce: sealing
// in pieces gives secretbox's bytes, and opening in place reads
// secretbox's boxes, for every length around the block boundaries.
func TestMessageBoxIsSecretbox(t *testing.T) {
	var key [keySize]byte
	_, _ = rand.Read(key[:])
	mb := newMessageBox(&key, prefixMsgC, 0)
	var ks keystream
	sizes := []int{0, 1, 2, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 255, 256, 1000, 4096, 65536 + 17}
	for _, n := range sizes {
		plain := make([]byte, n)
		_, _ = rand.Read(plain)
		nonce := mrand.Uint64()
		want := secretbox.Seal(nil, plain, nonce24(prefixMsgC, shortNonceBytes(nonce)), &key)

		// Sealed in up to three pieces cut at random places.
		a := mrand.IntN(n + 1)
		b := a + mrand.IntN(n-a+1)
		ct := make([]byte, n)
		tag := mb.sealPieces(&ks, nonce, ct, plain[:a], plain[a:b], plain[b:])
		got := append(tag[:], ct...)
		require.True(t, bytes.Equal(want, got), "size %d cut %d/%d", n, a, b)

		// Opened in place, and opened in pieces into other memory the way
		// a MESSAGE larger than the read buffer is (openGrowing).
		boxed := bytes.Clone(want)
		require.True(t, openInPlace(mb, &ks, nonce, boxed), "size %d", n)
		require.True(t, bytes.Equal(plain, boxed[tagSize:]), "size %d", n)
		got, ok := openPieces(mb, &ks, nonce, want, a, b)
		require.True(t, ok, "size %d", n)
		require.True(t, bytes.Equal(plain, got), "size %d cut %d/%d", n, a, b)

		// Any flipped bit, or another nonce, and it does not open.
		if n > 0 {
			bad := bytes.Clone(want)
			bad[tagSize+mrand.IntN(n)] ^= 1 << mrand.IntN(8)
			assert.False(t, openInPlace(mb, &ks, nonce, bytes.Clone(bad)))
			_, ok := openPieces(mb, &ks, nonce, bad, a, b)
			assert.False(t, ok)
		}
		bad := bytes.Clone(want)
		bad[mrand.IntN(tagSize)] ^= 1
		assert.False(t, openInPlace(mb, &ks, nonce, bytes.Clone(bad)))
		_, ok = openPieces(mb, &ks, nonce, bad, a, b)
		assert.False(t, ok)
		assert.False(t, openInPlace(mb, &ks, nonce+1, bytes.Clone(want)))
		_, ok = openPieces(mb, &ks, nonce+1, want, a, b)
		assert.False(t, ok)
	}
}

// openInPlace opens a box (tag, then ciphertext) in place as openBuffered
// does.
func openInPlace(mb *messageBox, ks *keystream, nonce uint64, boxed []byte) bool {
	tag := [tagSize]byte(boxed[:tagSize])
	ct := boxed[tagSize:]
	if !mb.verify(ks, nonce, &tag, ct) {
		return false
	}
	ks.xor(ct, ct)
	return true
}

// openPieces opens a box as openGrowing does: its ciphertext
// authenticated in three pieces cut at a and b, then the first piece
// decrypted from where it is into new memory and the others in place
// there. It returns the plaintext if the box opens.
func openPieces(mb *messageBox, ks *keystream, nonce uint64, boxed []byte, a, b int) ([]byte, bool) {
	ct := boxed[tagSize:]
	mac := mb.authenticator(ks, nonce, len(ct))
	body := make([]byte, len(ct))
	copy(body[a:], ct[a:])
	for _, p := range [][]byte{ct[:a], body[a:b], body[b:]} {
		_, _ = mac.Write(p)
	}
	if !mac.Verify(boxed[:tagSize]) {
		return nil, false
	}
	ks.xor(body[:a], ct[:a])
	ks.xor(body[a:b], body[a:b])
	ks.xor(body[b:], body[b:])
	return body, true
}

func TestMessageBoxNonces(t *testing.T) {
	var key [keySize]byte
	mb := newMessageBox(&key, prefixMsgS, 1)
	n, err := mb.nextNonce()
	require.NoError(t, err)
	assert.Equal(t, uint64(2), n)
	mb.nonce = ^uint64(0) - 1
	n, err = mb.nextNonce()
	require.NoError(t, err)
	assert.Equal(t, ^uint64(0), n)
	_, err = mb.nextNonce()
	assert.ErrorIs(t, err, errNonceExhausted, "the last nonce is never reused")
}
