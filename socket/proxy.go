package socket

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/patterns"
)

// Proxy connects a frontend and a backend socket and moves messages
// between them in every direction their types allow, until ctx ends or a
// socket is closed, in the spirit of libzmq's zmq_proxy. If capture is
// not nil it gets a copy of every message moved. Typical pairs: ROUTER and
// DEALER (a request broker), XSUB and XPUB (a pub-sub forwarder, where
// subscriptions flow from the XPUB back to the XSUB's publishers), PULL
// and PUSH (a streamer). Use NewSteerableProxy for pause, resume and
// statistics.
func Proxy(ctx context.Context, frontend, backend, capture *Socket) error {
	p, err := NewSteerableProxy(frontend, backend, capture)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// SteerableProxy is a proxy that can be paused, resumed and asked for
// statistics while it runs (libzmq's zmq_proxy_steerable, with methods
// instead of a control socket; ending Run's ctx is TERMINATE). Its
// methods are safe for concurrent use.
type SteerableProxy struct {
	front, back, capture *Socket
	running              atomic.Bool

	mu     sync.Mutex
	paused bool
	resume chan struct{} // closed by Resume

	fwd, bwd flowCounters
	captured atomic.Uint64
	capFail  atomic.Uint64
}

// ProxyStats is a snapshot of a proxy's counters.
type ProxyStats struct {
	// FrontToBack counts messages received on the frontend and sent to
	// the backend; BackToFront the other way.
	FrontToBack, BackToFront ProxyFlow
	// Captured counts copies given to the capture socket, CaptureFailed
	// copies it refused.
	Captured, CaptureFailed uint64
	// Paused says whether the proxy is paused.
	Paused bool
}

// ProxyFlow counts one direction of a proxy.
type ProxyFlow struct {
	// Messages and Bytes count what was forwarded.
	Messages, Bytes uint64
	// Failed counts messages received but refused by the other socket
	// (for example ErrHostUnreachable from a mandatory ROUTER), and
	// messages held by a paused proxy when it stopped.
	Failed uint64
}

type flowCounters struct {
	msgs, bytes, failed atomic.Uint64
}

func (f *flowCounters) snapshot() ProxyFlow {
	return ProxyFlow{Messages: f.msgs.Load(), Bytes: f.bytes.Load(), Failed: f.failed.Load()}
}

// canRecv and canSend say which directions a socket type takes part in.
func canRecv(t Type) bool { return t != Push && t != Pub }
func canSend(t Type) bool { return t != Pull && t != Sub }

// NewSteerableProxy checks that messages can flow between frontend and
// backend at least one way and that capture (optional) can send.
func NewSteerableProxy(frontend, backend, capture *Socket) (*SteerableProxy, error) {
	if frontend == nil || backend == nil {
		return nil, fmt.Errorf("%w: proxy needs a frontend and a backend", ErrBadOption)
	}
	if frontend == backend || capture == frontend || capture == backend {
		return nil, fmt.Errorf("%w: proxy sockets must be distinct", ErrBadOption)
	}
	p := &SteerableProxy{front: frontend, back: backend, capture: capture}
	if !p.forward() && !p.backward() {
		return nil, fmt.Errorf("%w: no message can flow between %s and %s", ErrNotSupported, frontend.Type(), backend.Type())
	}
	if capture != nil && !canSend(capture.Type()) {
		return nil, fmt.Errorf("%w: capture socket %s cannot send", ErrNotSupported, capture.Type())
	}
	return p, nil
}

func (p *SteerableProxy) forward() bool  { return canRecv(p.front.Type()) && canSend(p.back.Type()) }
func (p *SteerableProxy) backward() bool { return canRecv(p.back.Type()) && canSend(p.front.Type()) }

// Run moves messages until ctx ends (returning ctx's error) or a socket
// fails for good (returning that error, matching ErrClosed for a closed
// socket). It may be called again after it returned, but not twice at
// once (ErrState).
func (p *SteerableProxy) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: proxy already running", ErrState)
	}
	defer p.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	run := func(src, dst *Socket, c *flowCounters) {
		defer wg.Done()
		if err := p.pump(ctx, src, dst, c); err != nil {
			once.Do(func() { first = err })
			cancel()
		}
	}
	if p.forward() {
		wg.Add(1)
		go run(p.front, p.back, &p.fwd)
	}
	if p.backward() {
		wg.Add(1)
		go run(p.back, p.front, &p.bwd)
	}
	wg.Wait()
	return first
}

// pump moves messages from src to dst until a fatal error.
func (p *SteerableProxy) pump(ctx context.Context, src, dst *Socket, c *flowCounters) error {
	for {
		if err := p.waitResumed(ctx); err != nil {
			return err
		}
		m, err := src.Recv(ctx)
		if err != nil {
			return p.fatal(ctx, src, err)
		}
		if err := p.waitResumed(ctx); err != nil {
			c.failed.Add(1)
			return err
		}
		if p.capture != nil {
			p.copyToCapture(ctx, m)
		}
		size := uint64(m.Size())
		if err := dst.Send(ctx, m); err != nil {
			if ferr := p.fatal(ctx, dst, err); ferr != nil {
				c.failed.Add(1)
				return ferr
			}
			c.failed.Add(1)
			continue
		}
		c.msgs.Add(1)
		c.bytes.Add(size)
	}
}

// fatal returns nil for errors that concern one message only, and the
// error that stops the proxy otherwise.
func (p *SteerableProxy) fatal(ctx context.Context, s *Socket, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrClosed):
		return fmt.Errorf("proxy: %s socket: %w", s.Type(), err)
	case errors.Is(err, ErrHostUnreachable), errors.Is(err, ErrState),
		errors.Is(err, ErrEmptyMsg), errors.Is(err, patterns.ErrBadMsg):
		return nil
	}
	return err
}

// copyToCapture sends a deep copy of m to the capture socket, so that the
// two receivers never share frame memory.
func (p *SteerableProxy) copyToCapture(ctx context.Context, m Msg) {
	frames := make([][]byte, len(m.Frames))
	for i, f := range m.Frames {
		frames[i] = append([]byte{}, f...)
	}
	if err := p.capture.Send(ctx, Msg{Frames: frames}); err != nil {
		p.capFail.Add(1)
		return
	}
	p.captured.Add(1)
}

// waitResumed returns at once unless the proxy is paused, then waits for
// Resume or ctx.
func (p *SteerableProxy) waitResumed(ctx context.Context) error {
	p.mu.Lock()
	if !p.paused {
		p.mu.Unlock()
		return nil
	}
	c := p.resume
	p.mu.Unlock()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pause stops moving messages: they stay queued in the sockets (so their
// high-water marks push back on the peers) until Resume. A message already
// received when Pause is called is held and forwarded after Resume.
func (p *SteerableProxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused = true
		p.resume = make(chan struct{})
	}
}

// Resume undoes Pause.
func (p *SteerableProxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resume)
	}
}

// Stats returns the proxy's counters (libzmq's STATISTICS command).
func (p *SteerableProxy) Stats() ProxyStats {
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	return ProxyStats{
		FrontToBack:   p.fwd.snapshot(),
		BackToFront:   p.bwd.snapshot(),
		Captured:      p.captured.Load(),
		CaptureFailed: p.capFail.Load(),
		Paused:        paused,
	}
}
