package transport

import (
	"context"
	"errors"
	"fmt"
)

// Security is how a socket's stream connections secure themselves: a
// ZMTP security mechanism (RFC 23), its role and its credentials. The
// values are defined by the ZMTP engine (zmtp.PlainClient,
// zmtp.PlainServer, zmtp.NullServer, zmtp.CurveClient, *zmtp.CurveServer);
// a nil Security is ZMTP's NULL mechanism. inproc connections never leave
// the process and ignore it, as libzmq does.
type Security interface {
	// Mechanism is the mechanism's name in the ZMTP greeting: "NULL",
	// "PLAIN" or "CURVE".
	Mechanism() string
}

// Authenticator decides whether a peer may connect to a server socket:
// brook's counterpart of a ZAP handler (RFC 27). A server mechanism
// calls it once per connection, on the connection's handshake
// goroutine, with ctx ending at the handshake timeout; it must be safe
// for concurrent use.
//
// An error means no decision could be made (a ZAP handler that does not
// answer, a database that is down): the handshake fails as with status
// 500.
type Authenticator interface {
	Authenticate(ctx context.Context, req *AuthRequest) (AuthReply, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, req *AuthRequest) (AuthReply, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, req *AuthRequest) (AuthReply, error) {
	return f(ctx, req)
}

// AuthRequest is what a server knows about a peer it must authenticate:
// the fields of a ZAP request.
type AuthRequest struct {
	// Domain is the server socket's authentication domain (libzmq's
	// ZAP_DOMAIN); may be empty.
	Domain string
	// Address is the peer's network address as ZAP gives it: the IP
	// address alone for tcp ("192.0.2.7", "::1"), and for ipc the peer
	// process's credentials as "localhost:uid:gid:pid" like libzmq on
	// Linux (empty where the system cannot tell).
	Address string
	// Identity is the routing id of the authenticating socket, which is
	// what libzmq puts in ZAP's identity frame.
	Identity []byte
	// Mechanism is "NULL", "PLAIN" or "CURVE".
	Mechanism string
	// Credentials are the mechanism's: none for NULL, user name and
	// password for PLAIN, the client's 32-byte long-term public key for
	// CURVE.
	Credentials [][]byte
}

// ZAP status codes (RFC 27).
const (
	// StatusOK admits the peer.
	StatusOK = 200
	// StatusTemporary refuses the peer for now: it is disconnected
	// without an ERROR command (RFC 26) and may retry.
	StatusTemporary = 300
	// StatusDenied refuses the peer's credentials: an ERROR command
	// "400" tells it so.
	StatusDenied = 400
	// StatusInternal is a failure of the authenticator itself: an ERROR
	// command "500".
	StatusInternal = 500
)

// AuthReply is an Authenticator's answer: the fields of a ZAP reply.
type AuthReply struct {
	// Status is StatusOK, StatusTemporary, StatusDenied or
	// StatusInternal.
	Status int
	// Text explains the status; it stays on the server (in its error and
	// monitor event), the peer is only told the status code.
	Text string
	// UserID is the identity the application sees for the peer
	// (PeerInfo.UserID, and the "User-Id" property) on StatusOK.
	UserID string
	// Metadata are properties the application sees for the peer on
	// StatusOK; they override the peer's own properties of the same name.
	Metadata map[string][]byte
}

// ErrAuthFailed means a handshake was refused by authentication: our
// authenticator refused the peer's credentials, or the peer refused
// ours (it sent an ERROR with a ZAP status code). Such errors are
// *AuthError values.
var ErrAuthFailed = errors.New("brook: authentication failed")

// AuthError is a refused authentication, matching ErrAuthFailed.
type AuthError struct {
	// Status is the ZAP status code: StatusTemporary, StatusDenied or
	// StatusInternal.
	Status int
	// Text is the authenticator's explanation (empty when the peer
	// refused us: it only sends the code).
	Text string
	// ByPeer is true when the peer refused our credentials, false when
	// our authenticator refused the peer.
	ByPeer bool
}

func (e *AuthError) Error() string {
	who := "the peer refused our credentials"
	if !e.ByPeer {
		who = "the peer was refused"
	}
	if e.Text == "" {
		return fmt.Sprintf("brook: authentication failed: %s (status %d)", who, e.Status)
	}
	return fmt.Sprintf("brook: authentication failed: %s (status %d: %s)", who, e.Status, e.Text)
}

// Is makes an AuthError match ErrAuthFailed.
func (e *AuthError) Is(target error) bool { return target == ErrAuthFailed }
