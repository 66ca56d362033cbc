package zmtp

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// After a CURVE handshake every frame, message part or command, travels
// as a MESSAGE (RFC 26): name, short nonce, then the box of a flags byte
// (MORE 0x01, COMMAND 0x02 as libzmq sets it) and the frame's body. The
// MESSAGE itself goes in a frame with no flags: not marked as a command,
// never MORE (the box carries those). That is what libzmq 4.3 sends, and
// it takes a MESSAGE in a frame marked as a command for a command whose
// content it drops. Either marking is accepted on receipt. The engine
// keeps writing and reading ordinary frames; these functions box them on
// the way out and open them on the way in.
//
// Outbound, the write buffer holds plain frames and they are boxed as
// they leave, in the order they leave, so a PING or PONG written ahead
// of the buffer still carries the lower nonce. A frame too large for the
// buffer is boxed straight from the caller's memory into a ciphertext
// buffer: one pass over its bytes.
//
// Inbound, a MESSAGE is authenticated before anything of it is
// decrypted, and decrypting is the only pass after the tag's: a command,
// or a body small enough for the slab, is opened in place in the read
// buffer and read from there like any frame; a larger body is decrypted
// from the read buffer into memory of its own, and one larger than the
// read buffer is read, past what the buffer holds, straight into that
// memory and decrypted in place (openBuffered, openGrowing). That memory
// is recycled as the reader's large bodies are (newBody, growBody).

const (
	msgName       = "\x07MESSAGE"
	msgHeader     = len(msgName) + shortNonce // name and short nonce
	msgOverhead   = msgHeader + tagSize + 1   // to the frame body: header, tag, flags
	sealOutSize   = 64 << 10                  // sealed bytes gathered per write
	maxKeptCipher = 256 << 10                 // a ciphertext buffer this large is kept for the next frame
)

// sealer boxes outbound frames; it belongs to the writer (wmu held).
type sealer struct {
	box *messageBox
	ks  keystream
	out []byte // boxed frames awaiting a write
	// outPlain is the size of the plain frames boxed in out.
	outPlain int
	big      []byte // ciphertext of a frame too large for out
	vec      [2][]byte
	// bufs writes a large frame's header and ciphertext (a field, so
	// that writing them allocates nothing).
	bufs net.Buffers
}

// unsealer opens inbound MESSAGE commands; it belongs to the reader.
type unsealer struct {
	box *messageBox
	ks  keystream
}

// writeOut writes whole plain frames to the stream, boxed if the
// mechanism boxes traffic.
// It returns how many plain bytes went out: boxed, those of the frames
// whose box went out whole.
func (c *Conn) writeOut(p []byte) (int, error) {
	if c.seal == nil {
		return c.rw.Write(p)
	}
	return c.seal.writeCounted(c.rw, p, nil)
}

// writeBufs writes c.vec, plain frames whose last body is c.vec[1],
// boxed if the mechanism boxes traffic. It returns how many plain bytes
// went out, as writeOut does.
func (c *Conn) writeBufs() (int64, error) {
	if c.seal == nil {
		return c.bufs.WriteTo(c.rw)
	}
	n, err := c.seal.writeCounted(c.rw, c.vec[0], c.vec[1])
	return int64(n), err
}

// write boxes the frames in head, whose last one may continue with tail,
// and writes them to w.
func (s *sealer) write(w io.Writer, head, tail []byte) error {
	_, err := s.writeCounted(w, head, tail)
	return err
}

