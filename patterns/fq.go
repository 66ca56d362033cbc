package patterns

import (
	"context"
	"sync"

	"github.com/brookmq/brook/transport"
)

// FQ is the inbound queue of a socket: messages from all pipes in arrival
// order, each pipe holding at most hwm of them at once, so one busy peer
// cannot starve the others (fair queuing) and a slow application pushes
// back on every peer's reader. It is safe for concurrent use.
type FQ struct {
	mu      sync.Mutex
	hwm     int
	ring    []fqEntry
	head, n int
	pipes   map[uint64]*fqPipe
	waiters int
	avail   chan struct{} // one token per wake-up of a Pop waiter
	closed  bool
	done    chan struct{}
}

type fqEntry struct {
	p   Pipe
	st  *fqPipe
	msg Msg
}

type fqPipe struct {
	queued  int
	blocked bool
	room    chan struct{} // token: a slot freed for this pipe's reader
}

// NewFQ returns an inbound queue with a per-pipe bound of hwm messages
// (hwm <= 0: unbounded).
func NewFQ(hwm int) *FQ {
	return &FQ{
		hwm:   hwm,
		ring:  make([]fqEntry, 64),
		pipes: make(map[uint64]*fqPipe),
		avail: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

func (q *FQ) state(p Pipe) *fqPipe {
	st := q.pipes[p.ID()]
	if st == nil {
		st = &fqPipe{room: make(chan struct{}, 1)}
		q.pipes[p.ID()] = st
	}
	return st
}

// Remove forgets p's accounting; messages it already queued stay.
func (q *FQ) Remove(p Pipe) {
	q.mu.Lock()
	delete(q.pipes, p.ID())
	q.mu.Unlock()
}

// Push appends m from p, waiting while p has hwm messages queued, until
// ctx ends or the queue is closed.
func (q *FQ) Push(ctx context.Context, p Pipe, m Msg) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return transport.ErrClosed
		}
		st := q.state(p)
		if q.hwm <= 0 || st.queued < q.hwm {
			st.queued++
			q.pushLocked(fqEntry{p: p, st: st, msg: m})
			signal := q.waiters > 0
			q.mu.Unlock()
			if signal {
				select {
				case q.avail <- struct{}{}:
				default:
				}
			}
			return nil
		}
		st.blocked = true
		q.mu.Unlock()
		select {
		case <-st.room:
		case <-ctx.Done():
			return ctx.Err()
		case <-q.done:
			return transport.ErrClosed
		}
	}
}

// Inject appends m as coming from p without waiting and without counting
// it against p's high-water mark: for the few messages a pattern makes
// itself (an XPUB's cancellations when a subscriber leaves). It reports
// false, and queues nothing, once the queue is closed.
func (q *FQ) Inject(p Pipe, m Msg) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.pushLocked(fqEntry{p: p, st: &fqPipe{}, msg: m})
	signal := q.waiters > 0
	q.mu.Unlock()
	if signal {
		select {
		case q.avail <- struct{}{}:
		default:
		}
	}
	return true
}

func (q *FQ) pushLocked(e fqEntry) {
	if q.n == len(q.ring) {
		ring := make([]fqEntry, 2*len(q.ring))
		k := copy(ring, q.ring[q.head:])
		copy(ring[k:], q.ring[:q.head])
		q.ring, q.head = ring, 0
	}
	i := q.head + q.n
	if i >= len(q.ring) {
		i -= len(q.ring)
	}
	q.ring[i] = e
	q.n++
}

// TryPop returns the oldest message and its pipe without waiting.
func (q *FQ) TryPop() (Pipe, Msg, bool) {
	q.mu.Lock()
	p, m, ok := q.popLocked()
	q.mu.Unlock()
	return p, m, ok
}

func (q *FQ) popLocked() (Pipe, Msg, bool) {
	if q.n == 0 {
		return nil, Msg{}, false
	}
	e := q.ring[q.head]
	q.ring[q.head] = fqEntry{}
	q.head++
	if q.head == len(q.ring) {
		q.head = 0
	}
	q.n--
	e.st.queued--
	if e.st.blocked {
		e.st.blocked = false
		select {
		case e.st.room <- struct{}{}:
		default:
		}
	}
	if q.n > 0 && q.waiters > 0 {
		select {
		case q.avail <- struct{}{}:
		default:
		}
	}
	return e.p, e.msg, true
}

// Pop waits for the oldest message and returns it with the pipe it came
// from. Messages queued before Close are still returned; after that, Pop
// fails with transport.ErrClosed.
func (q *FQ) Pop(ctx context.Context) (Pipe, Msg, error) {
	q.mu.Lock()
	for {
		if p, m, ok := q.popLocked(); ok {
			q.mu.Unlock()
			return p, m, nil
		}
		if q.closed {
			q.mu.Unlock()
			return nil, Msg{}, transport.ErrClosed
		}
		q.waiters++
		q.mu.Unlock()
		var err error
		select {
		case <-q.avail:
		case <-ctx.Done():
			err = ctx.Err()
		case <-q.done:
		}
		q.mu.Lock()
		q.waiters--
		if err != nil {
			// Pass on a token we may have been sent to a remaining waiter.
			if q.n > 0 && q.waiters > 0 {
				select {
				case q.avail <- struct{}{}:
				default:
				}
			}
			q.mu.Unlock()
			return nil, Msg{}, err
		}
	}
}

// Len is the number of queued messages.
func (q *FQ) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Close wakes every waiter; Pop still drains what is queued, Push fails.
func (q *FQ) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.done)
	}
	q.mu.Unlock()
}
