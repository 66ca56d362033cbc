package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"sync"

	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/transport"
)

// CurveFunc decides on a CURVE client by its long-term public key: ok
// admits it, with userID as its user id ("" for the key's Z85 text); an
// error counts as an internal failure (status 500). domain is the
// server socket's ZAP domain.
type CurveFunc func(ctx context.Context, domain string, key curve.Key) (userID string, ok bool, err error)

// PlainFunc decides on a PLAIN client: ok admits it, with userID as its
// user id ("" for the user name); an error counts as an internal
// failure (status 500).
type PlainFunc func(ctx context.Context, domain, username, password string) (userID string, ok bool, err error)

// Authenticator is brook's built-in authentication policy, a
// transport.Authenticator for server sockets (WithPlainServer,
// WithCurveServer, WithAuthenticator) or for ServeZAP. It is safe for
// concurrent use, and may be changed while sockets use it: a change
// applies to the handshakes that follow.
//
// The verdict on a peer:
//
//   - Addresses first. A denied address is refused; when addresses are
//     allowed, any other address is refused.
//   - NULL peers that pass the address check are admitted.
//   - PLAIN peers must give a user name and password of the password
//     table (compared in constant time), or pass the PlainFunc.
//   - CURVE peers must present a key that is allowed: any key after
//     AllowAnyCurve, a key given to AllowCurveKeys, one of the
//     certificate directory, or one the CurveFunc accepts, checked in
//     that order.
//
// With nothing configured for a mechanism its peers are refused (NULL
// excepted), as zauth refuses them.
type Authenticator struct {
	mu        sync.RWMutex
	allow     []addrRule
	deny      []addrRule
	passwords map[string][32]byte // user -> SHA-256 of the password
	plainFunc PlainFunc
	curveAny  bool
	curveKeys map[curve.Key]struct{}
	certs     *certStore
	curveFunc CurveFunc
	log       *slog.Logger
}

var _ transport.Authenticator = (*Authenticator)(nil)

// New returns an Authenticator that admits NULL peers and nothing else.
func New() *Authenticator {
	return &Authenticator{log: slog.New(slog.DiscardHandler)}
}

// SetLogger sets where decisions are logged (at debug level; refusals at
// info). The default discards.
func (a *Authenticator) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	a.mu.Lock()
	a.log = l
	a.mu.Unlock()
}

// Allow admits only peers from these addresses (every mechanism still
// checks its credentials): IP addresses, CIDR prefixes, or ipc peer
// addresses ("localhost:uid:gid:pid", a trailing ':' matching any rest).
func (a *Authenticator) Allow(addrs ...string) error {
	rules, err := parseRules(addrs)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.allow = append(a.allow, rules...)
	a.mu.Unlock()
	return nil
}

// Deny refuses peers from these addresses, whatever else allows them.
func (a *Authenticator) Deny(addrs ...string) error {
	rules, err := parseRules(addrs)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.deny = append(a.deny, rules...)
	a.mu.Unlock()
	return nil
}

