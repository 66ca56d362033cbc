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

	// sink, set by the reader (SetSink), takes messages past the queue:
	// pushSome hands them to it while the reader waits on an empty queue,
	// and bypass is set meanwhile, so that nothing else is queued before
	// they are delivered. sunk counts the messages it took since the
	// reader last took a batch.
	sink   func([]transport.Msg) int
	bypass bool
	sunk   int
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
	for (len(q.msgs) == cap(q.msgs) || q.bypass) && !q.closed {
		q.writersWaiting++
		q.notFull.Wait()
		q.writersWaiting--
	}
	if q.closed {
		q.mu.Unlock()
		return transport.ErrClosed
	}
	q.msgs = append(q.msgs, m)
	if q.readerWaiting {
		q.readerWaiting = false
		q.notEmpty.Signal()
	}
	q.mu.Unlock()
	return nil
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
	if len(q.msgs) == cap(q.msgs) || q.bypass {
		q.mu.Unlock()
		return false, nil
	}
	q.msgs = append(q.msgs, m)
	if q.readerWaiting {
		q.readerWaiting = false
		q.notEmpty.Signal()
	}
	q.mu.Unlock()
	return true, nil
}

// pushSome appends as many of msgs as there is room for, in order, under
// one lock, waiting only while the queue is full. While the reader waits
// on an empty queue, it first offers them to the reader's sink, which
// delivers them past the queue (and the reader's goroutine). It returns
// how many it took (at least one unless msgs is empty or it fails), and
// fails with transport.ErrClosed once the queue is closed.
func (q *queue) pushSome(msgs []transport.Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	q.mu.Lock()
	for q.bypass && !q.closed {
		q.waitWriter()
	}
	if !q.closed && q.sink != nil && q.readerWaiting && len(q.msgs) == 0 {
		sink := q.sink
		q.bypass = true
		q.mu.Unlock()
		n := sink(msgs) // no lock held: the sink takes the reading side's
		q.mu.Lock()
		q.bypass = false
		q.sunk += n
		if q.writersWaiting > 0 {
			q.notFull.Broadcast()
		}
		if n > 0 {
			q.mu.Unlock()
			return n, nil
		}
	}
	for len(q.msgs) == cap(q.msgs) && !q.closed {
		q.waitWriter()
	}
	if q.closed {
		q.mu.Unlock()
		return 0, transport.ErrClosed
	}
	n := min(len(msgs), cap(q.msgs)-len(q.msgs))
	q.msgs = append(q.msgs, msgs[:n]...)
	if q.readerWaiting {
		q.readerWaiting = false
		q.notEmpty.Signal()
	}
	q.mu.Unlock()
	return n, nil
}

// waitWriter waits on notFull; q.mu is held.
func (q *queue) waitWriter() {
	q.writersWaiting++
	q.notFull.Wait()
	q.writersWaiting--
}

// take waits until the queue holds a message and returns all of them,
// leaving spare (emptied) in their place, with the number of messages the
// sink took meanwhile. Once the queue is closed and drained it returns
// spare and transport.ErrClosed.
func (q *queue) take(spare []transport.Msg) ([]transport.Msg, int, error) {
	q.mu.Lock()
	for len(q.msgs) == 0 {
		if q.closed {
			q.mu.Unlock()
			return spare, 0, transport.ErrClosed
		}
		q.readerWaiting = true
		q.notEmpty.Wait()
	}
	got := q.msgs
	q.msgs = spare[:0]
	sunk := q.sunk
	q.sunk = 0
	if q.writersWaiting > 0 {
		q.notFull.Broadcast()
	}
	q.mu.Unlock()
	return got, sunk, nil
}

// setSink installs (or, with nil, removes) the reader's sink; it waits
// for a delivery through the old one to end.
func (q *queue) setSink(sink func([]transport.Msg) int) {
	q.mu.Lock()
	for q.bypass {
		q.waitWriter()
	}
	q.sink = sink
	q.mu.Unlock()
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
