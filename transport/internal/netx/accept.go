// Package netx holds the little the stream transports share about
// net listeners.
package netx

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// Listener is what AcceptContext needs of a *net.TCPListener or
// *net.UnixListener.
type Listener interface {
	SetDeadline(t time.Time) error
	Addr() net.Addr
}

// AcceptContext calls accept (ln's AcceptTCP or AcceptUnix) until ctx ends,
// then fails with ctx's error: ctx ending moves ln's deadline into the past
// to unblock the call, and the deadline is cleared again afterwards. A
// connection accepted at the moment ctx ends is still returned.
func AcceptContext[C any](ctx context.Context, ln Listener, accept func() (C, error)) (C, error) {
	var zero C
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if ctx.Done() == nil {
		return accept()
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
	c, err := accept()
	stop()
	mu.Lock()
	stopped = true
	if fired {
		_ = ln.SetDeadline(time.Time{})
	}
	mu.Unlock()
	if err != nil && fired {
		return zero, ctx.Err()
	}
	if err != nil {
		return zero, fmt.Errorf("brook: accept on %s: %w", ln.Addr(), err)
	}
	return c, nil
}
