package zmtp

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// Allocation policy of the reader.
//
// Small bodies are carved out of a byte slab and the frame lists of small
// messages out of a frame slab, so that a stream of small messages costs a
// fraction of an allocation each. Slabs are shared, so a list or body kept
// by the application keeps its whole slab alive: the policy bounds what a
// slab can pin. A frame slab only ever points at bodies of at most
// maxSlabBody bytes, and is retired with the byte slab, so one kept small
// message pins at most one frame slab and two byte slabs (about 66 KiB)
// whatever was received around it, and the Conn itself keeps no more than
// that of what it delivered. (A codec's small outputs are allocations of
// their own: a frame slab then pins at most its 64 entries of 2 KiB.)
// Larger bodies, and the lists that point at them, are allocations of
// their own, freed as soon as the application drops the message.
//
// Every allocation is for bytes that have arrived: a body that fits in
// half the read buffer is read into it before it is copied out; a larger
// one that has arrived whole (in the read buffer and the kernel) is read
// straight into an allocation of its size, one still on its way is
// gathered in the large read buffer if it fits there, and a larger one
// grows with what arrives (readLarge, readGrowing). So a peer announcing
// a huge frame reserves nothing until it sends, then about twice what it
// sent. (Once bodies are recycled, a body of half the large read buffer
// or more that fits in it is read straight into its recycled buffer as
// it arrives: that holds no more than the large read buffer would.)
//
// Once the application has released a message (transport.Msg.Release),
// small bodies are carved from recycled slabs (package bufpool) once a
// good part of a slab has arrived (newSlab): each message holds a token
// of its slab in its frame list, past its frames, and the slab is reused
// once the reader has moved on and every message holding it is released.
// The frame lists of those messages are carved from the slab's own
// entries, so a stream of small released messages allocates nothing. A
// message that is never released keeps its slab (bytes and entries,
// about 44 KiB; two for a message spanning two). And
// bodies above maxSlabBody that get memory of their own (copied out of
// the read buffer, read straight into it, the last step of a growing
// one, decrypted into it) take it from package bufpool, whose buffers
// the application gives back: newBody, copyBody, growBody. Such a buffer
// is written whole before its message is delivered, and one that fails
// half read is dropped, never delivered; its capacity is its size class.
const (
	byteSlabSize  = 32 << 10 // small frame bodies are carved out of slabs this big
	maxSlabBody   = 2 << 10  // bodies up to this size come from the slab
	frameSlabSize = 64       // frame lists of small messages are carved out of slabs of this many entries
	maxSlabFrames = 16       // messages with more frames get their own list
	growStart     = 4 << 10  // a growing body starts at no less than this
	minCmdLimit   = 64 << 10 // commands may be this big even when MaxMsgSize is smaller
)

// minRecycledSlab is how much must have arrived for the reader to take a
// recycled slab, so that a lone message kept by the application pins a
// small allocation of its own rather than a whole slab. (A variable for
// tests that read a few bytes at a time.) A run of recycledRun messages
// of the size of the one being read will do as well: a stream of tiny
// messages, read as it comes in reads of a few hundred bytes, is no lone
// message.
var minRecycledSlab = 8 << 10

const recycledRun = 32

// read does one Read on the stream, recording when the reader starts
// waiting and when data arrives (heartbeat liveness, stamped per buffer
// fill rather than per message).
func (c *Conn) read(p []byte) (int, error) {
	if !c.timedReads() {
		return c.rw.Read(p)
	}
	c.readSince.Store(c.clock())
	n, err := c.rw.Read(p)
	if n > 0 {
		c.lastData.Store(c.clock())
	}
	c.readSince.Store(0)
	return n, err
}

// readFailure turns a stream read error into the connection's failure.
func (c *Conn) readFailure(err error) error {
	if err == io.EOF {
		return c.ioFailure(fmt.Errorf("zmtp: %s closed the connection: %w", c.remote, io.EOF))
	}
	return c.ioFailure(fmt.Errorf("zmtp: reading from %s: %w", c.remote, err))
}