// writeCounted is write, which also returns how many plain bytes went out: those
// of the frames whose box was written whole, so that a write cut short
// says exactly which frames reached the stream.
func (s *sealer) writeCounted(w io.Writer, head, tail []byte) (int, error) {
	if s.out == nil {
		s.out = make([]byte, 0, sealOutSize+maxHeader+msgOverhead)
	}
	s.out, s.outPlain = s.out[:0], 0
	done := 0
	for len(head) > 0 {
		flags, size, n := frameHeader(head)
		body := head[n:]
		var rest []byte
		if size <= len(body) {
			body, head = body[:size], body[size:]
		} else {
			if size != len(body)+len(tail) {
				return done, fmt.Errorf("zmtp: internal error: boxing a frame of %d bytes from %d+%d", size, len(body), len(tail))
			}
			rest, head = tail, nil
		}
		out, err := s.seal(w, flags, body, rest)
		done += out
		if err != nil {
			return done, err
		}
	}
	if len(s.out) == 0 {
		return done, nil
	}
	n, err := w.Write(s.out)
	if err != nil {
		return done + plainWithin(s.out, n), err
	}
	return done + s.outPlain, nil
}

// seal appends one frame, boxed, to s.out, writing s.out first when it
// is full. A frame larger than half of out is written at once, its
// ciphertext from s.big. It returns how many plain bytes went out.
func (s *sealer) seal(w io.Writer, flags byte, body, rest []byte) (int, error) {
	n := 1 + len(body) + len(rest) // flags byte and payload
	nonce, err := s.box.nextNonce()
	if err != nil {
		return 0, err
	}
	small := n <= sealOutSize/2
	need := maxHeader + msgHeader + tagSize
	if small {
		need += n
	}
	done := 0
	if len(s.out)+need > cap(s.out) {
		m, err := w.Write(s.out)
		if err != nil {
			return plainWithin(s.out, m), err
		}
		done = s.outPlain
		s.out, s.outPlain = s.out[:0], 0
	}
	b := appendFrameHeader(s.out, 0, msgHeader+tagSize+n)
	b = append(b, msgName...)
	b = binary.BigEndian.AppendUint64(b, nonce)
	tagAt := len(b)
	b = b[:tagAt+tagSize]
	var ct []byte
	if small {
		ct = b[len(b) : len(b)+n]
		s.out = b[:len(b)+n]
	} else {
		ct = s.cipherBuffer(n)
	}
	fl := [1]byte{boxFlags(flags)}
	tag := s.box.sealPieces(&s.ks, nonce, ct, fl[:], body, rest)
	copy(b[tagAt:], tag[:])
	if small {
		s.outPlain += plainFrameSize(n - 1)
		return done, nil
	}
	s.vec = [2][]byte{b, ct}
	s.bufs = s.vec[:]
	m, err := s.bufs.WriteTo(w)
	s.vec, s.bufs = [2][]byte{}, nil
	if err != nil {
		done += plainWithin(b, int(m))
	} else {
		done += s.outPlain + plainFrameSize(n-1)
	}
	s.out, s.outPlain = s.out[:0], 0
	if cap(s.big) > maxKeptCipher {
		// Written (or failed): nothing refers to it any more.
		bufpool.Put(s.big)
		s.big = nil
	}
	return done, err
}

// plainFrameSize is the size of a plain frame with a body of n bytes:
// header and body, as appendFrameHeader writes it.
func plainFrameSize(n int) int {
	if n <= maxShortSize {
		return 2 + n
	}
	return maxHeader + n
}

// plainWithin returns the size of the plain frames whose boxes are
// wholly within the first n bytes of the boxed frames starting boxed
// (whose headers are all in boxed; the last body may go on past it).
func plainWithin(boxed []byte, n int) int {
	plain := 0
	for pos := 0; pos < len(boxed); {
		_, size, h := frameHeader(boxed[pos:])
		end := pos + h + size
		if end > n {
			break
		}
		plain += plainFrameSize(size - msgOverhead)
		pos = end
	}
	return plain
}

// cipherBuffer returns n bytes for the ciphertext of a large frame: the
// sealer's own buffer, kept from frame to frame up to maxKeptCipher, or
// for a larger frame one from the pools (package bufpool), given back
// once written. sealPieces overwrites all n bytes.
func (s *sealer) cipherBuffer(n int) []byte {
	if cap(s.big) < n {
		if n > maxKeptCipher {
			if b, ok := bufpool.Get(n); ok {
				s.big = b
				return b
			}
		}
		s.big = make([]byte, n)
	}
	return s.big[:n]
}

