package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/brookmq/brook/transport"
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
	c, err := acceptContext(ctx, l.ln)
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

// acceptContext accepts on ln until ctx ends, then fails with ctx's error.
// A connection accepted at the moment ctx ends is still returned.
func acceptContext(ctx context.Context, ln *net.TCPListener) (*net.TCPConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		return ln.AcceptTCP()
	}
	var (
		mu             sync.Mutex
		fired, stopped bool
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			fired = true
			_ = ln.SetDeadline(time.Unix(1, 0))
		}
	})
	c, err := ln.AcceptTCP()
	stop()
	mu.Lock()
	stopped = true
	if fired {
		_ = ln.SetDeadline(time.Time{})
	}
	mu.Unlock()
	if err != nil && fired {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("brook: accept on %s: %w", ln.Addr(), err)
	}
	return c, nil
}
