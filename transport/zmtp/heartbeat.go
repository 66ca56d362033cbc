package zmtp

import (
	"fmt"
	"time"

	"github.com/brookmq/brook/transport"
)

// Heartbeats cost a connection no goroutine. Their deadlines run on one
// timer (time.AfterFunc), armed only when there is something to watch:
// our heartbeats are on, or the peer sent a PING (a PONG is due, and its
// TTL may need watching). The timer's callback, beat, decides what is due
// and never waits for the writer:
//
//   - A PING is due every interval, whatever else is being sent (as in
//     libzmq), and the timeout runs from the first PING left unanswered,
//     not from when it was written: a writer blocked in write() on a peer
//     whose buffers stay full does not hold the detection up.
//   - Anything read from the peer after a PING was due answers it.
//   - Silence is only counted while the reader waits on the stream, so a
//     reader held up by its consumer never makes a live peer look dead;
//     and before a deadline is called, bytes already waiting in the
//     kernel count as traffic (inputWaiting), so a reader that has not
//     run yet (a loaded machine, a stopped process) does not either.
//     This also means a peer is dropped only when nothing from it waits
//     unread, so closing sends a FIN after what we flushed rather than a
//     reset, which would discard what its kernel has not taken yet.
//
// PINGs and PONGs due are flags (Conn.ctl). Whoever holds the write lock
// carries them: the writer appends them to its buffer after a whole
// message or on Flush, and every holder checks the flags after unlocking
// (unlockW). When the lock is free, beat writes them itself, straight to
// the stream ahead of the buffer, so messages the writer buffered never
// leave behind its back.

// heartbeat is the heartbeat configuration of one connection.
type heartbeat struct {
	interval time.Duration // send a PING every interval; 0 = never
	timeout  time.Duration // drop when nothing arrives this long after a PING
	ttl      [2]byte       // announced in our PINGs
}

func newHeartbeat(cfg *transport.Config, disabled bool) heartbeat {
	if disabled || cfg.HeartbeatInterval <= 0 {
		return heartbeat{}
	}
	hb := heartbeat{interval: cfg.HeartbeatInterval, timeout: cfg.HeartbeatTimeout}
	if hb.timeout <= 0 {
		hb.timeout = hb.interval
	}
	hb.ttl = pingTTL(cfg.HeartbeatTTL)
	return hb
}

// Control frames due (bits of Conn.ctl).
const (
	ctlPing uint32 = 1 << iota
	ctlPong
)

// maxControl is the size of a PING and the largest PONG together.
const maxControl = 2 + 1 + len(cmdPing) + 2 + 2 + 1 + len(cmdPong) + maxPingContext

// minWake is the shortest timer delay beat asks for.
const minWake = time.Millisecond

// beats is the timer's state, guarded by Conn.hbMu.
type beats struct {
	timer    *time.Timer // runs beat; nil until first armed
	stopped  bool        // the Conn failed: never arm again
	nextPing int64       // clock() when the next PING is due (heartbeats on)
	pingAt   int64       // clock() when the oldest unanswered PING was due; 0 = none
}

// timedReads reports whether stream reads must record when they start
// and when data arrives (readSince, lastData): only when something
// watches the peer's silence, our heartbeats or the TTL of the peer's
// PINGs. The TTL comes with a PING the reader reads, so the reads after
// it are timed; otherwise a read costs no clock reading (four per round
// trip of a REQ/REP loop, 3% of its CPU time outside the kernel).
func (c *Conn) timedReads() bool {
	return c.hb.interval > 0 || c.peerTTL.Load() > 0
}

// startHeartbeats arms the timer for the first PING when our heartbeats
// are on; it is called once the handshake is done.
func (c *Conn) startHeartbeats() {
	if c.hb.interval <= 0 {
		return
	}
	c.hbMu.Lock()
	c.beats.nextPing = c.clock() + int64(c.hb.interval)
	c.armLocked(c.hb.interval)
	c.hbMu.Unlock()
}

// armLocked makes beat run after d; hbMu must be held.
func (c *Conn) armLocked(d time.Duration) {
	b := &c.beats
	switch {
	case b.stopped:
	case b.timer == nil:
		b.timer = time.AfterFunc(d, c.beat)
	default:
		b.timer.Reset(d)
	}
}

// stopHeartbeats stops the timer for good (the Conn failed). A beat
// already running finishes; Close waits for it.
func (c *Conn) stopHeartbeats() {
	c.hbMu.Lock()
	c.beats.stopped = true
	if c.beats.timer != nil {
		c.beats.timer.Stop()
	}
	c.hbMu.Unlock()
}

// beat runs on the timer: it fails the connection when its peer is
// silent past a deadline, marks a PING due every interval, re-arms the
// timer for the next deadline and writes the PING or PONG due if the
// writer's lock is free (else the lock's holder does).
func (c *Conn) beat() {
	if !c.enter() {
		return
	}
	defer c.wg.Done()
	c.hbMu.Lock()
	wait, ping, err := c.dueLocked(c.clock())
	if err == nil && wait > 0 {
		c.armLocked(wait)
	}
	c.hbMu.Unlock()
	if err != nil {
		c.fail(err)
		return
	}
	if ping {
		c.ctl.Or(ctlPing)
	}
	c.sendControl()
}

