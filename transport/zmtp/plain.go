package zmtp

import (
	"fmt"

	"github.com/brookmq/brook/transport"
)

// PLAIN command names (RFC 24).
const (
	cmdHello    = "HELLO"
	cmdWelcome  = "WELCOME"
	cmdInitiate = "INITIATE"
	maxPlainStr = 255
)

// PlainClient is the client side of the PLAIN mechanism (RFC 24): it
// sends a user name and password, in clear, which the server checks.
// PLAIN protects nothing on the wire: use it on trusted networks, or
// over quic's TLS.
type PlainClient struct {
	Username, Password string
}

// Mechanism returns "PLAIN".
func (PlainClient) Mechanism() string { return mechanismPlain }

func (p PlainClient) check() error {
	if len(p.Username) > maxPlainStr || len(p.Password) > maxPlainStr {
		return fmt.Errorf("zmtp: PLAIN user name and password are at most %d bytes each", maxPlainStr)
	}
	return nil
}

// PlainServer is the server side of PLAIN: Authenticator checks each
// client's user name and password. It is required: a PLAIN server that
// checks nothing would admit anyone, and libzmq refuses that too.
type PlainServer struct {
	Authenticator transport.Authenticator
	// Domain is passed to the authenticator (libzmq's ZAP_DOMAIN).
	Domain string
}

// Mechanism returns "PLAIN".
func (PlainServer) Mechanism() string { return mechanismPlain }

func (p PlainServer) check() error {
	if p.Authenticator == nil {
		return fmt.Errorf("zmtp: a PLAIN server needs an Authenticator")
	}
	return nil
}

// libzmqPlainError is how libzmq's PLAIN writes the name of its ERROR
// command, and the only way it reads it: the C literal "\x05ERROR" is
// "\x5E" followed by "RROR", a hex escape that swallowed the E. The body
// of libzmq's PLAIN ERROR is thus "^RROR", the reason length, the reason.
const libzmqPlainError = "\x5eRROR"

// plainError is the rejection of a PLAIN server: the ERROR frame in
// libzmq's form, so that libzmq PLAIN clients (which recognise nothing
// else) report a refusal with a ZAP status code as an authentication
// failure. brook reads both forms (parseHandshakeCommand).
func plainError(err error) error {
	rej, ok := err.(*rejection)
	if !ok {
		return err
	}
	body := append([]byte(libzmqPlainError), errorData(rej.Reason)...)
	rej.Frame = append(appendFrameHeader(nil, flagCommand, len(body)), body...)
	return rej
}

// parseHandshakeCommand is parseCommand, also reading libzmq's PLAIN
// ERROR (see libzmqPlainError) as ERROR.
func parseHandshakeCommand(body []byte) (string, []byte, error) {
	name, data, err := parseCommand(body)
	if err != nil && len(body) > len(libzmqPlainError) && string(body[:len(libzmqPlainError)]) == libzmqPlainError {
		return cmdError, body[len(libzmqPlainError):], nil
	}
	return name, data, err
}

// plainClient runs the client's handshake: HELLO (credentials) at once,
// INITIATE (metadata) on WELCOME, done on READY.
type plainClient struct {
	cfg  PlainClient
	meta []byte
	step int // 0: HELLO sent, awaiting WELCOME; 1: INITIATE sent, awaiting READY
}

func newPlainClient(cfg PlainClient) *plainClient { return &plainClient{cfg: cfg} }

func (*plainClient) Name() string   { return mechanismPlain }
func (*plainClient) AsServer() bool { return false }

func (p *plainClient) Start(meta []byte) ([]byte, error) {
	p.meta = meta
	data := make([]byte, 0, 2+len(p.cfg.Username)+len(p.cfg.Password))
	data = append(data, byte(len(p.cfg.Username)))
	data = append(data, p.cfg.Username...)
	data = append(data, byte(len(p.cfg.Password)))
	data = append(data, p.cfg.Password...)
	return appendCommand(nil, cmdHello, data), nil
}

func (p *plainClient) Step(name string, data []byte) ([]byte, []byte, bool, error) {
	switch {
	case p.step == 0 && name == cmdWelcome:
		if len(data) != 0 {
			return nil, nil, false, protocolErrorf("PLAIN WELCOME carries %d bytes, want none", len(data))
		}
		p.step = 1
		return appendCommand(nil, cmdInitiate, p.meta), nil, false, nil
	case p.step == 1 && name == cmdReady:
		return nil, data, true, nil
	}
	return nil, nil, false, protocolErrorf("PLAIN server sent %s out of turn", name)
}

// plainServer runs the server's handshake: on HELLO it authenticates and
// answers WELCOME (or ERROR), on INITIATE it answers READY and is done.
type plainServer struct {
	cfg  PlainServer
	env  *authEnv
	meta []byte
	auth *peerAuth
}

func (*plainServer) Name() string   { return mechanismPlain }
func (*plainServer) AsServer() bool { return true }

func (p *plainServer) Start(meta []byte) ([]byte, error) {
	p.meta = meta
	return nil, nil
}

func (p *plainServer) Step(name string, data []byte) ([]byte, []byte, bool, error) {
	out, meta, done, err := p.step(name, data)
	return out, meta, done, plainError(err)
}

func (p *plainServer) step(name string, data []byte) ([]byte, []byte, bool, error) {
	switch {
	case p.auth == nil && name == cmdHello:
		user, pass, err := parsePlainHello(data)
		if err != nil {
			return nil, nil, false, &rejection{Reason: "malformed HELLO", Err: err}
		}
		a, err := p.env.authenticate(p.cfg.Authenticator, p.cfg.Domain, mechanismPlain, user, pass)
		if err != nil {
			return nil, nil, false, err
		}
		p.auth = a
		return appendCommand(nil, cmdWelcome), nil, false, nil
	case p.auth != nil && name == cmdInitiate:
		if _, err := parseMetadata(data); err != nil {
			return nil, nil, false, &rejection{Reason: "malformed INITIATE metadata", Err: err}
		}
		return appendCommand(nil, cmdReady, p.meta), data, true, nil
	}
	return nil, nil, false, &rejection{Reason: "unexpected " + printable(name), Err: protocolErrorf("PLAIN client sent %q out of turn", name)}
}

func (p *plainServer) peerAuth() (string, map[string][]byte) { return p.auth.peerAuth() }

// parsePlainHello decodes HELLO data: user name and password, each a
// length byte and that many bytes, and nothing after.
func parsePlainHello(data []byte) (user, pass []byte, err error) {
	user, rest, ok := cutShortString(data)
	if !ok {
		return nil, nil, protocolErrorf("PLAIN HELLO user name is truncated")
	}
	pass, rest, ok = cutShortString(rest)
	if !ok {
		return nil, nil, protocolErrorf("PLAIN HELLO password is truncated")
	}
	if len(rest) != 0 {
		return nil, nil, protocolErrorf("PLAIN HELLO has %d bytes after the password", len(rest))
	}
	return user, pass, nil
}

// cutShortString splits a length-prefixed string (one length byte) off b.
func cutShortString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return nil, nil, false
	}
	n := int(b[0])
	return b[1 : 1+n : 1+n], b[1+n:], true
}

// printable quotes a peer-given command name for an ERROR reason.
func printable(name string) string {
	if len(name) > 32 {
		name = name[:32]
	}
	return fmt.Sprintf("%q", name)
}
