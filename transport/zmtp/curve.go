package zmtp

import (
	"fmt"

	"golang.org/x/crypto/curve25519"

	"github.com/brookmq/brook/transport"
)

// CurveClient is the client side of the CURVE mechanism (RFC 25 and 26,
// CurveZMQ): it knows the server's long-term public key and proves its
// own long-term key pair. Traffic is encrypted and authenticated
// (XSalsa20-Poly1305) under keys made for the connection and forgotten
// with it.
//
// A connection's handshake takes four Curve25519 multiplications on
// the client, plus one to ready the long-term secret key (which gives
// its public key as well). A *CurveClient made by NewCurveClient readies
// that key once for all its connections; a CurveClient value works as
// well, at five multiplications per connection.
type CurveClient struct {
	// ServerKey is the server's long-term public key.
	ServerKey [32]byte
	// PublicKey and SecretKey are the client's long-term key pair; a
	// zero PublicKey is computed from SecretKey.
	PublicKey, SecretKey [32]byte

	prepared *preparedKey // the key pair NewCurveClient checked, ready
}

// preparedKey is a client's long-term key pair, checked, with the
// secret key ready for Diffie-Hellman.
type preparedKey struct {
	public, secret [32]byte
	key            dhKey
}

// NewCurveClient returns the client side of CURVE for a server's public
// key and the client's long-term key pair (a zero public key is
// computed), checked and prepared for many connections.
func NewCurveClient(serverKey, publicKey, secretKey [32]byte) (*CurveClient, error) {
	c, k, err := CurveClient{ServerKey: serverKey, PublicKey: publicKey, SecretKey: secretKey}.keys()
	if err != nil {
		return nil, err
	}
	c.prepared = &preparedKey{public: c.PublicKey, secret: c.SecretKey, key: k}
	return &c, nil
}

// Mechanism returns "CURVE".
func (CurveClient) Mechanism() string { return mechanismCurve }

// keys checks the client's keys and returns them complete, with the
// secret key ready for Diffie-Hellman. Keys NewCurveClient prepared, and
// not changed since, are taken as they are: no multiplication.
func (c CurveClient) keys() (CurveClient, dhKey, error) {
	switch {
	case c.ServerKey == [32]byte{}:
		return c, dhKey{}, fmt.Errorf("zmtp: CURVE client has no server key")
	case c.SecretKey == [32]byte{}:
		return c, dhKey{}, fmt.Errorf("zmtp: CURVE client has no secret key")
	}
	if p := c.prepared; p != nil && equalKeys(c.SecretKey[:], p.secret[:]) &&
		(c.PublicKey == [32]byte{} || equalKeys(c.PublicKey[:], p.public[:])) {
		c.PublicKey = p.public
		return c, p.key, nil
	}
	k, err := newDHKey(c.SecretKey)
	if err != nil {
		return c, dhKey{}, fmt.Errorf("zmtp: CURVE secret key: %w", err)
	}
	pub := k.public()
	if pub == [32]byte{} {
		return c, dhKey{}, fmt.Errorf("zmtp: CURVE secret key gives no public key")
	}
	if c.PublicKey == [32]byte{} {
		c.PublicKey = pub
	} else if !equalKeys(c.PublicKey[:], pub[:]) {
		return c, dhKey{}, fmt.Errorf("zmtp: CURVE client public key does not belong to its secret key")
	}
	return c, k, nil
}

// CurveServer is the server side of CURVE. Make it with NewCurveServer
// and share it among the connections of a socket: it holds the keys
// that seal its cookies (RFC 26), so that between its WELCOME and the
// client's INITIATE the server keeps nothing for the client.
type CurveServer struct {
	public  [32]byte
	secret  dhKey
	auth    transport.Authenticator
	domain  string
	cookies *cookieJar
}

// NewCurveServer returns the server side of CURVE for the long-term
// secret key. Clients are put to a (mechanism "CURVE", their long-term
// public key as the credential); with a nil a every client that knows
// the server's public key is admitted (encryption without
// authorization, libzmq's behaviour without a ZAP handler). domain is
// passed to a (libzmq's ZAP_DOMAIN).
func NewCurveServer(secret [32]byte, a transport.Authenticator, domain string) (*CurveServer, error) {
	if secret == [32]byte{} {
		return nil, fmt.Errorf("zmtp: CURVE server has no secret key")
	}
	key, err := newDHKey(secret)
	if err != nil {
		return nil, fmt.Errorf("zmtp: CURVE secret key: %w", err)
	}
	return &CurveServer{public: key.public(), secret: key, auth: a, domain: domain, cookies: newCookieJar()}, nil
}

// Mechanism returns "CURVE".
func (*CurveServer) Mechanism() string { return mechanismCurve }

// PublicKey returns the server's long-term public key, which its clients
// need.
func (s *CurveServer) PublicKey() [32]byte { return s.public }

// publicKeyOf computes the public key of a secret key.
func publicKeyOf(secret [32]byte) ([32]byte, error) {
	var pub, sec [32]byte
	sec = secret
	curve25519.ScalarBaseMult(&pub, &sec)
	if pub == [32]byte{} {
		return pub, fmt.Errorf("zmtp: CURVE secret key gives no public key")
	}
	return pub, nil
}
