package zmtp

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
	//lint:ignore SA1019 CurveZMQ's MESSAGE box is XSalsa20-Poly1305 (NaCl's secretbox); the engine composes it from x/crypto's salsa20 and poly1305 so a frame is encrypted in one pass into the write buffer and decrypted in place, which the secretbox API cannot do (it forbids overlap and wants one contiguous plaintext). The composition is tested against secretbox.
	"golang.org/x/crypto/poly1305"
	//lint:ignore SA1019 HSalsa20 and the counter-addressed Salsa20 stream are what lets a direction's XSalsa20 subkey be computed once and a frame be boxed piece by piece (see poly1305 above).
	"golang.org/x/crypto/salsa20/salsa"

	"github.com/brookmq/brook/transport"
)

// CurveZMQ sizes (RFC 26).
const (
	keySize      = 32
	tagSize      = secretbox.Overhead // 16: a box is this much larger than its plaintext
	shortNonce   = 8
	longNonce    = 16
	cookieSize   = longNonce + keySize*2 + tagSize // 96
	vouchSize    = longNonce + keySize*2 + tagSize // 96
	msgFlagMore  = 0x01                            // MESSAGE payload flags
	msgFlagCmd   = 0x02                            // libzmq: the frame is a command (PING, SUBSCRIBE, ...)
	msgFlagsMask = msgFlagMore | msgFlagCmd
)

// Nonce prefixes (RFC 26): a 24-byte nonce is one of these followed by a
// short (8-byte) or long (16-byte) nonce.
const (
	prefixHello    = "CurveZMQHELLO---"
	prefixWelcome  = "WELCOME-"
	prefixCookie   = "COOKIE--"
	prefixInitiate = "CurveZMQINITIATE"
	prefixVouch    = "VOUCH---"
	prefixReady    = "CurveZMQREADY---"
	prefixMsgC     = "CurveZMQMESSAGEC" // MESSAGE from the client
	prefixMsgS     = "CurveZMQMESSAGES" // MESSAGE from the server
)

// ErrDecrypt means a CURVE box did not open: the peer used other keys
// (a client configured with another server key), or the data was
// forged or damaged. It matches transport.ErrProtocol.
var ErrDecrypt error = decryptError{}

type decryptError struct{}

func (decryptError) Error() string {
	return "brook: zmtp CURVE box does not open (wrong key, or forged data)"
}
func (decryptError) Is(target error) bool {
	return target == transport.ErrProtocol
}

// ErrReplay means a CURVE peer sent a short nonce that is not greater
// than the one before: a replayed or reordered command. It matches
// transport.ErrProtocol.
var ErrReplay error = replayError{}

type replayError struct{}

func (replayError) Error() string        { return "brook: zmtp CURVE nonce replayed or out of order" }
func (replayError) Is(target error) bool { return target == transport.ErrProtocol }

// errNonceExhausted ends a connection that sent 2^64-1 commands.
var errNonceExhausted = errors.New("brook: zmtp CURVE short nonces exhausted")

// nonce24 builds a 24-byte nonce from a prefix and the nonce bytes that
// complete it.
func nonce24(prefix string, tail []byte) *[24]byte {
	var n [24]byte
	copy(n[copy(n[:], prefix):], tail)
	return &n
}

// shortNonceBytes is a short nonce as it travels: 8 bytes, big-endian.
func shortNonceBytes(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// randomNonce returns a fresh long nonce.
func randomNonce() ([]byte, error) {
	b := make([]byte, longNonce)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("brook: zmtp CURVE: no randomness: %w", err)
	}
	return b, nil
}

// dhKey is a Curve25519 secret key ready for Diffie-Hellman. The
// arithmetic is crypto/ecdh's, the implementation x/crypto's curve25519
// wraps: used directly, a key's public half is computed once, where
// curve25519.X25519 recomputes it on every call (twice the cost of each
// of the handshake's key agreements).
type dhKey struct{ k *ecdh.PrivateKey }

