package zmtp

import (
	"context"
	"sync"
	"time"
)

// deadliner is implemented by streams with deadlines (net.Conn, quic
// streams).
type deadliner interface {
	SetDeadline(time.Time) error
}

// handshakeGuard cuts a handshake short when its timeout passes or its ctx
// ends: it sets an expired deadline on streams that have deadlines, and
// closes the others.
type handshakeGuard struct {
	mu      sync.Mutex
	fired   bool
	stopped bool
	cut     func()
	timer   *time.Timer
	stopCtx func() bool
}

// startGuard arms a guard for ctx and timeout (zero = none).
func (c *Conn) startGuard(ctx context.Context, timeout time.Duration) *handshakeGuard {
	g := &handshakeGuard{}
	if d, ok := c.rw.(deadliner); ok {
		g.cut = func() { _ = d.SetDeadline(time.Unix(1, 0)) }
	} else {
		g.cut = func() { _ = c.rw.Close() }
	}
	if timeout > 0 {
		g.timer = time.AfterFunc(timeout, g.fire)
	}
	g.stopCtx = context.AfterFunc(ctx, g.fire)
	return g
}

func (g *handshakeGuard) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.fired = true
	g.cut()
}

// stop disarms the guard and reports whether it fired. After stop returns
// the guard does nothing more to the stream.
func (g *handshakeGuard) stop() bool {
	if g.timer != nil {
		g.timer.Stop()
	}
	g.stopCtx()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	return g.fired
}