// fill makes at least n bytes (n <= len(rbuf)) available in rbuf[rpos:rend].
// With everything read parsed and the last read short of filling the
// buffer, it reads into the small buffer (the connection may be idle);
// after a read that filled the small buffer it moves on to the large one
// (buffers.go).
func (c *Conn) fill(n int) error {
	if c.rpos == c.rend && !c.mem.full && n <= len(c.mem.rsmall) {
		c.idleRead()
	}
	if len(c.rbuf)-c.rpos < n {
		c.rend = copy(c.rbuf, c.rbuf[c.rpos:c.rend])
		c.rpos = 0
	}
	for c.rend-c.rpos < n {
		if c.mem.full && c.mem.rbox == nil && c.mem.rsmall != nil {
			c.bigRead() // the kernel held more than the small buffer: read in bulk
		}
		room := len(c.rbuf) - c.rend
		m, err := c.read(c.rbuf[c.rend:])
		c.rend += m
		c.mem.full = m == room
		if err != nil && c.rend-c.rpos < n {
			return c.readFailure(err)
		}
	}
	return nil
}

// readFull copies the next len(dst) bytes of the stream into dst, reading
// large remainders straight into dst rather than through rbuf.
func (c *Conn) readFull(dst []byte) error {
	k := copy(dst, c.rbuf[c.rpos:c.rend])
	c.rpos += k
	dst = dst[k:]
	if len(dst) == 0 {
		return nil
	}
	if len(dst) < len(c.rbuf)/2 {
		if err := c.fill(len(dst)); err != nil {
			return err
		}
		c.rpos += copy(dst, c.rbuf[c.rpos:c.rend])
		return nil
	}
	return c.readStraight(dst)
}

// readStraight reads the next len(dst) bytes of the stream, rbuf being
// empty, straight into dst. A socket is read with readv, what follows dst
// going into the small read buffer in the same system call (vecRead):
// the next header is then parsed without a read of its own. Either way
// the next header is read through the small buffer rather than the large
// one (fill), so that of a stream of large bodies only the few KiB that
// come with each header pass through rbuf, and the rest is read straight
// into its body.
func (c *Conn) readStraight(dst []byte) error {
	if len(dst) >= c.rbufSize/2 {
		c.mem.full = false
	}
	vec := c.mem.rsmall != nil && c.vr.usable(c.rw)
	if vec {
		c.idleRead() // rbuf is the small buffer, empty
	}
	for len(dst) > 0 {
		var m int
		var err error
		if vec {
			m, err = c.readVec(dst, c.rbuf)
		} else {
			m, err = c.read(dst)
		}
		if m > len(dst) {
			c.rend = m - len(dst)
			m = len(dst)
		}
		dst = dst[m:]
		if err != nil && len(dst) > 0 {
			return c.readFailure(err)
		}
	}
	return nil
}

// readVec reads into a and then b in one system call, with the
// timestamps read records.
func (c *Conn) readVec(a, b []byte) (int, error) {
	if !c.timedReads() {
		return c.vr.read(a, b)
	}
	c.readSince.Store(c.clock())
	n, err := c.vr.read(a, b)
	if n > 0 {
		c.lastData.Store(c.clock())
	}
	c.readSince.Store(0)
	return n, err
}

// readHeader reads and validates the next frame's flags and size.
func (c *Conn) readHeader() (flags byte, size uint64, err error) {
	if c.rend-c.rpos < 2 {
		if err := c.fill(2); err != nil {
			return 0, 0, err
		}
	}
	flags = c.rbuf[c.rpos]
	if err := checkFlags(flags); err != nil {
		return 0, 0, c.ioFailure(err)
	}
	if flags&flagLong == 0 {
		size = uint64(c.rbuf[c.rpos+1])
		c.rpos += 2
		return flags, size, nil
	}
	if c.rend-c.rpos < maxHeader {
		if err := c.fill(maxHeader); err != nil {
			return 0, 0, err
		}
	}
	size = uint64(c.rbuf[c.rpos+1])<<56 | uint64(c.rbuf[c.rpos+2])<<48 |
		uint64(c.rbuf[c.rpos+3])<<40 | uint64(c.rbuf[c.rpos+4])<<32 |
		uint64(c.rbuf[c.rpos+5])<<24 | uint64(c.rbuf[c.rpos+6])<<16 |
		uint64(c.rbuf[c.rpos+7])<<8 | uint64(c.rbuf[c.rpos+8])
	c.rpos += maxHeader
	if size > math.MaxInt64 {
		return 0, 0, c.ioFailure(fmt.Errorf("%w: frame announces %d bytes", transport.ErrTooLarge, size))
	}
	return flags, size, nil
}

