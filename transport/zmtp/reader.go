package zmtp

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/brookmq/brook/transport"
)

// Allocation policy of the reader.
const (
	byteSlabSize  = 32 << 10 // small frame bodies are carved out of slabs this big
	maxSlabBody   = 2 << 10  // bodies up to this size come from the slab
	frameSlabSize = 256      // frame lists are carved out of slabs of this many entries
	maxSlabFrames = 16       // messages with more frames get their own list
	bigBodyChunk  = 8 << 20  // bodies beyond this grow with what arrives, not what is announced
	minCmdLimit   = 64 << 10 // commands may be this big even when MaxMsgSize is smaller
	cmdChunk      = 4 << 10  // commands beyond the read buffer grow from this size
)

// read does one Read on the stream, recording when the reader starts
// waiting and when data arrives (heartbeat liveness, stamped per buffer
// fill rather than per message).
func (c *Conn) read(p []byte) (int, error) {
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
func (c *Conn) fill(n int) error {
	if len(c.rbuf)-c.rpos < n {
		c.rend = copy(c.rbuf, c.rbuf[c.rpos:c.rend])
		c.rpos = 0
	}
	for c.rend-c.rpos < n {
		m, err := c.read(c.rbuf[c.rend:])
		c.rend += m
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
	for len(dst) > 0 {
		m, err := c.read(dst)
		dst = dst[m:]
		if err != nil && len(dst) > 0 {
			return c.readFailure(err)
		}
	}
	return nil
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
// owns: a slab for small bodies, an allocation of its own otherwise. Huge
// bodies are grown as their bytes arrive, so a lying size allocates no more
// than about twice what the peer actually sent.
func (c *Conn) readBody(size int) ([]byte, error) {
	var body []byte
	switch {
	case size <= maxSlabBody:
		body = c.carve(size)
	case size <= bigBodyChunk:
		body = make([]byte, size)
	default:
		return c.readGrowing(size, bigBodyChunk)
	}
	if err := c.readFull(body); err != nil {
		return nil, err
	}
	return body, nil
}

// readGrowing reads a body of the given size into memory that starts at
// first bytes and at most doubles with what arrives.
func (c *Conn) readGrowing(size, first int) ([]byte, error) {
	body := make([]byte, 0, min(size, first))
	for len(body) < size {
		n := len(body)
		k := min(size-n, max(n, first)) // at most double what arrived
		body = slices.Grow(body, k)[:n+k]
		if err := c.readFull(body[n:]); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// carve returns n bytes of the byte slab, capped so appends never reach a
// neighbour.
func (c *Conn) carve(n int) []byte {
	if len(c.slab)-c.slabOff < n {
		c.slab = make([]byte, byteSlabSize)
		c.slabOff = 0
	}
	b := c.slab[c.slabOff : c.slabOff+n : c.slabOff+n]
	c.slabOff += n
	return b
}

// frameList copies the frame headers of one message into a slab-carved
// list of exactly their length.
func (c *Conn) frameList(frames [][]byte) [][]byte {
	n := len(frames)
	if n > maxSlabFrames {
		return append([][]byte(nil), frames...)
	}
	l := c.carveFrames(n)
	copy(l, frames)
	return l
}

// oneFrame returns a slab-carved frame list holding f.
func (c *Conn) oneFrame(f []byte) [][]byte {
	l := c.carveFrames(1)
	l[0] = f
	return l
}

// carveFrames returns a list of n frames carved from the frame slab.
func (c *Conn) carveFrames(n int) [][]byte {
	if len(c.frameSlab)-c.frameOff < n {
		c.frameSlab = make([][]byte, frameSlabSize)
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
	if n > len(c.rbuf) {
		return c.readGrowing(n, cmdChunk)
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