// frameHeader decodes a frame header the engine wrote: flags, body size
// and header length.
func frameHeader(b []byte) (flags byte, size, n int) {
	flags = b[0]
	if flags&flagLong == 0 {
		return flags, int(b[1]), 2
	}
	return flags, int(binary.BigEndian.Uint64(b[1:9])), maxHeader
}

// boxFlags maps frame flags to the flags byte inside a MESSAGE box.
func boxFlags(flags byte) byte {
	var f byte
	if flags&flagMore != 0 {
		f |= msgFlagMore
	}
	if flags&flagCommand != 0 {
		f |= msgFlagCmd
	}
	return f
}

// openFrame reads the MESSAGE command whose header (flags, size) was just
// read and opens it, returning the flags and size of the frame inside.
// Its body is then read as usual: from the read buffer, where it was
// opened in place, or, for a MESSAGE larger than the buffer, from
// c.opened. Anything but a well-formed MESSAGE whose box opens under a
// nonce greater than the last one breaks the connection.
func (c *Conn) openFrame(flags byte, size uint64) (byte, uint64, error) {
	if flags&flagMore != 0 {
		return 0, 0, c.ioFailure(protocolErrorf("CURVE MESSAGE frame marked MORE"))
	}
	if size < uint64(msgOverhead) {
		return 0, 0, c.ioFailure(protocolErrorf("CURVE command of %d bytes is shorter than a MESSAGE", size))
	}
	if lim := c.cmdLimit(); lim >= 0 && size > uint64(lim)+uint64(msgOverhead) {
		return 0, 0, c.ioFailure(fmt.Errorf("%w: CURVE MESSAGE of %d bytes from %s (limit %d)", transport.ErrTooLarge, size, c.remote, lim))
	}
	if err := c.fill(msgHeader); err != nil {
		return 0, 0, err
	}
	hdr := c.rbuf[c.rpos : c.rpos+msgHeader]
	if string(hdr[:len(msgName)]) != msgName {
		return 0, 0, c.ioFailure(protocolErrorf("peer sent a %q command on a CURVE connection", commandName(hdr)))
	}
	nonce := binary.BigEndian.Uint64(hdr[len(msgName):])
	if nonce <= c.unseal.box.nonce {
		return 0, 0, c.ioFailure(fmt.Errorf("%w: MESSAGE nonce %d after %d from %s", ErrReplay, nonce, c.unseal.box.nonce, c.remote))
	}
	var (
		inner byte // the box's flags
		ok    bool
		err   error
	)
	if size <= uint64(len(c.rbuf)) {
		inner, ok, err = c.openBuffered(nonce, int(size))
	} else {
		inner, ok, err = c.openGrowing(nonce, int(size)-msgOverhead)
	}
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return 0, 0, c.ioFailure(fmt.Errorf("%w: MESSAGE %d from %s", ErrDecrypt, nonce, c.remote))
	}
	c.unseal.box.nonce = nonce
	if inner&^msgFlagsMask != 0 || inner == msgFlagMore|msgFlagCmd {
		c.opened = nil
		return 0, 0, c.ioFailure(protocolErrorf("CURVE MESSAGE with invalid flags 0x%02x", inner))
	}
	var out byte
	if inner&msgFlagMore != 0 {
		out |= flagMore
	}
	if inner&msgFlagCmd != 0 {
		out |= flagCommand
	}
	return out, size - uint64(msgOverhead), nil
}