// readBody reads a frame body of the given size into memory the caller
// owns, allocated for bytes that have arrived: a slab for small bodies
// (no allocation per frame), one allocation of exactly size and one copy
// for a body that fits in half the read buffer (read into it first), and
// for a larger one readLarge's.
func (c *Conn) readBody(size int) ([]byte, error) {
	switch {
	case c.opened != nil:
		return c.takeOpened(), nil
	case size <= maxSlabBody:
		body := c.carve(size)
		if err := c.readFull(body); err != nil {
			return nil, err
		}
		return body, nil
	case size <= len(c.rbuf)/2:
		if err := c.fill(size); err != nil {
			return nil, err
		}
		body := c.copyBody(c.rbuf[c.rpos : c.rpos+size])
		c.rpos += size
		return body, nil
	default:
		return c.readLarge(size)
	}
}

// readLarge reads a body larger than half the read buffer, with one
// allocation and one copy. A body that has arrived whole, in rbuf and in
// the kernel, is allocated at its size and read straight into it (the
// kernel's copy is the only one). A body still on its way that fits in
// the large read buffer is gathered there, then copied out: nothing is
// allocated for it before it has arrived, and a reader that is ahead of
// its peer does not grow it in steps (readGrowing would allocate and copy
// again with each step). A larger body grows with what arrives.
//
// Once bodies are recycled (recycleBodies), a body of half the large read
// buffer or more that fits in it is read straight into its recycled
// buffer even before it has arrived: the buffer most likely comes from
// the pool rather than being allocated, and holding it while the peer
// sends costs no more than the large read buffer gathering it would, one
// copy less. (Smaller bodies are still gathered: one read of the large
// buffer takes several of them, where reading each straight would cost a
// system call apiece.)
func (c *Conn) readLarge(size int) ([]byte, error) {
	// A body read straight into its recycled buffer needs no count of
	// what has arrived: asking the kernel would cost a system call.
	if (size >= c.rbufSize/2 && size <= c.rbufSize && c.recycleBodies()) || c.arrivedWhole(size) {
		body := c.newBody(size)
		if err := c.readFull(body); err != nil {
			return nil, err
		}
		return body, nil
	}
	if size <= c.rbufSize && c.mem.rsmall != nil {
		if c.mem.rbox == nil {
			c.bigRead()
		}
		if err := c.fill(size); err != nil {
			return nil, err
		}
		body := c.copyBody(c.rbuf[c.rpos : c.rpos+size])
		c.rpos += size
		return body, nil
	}
	return c.readGrowing(size)
}

// arrivedWhole reports whether a body of size bytes, the next on the
// stream, has arrived whole: in rbuf and in the kernel's queue.
func (c *Conn) arrivedWhole(size int) bool {
	have := c.rend - c.rpos
	return have >= size || have+c.inq.count(c.rw) >= size
}

// arrivedBatch bounds the bytes of the large messages a batch takes once
// they have arrived (largeArrived): four 64 KiB messages.
const arrivedBatch = 256 << 10

// largeArrived reports whether the next message is a single frame too
// big for the read buffer to hold whole (what msgBuffered looks for) that
// has arrived whole all the same, its header in rbuf and the rest in rbuf
// and the kernel's queue, so that ReadMsg would return it without
// waiting. n is how many such messages the batch holds already: a batch
// takes them up to arrivedBatch bytes in all, so the application sees the
// first soon. Taking them lets a stream of large messages cross to the
// application a few at a time rather than with one hand-off (and one
// wake-up) each. The kernel is asked only when the last read filled the
// read buffer, a sign it held more.
func (c *Conn) largeArrived(n int) bool {
	if c.unseal != nil || c.rend != len(c.rbuf) || c.rend-c.rpos < maxHeader || c.rbuf[c.rpos] != flagLong {
		return false
	}
	size := binary.BigEndian.Uint64(c.rbuf[c.rpos+1 : c.rpos+maxHeader])
	if size > uint64(arrivedBatch/(n+1)) || (c.maxMsg > 0 && size > uint64(c.maxMsg)) {
		return false
	}
	return c.arrivedWhole(maxHeader + int(size))
}

