package socket

import (
	"errors"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// Errors returned by sockets, matched with errors.Is.
var (
	// ErrClosed is returned by every call on a closed socket, and by calls
	// that Close unblocks. errors.Is(err, net.ErrClosed) holds too.
	ErrClosed = transport.ErrClosed
	// ErrBadOption means an option's value is out of range.
	ErrBadOption = errors.New("brook: bad socket option")
	// ErrBadEndpoint means an endpoint could not be parsed.
	ErrBadEndpoint = transport.ErrBadEndpoint
	// ErrUnknownScheme means the socket has no transport for the scheme.
	ErrUnknownScheme = transport.ErrUnknownScheme
	// ErrEmptyMsg means a message with no frames was given to Send.
	ErrEmptyMsg = errors.New("brook: message has no frames")
	// ErrNotSupported means the socket type cannot do this.
	ErrNotSupported = patterns.ErrNotSupported
	// ErrState means the call is not valid in the socket's current state.
	ErrState = patterns.ErrState
	// ErrBadMsg means a message has the wrong shape for the socket type
	// (for example no routing id frame on a ROUTER).
	ErrBadMsg = patterns.ErrBadMsg
	// ErrHostUnreachable is returned by a mandatory ROUTER for an unknown
	// or full peer.
	ErrHostUnreachable = patterns.ErrHostUnreachable
	// ErrNotBound means Unbind was given an endpoint the socket does not
	// listen on; ErrNotConnected the same for Disconnect.
	ErrNotBound     = errors.New("brook: endpoint not bound")
	ErrNotConnected = errors.New("brook: endpoint not connected")
)
