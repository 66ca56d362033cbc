package patterns

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/transport"
)

// loadBalancer load-balances outbound messages round-robin over its pipes, skipping
// pipes at their high-water mark, and blocks when no pipe can take a
// message (PUSH, DEALER, REQ, PAIR). It is safe for concurrent use.
type loadBalancer struct {
	mu     sync.Mutex
	pipes  []Pipe
	next   int
	wake   chan struct{} // closed when a pipe is added or becomes writable
	closed bool
	// only is the rotation's pipe while it holds exactly one and the
	// balancer is open (nil otherwise), set under mu and read without it:
	// a send to a lone pipe has no turn to take, so it tries that pipe
	// without mu (PAIR, and the common PUSH or DEALER with one peer).
	only atomic.Pointer[lbOnly]
}

// lbOnly boxes a loadBalancer's lone pipe for its atomic pointer.
type lbOnly struct{ p Pipe }

// setOnlyLocked updates only after the rotation or closed changed. mu
// must be held.
func (lb *loadBalancer) setOnlyLocked() {
	if len(lb.pipes) == 1 && !lb.closed {
		lb.only.Store(&lbOnly{p: lb.pipes[0]})
		return
	}
	lb.only.Store(nil)
}

// Add makes p eligible for messages and wakes blocked senders.
func (lb *loadBalancer) Add(p Pipe) {
	lb.mu.Lock()
	lb.pipes = append(lb.pipes, p)
	lb.setOnlyLocked()
	lb.wakeLocked()
	lb.mu.Unlock()
}

// Remove takes p out of the rotation.
func (lb *loadBalancer) Remove(p Pipe) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for i, q := range lb.pipes {
		if q.ID() == p.ID() {
			lb.pipes = append(lb.pipes[:i], lb.pipes[i+1:]...)
			if lb.next > i {
				lb.next--
			}
			if lb.next >= len(lb.pipes) {
				lb.next = 0
			}
			lb.setOnlyLocked()
			return
		}
	}
}

// Len is the number of pipes in the rotation.
func (lb *loadBalancer) Len() int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return len(lb.pipes)
}

// Writable wakes senders blocked because every pipe was full.
func (lb *loadBalancer) Writable() {
	lb.mu.Lock()
	lb.wakeLocked()
	lb.mu.Unlock()
}

func (lb *loadBalancer) wakeLocked() {
	if lb.wake != nil {
		close(lb.wake)
		lb.wake = nil
	}
}

// Close fails blocked and later sends with transport.ErrClosed.
func (lb *loadBalancer) Close() {
	lb.mu.Lock()
	lb.closed = true
	lb.setOnlyLocked()
	lb.wakeLocked()
	lb.mu.Unlock()
}

// Send hands m to the next pipe in turn that has room, and returns that
// pipe. With no pipe, or every pipe full, it waits until one has room or
// ctx ends.
func (lb *loadBalancer) Send(ctx context.Context, m Msg) (Pipe, error) {
	if o := lb.only.Load(); o != nil && o.p.TrySend(m) {
		// A send racing Remove or Close may still reach the pipe, as one
		// that took mu just before them would.
		return o.p, nil
	}
	for {
		lb.mu.Lock()
		if lb.closed {
			lb.mu.Unlock()
			return nil, transport.ErrClosed
		}
		if p := lb.tryLocked(m); p != nil {
			lb.mu.Unlock()
			return p, nil
		}
		if lb.wake == nil {
			lb.wake = make(chan struct{})
		}
		wake := lb.wake
		lb.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// TrySend is Send without waiting: it returns nil when no pipe could take
// m right now.
func (lb *loadBalancer) TrySend(m Msg) Pipe {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.closed {
		return nil
	}
	return lb.tryLocked(m)
}

func (lb *loadBalancer) tryLocked(m Msg) Pipe {
	n := len(lb.pipes)
	for i := 0; i < n; i++ {
		k := lb.next + i
		if k >= n {
			k -= n
		}
		p := lb.pipes[k]
		if p.TrySend(m) {
			lb.next = k + 1
			if lb.next == n {
				lb.next = 0
			}
			return p
		}
	}
	return nil
}
