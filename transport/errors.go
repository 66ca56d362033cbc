package transport

import (
	"errors"
	"fmt"
	"net"
)

// Errors reported by transports. They are matched with errors.Is.
var (
	// ErrClosed is returned by operations on a closed Conn or Listener.
	// errors.Is(err, net.ErrClosed) also holds for it.
	ErrClosed = closedError{}
	// ErrBadEndpoint means an endpoint string could not be parsed.
	ErrBadEndpoint = errors.New("brook: bad endpoint")
	// ErrUnknownScheme means no transport is registered for an endpoint's
	// scheme.
	ErrUnknownScheme = errors.New("brook: unknown transport scheme")
	// ErrTooLarge means a message exceeded the maximum message size.
	ErrTooLarge = errors.New("brook: message too large")
	// ErrProtocol means the peer broke the wire protocol; the connection
	// is dropped.
	ErrProtocol = errors.New("brook: protocol error")
	// ErrIncompatible means the peer's socket type cannot talk to ours
	// (for example PUB to PULL).
	ErrIncompatible = errors.New("brook: incompatible socket types")
	// ErrHandshakeTimeout means the peer did not finish the handshake in
	// time.
	ErrHandshakeTimeout = errors.New("brook: handshake timeout")
	// ErrPeerTimeout means the peer sent nothing for longer than the
	// heartbeat timeout or its announced TTL.
	ErrPeerTimeout = errors.New("brook: peer heartbeat timeout")
	// ErrAddrInUse means an endpoint is already bound.
	ErrAddrInUse = errors.New("brook: address already in use")
	// ErrNoEndpoint means an inproc endpoint has no binder (yet).
	ErrNoEndpoint = errors.New("brook: no such endpoint")
	// ErrBadCommand means a command given to WriteCommand has an invalid
	// or reserved name, or is too large.
	ErrBadCommand = errors.New("brook: invalid command")
	// ErrNotSupported means the transport cannot do what was asked (for
	// example a half-close on a stream without one).
	ErrNotSupported = errors.New("brook: not supported by this transport")
)

type closedError struct{}

func (closedError) Error() string        { return "brook: closed" }
func (closedError) Is(target error) bool { return target == net.ErrClosed }

// PeerError carries the reason a peer closed the connection with a ZMTP
// ERROR command.
type PeerError struct {
	Reason string
}

func (e *PeerError) Error() string { return fmt.Sprintf("brook: peer error: %q", e.Reason) }

// Is makes a PeerError match ErrProtocol.
func (e *PeerError) Is(target error) bool { return target == ErrProtocol }
