package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/netx"
)

// listener accepts TCP connections for a Transport.
type listener struct {
	t        *Transport
	ln       *net.TCPListener
	endpoint string
}

// Accept waits for a connection, honouring ctx, and returns it before the
// ZMTP handshake.
func (l *listener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := netx.AcceptContext(ctx, l.ln, l.ln.AcceptTCP)
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			return nil, fmt.Errorf("%w: %s listener", transport.ErrClosed, l.endpoint)
		}
		return nil, err
	}
	return l.t.wrap(c), nil
}

// Endpoint is the bound endpoint, with the port resolved.
func (l *listener) Endpoint() string { return l.endpoint }

// Close stops listening; Accept returns an error matching
// transport.ErrClosed.
func (l *listener) Close() error {
	err := l.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
