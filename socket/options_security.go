package socket

import (
	"fmt"

	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
)

// Security options. A socket speaks one ZMTP security mechanism on its
// stream connections (tcp, ipc, zstd+tcp, quic): NULL (the default),
// PLAIN or CURVE, in the client or the server role, which is independent
// of Bind and Connect, as in libzmq. inproc connections never leave the
// process and are not secured, as in libzmq. A peer that fails the
// handshake shows as an EventHandshakeFailed whose Err matches
// ErrAuthFailed (credentials refused, on either side),
// ErrMechanismMismatch (the peers speak different mechanisms, or both
// are clients or both servers) or ErrDecrypt (a CURVE box did not open:
// a client with the wrong server key, or forged data).

// Errors of the security mechanisms, matched with errors.Is.
var (
	// ErrAuthFailed means a handshake was refused by authentication: the
	// socket's authenticator refused the peer, or the peer refused the
	// socket's credentials. The error is a *transport.AuthError with the
	// ZAP status code.
	ErrAuthFailed = transport.ErrAuthFailed
	// ErrMechanismMismatch means the peer speaks another security
	// mechanism, or the same one in the same role.
	ErrMechanismMismatch = zmtp.ErrMechanismMismatch
	// ErrDecrypt means a CURVE box did not open: a client configured with
	// another server key, or data forged or damaged on the way.
	ErrDecrypt = zmtp.ErrDecrypt
)

// securityOptions collects the security options given to New.
type securityOptions struct {
	mechanism string // "" for NULL, "PLAIN", "CURVE"
	server    bool
	option    string // the option that chose the mechanism, for errors
	username  string
	password  string
	serverKey curve.Key
	keys      curve.KeyPair
	auth      transport.Authenticator
	authBy    string // the option that gave the authenticator
	domain    string
}

// choose records the mechanism an option selects, refusing a second one.
func (s *securityOptions) choose(option, mechanism string, server bool) error {
	if s.option != "" {
		return fmt.Errorf("%w: %s and %s: a socket speaks one security mechanism", ErrBadOption, s.option, option)
	}
	s.option, s.mechanism, s.server = option, mechanism, server
	return nil
}

// authenticate records an authenticator, refusing a second one.
func (s *securityOptions) authenticate(option string, a transport.Authenticator) error {
	if s.authBy != "" {
		return fmt.Errorf("%w: %s and %s both give an authenticator", ErrBadOption, s.authBy, option)
	}
	s.auth, s.authBy = a, option
	return nil
}

// WithPlainClient makes the socket a PLAIN client (RFC 24): it sends
// username and password to the servers it connects to, in clear. PLAIN
// protects nothing on the wire; use it on a trusted network, or over
// quic's TLS. Each is at most 255 bytes.
func WithPlainClient(username, password string) Option {
	return func(o *options) error {
		if len(username) > 255 || len(password) > 255 {
			return badOption("PLAIN credentials", len(username)+len(password), "user name and password are at most 255 bytes each")
		}
		o.security.username, o.security.password = username, password
		return o.security.choose("WithPlainClient", "PLAIN", false)
	}
}

// WithPlainServer makes the socket a PLAIN server: a checks every
// client's user name and password (auth.New's Authenticator, or a ZAP
// handler through auth.NewZAPClient). a is required: a PLAIN server
// that checks nothing would admit anyone.
func WithPlainServer(a transport.Authenticator) Option {
	return func(o *options) error {
		if a == nil {
			return badOption("PLAIN server authenticator", a, "must not be nil")
		}
		if err := o.security.authenticate("WithPlainServer", a); err != nil {
			return err
		}
		return o.security.choose("WithPlainServer", "PLAIN", true)
	}
}

// WithCurveServer makes the socket a CURVE server (RFC 26) with its
// long-term key pair (a pair with only the secret key is completed).
// Its clients need keys.Public. a decides which clients are admitted,
// by their long-term public keys; nil admits every client that knows
// the server's key (encryption without authorization, as libzmq without
// a ZAP handler).
func WithCurveServer(keys curve.KeyPair, a transport.Authenticator) Option {
	return func(o *options) error {
		if err := keys.Check(); err != nil {
			return fmt.Errorf("%w: CURVE server keys: %w", ErrBadOption, err)
		}
		o.security.keys = keys
		if a != nil {
			if err := o.security.authenticate("WithCurveServer", a); err != nil {
				return err
			}
		}
		return o.security.choose("WithCurveServer", "CURVE", true)
	}
}

// WithCurveClient makes the socket a CURVE client of the server whose
// long-term public key is serverKey, with its own long-term key pair
// (a pair with only the secret key is completed). Traffic is encrypted
// and authenticated end to end with keys made for each connection.
func WithCurveClient(serverKey curve.Key, keys curve.KeyPair) Option {
	return func(o *options) error {
		if serverKey.IsZero() {
			return badOption("CURVE server key", serverKey, "must be set")
		}
		if err := keys.Check(); err != nil {
			return fmt.Errorf("%w: CURVE client keys: %w", ErrBadOption, err)
		}
		o.security.serverKey, o.security.keys = serverKey, keys
		return o.security.choose("WithCurveClient", "CURVE", false)
	}
}

// WithAuthenticator has a NULL socket put every peer to a before the
// handshake completes (mechanism "NULL", no credentials), so it can
// refuse peers by address, like libzmq's NULL sockets with a ZAP
// domain. PLAIN and CURVE servers take their authenticator in
// WithPlainServer and WithCurveServer.
func WithAuthenticator(a transport.Authenticator) Option {
	return func(o *options) error {
		if a == nil {
			return badOption("authenticator", a, "must not be nil")
		}
		return o.security.authenticate("WithAuthenticator", a)
	}
}

// WithZAPDomain sets the domain passed to the authenticator with each
// request (libzmq's ZMQ_ZAP_DOMAIN), at most 255 bytes.
func WithZAPDomain(domain string) Option {
	return func(o *options) error {
		if len(domain) > 255 {
			return badOption("ZAP domain", len(domain), "at most 255 bytes")
		}
		o.security.domain = domain
		return nil
	}
}

// build returns the transport's Security for the options given, nil
// for plain NULL.
func (s *securityOptions) build() (transport.Security, error) {
	if s.authBy == "WithAuthenticator" && s.mechanism != "" {
		return nil, fmt.Errorf("%w: WithAuthenticator is for NULL sockets; give %s its authenticator", ErrBadOption, s.option)
	}
	var sec transport.Security
	switch {
	case s.mechanism == "" && s.auth == nil:
		return nil, nil
	case s.mechanism == "":
		sec = zmtp.NullServer{Authenticator: s.auth, Domain: s.domain}
	case s.mechanism == "PLAIN" && s.server:
		sec = zmtp.PlainServer{Authenticator: s.auth, Domain: s.domain}
	case s.mechanism == "PLAIN":
		sec = zmtp.PlainClient{Username: s.username, Password: s.password}
	case s.server:
		srv, err := zmtp.NewCurveServer(s.keys.Secret, s.auth, s.domain)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadOption, err)
		}
		sec = srv
	default:
		cli, err := zmtp.NewCurveClient(s.serverKey, s.keys.Public, s.keys.Secret)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadOption, err)
		}
		sec = cli
	}
	if err := zmtp.CheckSecurity(sec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOption, err)
	}
	return sec, nil
}
