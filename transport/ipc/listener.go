package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/netx"
)

// listener accepts unix socket connections for a Transport.
type listener struct {
	t         *Transport
	ln        *net.UnixListener
	path      string
	tmpDir    string // created for "ipc://*", removed on Close
	closeOnce sync.Once
	closeErr  error
}

// Accept waits for a connection, honouring ctx, and returns it before the
// ZMTP handshake.
func (l *listener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := netx.AcceptContext(ctx, l.ln, l.ln.AcceptUnix)
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			return nil, fmt.Errorf("%w: %s listener", transport.ErrClosed, l.Endpoint())
		}
		return nil, err
	}
	return l.t.wrap(c, l.path), nil
}

// Endpoint is "ipc://" followed by the bound path.
func (l *listener) Endpoint() string { return "ipc://" + l.path }

// Close stops listening and removes the socket file (and the temporary
// directory of a wildcard bind).
func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = l.ln.Close() // also unlinks the socket file
		if l.tmpDir != "" {
			if err := os.RemoveAll(l.tmpDir); err != nil && l.closeErr == nil {
				l.closeErr = err
			}
		}
	})
	return l.closeErr
}
