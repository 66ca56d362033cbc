package inproc

import "github.com/brookmq/brook/transport"

// The gate lets a writer that bounds what it holds (a socket's pipe and
// its send high-water mark) hand messages over with the queue's lock
// alone. The writer opens the gate with the room it may still use; each
// gated write (TryWriteGated) takes a unit of that room under the lock
// that appends the message, and the reader gives the unit back under the
// lock that takes it. The count of gated messages waiting is therefore
// exact at every moment, without a second lock per message on either
// side, and the writer counts it in its bound (Gated) rather than its
// own counter. Closing the gate (CloseGate) makes every later gated write
// fail, so a writer that must keep an order with messages it queues
// elsewhere closes it first.

// SetGateRoom sets the function the reader calls, with no lock held,
// when it takes a gated message after a CloseGate that found the gated
// messages using up the room it was asked about: the writer's bound has
// room again. It must not block. Call it before the first OpenGate.
func (c *Conn) SetGateRoom(fn func()) {
	q := c.out
	q.mu.Lock()
	q.gateRoom = fn
	q.mu.Unlock()
}

// OpenGate lets gated writes in while fewer than limit gated messages
// wait unread (limit counts those already waiting).
func (c *Conn) OpenGate(limit int) {
	q := c.out
	q.mu.Lock()
	q.gateLimit = limit
	q.mu.Unlock()
}

// CloseGate makes later gated writes fail until the next OpenGate and
// returns how many gated messages wait unread. When they number at least
// need (and some wait), the writer's bound is taken to be full: the
// reader calls the SetGateRoom function when it takes one of them.
func (c *Conn) CloseGate(need int) int {
	q := c.out
	q.mu.Lock()
	q.gateLimit = 0
	n := q.gated
	if n > 0 && n >= need {
		q.gateWait = true
	}
	q.mu.Unlock()
	return n
}

// Gated returns how many gated messages wait unread.
func (c *Conn) Gated() int {
	q := c.out
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.gated
}

// TryWriteGated hands m to the peer as TryWriteMsg does, but only while
// the gate is open and has room (OpenGate): it reports false, keeping
// nothing, otherwise or when QueueCapacity messages wait. The message is
// not credited (SetCredit): it counts in Gated until the peer takes it.
// It fails as WriteMsg does.
func (c *Conn) TryWriteGated(m transport.Msg) (bool, error) {
	if len(m.Frames) == 0 {
		return false, ErrNoFrames
	}
	q := c.out
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, c.pushFailed()
	}
	if q.gated >= q.gateLimit || len(q.msgs) >= QueueCapacity {
		q.mu.Unlock()
		return false, nil
	}
	q.msgs = append(q.msgs, slot{m: m, kind: slotGated})
	q.gated++
	q.wakeLocked(1)
	q.mu.Unlock()
	return true, nil
}

// takenGatedLocked gives back the room of n gated messages the reader
// took, and returns the function to call once the lock is released (nil
// when no writer waits for it). (mu held)
func (q *queue) takenGatedLocked(n int) func() {
	if n == 0 {
		return nil
	}
	q.gated -= n
	if !q.gateWait {
		return nil
	}
	q.gateWait = false
	return q.gateRoom
}

// takenGated gives back the room of n gated messages the reader has
// returned from a batch it took earlier (take), calling the writer's gate
// room function, with no lock held, if it waits for it.
func (q *queue) takenGated(n int) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	room := q.takenGatedLocked(n)
	q.mu.Unlock()
	if room != nil {
		room()
	}
}

// countGated counts the gated messages among slots.
func countGated(slots []slot) int {
	n := 0
	for i := range slots {
		if slots[i].kind == slotGated {
			n++
		}
	}
	return n
}
