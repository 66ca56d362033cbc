package patterns

import (
	"context"
	"math"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/transport"
)

// fairQueue is the inbound queue of a socket: messages from all pipes in
// arrival order, each pipe holding at most hwm of them at once, so one
// busy peer cannot starve the others (fair queuing) and a slow
// application pushes back on every peer's reader. It is safe for
// concurrent use.
//
// Readers append to a shared slice; a consumer swaps that slice out whole
// and serves Pops from it, so the two sides meet on one lock per batch
// rather than per message (and a reader that hands over a batch, with
// PushBatch, takes the lock once for all of it). A pipe's allowance is
// returned message by message as the application takes them, so the
// bound is exact: a pipe never has more than hwm messages in the queue,
// whichever side of the swap they are on.
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

// fqPipe is one pipe's share of the queue. queued is changed by the
// pipe's reader (under mu) and by consumers (without it), so it is
// atomic; blocked and queued together make sure a reader waiting for room
// is always woken: it sets blocked before it checks queued, a consumer
// decrements queued before it checks blocked.
type fqPipe struct {
	p       Pipe
	queued  atomic.Int64  // messages of this pipe in the queue
	blocked atomic.Bool   // its reader waits for room
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

// roomFor is how many more messages st may queue (MaxInt: no bound).
func (q *fairQueue) roomFor(st *fqPipe) int {
	if q.hwm <= 0 {
		return math.MaxInt
	}
	return q.hwm - int(st.queued.Load())
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
		if tag != 0 || q.roomFor(st) > 0 {
			st.queued.Add(1)
			q.shared = append(q.shared, fqEntry{st: st, msg: m, tag: tag})
			q.unlockAndSignal()
			return nil
		}
		q.mu.Unlock()
		if err := q.waitRoom(ctx, st); err != nil {
			return err
		}
	}
}

// Room waits until p may queue at least one more message, and returns how
// many it may queue now (math.MaxInt without a bound). It fails with
// ctx's error, or transport.ErrClosed once the queue is closed.
func (q *fairQueue) Room(ctx context.Context, p Pipe) (int, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return 0, transport.ErrClosed
		}
		st := q.state(p)
		q.mu.Unlock()
		if n := q.roomFor(st); n > 0 {
			return n, nil
		}
		if err := q.waitRoom(ctx, st); err != nil {
			return 0, err
		}
	}
}

// PushBatch appends untagged messages from p without waiting: the caller
// asked Room first and brings no more than it allowed. It fails with
// transport.ErrClosed once the queue is closed.
func (q *fairQueue) PushBatch(p Pipe, msgs []Msg) error { return q.PushTagged(p, msgs, nil) }

// PushTagged appends messages from p with their tags (tags[i] for
// msgs[i]; nil tags: all untagged) without waiting, as Push does for a
// tagged message: the caller bounds them. It fails with
// transport.ErrClosed once the queue is closed.
func (q *fairQueue) PushTagged(p Pipe, msgs []Msg, tags []Tag) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return transport.ErrClosed
	}
	st := q.state(p)
	st.queued.Add(int64(len(msgs)))
	for i, m := range msgs {
		var tag Tag
		if tags != nil {
			tag = tags[i]
		}
		q.shared = append(q.shared, fqEntry{st: st, msg: m, tag: tag})
	}
	q.unlockAndSignal()
	return nil
}

// unlockAndSignal releases mu and wakes a waiting consumer, if any.
func (q *fairQueue) unlockAndSignal() {
	signal := q.waiters > 0
	q.mu.Unlock()
	if signal {
		q.signal()
	}
}

// waitRoom waits until st's reader has room again (or might: the caller
// checks again), ctx ends or the queue closes.
func (q *fairQueue) waitRoom(ctx context.Context, st *fqPipe) error {
	st.blocked.Store(true)
	if q.roomFor(st) > 0 {
		// A consumer took one meanwhile; if it saw blocked too, it left a
		// token that a later wait takes and checks again.
		st.blocked.Store(false)
		return nil
	}
	select {
	case <-st.room:
		return nil
	case <-ctx.Done():
		st.blocked.Store(false)
		return ctx.Err()
	case <-q.done:
		return transport.ErrClosed
	}
}

// taken gives back the room of one message the application took.
func (q *fairQueue) taken(st *fqPipe) {
	left := st.queued.Add(-1)
	if st.blocked.Load() && (q.hwm <= 0 || left < int64(q.hwm)) && st.blocked.CompareAndSwap(true, false) {
		select {
		case st.room <- struct{}{}:
		default:
		}
	}
}

func (q *fairQueue) signal() {
	select {
	case q.avail <- struct{}{}:
	default:
	}
}

// refillLocked swaps the shared slice in as the consumer's batch. Both
// locks must be held and local be used up.
func (q *fairQueue) refillLocked() {
	clear(q.local)
	q.local, q.shared, q.li = q.shared, q.local[:0], 0
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
	if e.st != nil {
		q.taken(e.st)
	}
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
	st.queued.Add(1)
	q.shared = append(q.shared, fqEntry{st: st, msg: m})
	q.unlockAndSignal()
	return true
}
