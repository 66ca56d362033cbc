package inproc

import (
	"sync"

	"github.com/brookmq/brook/transport"
)

// QueueCapacity is how many messages one direction of an inproc
// connection holds before WriteMsg blocks. The socket above keeps its own
// high-water-mark queues; this bound only keeps a runaway writer from
// growing memory without limit.
const QueueCapacity = 64

// queue is one direction of a connection. Writers append to msgs; the
// single reader swaps msgs for its own emptied batch, taking every pending
// message under one lock. Both slices keep capacity QueueCapacity, so the
// steady state allocates nothing.
type queue struct {
	mu       sync.Mutex
	notEmpty sync.Cond // the reader waits here for a message or close
	notFull  sync.Cond // writers wait here for room or close
	msgs     []transport.Msg
	closed   bool
	// readerWaiting and writersWaiting say whether a Signal/Broadcast is
	// needed, so the fast path skips it.
	readerWaiting  bool
	writersWaiting int
}

func (q *queue) init() {
	q.notEmpty.L = &q.mu
	q.notFull.L = &q.mu
	q.msgs = make([]transport.Msg, 0, QueueCapacity)
}

// push appends m, waiting while the queue is full. It fails with
// transport.ErrClosed once the queue is closed.
func (q *queue) push(m transport.Msg) error {
	q.mu.Lock()
	if err := q.waitRoomLocked(); err != nil {
		q.mu.Unlock()
		return err
	}
	q.msgs = append(q.msgs, m)
	q.wakeReaderLocked()
	q.mu.Unlock()
	return nil
}

// waitRoomLocked waits while the queue is full; it fails with
// transport.ErrClosed once the queue is closed. (mu held)
func (q *queue) waitRoomLocked() error {
	for len(q.msgs) == cap(q.msgs) && !q.closed {
		q.writersWaiting++
		q.notFull.Wait()
		q.writersWaiting--
	}
	if q.closed {
		return transport.ErrClosed
	}
	return nil
}

// wakeReaderLocked wakes the reader if it waits for a message. (mu held)
func (q *queue) wakeReaderLocked() {
	if q.readerWaiting {
		q.readerWaiting = false
		q.notEmpty.Signal()
	}
}

// tryPush appends m if there is room, without waiting. It reports false
// when the queue is full, and fails with transport.ErrClosed once it is
// closed.
func (q *queue) tryPush(m transport.Msg) (bool, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, transport.ErrClosed
	}
	if len(q.msgs) == cap(q.msgs) {
		q.mu.Unlock()
		return false, nil
	}
	q.msgs = append(q.msgs, m)
	q.wakeReaderLocked()
	q.mu.Unlock()
	return true, nil
}

// pushSome appends as many of msgs as there is room for, in order, under
// one lock, waiting only while the queue is full. It returns how many it
// appended (at least one unless msgs is empty or it fails), and fails
// with transport.ErrClosed once the queue is closed.
func (q *queue) pushSome(msgs []transport.Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	q.mu.Lock()
	if err := q.waitRoomLocked(); err != nil {
		q.mu.Unlock()
		return 0, err
	}
	n := min(len(msgs), cap(q.msgs)-len(q.msgs))
	q.msgs = append(q.msgs, msgs[:n]...)
	q.wakeReaderLocked()
	q.mu.Unlock()
	return n, nil
}

// take waits until the queue holds a message and returns all of them,
// leaving spare (emptied) in their place. Once the queue is closed and
// drained it returns spare and transport.ErrClosed.
func (q *queue) take(spare []transport.Msg) ([]transport.Msg, error) {
	q.mu.Lock()
	for len(q.msgs) == 0 {
		if q.closed {
			q.mu.Unlock()
			return spare, transport.ErrClosed
		}
		q.readerWaiting = true
		q.notEmpty.Wait()
	}
	got := q.msgs
	q.msgs = spare[:0]
	if q.writersWaiting > 0 {
		q.notFull.Broadcast()
	}
	q.mu.Unlock()
	return got, nil
}

// close stops further pushes and wakes everyone waiting. Messages already
// queued stay readable.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.notEmpty.Broadcast()
	q.notFull.Broadcast()
	q.mu.Unlock()
}
