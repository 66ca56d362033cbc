package zmtp

import (
	"errors"
	"fmt"

	"github.com/brookmq/brook/transport"
)

var errNotReady = errors.New("brook: zmtp connection used before its handshake completed")

// ReadMsg blocks until the next whole message arrives and returns it; the
// caller owns its frames. Commands are handled on the way: PING is answered,
// SUBSCRIBE and CANCEL come back as 3.0 subscription messages (0x01 or 0x00
// followed by the topic), ERROR ends the connection with a
// *transport.PeerError. The message size limit is enforced on the running
// total of a multipart message before each frame is allocated. Any error is
// final: the connection is closed and later calls return the same error.
// Only one goroutine may call ReadMsg at a time.
func (c *Conn) ReadMsg() (transport.Msg, error) {
	if !c.ready.Load() {
		if err := c.failure(); err != nil {
			return transport.Msg{}, err
		}
		return transport.Msg{}, errNotReady
	}
	if c.dead.Load() {
		return transport.Msg{}, c.failure()
	}
	if c.part != nil {
		return c.finishPart() // an inline read began it (readinline.go)
	}
	frames := c.scratch[:0]
	var wire, plain int64 // running totals of the message on the wire and decoded
	for {
		flags, size, err := c.readHeader()
		if err == nil && c.unseal != nil {
			flags, size, err = c.openFrame(flags, size)
		}
		if err != nil {
			return transport.Msg{}, err
		}
		if flags&flagCommand != 0 {
			m, deliver, err := c.handleCommand(size, len(frames) > 0)
			if err != nil {
				return transport.Msg{}, err
			}
			if deliver {
				return m, nil
			}
			continue
		}
		if c.maxMsg > 0 && size > uint64(c.maxMsg-wire) {
			return transport.Msg{}, c.ioFailure(fmt.Errorf("%w: message from %s reaches %d bytes (limit %d)",
				transport.ErrTooLarge, c.remote, uint64(wire)+size, c.maxMsg))
		}
		wire += int64(size)
		body, err := c.readBody(int(size))
		if err != nil {
			return transport.Msg{}, err
		}
		if c.codec != nil {
			var deliver bool
			body, deliver, err = c.decodePart(body, plain)
			if err != nil {
				return transport.Msg{}, err
			}
			if !deliver {
				if len(frames) > 0 || flags&flagMore != 0 {
					return transport.Msg{}, c.ioFailure(protocolErrorf("codec control part inside a multipart message from %s", c.remote))
				}
				wire, plain = 0, 0
				continue
			}
			plain += int64(len(body))
		}
		if flags&flagMore == 0 && len(frames) == 0 {
			// Single-frame fast path: no scratch list to fill and clear.
			return transport.Msg{Frames: c.oneFrame(body)}, nil
		}
		frames = append(frames, body)
		if flags&flagMore == 0 {
			break
		}
	}
	m := transport.Msg{Frames: c.frameList(frames)}
	clear(frames)
	c.scratch = frames[:0]
	return m, nil
}

// decodePart runs the codec on one wire part, with the plaintext budget
// left under the message size limit.
func (c *Conn) decodePart(wire []byte, plainSoFar int64) ([]byte, bool, error) {
	budget := int64(-1)
	if c.maxMsg > 0 {
		budget = c.maxMsg - plainSoFar
	}
	plain, deliver, err := c.codec.Decode(wire, budget)
	if err != nil {
		if !errors.Is(err, transport.ErrTooLarge) {
			err = protocolErrorf("decoding a part from %s: %w", c.remote, err)
		}
		return nil, false, c.ioFailure(err)
	}
	return plain, deliver, nil
}

// handleCommand reads and acts on one command frame. It returns a message
// to deliver for SUBSCRIBE and CANCEL. inMsg tells whether the command came
// between the frames of a multipart message.
func (c *Conn) handleCommand(size uint64, inMsg bool) (transport.Msg, bool, error) {
	body, err := c.readCommand(size)
	if err != nil {
		return transport.Msg{}, false, err
	}
	name, data, err := parseCommand(body)
	if err != nil {
		return transport.Msg{}, false, c.ioFailure(err)
	}
	switch name {
	case cmdPing:
		ttl, pingCtx, err := parsePing(data)
		if err != nil {
			return transport.Msg{}, false, c.ioFailure(err)
		}
		c.notePing(ttl, pingCtx)
	case cmdPong:
		// Liveness only: any inbound byte already counted.
	case cmdSubscribe, cmdCancel:
		if inMsg {
			return transport.Msg{}, false, c.ioFailure(protocolErrorf("%s command inside a multipart message", name))
		}
		var f []byte
		if n := 1 + len(data); n <= maxSlabBody {
			f = c.carve(n)
		} else {
			f = make([]byte, n)
		}
		if name == cmdSubscribe {
			f[0] = 1
		} else {
			f[0] = 0
		}
		copy(f[1:], data)
		return transport.Msg{Frames: c.oneFrame(f)}, true, nil
	case cmdError:
		return transport.Msg{}, false, c.ioFailure(&transport.PeerError{Reason: parseErrorReason(data)})
	default:
		if c.onCommand == nil || transport.ReservedCommand(name) {
			c.log.Debug("zmtp: ignoring command", "command", name, "size", len(data), "remote", c.remote)
			break
		}
		if inMsg {
			return transport.Msg{}, false, c.ioFailure(protocolErrorf("%s command inside a multipart message", name))
		}
		if err := c.onCommand(name, data); err != nil {
			return transport.Msg{}, false, c.ioFailure(fmt.Errorf("zmtp: %s command from %s: %w", name, c.remote, err))
		}
	}
	return transport.Msg{}, false, nil
}

// SetCommandHandler installs h for the application commands the peer
// writes with WriteCommand (see transport.Conn). Call it after Handshake
// and before the first ReadMsg. The data h gets may point into the read
// buffer: it is valid only during the call.
func (c *Conn) SetCommandHandler(h transport.CommandHandler) { c.onCommand = h }