// readGrowing reads a body of the given size into memory that grows with
// what arrives. Nothing is reserved before the body's first bytes are
// there; then each allocation is at most the larger of twice the bytes
// received so far (never less than growStart) and the bytes that have
// arrived, counting those the kernel holds for us (streamQueued). A body
// that has arrived whole thus costs one allocation of exactly its size
// and one copy, the read itself; a peer that announces a huge frame and
// trickles it makes the reader hold about twice what it sent.
func (c *Conn) readGrowing(size int) ([]byte, error) {
	n, err := c.firstGrowth(size)
	if err != nil {
		return nil, err
	}
	body := c.growBody(n, size)
	got := 0
	for {
		if err := c.readFull(body[got:]); err != nil {
			return nil, err
		}
		got = len(body)
		if got == size {
			return body, nil
		}
		grown := c.growBody(c.growTo(got, c.inq.count(c.rw), size), size)
		copy(grown, body)
		body = grown
	}
}

// firstGrowth returns the first allocation of a growing body, waiting for
// its first bytes if none has arrived yet. Bytes already queued in the
// kernel are left there, to be read straight into the body.
func (c *Conn) firstGrowth(size int) (int, error) {
	if c.rend-c.rpos >= size {
		return size, nil
	}
	queued := c.inq.count(c.rw)
	if c.rend == c.rpos && queued == 0 {
		if err := c.fill(1); err != nil {
			return 0, err
		}
		queued = c.inq.count(c.rw)
	}
	return c.growTo(0, queued, size), nil
}

// growTo returns how big a body of the given size may be once got of its
// bytes are in memory, rbuf holds some more and the kernel queued more
// still: what was received doubled, or all that has arrived, capped at
// size.
func (c *Conn) growTo(got, queued, size int) int {
	received := got + c.rend - c.rpos
	return min(size, max(growStart, 2*received, received+queued))
}

// newBody returns memory for a body of n bytes that the caller fills
// whole before delivering it: recycled (package bufpool) once the
// application releases messages and the body is large enough, newly
// allocated otherwise. A connection with a codec never recycles: the
// codec's output, not the body read, is what the application gets.
func (c *Conn) newBody(n int) []byte {
	if n > maxSlabBody && c.recycleBodies() {
		if b, ok := bufpool.Get(n); ok {
			return b
		}
	}
	return make([]byte, n)
}

// recycleBodies tells whether bodies above maxSlabBody come from
// package bufpool: once the application has released a message, and
// never with a codec.
func (c *Conn) recycleBodies() bool { return c.codec == nil && bufpool.Active() }

// copyBody returns a copy of src in memory of its own, recycled as
// newBody's.
func (c *Conn) copyBody(src []byte) []byte {
	if len(src) > maxSlabBody && c.recycleBodies() {
		if b, ok := bufpool.Get(len(src)); ok {
			copy(b, src)
			return b
		}
	}
	// Allocated by append, so it is not zeroed before the copy.
	return append([]byte(nil), src...)[:len(src):len(src)]
}

// growBody returns memory for n bytes of a growing body of the given
// size: newBody's once it is the whole body, a plain allocation for the
// steps before (they are copied out, then dropped).
func (c *Conn) growBody(n, size int) []byte {
	if n == size {
		return c.newBody(n)
	}
	return make([]byte, n)
}

