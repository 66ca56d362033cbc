package zmtp

import (
	"crypto/rand"
	"fmt"
	"sync"
	"time"
)

// Cookie key policy (RFC 26: the server forgets a cookie key after a
// short interval, 60 s for example).
const (
	// cookieKeyLife is how long a cookie key seals new cookies; it opens
	// them for as long again, so a cookie is good for 60 to 120 s.
	cookieKeyLife = time.Minute
	// maxCookieUses retires a key early once it has admitted this many
	// INITIATEs, which bounds the memory of used cookies (about 1 MiB
	// per key at the worst).
	maxCookieUses = 1 << 14
)

// cookieJar holds a CURVE server's cookie keys: the current one seals
// the cookies of new WELCOMEs, the previous one still opens what it
// sealed. A cookie carries the client's transient public key C' and the
// server's transient secret key s' for its connection, so the server
// keeps nothing per client between WELCOME and INITIATE. Each key
// remembers which of its cookies were used, and a cookie is accepted
// once: an INITIATE replayed, on this connection or another, is refused.
type cookieJar struct {
	mu   sync.Mutex
	now  func() time.Time
	cur  *cookieKey
	prev *cookieKey
}

type cookieKey struct {
	key  [keySize]byte
	born time.Time
	used map[[longNonce]byte]struct{}
}

func newCookieJar() *cookieJar { return &cookieJar{now: time.Now} }

// rotate retires keys that are too old or used up; j.mu must be held.
func (j *cookieJar) rotate() error {
	now := j.now()
	if j.cur != nil && (now.Sub(j.cur.born) >= cookieKeyLife || len(j.cur.used) >= maxCookieUses) {
		j.prev, j.cur = j.cur, nil
	}
	if j.prev != nil && now.Sub(j.prev.born) >= 2*cookieKeyLife {
		j.prev = nil
	}
	if j.cur != nil {
		return nil
	}
	k := &cookieKey{born: now, used: make(map[[longNonce]byte]struct{})}
	if _, err := rand.Read(k.key[:]); err != nil {
		return fmt.Errorf("brook: zmtp CURVE: no randomness: %w", err)
	}
	j.cur = k
	return nil
}

// seal returns the cookie for a client's transient public key and the
// server's transient secret key: a long nonce and Box[C' + s'](K).
func (j *cookieJar) seal(clientTransient, serverTransientSecret *[keySize]byte) ([]byte, error) {
	nonce, err := randomNonce()
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	if err := j.rotate(); err != nil {
		j.mu.Unlock()
		return nil, err
	}
	key := j.cur.key
	j.mu.Unlock()
	var plain [2 * keySize]byte
	copy(plain[:], clientTransient[:])
	copy(plain[keySize:], serverTransientSecret[:])
	cookie := make([]byte, 0, cookieSize)
	cookie = append(cookie, nonce...)
	cookie = sealBox(cookie, plain[:], nonce24(prefixCookie, nonce), &key)
	clear(plain[:])
	clear(key[:])
	return cookie, nil
}

// open recovers C' and s' from a cookie (cookieSize bytes) and marks it
// used. It fails with ErrDecrypt for a cookie no live key sealed
// (forged, or expired) and with ErrReplay for one already used.
func (j *cookieJar) open(cookie []byte) (clientTransient, serverTransientSecret [keySize]byte, err error) {
	var nonce [longNonce]byte
	copy(nonce[:], cookie[:longNonce])
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.rotate(); err != nil {
		return clientTransient, serverTransientSecret, err
	}
	for _, k := range []*cookieKey{j.cur, j.prev} {
		if k == nil {
			continue
		}
		plain, err := openBox(cookie[longNonce:], nonce24(prefixCookie, nonce[:]), &k.key)
		if err != nil {
			continue
		}
		if _, dup := k.used[nonce]; dup {
			clear(plain)
			return clientTransient, serverTransientSecret, ErrReplay
		}
		k.used[nonce] = struct{}{}
		copy(clientTransient[:], plain[:keySize])
		copy(serverTransientSecret[:], plain[keySize:])
		clear(plain)
		return clientTransient, serverTransientSecret, nil
	}
	return clientTransient, serverTransientSecret, ErrDecrypt
}