// dueLocked works out what is due at now: an error when the peer has
// been silent too long, whether a PING is due, and when to look again
// (0: nothing to watch). hbMu must be held.
func (c *Conn) dueLocked(now int64) (wait time.Duration, ping bool, err error) {
	b := &c.beats
	const never = time.Duration(1<<63 - 1)
	wait = never
	waiting := c.readSince.Load() // 0 unless the reader waits on the stream
	silentSince := func(t int64) time.Duration {
		if waiting == 0 {
			return 0
		}
		return time.Duration(now - max(t, waiting))
	}
	// Before a deadline is called, bytes waiting in the kernel count as
	// traffic: our reader may just not have run yet.
	heard := func() bool {
		if c.inputWaiting() {
			waiting = 0
			return true
		}
		return false
	}
	if hb := c.hb; hb.interval > 0 {
		if b.pingAt != 0 {
			s := silentSince(b.pingAt)
			switch {
			case c.lastData.Load() >= b.pingAt:
				b.pingAt = 0 // the peer spoke after the PING
			case s >= hb.timeout && heard():
				b.pingAt = 0
			case s >= hb.timeout:
				return 0, false, fmt.Errorf("%w: nothing from %s for %v after a PING", transport.ErrPeerTimeout, c.remote, s.Round(time.Millisecond))
			default:
				wait = hb.timeout - s
			}
		}
		if now >= b.nextPing {
			ping = true
			if b.pingAt == 0 {
				b.pingAt = now
				wait = min(wait, hb.timeout)
			}
			b.nextPing = now + int64(hb.interval)
		}
		wait = min(wait, time.Duration(b.nextPing-now))
	}
	if ttl := time.Duration(c.peerTTL.Load()); ttl > 0 {
		s := silentSince(0)
		if s >= ttl && !heard() {
			return 0, false, fmt.Errorf("%w: nothing from %s for %v, its TTL is %v", transport.ErrPeerTimeout, c.remote, s.Round(time.Millisecond), ttl)
		}
		wait = min(wait, ttl-silentSince(0))
	}
	if wait == never {
		return 0, ping, nil
	}
	return max(wait, minWake), ping, nil
}

// enter registers a timer callback with Close (which waits for it); it
// reports false once the Conn has failed, and the callback must return.
func (c *Conn) enter() bool {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.err != nil {
		return false
	}
	c.wg.Add(1)
	return true
}

// notePing records the peer's TTL and makes a PONG echoing its context
// due; the reader never writes, so a beat runs at once to send it (or the
// writer carries it, if it holds the lock).
func (c *Conn) notePing(ttl time.Duration, pingCtx []byte) {
	c.peerTTL.Store(int64(ttl))
	c.pongMu.Lock()
	c.pongLen = copy(c.pongCtx[:], pingCtx)
	c.ctl.Or(ctlPong)
	c.pongMu.Unlock()
	c.hbMu.Lock()
	c.armLocked(0)
	c.hbMu.Unlock()
}

// sendControl writes the PING and PONG due, if any, when the write lock
// is free; when it is not, its holder sends them on unlocking.
func (c *Conn) sendControl() {
	for c.ctl.Load() != 0 && c.wmu.TryLock() {
		sent := c.writeControlLocked()
		c.wmu.Unlock()
		if !sent {
			return
		}
	}
}

// unlockW releases the write lock, then sends the control frames that
// became due while it was held (their setter found the lock taken).
// Every holder of wmu releases it this way.
func (c *Conn) unlockW() {
	c.wmu.Unlock()
	if c.ctl.Load() != 0 { // inlined: the common case is one load
		c.sendControl()
	}
}

// writeControlLocked writes the control frames due straight to the
// stream, ahead of the buffer, and reports whether it did. It does not
// when the stream ends inside a message whose rest is buffered: the
// writer's next Flush carries them. wmu must be held.
//
// A failed write ends our sending direction only (werr): the writer's
// next call reports it, but the reader reads on to the end of the
// stream. A peer that sent messages and closed (or a PUSH that gave up
// on us while we were stopped) is typically what makes our PONG fail,
// and what it sent before is still in our kernel's buffer, whole.
func (c *Conn) writeControlLocked() bool {
	switch {
	case c.dead.Load(), c.wclosed, c.werr != nil:
		c.ctl.Store(0) // never to be sent
		return false
	case c.wmid:
		return false
	}
	c.cmdBuf = c.appendControl(c.cmdBuf[:0])
	if len(c.cmdBuf) == 0 {
		return true
	}
	if _, err := c.writeOut(c.cmdBuf); err != nil {
		c.werr = fmt.Errorf("zmtp: writing to %s: %w", c.remote, err)
		c.ctl.Store(0)
		return false
	}
	return true
}

// carryLocked appends the control frames due to the write buffer if they
// fit; the buffer must end with a whole message. wmu must be held.
func (c *Conn) carryLocked() {
	if c.ctl.Load() != 0 && c.wn+maxControl <= len(c.wbuf) {
		c.wn = len(c.appendControl(c.wbuf[:c.wn]))
	}
}

// appendControl appends the control frames due to dst and clears them.
func (c *Conn) appendControl(dst []byte) []byte {
	var pongCtx [maxPingContext]byte
	c.pongMu.Lock()
	due := c.ctl.Swap(0)
	n := copy(pongCtx[:], c.pongCtx[:c.pongLen])
	c.pongMu.Unlock()
	if due&ctlPing != 0 {
		dst = appendCommand(dst, cmdPing, c.hb.ttl[:])
	}
	if due&ctlPong != 0 {
		dst = appendCommand(dst, cmdPong, pongCtx[:n])
	}
	return dst
}
