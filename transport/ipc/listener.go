package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/brookmq/brook/transport"
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
	c, err := acceptContext(ctx, l.ln)
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

// acceptContext accepts on ln until ctx ends, then fails with ctx's error.
// A connection accepted at the moment ctx ends is still returned.
func acceptContext(ctx context.Context, ln *net.UnixListener) (*net.UnixConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		return ln.AcceptUnix()
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
	c, err := ln.AcceptUnix()
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
