package zmtp

import "weak"

// Buffer policy. A connection's buffers grow with its load and shrink when
// it is idle, so thousands of mostly quiet connections cost little memory
// while a busy one reads and writes in bulk.
//
//   - Reading, a handshaken Conn keeps a small buffer (idleReadBuffer). A
//     read that fills it means the kernel holds more: the Conn moves to
//     its large buffer (ReadBufferSize) for the reads that follow. Once
//     everything read has been parsed, the next read goes to the small
//     buffer again and the large one is put aside.
//   - Writing, a Conn has no buffer until it writes; a buffer starts at
//     minWriteBuffer and doubles as messages are buffered, up to
//     WriteBufferSize, and is put aside once everything is flushed.
//   - A buffer put aside is held by a weak pointer: a connection busy
//     again before the next garbage collection takes it back at no cost;
//     otherwise the collection frees it. Byte and frame slabs are dropped
//     at the same idle points, and sized to what has arrived, so an idle
//     connection keeps no slab either.
const (
	idleReadBuffer = 4 << 10
	minWriteBuffer = 4 << 10
)

// spare boxes a buffer, so that a weak pointer can hold it while it is put
// aside.
type spare struct{ b []byte }

// buffers is a Conn's large read buffer and its write buffer: each is in
// use (box set) or put aside (held weakly, maybe collected already).
type buffers struct {
	rsmall []byte // the read buffer between bursts
	full   bool   // the last read into the read buffer filled it
	rbox   *spare // the large read buffer while in use
	rweak  weak.Pointer[spare]
	wbox   *spare // the write buffer while in use (wbuf is wbox.b)
	wweak  weak.Pointer[spare]
}

// initBuffers gives a handshaken Conn its small read buffer, keeping what
// the peer sent after its READY. Nothing is allocated for writing yet.
func (c *Conn) initBuffers() {
	small := min(idleReadBuffer, c.rbufSize)
	if len(c.rbuf) < small {
		rbuf := make([]byte, small)
		c.rend = copy(rbuf, c.rbuf[c.rpos:c.rend])
		c.rpos = 0
		c.rbuf = rbuf
	}
	c.mem.rsmall = c.rbuf
}

// bigRead moves the unparsed bytes to the large read buffer. Only the
// reading goroutine calls it, once the handshake is done.
func (c *Conn) bigRead() {
	box := c.mem.rweak.Value()
	if box == nil {
		box = &spare{b: make([]byte, c.rbufSize)}
		c.mem.rweak = weak.Make(box)
	}
	c.mem.rbox = box
	c.rend = copy(box.b, c.rbuf[c.rpos:c.rend])
	c.rpos = 0
	c.rbuf = box.b
}

// idleRead goes back to the small read buffer when everything read has
// been parsed, putting the large one aside, and drops the slabs: the
// connection has read all that had arrived, so it may well be idle now.
func (c *Conn) idleRead() {
	c.rpos, c.rend = 0, 0
	if c.mem.rbox != nil && c.mem.rsmall != nil {
		c.mem.rbox = nil
		c.rbuf = c.mem.rsmall
	}
	c.slab, c.slabOff = nil, 0
	c.frameSlab, c.frameOff = nil, 0
}

// reserve makes room for n more bytes in the write buffer: it takes a
// buffer (the one put aside, if still there), grows it up to wbufSize, or
// flushes it when it is full. wmu must be held.
func (c *Conn) reserve(n int) error {
	if c.wn+n <= len(c.wbuf) {
		return nil
	}
	if c.wn+n > c.wbufSize {
		if err := c.flushLocked(); err != nil {
			return err
		}
		if n <= len(c.wbuf) {
			return nil
		}
	}
	size := max(minWriteBuffer, len(c.wbuf))
	for size < c.wn+n && size < c.wbufSize {
		size *= 2
	}
	size = min(size, max(c.wbufSize, n))
	box := c.mem.wweak.Value()
	if box == nil || len(box.b) < size {
		box = &spare{b: make([]byte, size)}
		c.mem.wweak = weak.Make(box)
	}
	copy(box.b, c.wbuf[:c.wn])
	c.mem.wbox = box
	c.wbuf = box.b
	return nil
}

// idleWrite puts the write buffer aside once everything is flushed. wmu
// must be held.
func (c *Conn) idleWrite() {
	if c.wn == 0 && c.wbuf != nil {
		c.mem.wbox = nil
		c.wbuf = nil
	}
}