// carve returns n bytes of the byte slab, capped so appends never reach a
// neighbour. A new byte slab retires the frame slab too, so a frame slab
// points into at most two byte slabs. A plain slab is sized to what has
// arrived (at most byteSlabSize): a message read alone gets its own
// allocation; a recycled one (recycleSlabs) is byteSlabSize.
//
// A recycled slab is retired as well when its frame entries run short
// (fewer than a single-frame message spanning two slabs needs), so that
// the lists of the messages carved from it are carved from it too.
func (c *Conn) carve(n int) []byte {
	if len(c.slab)-c.slabOff < n || (c.unitFrames && len(c.frameSlab)-c.frameOff < 3) {
		c.newSlab(n)
	}
	b := c.slab[c.slabOff : c.slabOff+n : c.slabOff+n]
	c.slabOff += n
	if c.slabRef.Valid() {
		c.msgCarved = true
	}
	return b
}

// newSlab retires the byte slab and takes another for a body of n bytes:
// recycled when recycleSlabs says so and a good part of a slab has
// arrived, a plain allocation otherwise. A recycled slab's frame entries
// become the frame slab (unitFrames); a plain byte slab retires the
// frame slab too.
func (c *Conn) newSlab(n int) {
	c.retireSlab()
	arrived := max(n, c.rend-c.rpos)
	if (arrived >= minRecycledSlab || arrived >= recycledRun*(n+2)) && c.recycleSlabs() {
		c.slabRef, c.slab = bufpool.GetSlab()
		c.frameSlab, c.frameOff, c.unitFrames = c.slabRef.Frames(), 0, true
	} else {
		c.slab = make([]byte, min(byteSlabSize, arrived))
		c.frameOff = len(c.frameSlab)
	}
	c.slabOff = 0
}

// recycleSlabs tells whether small bodies go to recycled slabs: only once
// the application has released a message (bufpool.Active), so that one
// that never does pays nothing and never sees its bytes reused, and
// never with a codec, whose output, not the body read, is what the
// application gets. Bodies of any size are: the frame lists of the
// messages come from the slab too, so a stream of tiny messages released
// as they are taken allocates nothing, where it used to allocate 40
// bytes a message (16 B bodies) and run the collector every few
// milliseconds.
func (c *Conn) recycleSlabs() bool { return c.recycleBodies() }

// retireSlab ends the reader's use of the byte slab, and of its frame
// entries if it is recycled. A message being read with bodies in it
// (msgCarved) goes on in the next slab: it takes its reference to this
// one now (spanTok), to hold along with the next one's. A message that
// spans a third slab drops the token of the first unreleased (a leak:
// that slab is never reused).
func (c *Conn) retireSlab() {
	if c.unitFrames {
		c.frameSlab, c.frameOff, c.unitFrames = nil, 0, false
	}
	if c.msgCarved {
		c.spanTok = c.slabRef.Ref()
		c.msgCarved = false
	}
	c.slabRef.Retire()
	c.slab, c.slabOff = nil, 0
}

// slabTokens settles the recycled slabs' references of a message just
// read whole: the tokens to keep in its frame list, which Release gives
// back; prev is set only for a message that spans two slabs. A message
// the socket layer may keep part of after the application released it
// (REP keeps a request's envelope, the frames up to the first empty one,
// to route the reply) gets none: its references are leaked, and its
// slabs are never reused.
//
// own says the message holds a reference to the current slab (a token,
// or a leaked reference that keeps the slab from ever being reused):
// only then may its list be carved from the slab's frame entries.
func (c *Conn) slabTokens(frames [][]byte) (cur, prev []byte, own bool) {
	prev, c.spanTok = c.spanTok, nil
	if c.msgCarved {
		c.msgCarved = false
		cur = c.slabRef.Ref()
		own = true
	}
	if hasEnvelope(frames) {
		return nil, nil, own
	}
	if cur == nil {
		cur, prev = prev, nil
	}
	return cur, prev, own
}

// hasEnvelope reports whether an empty frame follows a non-empty one.
func hasEnvelope(frames [][]byte) bool {
	full := false
	for _, f := range frames {
		if len(f) == 0 && full {
			return true
		}
		full = full || len(f) > 0
	}
	return false
}

