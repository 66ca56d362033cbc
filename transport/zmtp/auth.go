package zmtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/brookmq/brook/transport"
)

// authEnv is what a server mechanism needs to call its authenticator:
// the handshake's context and deadline, which bound the call, and the
// request fields that do not depend on the mechanism. (Close does not
// interrupt a call in progress: the socket ends a handshake through its
// context.)
type authEnv struct {
	ctx      context.Context
	deadline time.Time // zero: none
	address  string
	identity []byte
}

// peerAuth is the outcome of a successful authentication.
type peerAuth struct {
	userID   string
	metadata map[string][]byte
}

func (p *peerAuth) peerAuth() (string, map[string][]byte) { return p.userID, p.metadata }

// authenticate asks a for a verdict on the peer and returns it: nil when
// it is admitted, a *rejection carrying the status code as the ERROR
// reason for StatusDenied and StatusInternal (and for an authenticator
// error, which counts as StatusInternal), and a bare error for
// StatusTemporary, after which the peer is disconnected without an
// ERROR (RFC 26). Every refusal matches transport.ErrAuthFailed.
func (e *authEnv) authenticate(a transport.Authenticator, domain, mechanism string, creds ...[]byte) (*peerAuth, error) {
	ctx, cancel := e.callContext()
	defer cancel()
	req := &transport.AuthRequest{
		Domain:      domain,
		Address:     e.address,
		Identity:    e.identity,
		Mechanism:   mechanism,
		Credentials: creds,
	}
	reply, err := a.Authenticate(ctx, req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			// The handshake's time is up, or its context ended.
			return nil, fmt.Errorf("%w: %s authentication did not finish: %w", transport.ErrHandshakeTimeout, mechanism, err)
		}
		reply = transport.AuthReply{Status: transport.StatusInternal, Text: err.Error()}
	}
	switch reply.Status {
	case transport.StatusOK:
		return &peerAuth{userID: reply.UserID, metadata: reply.Metadata}, nil
	case transport.StatusTemporary:
		return nil, &transport.AuthError{Status: reply.Status, Text: reply.Text}
	case transport.StatusDenied, transport.StatusInternal:
	default:
		reply = transport.AuthReply{Status: transport.StatusInternal, Text: fmt.Sprintf("authenticator answered with status %d", reply.Status)}
	}
	return nil, &rejection{
		Reason: fmt.Sprint(reply.Status),
		Err:    &transport.AuthError{Status: reply.Status, Text: reply.Text},
	}
}

// callContext bounds an authenticator call by the handshake's context
// and deadline.
func (e *authEnv) callContext() (context.Context, context.CancelFunc) {
	if e.deadline.IsZero() {
		return context.WithCancel(e.ctx)
	}
	return context.WithDeadline(e.ctx, e.deadline)
}

// zapAddress is the peer's address as ZAP gives it (RFC 27, and libzmq's
// choices): the IP address of a tcp peer, the credentials of an ipc
// peer process as "localhost:uid:gid:pid" (as libzmq on Linux), else
// the host part of the remote address, if it has one.
func zapAddress(rw io.ReadWriteCloser, remote string) string {
	if rc, ok := rw.(interface{ RemoteAddr() net.Addr }); ok {
		switch a := rc.RemoteAddr().(type) {
		case *net.TCPAddr:
			return a.IP.String()
		case *net.UnixAddr:
			return unixPeerCredentials(rw)
		}
	}
	if _, rest, ok := strings.Cut(remote, "://"); ok {
		remote = rest
	}
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return ""
}
