package inproc

import (
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/transport"
)

// QueueCapacity is how many messages one direction of an inproc
// connection holds before WriteMsg blocks. A socket above counts what it
// writes here against its high-water mark until the peer takes it
// (Conn.SetCredit); this bound only keeps a runaway writer from growing
// memory without limit. It is above the sockets' default high-water mark,
// so a socket's sender finds room and hands each message over itself
// rather than through its pipe's writer goroutine: one queue and one
// goroutine fewer between sender and receiver. The queue's memory grows
// with what waits in it, not with this bound.
const QueueCapacity = 1024

// queueStart is the capacity a queue's slices start with; they grow, up
// to QueueCapacity, only while that many messages wait.
const queueStart = 16

// queue is one direction of a connection. Writers append to msgs; the
// single reader swaps msgs for its own emptied batch, taking every pending
// message under one lock. Both slices keep the capacity they grew to, so
// the steady state allocates nothing.
type queue struct {
	mu       sync.Mutex
	notEmpty sync.Cond // the reader waits here for a message or close
	notFull  sync.Cond // writers wait here for room or close
	msgs     []slot
	closed   bool
	// credit, once set (Conn.SetCredit), is told how many credited
	// messages the reader has taken; tryPush and pushSome credit theirs.
	credit func(n int)
	// readerWaiting and writersWaiting say whether a Signal/Broadcast is
	// needed, so the fast path skips it.
	readerWaiting  bool
	writersWaiting int
	// armed counts the consumers that read this queue themselves
	// (source.go) and wait for a message: a write then calls notify and
	// leaves the reader asleep, so a message costs one wake-up. It is
	// changed without mu (Arm, Disarm) and read by writers under it: a
	// consumer adds itself, then looks at nonEmpty; the write that sets
	// nonEmpty then looks at armed, so one of them sees the other.
	armed  atomic.Int32
	notify func()
	// nonEmpty mirrors len(msgs) > 0, set under mu and read without it
	// (Conn.Ready), so a consumer can pass over an empty queue without
	// taking its lock.
	nonEmpty atomic.Bool
	// The gate (gate.go): gated counts the gated messages waiting,
	// gateLimit bounds it for TryWriteGated (0: closed), and gateWait
	// says a writer found its bound full and waits for gateRoom.
	gated     int
	gateLimit int
	gateWait  bool
	gateRoom  func()
}

func (q *queue) init() {
	q.notEmpty.L = &q.mu
	q.notFull.L = &q.mu
	q.msgs = make([]slot, 0, queueStart)
}

// slot is one queued message; its kind says how the reader reports it
// taken.
type slot struct {
	m    transport.Msg
	kind uint8
}

// Kinds of slot.
const (
	slotPlain    = iota // not counted by the writer
	slotCredited        // reported to the writer's credit function (SetCredit)
	slotGated           // counted in the queue's gated (gate.go)
)

// creditKind is the kind of a credited write: slotCredited once the
// writer has set a credit function. (mu held)
func (q *queue) creditKind() uint8 {
	if q.credit != nil {
		return slotCredited
	}
	return slotPlain
}

// push appends m, waiting while the queue is full. It fails with
// transport.ErrClosed once the queue is closed.
func (q *queue) push(m transport.Msg) error {
	q.mu.Lock()
	if err := q.waitRoomLocked(); err != nil {
		q.mu.Unlock()
		return err
	}
	q.msgs = append(q.msgs, slot{m: m})
	q.wakeLocked(1)
	q.mu.Unlock()
	return nil
}

// waitRoomLocked waits while the queue is full; it fails with
// transport.ErrClosed once the queue is closed. (mu held)
func (q *queue) waitRoomLocked() error {
	for len(q.msgs) >= QueueCapacity && !q.closed {
		q.writersWaiting++
		q.notFull.Wait()
		q.writersWaiting--
	}
	if q.closed {
		return transport.ErrClosed
	}
	return nil
}

// wakeLocked tells of the n messages just appended: an armed consumer
// if there is one, otherwise the reader if it waits. The armed consumer
// is told only when they are the first to wait: one that armed while
// messages waited did not wait (Arm reported them), and one that armed
// on an empty queue was told by the write that ended its emptiness, so a
// stream of writes costs one notification per batch the consumer takes,
// not one per message. (mu held)
func (q *queue) wakeLocked(n int) {
	first := len(q.msgs) == n
	if first {
		q.nonEmpty.Store(true)
	}
	if q.armed.Load() > 0 && q.notify != nil {
		if first {
			q.notify()
		}
		return
	}
	q.wakeReaderLocked()
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
	if len(q.msgs) >= QueueCapacity {
		q.mu.Unlock()
		return false, nil
	}
	q.msgs = append(q.msgs, slot{m: m, kind: q.creditKind()})
	q.wakeLocked(1)
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
	n := min(len(msgs), QueueCapacity-len(q.msgs))
	kind := q.creditKind()
	for _, m := range msgs[:n] {
		q.msgs = append(q.msgs, slot{m: m, kind: kind})
	}
	q.wakeLocked(n)
	q.mu.Unlock()
	return n, nil
}

// setCredit installs the writer's credit function (see Conn.SetCredit).
func (q *queue) setCredit(fn func(n int)) {
	q.mu.Lock()
	q.credit = fn
	q.mu.Unlock()
}

// take waits until the queue holds a message and returns all of them,
// leaving spare (emptied) in their place, with the writer's credit
// function (nil if none). Once the queue is closed and drained it
// returns spare and transport.ErrClosed. The gated messages among them
// still count in gated (gate.go) until the reader returns them.
func (q *queue) take(spare []slot) ([]slot, func(int), error) {
	q.mu.Lock()
	for len(q.msgs) == 0 {
		if q.closed {
			q.mu.Unlock()
			return spare, nil, transport.ErrClosed
		}
		q.readerWaiting = true
		q.notEmpty.Wait()
	}
	got, credit := q.msgs, q.credit
	q.msgs = spare[:0]
	q.nonEmpty.Store(false)
	if q.writersWaiting > 0 {
		q.notFull.Broadcast()
	}
	q.mu.Unlock()
	return got, credit, nil
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
