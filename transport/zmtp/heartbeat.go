package zmtp

import (
	"fmt"
	"time"

	"github.com/brookmq/brook/transport"
)

// Control goroutine timing.
const (
	lockRetry = 2 * time.Millisecond // retry delay when a PING or PONG finds the writer busy
	minWake   = time.Millisecond
)

// heartbeat is the heartbeat configuration of one connection.
type heartbeat struct {
	interval time.Duration // send a PING after this much outbound silence; 0 = never
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

// control runs for the life of a handshaken connection: it answers PINGs,
// sends PINGs after outbound silence, and drops a silent peer. Silence is
// only measured while the reader is waiting on the stream, so a reader held
// up by its consumer never makes a live peer look dead.
func (c *Conn) control() {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var pingAt int64 // clock() of the oldest unanswered PING; 0 = none
	for {
		wait, err := c.tick(&pingAt)
		if err != nil {
			c.fail(err)
			return
		}
		timer.Reset(wait)
		select {
		case <-c.done:
			return
		case <-c.kick:
		case <-timer.C:
		}
	}
}

// tick does what is due now and returns how long to sleep.
func (c *Conn) tick(pingAt *int64) (time.Duration, error) {
	now := c.clock()
	wait := time.Hour
	if due, err := c.sendPong(); err != nil {
		return 0, err
	} else if due {
		wait = lockRetry
	}
	waiting := c.readSince.Load() // 0 unless the reader waits on the stream
	silentSince := func(t int64) time.Duration {
		if waiting == 0 {
			return 0
		}
		return time.Duration(now - max(t, waiting))
	}
	if hb := c.hb; hb.interval > 0 {
		if *pingAt != 0 {
			if c.lastData.Load() >= *pingAt {
				*pingAt = 0
			} else if s := silentSince(*pingAt); s >= hb.timeout {
				return 0, fmt.Errorf("%w: nothing from %s for %v after a PING", transport.ErrPeerTimeout, c.remote, s.Round(time.Millisecond))
			} else {
				wait = min(wait, hb.timeout-s)
			}
		}
		if idle := time.Duration(now - c.lastSend.Load()); idle < hb.interval {
			wait = min(wait, hb.interval-idle)
		} else {
			sent, err := c.tryWriteCommand(cmdPing, hb.ttl[:])
			switch {
			case err != nil:
				return 0, err
			case !sent:
				wait = min(wait, lockRetry)
			default:
				if *pingAt == 0 {
					*pingAt = now
					wait = min(wait, hb.timeout)
				}
				wait = min(wait, hb.interval)
			}
		}
	}
	if ttl := time.Duration(c.peerTTL.Load()); ttl > 0 {
		if s := silentSince(0); s >= ttl {
			return 0, fmt.Errorf("%w: nothing from %s for %v, its TTL is %v", transport.ErrPeerTimeout, c.remote, s.Round(time.Millisecond), ttl)
		} else {
			wait = min(wait, ttl-s)
		}
	}
	return max(wait, minWake), nil
}

// sendPong writes the pending PONG, if any. It reports whether one is still
// due because the writer held the lock (then Flush may also carry it).
func (c *Conn) sendPong() (bool, error) {
	if !c.pongWanted.Load() {
		return false, nil
	}
	if !c.wmu.TryLock() {
		return true, nil
	}
	defer c.wmu.Unlock()
	if c.dead.Load() {
		return false, c.failure()
	}
	if c.wclosed {
		c.pongWanted.Store(false)
		return false, nil
	}
	c.cmdBuf = c.appendPong(c.cmdBuf[:0])
	return false, c.writeAside()
}

// appendPong appends a PONG echoing the latest PING's context to dst and
// marks it sent; wmu must be held.
func (c *Conn) appendPong(dst []byte) []byte {
	var pongCtx [maxPingContext]byte
	c.pongMu.Lock()
	n := copy(pongCtx[:], c.pongCtx[:c.pongLen])
	c.pongWanted.Store(false)
	c.pongMu.Unlock()
	return appendCommand(dst, cmdPong, pongCtx[:n])
}

// maxPong is the size of the largest PONG frame.
const maxPong = 2 + 1 + len(cmdPong) + maxPingContext
