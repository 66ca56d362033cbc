package zstd

import (
	"context"

	"github.com/brookmq/brook/transport"
)

// wireSlack is how far the wire size of a message may exceed its plaintext
// size: the 4-byte sentinel of each part, and a dictionary shipment (at
// most 8 KiB) when it is counted as a message of its own.
//
// The zmtp engine checks the maximum message size against the wire sizes of
// the frames before it hands them to the codec, so an uncompressed part of
// exactly the maximum size (4 bytes longer on the wire) or a dictionary
// larger than the maximum would be refused. Connections of this transport
// therefore give the engine a limit raised by wireSlack, and the codec takes
// wireSlack off the plaintext budget the engine computes from it: the limit
// the socket asked for is enforced exactly, on plaintext, before decoding. A
// message whose parts are so many that their sentinels exceed the slack
// (more than 14 thousand parts) is refused as too large.
const wireSlack = 64 << 10

// slackConn raises the engine's maximum message size by wireSlack.
type slackConn struct {
	transport.Conn
}

// Handshake runs the engine's handshake with the raised limit.
func (c slackConn) Handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	if cfg != nil && cfg.MaxMsgSize > 0 {
		raised := *cfg
		raised.MaxMsgSize += wireSlack
		cfg = &raised
	}
	return c.Conn.Handshake(ctx, cfg)
}

// plainBudget turns the budget the engine computed from the raised limit
// back into the socket's: negative still means no limit.
func plainBudget(engineBudget int64) int64 {
	if engineBudget < 0 {
		return engineBudget
	}
	if b := engineBudget - wireSlack; b >= 0 {
		return b
	}
	return 0
}

// slackListener wraps accepted connections in slackConn.
type slackListener struct {
	transport.Listener
}

// Accept returns the next connection, wrapped.
func (l slackListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return slackConn{c}, nil
}
