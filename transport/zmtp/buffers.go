package zmtp

import (
	"sync"
	"weak"
)

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
//   - Except the smallest write buffers, which go back to a few shared by
//     every connection (smallWrites) as soon as they are flushed: a lone
//     message, such as a ROUTER's reply to one of thousands of peers,
//     borrows one for its write instead of leaving 4 KiB of garbage per
//     connection behind it, to stay in memory until a collection.
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
	if !c.msgCarved { // a body carved for the message being read is still to be filled
		c.retireSlab()
		c.frameSlab, c.frameOff = nil, 0
	}
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
	switch {
	case box != nil && len(box.b) >= size:
	case size == minWriteBuffer:
		box = smallWrite()
	default:
		box = &spare{b: make([]byte, size)}
		c.mem.wweak = weak.Make(box)
	}
	copy(box.b, c.wbuf[:c.wn])
	if old := c.mem.wbox; old != nil && isSmallWrite(old) {
		putSmallWrite(old) // outgrown: its bytes were copied
	}
	c.mem.wbox = box
	c.wbuf = box.b
	return nil
}

// idleWrite puts the write buffer aside once everything is flushed: a
// small one back with the shared ones, a larger one held weakly. wmu must
// be held.
func (c *Conn) idleWrite() {
	if c.wn == 0 && c.wbuf != nil {
		if isSmallWrite(c.mem.wbox) {
			putSmallWrite(c.mem.wbox)
		}
		c.mem.wbox = nil
		c.wbuf = nil
	}
}

// smallWrites holds write buffers of minWriteBuffer bytes that no
// connection uses, at most maxIdleSmallWrites of them. A Conn takes one
// while it has bytes to write and gives it back once they are flushed;
// nothing else refers to it meanwhile (no weak pointer is made to it, and
// each write clears what it kept of it). A bounded list rather than a
// sync.Pool: the race detector's pool drops a quarter of what it is
// given, and the garbage that made changed what the tests measure.
var smallWrites struct {
	mu   sync.Mutex
	idle []*spare
}

// maxIdleSmallWrites bounds the idle small write buffers of the process
// (64 KiB): connections busy at once each hold their own meanwhile.
const maxIdleSmallWrites = 16

// smallWrite takes an idle small write buffer, or makes one.
func smallWrite() *spare {
	smallWrites.mu.Lock()
	defer smallWrites.mu.Unlock()
	n := len(smallWrites.idle)
	if n == 0 {
		return &spare{b: make([]byte, minWriteBuffer)}
	}
	box := smallWrites.idle[n-1]
	smallWrites.idle[n-1] = nil
	smallWrites.idle = smallWrites.idle[:n-1]
	return box
}

// putSmallWrite gives back a small write buffer no connection uses.
func putSmallWrite(box *spare) {
	smallWrites.mu.Lock()
	if len(smallWrites.idle) < maxIdleSmallWrites {
		smallWrites.idle = append(smallWrites.idle, box)
	}
	smallWrites.mu.Unlock()
}

// isSmallWrite says whether a write buffer in use is a shared small one.
func isSmallWrite(box *spare) bool { return box != nil && len(box.b) == minWriteBuffer }
