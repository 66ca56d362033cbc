package socket

import (
	"math"

	"github.com/brookmq/brook/transport"
)

// The gate: a send to an inproc peer takes one lock, the peer's queue's.
//
// A hand-off under the pipe's lock (handsOver) costs two locks per
// message, the pipe's and the queue's, and the peer's reader takes the
// pipe's lock again to give the room back (directCredit.taken), so both
// sides meet on the pipe's lock for every batch. Once a hand-off has
// found the pipe idle and empty, the pipe opens the connection's gate
// with the room its HWM has left (the HWM less the messages it counts),
// and later sends hand their messages over through the gate (pipe.fast)
// without the pipe's lock: the queue counts them under its own lock, the
// reader uncounts them under the lock that takes them, and the pipe adds
// that count to its own wherever it weighs its HWM (closeGateLocked,
// queued). The bound stays exact: while the gate is open the pipe's own
// count only falls, and the gate's room was taken from it.
//
// Anything the writer goroutine must write first (a message queued
// behind a full connection, a subscription, a command) closes the gate
// before it is queued, under the queue's lock, so no send overtakes it;
// so does the end of the connection, and the pipe's close. A send the
// gate refuses goes the locked way, which weighs the HWM with the gated
// messages and, when they fill it, has the peer's reader call gateRoom
// once it takes one of them.

// gatedConn is implemented by direct connections with a gate (inproc's
// OpenGate, CloseGate, TryWriteGated).
type gatedConn interface {
	SetGateRoom(fn func())
	OpenGate(limit int)
	CloseGate(need int) int
	Gated() int
	TryWriteGated(m transport.Msg) (bool, error)
}

// sendGated hands m over through w's gate, and reports whether it did.
func (p *pipe) sendGated(w *pipeWriter, m Msg) bool {
	if p.s.closing.Load() {
		return false // the writer goroutine lingers with what is queued
	}
	ok, err := w.gated.TryWriteGated(m)
	if !ok || err != nil {
		return false // the locked way reports the failure, or waits
	}
	p.sent.Add(1)
	return true
}

// openGateLocked opens the gate of the connection being written, with the
// room the HWM leaves. It is called right after a hand-off: the writer
// goroutine is parked and nothing is queued. p.mu must be held.
func (p *pipe) openGateLocked() {
	w := p.w
	if w.gated == nil || p.s.closing.Load() {
		return
	}
	limit := math.MaxInt
	if p.hwm > 0 {
		limit = p.hwm - p.data
	}
	w.gated.OpenGate(limit)
	p.gateOpen, p.gatedLeft = true, true
	p.fast.Store(w)
}

// closeGateLocked closes the gate, if open, and returns how many gated
// messages still wait in the connection; when they fill what the HWM
// leaves, the peer's reader calls gateRoom as it takes one. p.mu must be
// held.
func (p *pipe) closeGateLocked() int {
	if !p.gateOpen && !p.gatedLeft {
		return 0 // closed, and found empty since: it only empties further
	}
	p.gateOpen = false
	p.fast.Store(nil)
	need := math.MaxInt
	if p.hwm > 0 {
		need = p.hwm - p.data
	}
	n := p.w.gated.CloseGate(need)
	p.gatedLeft = n > 0
	return n
}

// gatedLocked returns how many gated messages wait in the connection,
// leaving the gate as it is. p.mu must be held.
func (p *pipe) gatedLocked() int {
	if !p.gateOpen && !p.gatedLeft {
		return 0
	}
	return p.w.gated.Gated()
}

// endGateLocked closes the gate as its connection ends and reports
// whether a sender refused for a full pipe must be told the pipe is
// writable: the gated messages the peer never took count no longer, as
// directCredit.end gives back the room of the credited ones. p.mu must
// be held.
func (p *pipe) endGateLocked() bool {
	n := p.closeGateLocked()
	p.gatedLeft = false
	if n > 0 && p.full && !p.closed {
		p.full = false
		return true
	}
	return false
}

// gateRoom is the connection's gate room function: the peer took a gated
// message while a sender waited for room.
func (p *pipe) gateRoom() {
	p.mu.Lock()
	wasFull := p.full && !p.closed
	p.full = false
	p.mu.Unlock()
	if wasFull {
		p.s.pipeWritable(p)
	}
}