// frameList copies the frame headers of one message into a list of
// exactly their length: carved from the frame slab for a small message
// (at most maxSlabFrames frames, none bigger than a slab body), its own
// allocation otherwise, so that no slab keeps a large body alive. A
// message holding recycled slabs has their tokens just past its frames:
// the current slab's at the list's capacity, the one before it (if the
// message spans two) just below.
func (c *Conn) frameList(frames [][]byte) [][]byte {
	n := len(frames)
	cur, prev, own := c.slabTokens(frames)
	extra := 0
	switch {
	case prev != nil:
		extra = 2
	case cur != nil:
		extra = 1
	}
	var l [][]byte
	if n > maxSlabFrames || !slabSized(frames) {
		l = make([][]byte, n+extra)
	} else {
		l = c.carveFrames(n+extra, own)
	}
	copy(l, frames)
	if prev != nil {
		l[n] = prev
	}
	if cur != nil {
		l[n+extra-1] = cur
	}
	return l[:n]
}

// oneFrame returns a frame list holding f: slab-carved for a small f, its
// own allocation otherwise; with its slab tokens as frameList's.
func (c *Conn) oneFrame(f []byte) [][]byte {
	if cap(f) > maxSlabBody {
		if c.spanTok == nil && !c.msgCarved {
			return [][]byte{f}
		}
		l := [][]byte{f}
		return c.frameList(l)
	}
	cur, prev, own := c.slabTokens(nil)
	if prev != nil {
		l := c.carveFrames(3, own)
		l[0], l[1], l[2] = f, prev, cur
		return l[:1]
	}
	if cur != nil {
		l := c.carveFrames(2, own)
		l[0], l[1] = f, cur
		return l[:1]
	}
	l := c.carveFrames(1, own)
	l[0] = f
	return l
}

// slabSized tells whether every frame may be pointed at from the frame
// slab. Capacity, not length, is what a frame can keep alive: slab-carved
// bodies have len == cap, and a codec's output that is a short view of a
// big buffer gets a list of its own.
func slabSized(frames [][]byte) bool {
	for _, f := range frames {
		if cap(f) > maxSlabBody {
			return false
		}
	}
	return true
}

// carveFrames returns a list of n frames carved from the frame slab, which
// is sized to the messages that may have arrived with this one (at most
// frameSlabSize entries). While the frame slab is a recycled slab's
// entries (unitFrames), only a message that holds the slab (own) gets
// its list there, and one that does not fit gets its own allocation.
func (c *Conn) carveFrames(n int, own bool) [][]byte {
	if c.unitFrames {
		if !own || len(c.frameSlab)-c.frameOff < n {
			return make([][]byte, n)
		}
	} else if len(c.frameSlab)-c.frameOff < n {
		c.frameSlab = make([][]byte, min(frameSlabSize, max(n, (c.rend-c.rpos)/8)))
		c.frameOff = 0
	}
	l := c.frameSlab[c.frameOff : c.frameOff+n : c.frameOff+n]
	c.frameOff += n
	return l
}

// cmdLimit bounds a command body: MaxMsgSize, but never below 64 KiB so a
// small message limit does not break the handshake; unlimited when
// MaxMsgSize is.
func (c *Conn) cmdLimit() int64 {
	if c.maxMsg <= 0 {
		return -1
	}
	return max(c.maxMsg, minCmdLimit)
}

// readCommand reads a command body. A body that fits in rbuf is returned
// in place: it is valid only until the next read. A larger one grows with
// what arrives, so a peer announcing a big command and stalling (during
// the handshake, say) holds little memory.
func (c *Conn) readCommand(size uint64) ([]byte, error) {
	if lim := c.cmdLimit(); lim >= 0 && size > uint64(lim) {
		return nil, c.ioFailure(fmt.Errorf("%w: command of %d bytes exceeds %d", transport.ErrTooLarge, size, lim))
	}
	n := int(size)
	if c.opened != nil {
		return c.takeOpened(), nil
	}
	if n > len(c.rbuf) {
		return c.readGrowing(n)
	}
	if c.rend-c.rpos < n {
		if err := c.fill(n); err != nil {
			return nil, err
		}
	}
	body := c.rbuf[c.rpos : c.rpos+n : c.rpos+n]
	c.rpos += n
	return body, nil
}