// newDHKey prepares a secret key (one scalar multiplication: its public
// key).
func newDHKey(secret [keySize]byte) (dhKey, error) {
	k, err := ecdh.X25519().NewPrivateKey(secret[:])
	if err != nil {
		return dhKey{}, err
	}
	return dhKey{k}, nil
}

// generateDHKey returns a fresh transient key from crypto/rand.
func generateDHKey() (dhKey, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return dhKey{}, fmt.Errorf("brook: zmtp CURVE: no randomness: %w", err)
	}
	return dhKey{k}, nil
}

// public returns the public key.
func (d dhKey) public() [keySize]byte { return [keySize]byte(d.k.PublicKey().Bytes()) }

// secret returns the secret key's bytes (to seal in a cookie).
func (d dhKey) secret() [keySize]byte { return [keySize]byte(d.k.Bytes()) }

// boxKey is NaCl's crypto_box_beforenm: HSalsa20 of the Curve25519
// product of our secret key and the peer's public key. A peer key of low
// order (a product of zero) is refused, as libsodium refuses it.
func (d dhKey) boxKey(peer *[keySize]byte) ([keySize]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(peer[:])
	if err != nil {
		return [keySize]byte{}, ErrDecrypt
	}
	s, err := d.k.ECDH(pub)
	if err != nil {
		return [keySize]byte{}, ErrDecrypt
	}
	var k, shared [keySize]byte
	copy(shared[:], s)
	clear(s)
	var zero [16]byte
	salsa.HSalsa20(&k, &zero, &shared, &salsa.Sigma)
	clear(shared[:])
	return k, nil
}

// sealBox appends Box[plain] under key and the nonce to dst.
func sealBox(dst, plain []byte, nonce *[24]byte, key *[keySize]byte) []byte {
	return secretbox.Seal(dst, plain, nonce, key)
}