// openBuffered opens a MESSAGE of size bytes that fits in the read
// buffer: it reads it whole into rbuf, checks the tag there, and
// decrypts the flags byte and then the body. A command's body, or a
// small one, is decrypted in place and read from rbuf as usual (a small
// body is carved from the slab from there); a larger one is decrypted
// straight from rbuf into memory of its own (c.opened), so that the
// decryption is also the copy out of the read buffer. ok is false if
// the tag is wrong; nothing is decrypted then.
func (c *Conn) openBuffered(nonce uint64, size int) (inner byte, ok bool, err error) {
	if err := c.fill(size); err != nil {
		return 0, false, err
	}
	u := c.unseal
	boxed := c.rbuf[c.rpos+msgHeader : c.rpos+size]
	ct := boxed[tagSize:] // flags byte and body
	var tag [tagSize]byte
	copy(tag[:], boxed)
	if !u.box.verify(&u.ks, nonce, &tag, ct) {
		return 0, false, nil
	}
	var fl [1]byte
	u.ks.xor(fl[:], ct[:1])
	body := ct[1:]
	if fl[0]&msgFlagCmd != 0 || len(body) <= maxSlabBody {
		u.ks.xor(body, body)
		c.rpos += msgOverhead
		return fl[0], true, nil
	}
	// Not by append: the key stream is XORed in on the way, so a new
	// allocation is zeroed first (cheaper than the copy it replaces).
	// A recycled one is not: the XOR overwrites it whole.
	dst := c.newBody(len(body))
	u.ks.xor(dst, body)
	c.opened = dst
	c.rpos += size
	return fl[0], true, nil
}

// openGrowing opens a MESSAGE whose box (flags byte and n bytes of body
// after the tag) is larger than the read buffer. The body's memory grows
// with what arrives, like readGrowing's, and is the body handed over
// (c.opened): the part of the box already in rbuf is authenticated there
// and decrypted from there into the body, the rest is read from the
// stream straight into the body, authenticated as it arrives, and
// decrypted in place. Nothing is decrypted before the whole box is
// authenticated, and rbuf is not read into meanwhile, so the part kept
// there stays valid. Per byte: the read, Poly1305 and Salsa20, no copy.
func (c *Conn) openGrowing(nonce uint64, n int) (inner byte, ok bool, err error) {
	if err := c.fill(msgOverhead); err != nil {
		return 0, false, err
	}
	u := c.unseal
	var tag [tagSize]byte
	copy(tag[:], c.rbuf[c.rpos+msgHeader:])
	fct := [1]byte{c.rbuf[c.rpos+msgHeader+tagSize]} // the flags byte, encrypted
	c.rpos += msgOverhead
	head := c.rbuf[c.rpos:min(c.rend, c.rpos+n)]
	c.rpos += len(head)

	mac := u.box.authenticator(&u.ks, nonce, 1+n)
	_, _ = mac.Write(fct[:])
	_, _ = mac.Write(head)

	got := len(head)
	body := c.growBody(c.growTo(got, c.inq.count(c.rw), n), n)
	for got < n {
		if got == len(body) {
			grown := c.growBody(c.growTo(got, c.inq.count(c.rw), n), n)
			copy(grown[len(head):], body[len(head):got])
			body = grown
		}
		m, err := c.read(body[got:])
		_, _ = mac.Write(body[got : got+m])
		got += m
		if err != nil && got < n {
			return 0, false, c.readFailure(err)
		}
	}
	if !mac.Verify(tag[:]) {
		return 0, false, nil
	}
	var fl [1]byte
	u.ks.xor(fl[:], fct[:])
	u.ks.xor(body[:len(head)], head)
	u.ks.xor(body[len(head):], body[len(head):])
	c.opened = body
	return fl[0], true, nil
}

// takeOpened hands over the body of a MESSAGE openFrame opened into
// memory of its own.
func (c *Conn) takeOpened() []byte {
	b := c.opened
	c.opened = nil
	return b
}

// commandName returns the name at the start of a command body, for
// errors.
func commandName(b []byte) string {
	if len(b) == 0 || int(b[0]) >= len(b) {
		return ""
	}
	return string(b[1 : 1+int(b[0])])
}
