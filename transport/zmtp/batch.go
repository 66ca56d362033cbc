package zmtp

import (
	"encoding/binary"

	"github.com/brookmq/brook/transport"
)

// ReadMsgs appends messages to dst: it blocks until one arrives, as
// ReadMsg does, then adds the messages that have already arrived whole in
// the read buffer, up to max in all, without reading from the stream
// again. Commands between them are handled as ReadMsg handles them; with a
// command handler set (SetCommandHandler), a command ends the batch, so
// the handler runs only once the messages before it have been taken,
// unless SetBatchedCommands lets it through. A connection with a codec
// returns one message per call. An error comes with no message: a
// failure after the first message is reported by the next call.
func (c *Conn) ReadMsgs(dst []transport.Msg, max int) ([]transport.Msg, error) {
	m, err := c.ReadMsg()
	if err != nil {
		return dst, err
	}
	c.msgsRead++
	dst = append(dst, m)
	for n := 1; n < max && c.codec == nil; n++ {
		if k := c.shortRun(&dst, max-n); k > 0 {
			c.msgsRead += uint64(k)
			n += k - 1
			continue
		}
		if m, ok := c.shortBuffered(); ok {
			c.msgsRead++
			dst = append(dst, m)
			continue
		}
		if !c.msgBuffered() && !c.largeArrived(n) {
			break
		}
		m, err := c.ReadMsg()
		if err != nil {
			break // the Conn has failed: the next call says why
		}
		c.msgsRead++
		dst = append(dst, m)
	}
	return dst, nil
}

// shortBuffered is ReadMsgs' fast path for the commonest frame of a
// stream of small messages: a whole single-frame message with a one-byte
// size (at most 255 bytes) already in the read buffer, on a plain
// connection. It takes it as ReadMsg would (slab-carved body and frame
// list, the same size limit), parsing its header once rather than in
// msgBuffered and again in ReadMsg, without ReadMsg's per-frame steps.
// Anything else (a command, a long or multipart frame, a partial frame,
// a boxing mechanism, a connection that has failed) reports false and is
// left to ReadMsg.
func (c *Conn) shortBuffered() (transport.Msg, bool) {
	if c.unseal != nil || c.rend-c.rpos < 2 || c.rbuf[c.rpos] != 0 {
		return transport.Msg{}, false
	}
	size := int(c.rbuf[c.rpos+1])
	if size > c.rend-c.rpos-2 || (c.maxMsg > 0 && int64(size) > c.maxMsg) || c.dead.Load() {
		return transport.Msg{}, false
	}
	c.rpos += 2
	body := c.carve(size)
	c.rpos += copy(body, c.rbuf[c.rpos:c.rpos+size])
	return transport.Msg{Frames: c.oneFrame(body)}, true
}

// shortRun is shortBuffered for a run of such messages: it appends to
// *dst up to max whole single-frame short messages that follow each other
// in the read buffer, carving their bodies from the byte slab and their
// frame lists from the frame slab in one step each, and returns how many
// it took. It takes none (and shortBuffered goes on one message at a
// time) unless there are at least two and the byte slab and the frame
// slab have room for all of them, and no message is being read. From a
// recycled slab each message's list is two entries of the slab's own,
// its frame and its token (slabTokens): the run takes its references in
// one step too.
func (c *Conn) shortRun(dst *[]transport.Msg, max int) int {
	if c.unseal != nil || c.msgCarved || c.spanTok != nil || c.dead.Load() {
		return 0
	}
	unit := c.slabRef.Valid()
	left := len(c.frameSlab) - c.frameOff
	switch {
	case unit:
		max = min(max, left/2)
	case left >= 2:
		max = min(max, frameSlabSize, left) // the frame slab's last entries first, none wasted
	default:
		max = min(max, frameSlabSize)
	}
	b := c.rbuf[c.rpos:c.rend]
	k, bytes, at := 0, 0, 0
	for k < max && len(b)-at >= 2 && b[at] == 0 {
		size := int(b[at+1])
		if size > len(b)-at-2 || (c.maxMsg > 0 && int64(size) > c.maxMsg) {
			break
		}
		k++
		bytes += size
		at += 2 + size
	}
	if k < 2 || len(c.slab)-c.slabOff < bytes {
		return 0
	}
	per := 1
	var tok []byte
	if unit {
		per, tok = 2, c.slabRef.RefN(k)
	}
	l := c.carveFrames(per*k, true)
	slab := c.slab[c.slabOff : c.slabOff+bytes]
	c.slabOff += bytes
	b = b[:at]
	c.rpos += at
	off := 0
	for i := 0; i < len(l); i += per {
		size := int(b[1])
		body := slab[off : off+size : off+size]
		copy(body, b[2:2+size])
		off += size
		b = b[2+size:]
		l[i] = body
		if unit {
			l[i+1] = tok
		}
		*dst = append(*dst, transport.Msg{Frames: l[i : i+1 : i+per]})
	}
	return k
}

// SetBatchedCommands implements transport.CommandBatcher: ReadMsgs reads
// on past the commands for which batched reports true.
func (c *Conn) SetBatchedCommands(batched func(name []byte) bool) { c.batched = batched }

// MsgsRead implements transport.CommandBatcher: the messages ReadMsgs has
// read, the batch being made included.
func (c *Conn) MsgsRead() uint64 { return c.msgsRead }

var _ transport.CommandBatcher = (*Conn)(nil)

// msgBuffered reports whether the read buffer holds a whole message, after
// whole commands, so that ReadMsg returns it without reading the stream.
// A command stops it when a command handler is set, unless the batched
// function (SetBatchedCommands) lets it through. Frames are not validated
// here: ReadMsg does that.
//
// A boxing mechanism (CURVE) hides what a frame is until it is opened: a
// boxed PING looks like a whole message here, and ReadMsg would read the
// stream for the message after it while the batch waits. Boxed
// connections therefore return one message per call.
func (c *Conn) msgBuffered() bool {
	if c.unseal != nil {
		return false
	}
	b := c.rbuf[c.rpos:c.rend]
	for {
		if len(b) < 2 {
			return false
		}
		flags := b[0]
		size, h := uint64(b[1]), 2
		if flags&flagLong != 0 {
			if len(b) < maxHeader {
				return false
			}
			size, h = binary.BigEndian.Uint64(b[1:maxHeader]), maxHeader
		}
		if size > uint64(len(b)-h) {
			return false
		}
		body := b[h : h+int(size)]
		b = b[h+int(size):]
		switch {
		case flags&flagCommand != 0:
			if c.onCommand != nil && !c.passes(body) {
				return false
			}
		case flags&flagMore == 0:
			return true
		}
	}
}

// passes reports whether the command whose frame body is body may be
// handled in the middle of a batch. A body too short for its name stops
// the batch (ReadMsg then reports it).
func (c *Conn) passes(body []byte) bool {
	if c.batched == nil || len(body) == 0 || int(body[0]) > len(body)-1 {
		return false
	}
	return c.batched(body[1 : 1+int(body[0])])
}
