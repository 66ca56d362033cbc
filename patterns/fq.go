package patterns

import (
	"context"
	"sync"

	"github.com/brookmq/brook/transport"
)

// fairQueue is the inbound queue of a socket: messages from all pipes in arrival
// order, each pipe holding at most hwm of them in the shared part at once,
// so one busy peer cannot starve the others (fair queuing) and a slow
// application pushes back on every peer's reader. It is safe for
// concurrent use.
//
// Readers append to a shared slice; a consumer swaps that slice out whole
// and serves Pops from it, so the two sides meet on one lock per batch
// rather than per message. A pipe's allowance is returned when its
// messages are swapped out, so a pipe may have up to 2*hwm messages
// between its connection and the application.
type fairQueue struct {
	mu      sync.Mutex // guards shared, pipes, waiters, closed
	hwm     int
	shared  []fqEntry
	pipes   map[uint64]*fqPipe
	waiters int
	avail   chan struct{} // one token per wake-up of a Pop waiter
	closed  bool
	done    chan struct{}

	cmu   sync.Mutex // guards local and li: the consumer side
	local []fqEntry
	li    int
}

// fqEntry holds two pointers (its pipe's state and the frames), keeping
// the write-barrier work of queueing it small, and the message's tag.
type fqEntry struct {
	st  *fqPipe
	msg Msg
	tag Tag
}

type fqPipe struct {
	p       Pipe
	queued  int
	blocked bool
	room    chan struct{} // token: room freed for this pipe's reader
}

// newFairQueue returns an inbound queue with a per-pipe bound of hwm
// messages (hwm <= 0: unbounded).
func newFairQueue(hwm int) *fairQueue {
	return &fairQueue{
		hwm:   hwm,
		pipes: make(map[uint64]*fqPipe),
		avail: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

func (q *fairQueue) state(p Pipe) *fqPipe {
	st := q.pipes[p.ID()]
	if st == nil {
		st = &fqPipe{p: p, room: make(chan struct{}, 1)}
		q.pipes[p.ID()] = st
	}
	return st
}

// Remove forgets p's accounting; messages it already queued stay.
func (q *fairQueue) Remove(p Pipe) {
	q.mu.Lock()
	delete(q.pipes, p.ID())
	q.mu.Unlock()
}

// Push appends m from p with its tag, waiting while p has hwm messages
// queued, until ctx ends or the queue is closed. A tagged message does
// not wait: the socket bounds tagged messages itself (see Tag).
func (q *fairQueue) Push(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return transport.ErrClosed
		}
		st := q.state(p)
		if q.hwm <= 0 || st.queued < q.hwm || tag != 0 {
			st.queued++
			q.shared = append(q.shared, fqEntry{st: st, msg: m, tag: tag})
			signal := q.waiters > 0
			q.mu.Unlock()
			if signal {
				q.signal()
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

func (q *fairQueue) signal() {
	select {
	case q.avail <- struct{}{}:
	default:
	}
}

// refill swaps the shared slice in as the consumer's batch and returns
// each pipe its allowance. Both locks must be held and local be used up.
func (q *fairQueue) refillLocked() {
	clear(q.local)
	q.local, q.shared, q.li = q.shared, q.local[:0], 0
	for i := range q.local {
		st := q.local[i].st
		st.queued--
		if st.blocked {
			st.blocked = false
			select {
			case st.room <- struct{}{}:
			default:
			}
		}
	}
}

// take pops from the consumer batch, refilling it from the shared slice
// when used up. It reports false when both are empty. cmu must be held.
func (q *fairQueue) take() (fqEntry, bool) {
	if q.li == len(q.local) {
		q.mu.Lock()
		if len(q.shared) == 0 {
			q.mu.Unlock()
			return fqEntry{}, false
		}
		q.refillLocked()
		more := q.waiters > 0 && len(q.local) > 1
		q.mu.Unlock()
		if more {
			q.signal()
		}
	}
	e := q.local[q.li]
	q.local[q.li] = fqEntry{}
	q.li++
	return e, true
}

func (e fqEntry) received() Received {
	r := Received{Msg: e.msg, Tag: e.tag}
	if e.st != nil {
		r.Pipe = e.st.p
	}
	return r
}

// Pop waits for the oldest message and returns it with the pipe it came
// from and its tag. Messages queued before Close are still returned;
// after that, Pop fails with transport.ErrClosed.
func (q *fairQueue) Pop(ctx context.Context) (Received, error) {
	for {
		q.cmu.Lock()
		e, ok := q.take()
		q.cmu.Unlock()
		if ok {
			return e.received(), nil
		}
		q.mu.Lock()
		if len(q.shared) > 0 {
			q.mu.Unlock()
			continue
		}
		if q.closed {
			q.mu.Unlock()
			return Received{}, transport.ErrClosed
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
		pass := err != nil && q.waiters > 0 && len(q.shared) > 0
		q.mu.Unlock()
		if err != nil {
			if pass {
				// Pass on a token we may have been sent.
				q.signal()
			}
			return Received{}, err
		}
	}
}

// Len is the number of queued messages.
func (q *fairQueue) Len() int {
	q.cmu.Lock()
	defer q.cmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.shared) + len(q.local) - q.li
}

// Close wakes every waiter; Pop still drains what is queued, Push fails.
func (q *fairQueue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.done)
	}
	q.mu.Unlock()
}

// Inject appends m from p without waiting, past the high-water mark if
// need be: for the few messages a pattern makes itself (XPUB's
// cancellations when a subscriber leaves), which must not be lost or
// block. It reports false when the queue is closed.
func (q *fairQueue) Inject(p Pipe, m Msg) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	st := q.state(p)
	st.queued++
	q.shared = append(q.shared, fqEntry{st: st, msg: m})
	signal := q.waiters > 0
	q.mu.Unlock()
	if signal {
		q.signal()
	}
	return true
}