func parseRules(addrs []string) ([]addrRule, error) {
	rules := make([]addrRule, 0, len(addrs))
	for _, s := range addrs {
		r, err := parseAddrRule(s)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// SetPasswords replaces the PLAIN password table: user name -> password.
func (a *Authenticator) SetPasswords(users map[string]string) {
	table := make(map[string][32]byte, len(users))
	for u, p := range users {
		table[u] = sha256.Sum256([]byte(p))
	}
	a.mu.Lock()
	a.passwords = table
	a.mu.Unlock()
}

// SetPlainFunc sets a callback for the PLAIN clients the password table
// does not admit (a directory, a database).
func (a *Authenticator) SetPlainFunc(f PlainFunc) {
	a.mu.Lock()
	a.plainFunc = f
	a.mu.Unlock()
}

// AllowAnyCurve admits every CURVE client that completes the handshake,
// whatever its key (it still proves it holds its secret key, and the
// address rules still apply).
func (a *Authenticator) AllowAnyCurve() {
	a.mu.Lock()
	a.curveAny = true
	a.mu.Unlock()
}

// AllowCurveKeys admits CURVE clients with these long-term public keys.
func (a *Authenticator) AllowCurveKeys(keys ...curve.Key) {
	a.mu.Lock()
	if a.curveKeys == nil {
		a.curveKeys = make(map[curve.Key]struct{})
	}
	for _, k := range keys {
		a.curveKeys[k] = struct{}{}
	}
	a.mu.Unlock()
}

// UseCertificateDir admits the CURVE clients whose public certificates
// are in dir (CZMQ's certificate store: every file not ending in
// "_secret", subdirectories included). The directory is read now and
// read again when it changes, so adding or removing a certificate file
// takes effect without a restart. A file that is not a certificate is
// reported (in the error here, in the log later) and skipped.
func (a *Authenticator) UseCertificateDir(dir string) error {
	s := newCertStore(dir)
	err := s.load()
	if s.keys == nil {
		return err
	}
	a.mu.Lock()
	a.certs = s
	a.mu.Unlock()
	return err
}

// SetCurveFunc sets a callback for the CURVE clients no other rule
// admits.
func (a *Authenticator) SetCurveFunc(f CurveFunc) {
	a.mu.Lock()
	a.curveFunc = f
	a.mu.Unlock()
}

// Authenticate decides on one peer (see Authenticator).
func (a *Authenticator) Authenticate(ctx context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
	reply, err := a.decide(ctx, req)
	a.mu.RLock()
	log := a.log
	a.mu.RUnlock()
	switch {
	case err != nil:
		log.Info("brook auth: error", "mechanism", req.Mechanism, "address", req.Address, "domain", req.Domain, "err", err)
	case reply.Status != transport.StatusOK:
		log.Info("brook auth: refused", "mechanism", req.Mechanism, "address", req.Address, "domain", req.Domain, "reason", reply.Text)
	default:
		log.Debug("brook auth: admitted", "mechanism", req.Mechanism, "address", req.Address, "domain", req.Domain, "user", reply.UserID)
	}
	return reply, err
}

func refused(format string, args ...any) transport.AuthReply {
	return transport.AuthReply{Status: transport.StatusDenied, Text: fmt.Sprintf(format, args...)}
}

func (a *Authenticator) decide(ctx context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
	a.mu.RLock()
	allow, deny := a.allow, a.deny
	a.mu.RUnlock()
	switch {
	case anyMatch(deny, req.Address):
		return refused("address %s is denied", req.Address), nil
	case len(allow) > 0 && !anyMatch(allow, req.Address):
		return refused("address %s is not allowed", req.Address), nil
	}
	switch req.Mechanism {
	case "NULL":
		return transport.AuthReply{Status: transport.StatusOK}, nil
	case "PLAIN":
		if len(req.Credentials) != 2 {
			return refused("PLAIN request with %d credentials", len(req.Credentials)), nil
		}
		return a.plain(ctx, req.Domain, string(req.Credentials[0]), string(req.Credentials[1]))
	case "CURVE":
		if len(req.Credentials) != 1 || len(req.Credentials[0]) != curve.KeySize {
			return refused("CURVE request without a 32-byte key"), nil
		}
		return a.curve(ctx, req.Domain, curve.Key(req.Credentials[0]))
	}
	return refused("mechanism %q is not supported", req.Mechanism), nil
}

func (a *Authenticator) plain(ctx context.Context, domain, user, pass string) (transport.AuthReply, error) {
	a.mu.RLock()
	want, ok := a.passwords[user]
	f := a.plainFunc
	a.mu.RUnlock()
	if ok {
		got := sha256.Sum256([]byte(pass))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return transport.AuthReply{Status: transport.StatusOK, UserID: user}, nil
		}
	}
	if f == nil {
		return refused("invalid user name or password"), nil
	}
	id, admit, err := f(ctx, domain, user, pass)
	switch {
	case err != nil:
		return transport.AuthReply{}, fmt.Errorf("brook: auth: PLAIN callback: %w", err)
	case !admit:
		return refused("invalid user name or password"), nil
	case id == "":
		id = user
	}
	return transport.AuthReply{Status: transport.StatusOK, UserID: id}, nil
}

func (a *Authenticator) curve(ctx context.Context, domain string, key curve.Key) (transport.AuthReply, error) {
	a.mu.RLock()
	anyKey := a.curveAny
	_, listed := a.curveKeys[key]
	certs, f, log := a.certs, a.curveFunc, a.log
	a.mu.RUnlock()
	ok := transport.AuthReply{Status: transport.StatusOK, UserID: key.String()}
	switch {
	case anyKey, listed:
		return ok, nil
	case certs != nil:
		if c, found := certs.lookup(key, log); found {
			ok.Metadata = c
			return ok, nil
		}
	}
	if f == nil {
		return refused("unknown CURVE key %s", key), nil
	}
	id, admit, err := f(ctx, domain, key)
	switch {
	case err != nil:
		return transport.AuthReply{}, fmt.Errorf("brook: auth: CURVE callback: %w", err)
	case !admit:
		return refused("unknown CURVE key %s", key), nil
	case id != "":
		ok.UserID = id
	}
	return ok, nil
}
