package zmtp

import (
	"fmt"

	"github.com/brookmq/brook/transport"
)

// WriteMsg encodes m into the write buffer; the buffer goes out when it
// fills or on Flush. Frames larger than half the buffer are written straight
// from m without copying. WriteMsg does not allocate. A message without
// frames is sent as one empty frame. It fails once the connection has
// failed or been closed.
func (c *Conn) WriteMsg(m transport.Msg) error {
	frames := m.Frames
	if len(frames) == 0 {
		var empty [1][]byte // sent as one empty frame
		frames = empty[:]
	}
	c.wmu.Lock()
	err := c.writeMsgLocked(frames)
	c.wmu.Unlock()
	return err
}

func (c *Conn) writeMsgLocked(frames [][]byte) error {
	if err := c.writableLocked(); err != nil {
		return err
	}
	last := len(frames) - 1
	for i, f := range frames {
		var flags byte
		if i < last {
			flags = flagMore
		}
		if c.codec != nil {
			c.encBuf = c.codec.AppendEncode(c.encBuf[:0], f)
			f = c.encBuf
		}
		if err := c.writeFrame(flags, nil, f); err != nil {
			return err
		}
	}
	return nil
}

// WriteSubscription queues a subscription or its cancellation: a SUBSCRIBE
// or CANCEL command for a 3.1 peer, a 0x01/0x00+topic message for a 3.0
// peer (never transformed by the codec, as libzmq expects it plain).
func (c *Conn) WriteSubscription(topic []byte, subscribe bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	if c.peer30 {
		var mark [1]byte
		if subscribe {
			mark[0] = 1
		}
		return c.writeFrame(0, mark[:], topic)
	}
	name := cmdCancel
	if subscribe {
		name = cmdSubscribe
	}
	var prefix [1 + len(cmdSubscribe)]byte
	prefix[0] = byte(len(name))
	n := 1 + copy(prefix[1:], name)
	return c.writeFrame(flagCommand, prefix[:n], topic)
}

// WriteCommand buffers a command frame: the name (checked with
// transport.CheckCommand) and data, which is copied. Commands are never
// transformed by the codec.
func (c *Conn) WriteCommand(name string, data []byte) error {
	if err := transport.CheckCommand(name, data); err != nil {
		return err
	}
	var prefix [256]byte
	prefix[0] = byte(len(name))
	n := 1 + copy(prefix[1:], name)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	return c.writeFrame(flagCommand, prefix[:n], data)
}

// writableLocked says whether frames may be written now; wmu must be held.
func (c *Conn) writableLocked() error {
	switch {
	case c.dead.Load():
		return c.failure()
	case !c.ready.Load():
		return errNotReady
	case c.wclosed:
		return fmt.Errorf("%w: zmtp connection to %s is closed for writing", transport.ErrClosed, c.remote)
	}
	return nil
}

// Flush writes everything buffered in one write call, with a PONG the
// peer is waiting for, if any.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.dead.Load() {
		return c.failure()
	}
	if c.wclosed {
		return nil
	}
	return c.flushWithPongLocked()
}

// flushWithPongLocked adds a PONG the peer is waiting for, if any, and
// writes the buffer out; wmu must be held.
func (c *Conn) flushWithPongLocked() error {
	if c.pongWanted.Load() {
		if c.wn+maxPong > len(c.wbuf) {
			if err := c.flushLocked(); err != nil {
				return err
			}
		}
		c.wn = len(c.appendPong(c.wbuf[:c.wn]))
	}
	return c.flushLocked()
}

// halfCloser is implemented by streams that can end their sending
// direction alone (*net.TCPConn, *net.UnixConn, QUIC streams).
type halfCloser interface {
	CloseWrite() error
}

// CloseWrite flushes the buffer and ends our sending direction: the peer
// reads what was sent, then end of stream; ReadMsg goes on until the peer
// closes. A stream that cannot half-close gives an error matching
// transport.ErrNotSupported after the flush. PINGs and PONGs stop too.
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		if c.wclosed && !c.dead.Load() {
			return nil
		}
		return err
	}
	if err := c.flushWithPongLocked(); err != nil {
		return err
	}
	hc, ok := c.rw.(halfCloser)
	if !ok {
		return fmt.Errorf("%w: %T cannot half-close", transport.ErrNotSupported, c.rw)
	}
	c.wclosed = true
	if err := hc.CloseWrite(); err != nil {
		return c.ioFailure(fmt.Errorf("zmtp: closing the write side to %s: %w", c.remote, err))
	}
	return nil
}

// writeFrame buffers one frame made of a short prefix and a body,
// flushing first when it does not fit. A body larger than half the buffer
// is not copied: buffer and body go out together in one vectored write.
func (c *Conn) writeFrame(flags byte, prefix, body []byte) error {
	small := len(body) <= len(c.wbuf)/2
	need := maxHeader + len(prefix)
	if small {
		need += len(body)
	}
	if c.wn+need > len(c.wbuf) {
		if err := c.flushLocked(); err != nil {
			return err
		}
	}
	// Appending within the capacity checked above never reallocates.
	b := appendFrameHeader(c.wbuf[:c.wn], flags, len(prefix)+len(body))
	b = append(b, prefix...)
	if small {
		c.wn = len(append(b, body...))
		return nil
	}
	// A field, not a local, so the vector does not escape per write.
	c.vec = [2][]byte{b, body}
	c.bufs = c.vec[:]
	_, err := c.writeBufs()
	c.vec = [2][]byte{} // do not keep the caller's body alive
	c.wn = 0
	return c.wrote(err)
}

// flushLocked writes the buffer out; wmu must be held.
func (c *Conn) flushLocked() error {
	if c.wn == 0 {
		return nil
	}
	_, err := c.writeOut(c.wbuf[:c.wn])
	c.wn = 0
	return c.wrote(err)
}

// wrote stamps outbound liveness after a successful write, or fails the
// connection.
func (c *Conn) wrote(err error) error {
	if err != nil {
		return c.ioFailure(fmt.Errorf("zmtp: writing to %s: %w", c.remote, err))
	}
	c.lastSend.Store(c.clock())
	return nil
}

// tryWriteCommand sends one command now if the write lock is free (it is
// only free between whole messages). It reports whether it got the lock.
func (c *Conn) tryWriteCommand(name string, data ...[]byte) (bool, error) {
	if !c.wmu.TryLock() {
		return false, nil
	}
	defer c.wmu.Unlock()
	if c.dead.Load() {
		return true, c.failure()
	}
	if c.wclosed {
		return true, nil
	}
	c.cmdBuf = appendCommand(c.cmdBuf[:0], name, data...)
	return true, c.writeAside()
}

// writeAside writes the command in cmdBuf straight to the stream, ahead of
// whatever the buffer holds: the buffer is the writer's, and only its Flush
// sends it, so a heartbeat never pushes out messages behind the writer's
// back (it tracks what has left to requeue the rest when the connection
// fails). wmu must be held; the buffer holds whole frames only, so the
// command lands between messages.
func (c *Conn) writeAside() error {
	_, err := c.writeOut(c.cmdBuf)
	return c.wrote(err)
}
