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
	if len(frames) == 1 && c.shortFits(frames[0]) {
		err := c.writeShortLocked(frames[0])
		c.unlockW()
		return err
	}
	err := c.writeMsgLocked(frames)
	c.unlockW()
	return err
}

// shortFits says whether f, a whole message, is one for writeShortLocked:
// a short frame (at most 255 bytes) that fits in the write buffer as it
// is, on a connection without a codec. wmu must be held.
func (c *Conn) shortFits(f []byte) bool {
	return len(f) <= maxShortSize && c.codec == nil && c.wn+2+len(f) <= len(c.wbuf)
}

// writeShortLocked is writeMsgLocked for a message shortFits accepts, the
// commonest of a stream of small messages: its header and body are
// copied into the buffer without writeFrame's growing and flushing
// steps. wmu must be held.
func (c *Conn) writeShortLocked(f []byte) error {
	if err := c.writableLocked(); err != nil {
		return err
	}
	b := c.wbuf[c.wn : c.wn+2+len(f)]
	b[0], b[1] = 0, byte(len(f))
	copy(b[2:], f)
	c.wn += len(b)
	c.wopen = false
	c.endCall()
	c.carryLocked()
	return nil
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
	c.endCall()
	c.carryLocked()
	return nil
}

// WriteSubscription queues a subscription or its cancellation: a SUBSCRIBE
// or CANCEL command for a 3.1 peer, a 0x01/0x00+topic message for a 3.0
// peer (never transformed by the codec, as libzmq expects it plain).
func (c *Conn) WriteSubscription(topic []byte, subscribe bool) error {
	c.wmu.Lock()
	defer c.unlockW()
	if err := c.writableLocked(); err != nil {
		return err
	}
	if c.peer30 {
		var mark [1]byte
		if subscribe {
			mark[0] = 1
		}
		return c.writeWhole(0, mark[:], topic)
	}
	name := cmdCancel
	if subscribe {
		name = cmdSubscribe
	}
	var prefix [1 + len(cmdSubscribe)]byte
	prefix[0] = byte(len(name))
	n := 1 + copy(prefix[1:], name)
	return c.writeWhole(flagCommand, prefix[:n], topic)
}

// writeWhole buffers a frame that is a whole message (or a command), then
// the control frames due; wmu must be held.
func (c *Conn) writeWhole(flags byte, prefix, body []byte) error {
	if err := c.writeFrame(flags, prefix, body); err != nil {
		return err
	}
	c.endCall()
	c.carryLocked()
	return nil
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
	defer c.unlockW()
	if err := c.writableLocked(); err != nil {
		return err
	}
	return c.writeWhole(flagCommand, prefix[:n], data)
}

// writableLocked says whether frames may be written now; wmu must be held.
func (c *Conn) writableLocked() error {
	switch {
	case c.dead.Load():
		return c.failure()
	case !c.ready.Load():
		return errNotReady
	case c.werr != nil:
		return c.werr
	case c.wclosed:
		return fmt.Errorf("%w: zmtp connection to %s is closed for writing", transport.ErrClosed, c.remote)
	}
	return nil
}

// Flush writes everything buffered in one write call, with the PING or
// PONG due, if any.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.unlockW()
	switch {
	case c.dead.Load():
		return c.failure()
	case c.werr != nil:
		return c.werr
	case c.wclosed:
		return nil
	}
	return c.flushAllLocked()
}

// flushAllLocked adds the control frames due, if any, and writes the
// buffer out, which is then put aside (buffers.go); wmu must be held.
func (c *Conn) flushAllLocked() error {
	if c.ctl.Load() != 0 {
		if err := c.reserve(maxControl); err != nil {
			return err
		}
		c.wn = len(c.appendControl(c.wbuf[:c.wn]))
	}
	if err := c.flushLocked(); err != nil {
		return err
	}
	c.idleWrite()
	return nil
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
	defer c.unlockW()
	if err := c.writableLocked(); err != nil {
		if c.wclosed && !c.dead.Load() {
			return nil
		}
		return err
	}
	if err := c.flushAllLocked(); err != nil {
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

// writeFrame buffers one frame made of a short prefix and a body, growing
// the buffer or flushing first when it does not fit. A body larger than
// half the largest buffer is not copied: buffer and body go out together
// in one vectored write.
func (c *Conn) writeFrame(flags byte, prefix, body []byte) error {
	small := len(body) <= c.wbufSize/2
	need := maxHeader + len(prefix)
	if small {
		need += len(body)
	}
	if err := c.reserve(need); err != nil {
		return err
	}
	// Appending within the capacity checked above never reallocates.
	b := appendFrameHeader(c.wbuf[:c.wn], flags, len(prefix)+len(body))
	b = append(b, prefix...)
	c.wopen = flags&flagMore != 0
	if small {
		c.wn = len(append(b, body...))
		return nil
	}
	// A field, not a local, so the vector does not escape per write.
	c.vec = [2][]byte{b, body}
	c.bufs = c.vec[:]
	n, err := c.writeBufs()
	c.advance(n)
	c.vec = [2][]byte{} // do not keep the caller's body alive
	c.wn = 0
	c.wmid = c.wopen
	return c.wrote(err)
}

// flushLocked writes the buffer out; wmu must be held.
func (c *Conn) flushLocked() error {
	if c.wn == 0 {
		return nil
	}
	n, err := c.writeOut(c.wbuf[:c.wn])
	c.advance(int64(n))
	c.wn = 0
	c.wmid = c.wopen
	return c.wrote(err)
}

// wrote fails the connection if a write failed.
func (c *Conn) wrote(err error) error {
	if err != nil {
		return c.ioFailure(fmt.Errorf("zmtp: writing to %s: %w", c.remote, err))
	}
	return nil
}

// Written implements transport.WriteCounter: how many WriteMsg,
// WriteSubscription and WriteCommand calls have had every byte of their
// frames handed to the stream (boxed, with CURVE; encoded, with a codec),
// whether by Flush, TryFlush, a flush forced by a full buffer or the
// vectored write of a large frame. A call whose bytes went out only in
// part when a write failed does not count, nor does one still buffered.
func (c *Conn) Written() uint64 {
	c.wmu.Lock()
	defer c.unlockW()
	return c.wdone
}

var _ transport.WriteCounter = (*Conn)(nil)

// endCall records that a write call's frames end with the bytes buffered
// now; wmu must be held. With nothing buffered, they are all out already.
func (c *Conn) endCall() {
	if c.wn == 0 {
		c.wdone++
		return
	}
	if c.whead > 0 && len(c.wends) == cap(c.wends) {
		c.wends = c.wends[:copy(c.wends, c.wends[c.whead:])]
		c.whead = 0
	}
	// The low 32 bits suffice: an end still pending is at most a buffer
	// ahead of wpos.
	c.wends = append(c.wends, uint32(c.wpos+int64(c.wn)))
}

// advance counts n more bytes of the buffer or of a large body handed to
// the stream, and the calls whose frames they complete; wmu must be held.
func (c *Conn) advance(n int64) {
	if n <= 0 {
		return
	}
	c.wpos += n
	ends := c.wends[c.whead:]
	if len(ends) == 0 {
		return
	}
	pos := uint32(c.wpos)
	if int32(ends[len(ends)-1]-pos) <= 0 { // all out: the usual case
		c.wdone += uint64(len(ends))
		c.wends, c.whead = c.wends[:0], 0
		return
	}
	i := 0
	for i < len(ends) && int32(ends[i]-pos) <= 0 {
		i++
	}
	c.wdone += uint64(i)
	c.whead += i
}