// openBox returns the plaintext of a box, or ErrDecrypt.
func openBox(box []byte, nonce *[24]byte, key *[keySize]byte) ([]byte, error) {
	plain, ok := secretbox.Open(nil, box, nonce, key)
	if !ok {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// equalKeys compares two keys in constant time.
func equalKeys(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// messageBox is one direction of a CURVE connection's MESSAGE traffic:
// XSalsa20-Poly1305 under the connection's box key with nonces prefix +
// short nonce. As the 16-byte prefix is fixed, the XSalsa20 subkey
// (HSalsa20 of key and prefix) is computed once per direction, and a
// MESSAGE costs its Salsa20 blocks and Poly1305 only. The layout is
// secretbox's: the tag, then the plaintext XORed with the key stream
// from byte 32 of block 0 on (the first 32 bytes key Poly1305).
type messageBox struct {
	subKey [keySize]byte
	nonce  uint64 // sealing: the last nonce used; opening: the last one received
}

// newMessageBox keys one direction.
func newMessageBox(key *[keySize]byte, prefix string, lastNonce uint64) *messageBox {
	b := &messageBox{nonce: lastNonce}
	var p [16]byte
	copy(p[:], prefix)
	salsa.HSalsa20(&b.subKey, &p, key, &salsa.Sigma)
	return b
}

// keystream XORs data with one MESSAGE's key stream, piece by piece.
// A small message's whole stream is computed at once (one Salsa20 call,
// then SIMD XORs); a large one's is applied block by block, most of it
// by Salsa20 straight from source to destination.
type keystream struct {
	key   *[keySize]byte
	ctr   [16]byte // short nonce (big-endian), then the block number (little-endian)
	blk   [64]byte // key stream of the current block
	pos   int      // bytes of blk used
	poly  [32]byte // the message's Poly1305 key
	small []byte   // the rest of a small message's precomputed stream
	pre   [smallStream]byte
}

// smallStream is the key stream computed in one go for small messages:
// the Poly1305 key and up to 1 KiB of message.
const smallStream = 32 + 1024 + 32

// start readies ks for the message of n bytes with the given nonce and
// returns its Poly1305 key.
func (b *messageBox) start(ks *keystream, nonce uint64, n int) *[32]byte {
	ks.key = &b.subKey
	binary.BigEndian.PutUint64(ks.ctr[:8], nonce)
	ks.setBlock(0)
	if need := (32 + n + 63) &^ 63; need <= len(ks.pre) {
		pre := ks.pre[:need]
		clear(pre)
		salsa.XORKeyStream(pre, pre, &ks.ctr, ks.key)
		copy(ks.poly[:], pre[:32])
		ks.small = pre[32 : 32+n]
		return &ks.poly
	}
	ks.small = nil
	ks.next()
	copy(ks.poly[:], ks.blk[:32])
	ks.pos = 32
	return &ks.poly
}

func (ks *keystream) setBlock(n uint64) { binary.LittleEndian.PutUint64(ks.ctr[8:], n) }

func (ks *keystream) block() uint64 { return binary.LittleEndian.Uint64(ks.ctr[8:]) }

// next computes the current block's key stream and moves to the next.
func (ks *keystream) next() {
	clear(ks.blk[:])
	salsa.XORKeyStream(ks.blk[:], ks.blk[:], &ks.ctr, ks.key)
	ks.setBlock(ks.block() + 1)
	ks.pos = 0
}

// xor writes src XOR the key stream to dst (len(dst) >= len(src)); dst
// and src may be the same slice.
func (ks *keystream) xor(dst, src []byte) {
	if ks.small != nil {
		n := subtle.XORBytes(dst, src, ks.small[:len(src)])
		ks.small = ks.small[n:]
		return
	}
	if ks.pos < 64 && len(src) > 0 {
		n := min(len(src), 64-ks.pos)
		subtle.XORBytes(dst[:n], src[:n], ks.blk[ks.pos:ks.pos+n])
		ks.pos += n
		dst, src = dst[n:], src[n:]
	}
	if whole := len(src) &^ 63; whole > 0 {
		salsa.XORKeyStream(dst[:whole], src[:whole], &ks.ctr, ks.key)
		ks.setBlock(ks.block() + uint64(whole/64))
		dst, src = dst[whole:], src[whole:]
	}
	if len(src) > 0 {
		ks.next()
		subtle.XORBytes(dst[:len(src)], src, ks.blk[:len(src)])
		ks.pos = len(src)
	}
}

// sealPieces encrypts the concatenation of pieces into ct (exactly their
// total length) as the MESSAGE with the given nonce, and returns the tag
// that goes in front of it.
func (b *messageBox) sealPieces(ks *keystream, nonce uint64, ct []byte, pieces ...[]byte) [tagSize]byte {
	pk := b.start(ks, nonce, len(ct))
	off := 0
	for _, p := range pieces {
		ks.xor(ct[off:off+len(p)], p)
		off += len(p)
	}
	var tag [tagSize]byte
	poly1305.Sum(&tag, ct, pk)
	clear(pk[:])
	return tag
}

// verify checks the tag of ct (the box after its tag) under the given
// nonce, in constant time, and readies ks to decrypt ct.
func (b *messageBox) verify(ks *keystream, nonce uint64, tag *[tagSize]byte, ct []byte) bool {
	pk := b.start(ks, nonce, len(ct))
	ok := poly1305.Verify(tag, ct, pk)
	clear(pk[:])
	return ok
}

// authenticator returns a Poly1305 to write a box of n bytes (after its
// tag) into piece by piece, under the given nonce, and readies ks to
// decrypt the box. Its Verify compares in constant time.
func (b *messageBox) authenticator(ks *keystream, nonce uint64, n int) *poly1305.MAC {
	pk := b.start(ks, nonce, n)
	mac := poly1305.New(pk)
	clear(pk[:])
	return mac
}

// nextNonce returns the nonce for the next MESSAGE sent.
func (b *messageBox) nextNonce() (uint64, error) {
	if b.nonce == ^uint64(0) {
		return 0, errNonceExhausted
	}
	b.nonce++
	return b.nonce, nil
}
