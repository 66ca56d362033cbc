package zmtp

import (
	"encoding/binary"
	"errors"
	"os"
	"time"

	"github.com/brookmq/brook/transport"
)

// Inline reading: a socket whose application waits for the next message
// (a REQ awaiting its reply, a REP its next request) may read the
// connection from the application's goroutine instead of its reader
// goroutine, so that the message costs one wake-up (the network poller's,
// of the goroutine that wants it) rather than two (the reader's, then the
// hand-off to the application). The socket moves the reader role between
// goroutines; the Conn gives it a way to read that can be stopped at any
// moment and lose nothing:
//
//   - FillBuffer does one read of the stream into the read buffer and
//     parses nothing, so a read it is interrupted in (InterruptRead, a
//     read deadline in the past) leaves the connection as it was;
//   - ReadBuffered parses what has arrived whole in the read buffer,
//     messages and commands, and never reads the stream.
//
// Between the two the state is the read buffer, and the body of a large
// message read in part (below), which ReadMsg and ReadMsgs carry on from:
// the role may go back to a reader goroutine at any point.
//
// A single-frame message too big to gather in the read buffer (from half
// the large read buffer to all of it, 32 to 64 KiB by default) is read in
// part: ReadBuffered takes its header and what has arrived of its body
// into the body's own memory (newBody), and FillBuffer reads the rest
// straight into it, what follows it going to the small read buffer in
// the same system call (vecRead), as ReadMsg does. A read cut short
// leaves the part where it was; whoever reads next goes on with it. So a
// stream of large messages is read, parsed and taken on one goroutine
// too, with one copy (the kernel's) and at most one allocation each,
// rather than handed from the reader goroutine message by message. The
// body is taken before it has arrived, as ReadMsg takes a recycled one
// (readLarge): it is at most the size of the large read buffer, which
// would otherwise gather it. Only one goroutine at a time may use the reader methods
// (ReadMsg, ReadMsgs, ReadBuffered, FillBuffer); the socket hands the
// role over under a lock, which orders their memory.

// readDeadliner is a stream whose reads can be cut short (net.Conn).
type readDeadliner interface {
	SetReadDeadline(t time.Time) error
}

// InlineReadable reports whether FillBuffer and ReadBuffered can serve the
// connection: it has shaken hands, boxes nothing (CURVE hides what a
// frame is until it is opened, so whole messages cannot be told apart in
// the buffer), runs no codec, and its stream's reads can be interrupted.
func (c *Conn) InlineReadable() bool {
	if !c.ready.Load() || c.unseal != nil || c.codec != nil {
		return false
	}
	_, ok := c.rw.(readDeadliner)
	return ok
}

// ReadPending reports whether bytes read from the stream wait in the read
// buffer, not parsed yet. Only the goroutine holding the reader role may
// call it.
func (c *Conn) ReadPending() bool { return c.rpos < c.rend || c.part != nil }

// InlineMax is the largest message, in body bytes, that FillBuffer and
// ReadBuffered read without giving up for want of room: the large read
// buffer's size (smaller messages are gathered in it, single-frame ones
// as big as it are read in part). The socket hands its reading role to
// the application after messages up to this size.
func (c *Conn) InlineMax() int { return c.rbufSize }

// ReadBuffered appends to dst at most max messages that have arrived
// whole in the read buffer, handling the whole commands before them as
// ReadMsg does (runs of short messages as ReadMsgs takes them); it never
// reads the stream, so it never waits. An error
// is final, as ReadMsg's, and comes with the messages read before it.
func (c *Conn) ReadBuffered(dst []transport.Msg, max int) ([]transport.Msg, error) {
	if !c.ready.Load() {
		return dst, errNotReady
	}
	if c.dead.Load() {
		return dst, c.failure()
	}
	for n := 0; n < max; {
		if c.part != nil {
			if c.partGot < len(c.part) {
				return dst, nil // the rest of its body is still to be read
			}
			c.msgsRead++
			dst = append(dst, c.takePart())
			n++
			continue
		}
		if k := c.shortRun(&dst, max-n); k > 0 {
			c.msgsRead += uint64(k)
			n += k
			continue
		}
		if m, ok := c.shortBuffered(); ok {
			c.msgsRead++
			dst = append(dst, m)
			n++
			continue
		}
		switch {
		case c.msgBuffered():
			m, err := c.ReadMsg()
			if err != nil {
				return dst, err
			}
			c.msgsRead++
			dst = append(dst, m)
			n++
		case c.cmdBuffered():
			_, size, err := c.readHeader()
			if err != nil {
				return dst, err
			}
			m, deliver, err := c.handleCommand(size, false)
			if err != nil {
				return dst, err
			}
			if deliver {
				c.msgsRead++
				dst = append(dst, m)
				n++
			}
		default:
			c.startPart()
			return dst, nil
		}
	}
	return dst, nil
}

// startPart begins reading in part the message the read buffer starts
// with, when it is a single frame of half the large read buffer to all
// of it (and within the size limit) whose body has not arrived whole:
// its header is taken, and its body so far copied into the body's own
// memory. Anything else is left to the read buffer: what is smaller is
// gathered there, and what is bigger, a multipart message or a command
// makes FillBuffer report a full buffer once it is, so that the reader
// goroutine reads it.
func (c *Conn) startPart() {
	b := c.rbuf[c.rpos:c.rend]
	if c.unseal != nil || c.codec != nil || len(b) < maxHeader || b[0] != flagLong {
		return
	}
	size := binary.BigEndian.Uint64(b[1:maxHeader])
	if size < uint64(c.rbufSize/2) || size > uint64(c.rbufSize) || size <= uint64(len(b)-maxHeader) ||
		(c.maxMsg > 0 && size > uint64(c.maxMsg)) {
		return
	}
	body := c.newBody(int(size))
	c.rpos += maxHeader
	c.partGot = copy(body, c.rbuf[c.rpos:c.rend])
	c.rpos += c.partGot
	c.part = body
}

