package inproc

import (
	"fmt"

	"github.com/brookmq/brook/transport"
)

// A Conn may be read by the goroutine that wants its messages, not only
// by a reader goroutine that passes them on: a socket's receiving
// application that finds nothing queued takes what has arrived here
// itself (TakeReady), and before it waits it arms the connection (Arm),
// so that the peer's next write wakes it (the function given to
// SetNotify) instead of the reader goroutine. A message then costs one
// goroutine wake-up between sender and receiver, as over a Go channel,
// rather than two. The reader goroutine, waiting in WaitReady, is woken
// only when no consumer is armed: it moves what arrives while the
// application is busy. The caller serialises TakeReady (a lock per
// connection), since the messages must reach their queue in order.

// SetNotify sets the function a write calls while a consumer is armed
// (Arm); it must not block. Call it before the first Arm.
func (c *Conn) SetNotify(fn func()) {
	c.in.mu.Lock()
	c.in.notify = fn
	c.in.mu.Unlock()
}

// Arm records a consumer about to wait for a message: until its Disarm,
// the peer's writes call the notify function rather than waking the
// reader goroutine. It reports whether a message already waits (then the
// consumer takes it rather than wait). Every Arm needs its Disarm.
//
// Arm and Disarm take no lock unless a message is left for the reader
// goroutine: a consumer arms and disarms once per batch it takes, while
// the writer takes the queue's lock for every message.
func (c *Conn) Arm() bool {
	q := c.in
	q.armed.Add(1)
	return q.nonEmpty.Load()
}

// Disarm ends an Arm. When the last armed consumer leaves while messages
// wait, the reader goroutine is woken to take them, so nothing waits
// unread for a consumer that has gone.
func (c *Conn) Disarm() {
	q := c.in
	if q.armed.Add(-1) != 0 || !q.nonEmpty.Load() {
		// A write after the Add sees no consumer armed and wakes the
		// reader itself.
		return
	}
	q.mu.Lock()
	if q.armed.Load() == 0 && len(q.msgs) > 0 {
		q.wakeReaderLocked()
	}
	q.mu.Unlock()
}

// Ready reports whether a message may wait unread, without locking: a
// consumer passes over a connection for which it reports false. It may
// report false while a write is under way, which then notifies an armed
// consumer (Arm) as usual.
func (c *Conn) Ready() bool { return c.in.nonEmpty.Load() }

// WaitReady waits until a message waits unread, without taking it. It
// fails as ReadMsg does once the connection is closed and drained.
func (c *Conn) WaitReady() error {
	if c.closed.Load() {
		return transport.ErrClosed
	}
	if err := c.in.waitReady(); err != nil {
		return c.readFailed()
	}
	return nil
}

// TakeReady appends to dst up to max of the messages that have arrived,
// without waiting, and returns how many of them are credited: the caller
// reports those with Settle once they are queued where they go. Commands
// are run (SetCommandHandler) or skipped on the way, as ReadMsg does.
// Once the connection is closed and drained it fails as ReadMsg does.
// Calls must not overlap, nor overlap ReadMsg or ReadMsgs.
func (c *Conn) TakeReady(dst []transport.Msg, max int) ([]transport.Msg, int, error) {
	if c.closed.Load() {
		return dst, 0, transport.ErrClosed
	}
	got, credit, room, err := c.in.takeSome(c.ready[:0], max)
	if err != nil {
		return dst, 0, c.readFailed()
	}
	if room != nil {
		c.room = room
	}
	if credit != nil {
		c.settle = credit
	}
	credited := 0
	for i := range got {
		s := got[i]
		got[i] = slot{}
		name, data, isCmd := parseCommand(s.m)
		if !isCmd {
			dst = append(dst, s.m)
			if s.kind == slotCredited {
				credited++
			}
			continue
		}
		if c.onCommand == nil {
			continue
		}
		if err := c.onCommand(name, data); err != nil {
			clear(got[i:])
			c.ready = got[:0]
			c.Close()
			return dst, credited, fmt.Errorf("inproc: %s command on %s: %w", name, c.p.addr, err)
		}
	}
	c.ready = got[:0]
	c.msgsRead += uint64(len(dst))
	return dst, credited, nil
}

// Settle reports n credited messages from TakeReady as taken to the
// writer's credit function (Conn.SetCredit), and gated ones to its gate
// room function if it waits for room (gate.go), with no lock held. Calls
// must not overlap TakeReady.
func (c *Conn) Settle(n int) {
	if n > 0 && c.settle != nil {
		c.settle(n)
	}
	if room := c.room; room != nil {
		c.room = nil
		room()
	}
}

// readFailed is the error of a read from a closed and drained queue.
func (c *Conn) readFailed() error {
	if c.closed.Load() {
		return transport.ErrClosed
	}
	return errPeerClosed
}

// waitReady waits until the queue holds a message; it fails with
// transport.ErrClosed once the queue is closed and drained.
func (q *queue) waitReady() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.msgs) == 0 {
		if q.closed {
			return transport.ErrClosed
		}
		q.readerWaiting = true
		q.notEmpty.Wait()
	}
	return nil
}

// takeSome returns up to max queued messages, oldest first, without
// waiting, with the writer's credit function (nil if none) and the
// writer's gate room function if the take gave room it waits for (nil
// otherwise; the caller calls it with no lock held). Taking all
// of them swaps the queue's slice for spare (emptied), as take does, so
// no slot is copied; taking a prefix copies it into spare and moves the
// rest to the front. It fails with transport.ErrClosed only once the
// queue is closed and drained.
func (q *queue) takeSome(spare []slot, max int) ([]slot, func(int), func(), error) {
	q.mu.Lock()
	if len(q.msgs) == 0 {
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return spare, nil, nil, transport.ErrClosed
		}
		return spare, nil, nil, nil
	}
	var got []slot
	var gated int
	if max >= len(q.msgs) {
		got, q.msgs = q.msgs, spare[:0]
		gated = q.gated // all of them went
	} else {
		got = append(spare[:0], q.msgs[:max]...)
		rest := copy(q.msgs, q.msgs[max:])
		clear(q.msgs[rest:])
		q.msgs = q.msgs[:rest]
		gated = countGated(got)
	}
	q.nonEmpty.Store(len(q.msgs) > 0)
	credit := q.credit
	room := q.takenGatedLocked(gated)
	if q.writersWaiting > 0 {
		q.notFull.Broadcast()
	}
	q.mu.Unlock()
	return got, credit, room, nil
}
