package inproc

import (
	"context"
	"sync"

	"github.com/brookmq/brook/transport"
)

// Listener is a bound inproc name. It implements transport.Listener:
// Accept may be called by one goroutine at a time, Close by any.
type Listener struct {
	ns   *Namespace
	name string

	mu      sync.Mutex
	closed  bool
	backlog []*Conn       // accepter ends of Dials not yet accepted
	ready   chan struct{} // capacity 1: a Conn was added to backlog
	done    chan struct{} // closed by Close
	once    sync.Once
}

func newListener(ns *Namespace, name string) *Listener {
	return &Listener{
		ns:    ns,
		name:  name,
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

// connect makes a connection, queues its accepting end and returns the
// dialling end, or nil when the Listener is closed. It never blocks: a
// Dial to a bound name completes at once, whether or not anyone is in
// Accept.
func (l *Listener) connect() *Conn {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	dialer, accepter := newPair(l.name)
	l.backlog = append(l.backlog, accepter)
	l.mu.Unlock()
	select {
	case l.ready <- struct{}{}:
	default:
	}
	return dialer
}

// Accept returns the next connection dialled to this name, waiting until
// one arrives, ctx ends (ctx's error) or the Listener is closed (an error
// matching transport.ErrClosed). The Conn has not shaken hands yet.
func (l *Listener) Accept(ctx context.Context) (transport.Conn, error) {
	for {
		l.mu.Lock()
		if len(l.backlog) > 0 {
			c := l.backlog[0]
			l.backlog[0] = nil
			l.backlog = l.backlog[1:]
			l.mu.Unlock()
			return c, nil
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return nil, transport.ErrClosed
		}
		select {
		case <-l.ready:
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Endpoint returns "inproc://name".
func (l *Listener) Endpoint() string { return "inproc://" + l.name }

// Close frees the name, so it can be bound again, and unblocks Accept.
// Connections already accepted keep working; those dialled but not yet
// accepted are closed, so their dialling side fails its handshake. Dials
// still waiting for the name keep waiting for the next binder. Close is
// safe to call more than once and always returns nil.
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.ns.unbind(l)
		l.mu.Lock()
		l.closed = true
		pending := l.backlog
		l.backlog = nil
		l.mu.Unlock()
		close(l.done)
		for _, c := range pending {
			c.Close()
		}
	})
	return nil
}

var _ transport.Listener = (*Listener)(nil)