// fillPart is FillBuffer while a message is read in part: one read of
// the rest of its body straight into it, and, on a socket, of what
// follows into the small read buffer (empty while a body is read in
// part) in the same system call.
func (c *Conn) fillPart() (bool, error) {
	dst := c.part[c.partGot:]
	if len(dst) == 0 {
		return true, nil // whole: ReadBuffered takes it
	}
	c.mem.full = false
	var m int
	var err error
	if c.rpos == c.rend && c.mem.rsmall != nil && c.vr.usable(c.rw) {
		c.idleRead() // rbuf is the small buffer, empty
		m, err = c.readVec(dst, c.rbuf)
		if m > len(dst) {
			c.rend = m - len(dst)
			m = len(dst)
		}
	} else {
		m, err = c.read(dst)
	}
	c.partGot += m
	return c.filled(m, err)
}

// finishPart is ReadMsg while a message is read in part: it reads the
// rest of its body, as ReadMsg reads a large body, and returns it.
func (c *Conn) finishPart() (transport.Msg, error) {
	if err := c.readFull(c.part[c.partGot:]); err != nil {
		return transport.Msg{}, err
	}
	return c.takePart(), nil
}

// takePart returns the message read in part, whole, and forgets it.
func (c *Conn) takePart() transport.Msg {
	body := c.part
	c.part, c.partGot = nil, 0
	return transport.Msg{Frames: c.oneFrame(body)}
}

// cmdBuffered reports whether the read buffer starts with a whole command
// frame (one msgBuffered would not pass: a lone PING, say).
func (c *Conn) cmdBuffered() bool {
	b := c.rbuf[c.rpos:c.rend]
	if len(b) < 2 || b[0]&flagCommand == 0 {
		return false
	}
	size, h := uint64(b[1]), 2
	if b[0]&flagLong != 0 {
		if len(b) < maxHeader {
			return false
		}
		size, h = binary.BigEndian.Uint64(b[1:maxHeader]), maxHeader
	}
	return size <= uint64(len(b)-h)
}

// FillBuffer reads the stream once into the read buffer, waiting until
// something arrives, and parses nothing. It reports true when it read
// something (or may be called again at once), false when it cannot go on:
// InterruptRead cut the read short, or the read buffer is full without
// holding a whole message (one too large for InlineMax, or not read in
// part, is the reader goroutine's, see ReadMsg). While a message is read
// in part (startPart), it reads the rest of its body. In both cases the connection is as it was. An error is final
// (the connection has failed), as ReadMsg's.
func (c *Conn) FillBuffer() (bool, error) {
	if !c.ready.Load() {
		return false, errNotReady
	}
	if c.dead.Load() {
		return false, c.failure()
	}
	if c.part != nil {
		return c.fillPart()
	}
	if c.rpos == c.rend && !c.mem.full {
		c.idleRead() // as fill does: everything read is parsed
	}
	if c.mem.full && c.mem.rbox == nil && c.mem.rsmall != nil {
		// As fill does: the last read filled the small buffer, so the
		// kernel held more; read in bulk.
		c.bigRead()
	}
	if c.rend == len(c.rbuf) {
		switch {
		case c.rpos > 0:
			c.rend = copy(c.rbuf, c.rbuf[c.rpos:c.rend])
			c.rpos = 0
		case c.mem.rbox == nil && c.mem.rsmall != nil:
			c.bigRead() // the small buffer is full: go on in the large one
		default:
			return false, nil
		}
	}
	room := len(c.rbuf) - c.rend
	n, err := c.read(c.rbuf[c.rend:])
	c.rend += n
	c.mem.full = n == room
	return c.filled(n, err)
}

// filled is what FillBuffer reports after a read that returned n bytes
// and err: true when it read something (an error then comes back with
// the next read), false without an error when InterruptRead cut it
// short, and the connection's failure otherwise.
func (c *Conn) filled(n int, err error) (bool, error) {
	switch {
	case n > 0 || err == nil:
		return true, nil
	case c.interrupted.Load() && isTimeout(err):
		return false, nil
	}
	return false, c.readFailure(err)
}

// isTimeout reports whether err is a read deadline's: os's, or any
// stream's that says it is a timeout.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &t) && t.Timeout())
}

// InterruptRead makes a FillBuffer in progress return, and every later
// one until ResumeRead, without reading. Any goroutine may call it; the
// reader goroutines must not read with ReadMsg or ReadMsgs until
// ResumeRead has returned (their reads would fail the connection).
func (c *Conn) InterruptRead() {
	c.interrupted.Store(true)
	if d, ok := c.rw.(readDeadliner); ok {
		_ = d.SetReadDeadline(time.Unix(1, 0))
	}
}

// ResumeRead undoes InterruptRead.
func (c *Conn) ResumeRead() {
	if d, ok := c.rw.(readDeadliner); ok {
		_ = d.SetReadDeadline(time.Time{})
	}
	c.interrupted.Store(false)
}
