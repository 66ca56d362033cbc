package socket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/brookmq/brook/durable"
)

// A journaled socket stores each message as one multipart journal record
// whose first frame is a small header and whose other frames are the
// message's, unchanged:
//
//	header: 1 byte   version (1) in the high nibble, flags in the low:
//	                 bit 0: a not-before time follows
//	        8 bytes  not-before, unix ns, big-endian (delayed delivery)
const (
	recVersion      = 1
	recFlagDelay    = 1 << 0
	recHeaderPlain  = recVersion << 4
	recHeaderMaxLen = 9
)

// errRecord means a journal record is not one a journaled socket wrote.
var errRecord = errors.New("brook: journal record is not a socket message")

// plainHeader is the header of every message without a not-before time:
// shared, never written to.
var plainHeader = []byte{recHeaderPlain}

// recordFrames returns the frames to journal for m: the header, then m's
// frames (not copied).
func recordFrames(m Msg, notBefore time.Time) [][]byte {
	frames := make([][]byte, 0, len(m.Frames)+1)
	if notBefore.IsZero() {
		frames = append(frames, plainHeader)
	} else {
		h := make([]byte, recHeaderMaxLen)
		h[0] = recHeaderPlain | recFlagDelay
		binary.BigEndian.PutUint64(h[1:], uint64(notBefore.UnixNano()))
		frames = append(frames, h)
	}
	return append(frames, m.Frames...)
}

// jrecord is a decoded journal record of a journaled socket.
type jrecord struct {
	off       uint64
	time      int64    // when it was journaled, unix ns
	notBefore int64    // unix ns, 0 for none
	frames    [][]byte // frames[0] is the header slot, frames[1:] the message
}

// msg returns the application's message.
func (r *jrecord) msg() Msg { return Msg{Frames: r.frames[1:]} }

// parseRecord decodes a journal record.
func parseRecord(rec durable.Record) (jrecord, error) {
	frames, err := rec.Frames()
	if err != nil {
		return jrecord{}, fmt.Errorf("%w: offset %d: %w", errRecord, rec.Offset, err)
	}
	r := jrecord{off: rec.Offset, time: rec.Time.UnixNano(), frames: frames}
	if len(frames) < 2 {
		return jrecord{}, fmt.Errorf("%w: offset %d has %d frames", errRecord, rec.Offset, len(frames))
	}
	h := frames[0]
	if len(h) == 0 || h[0]>>4 != recVersion || h[0]&0x0F&^recFlagDelay != 0 {
		return jrecord{}, fmt.Errorf("%w: offset %d: header %x", errRecord, rec.Offset, h)
	}
	if h[0]&recFlagDelay != 0 {
		if len(h) != recHeaderMaxLen {
			return jrecord{}, fmt.Errorf("%w: offset %d: header of %d bytes", errRecord, rec.Offset, len(h))
		}
		r.notBefore = int64(binary.BigEndian.Uint64(h[1:]))
	} else if len(h) != 1 {
		return jrecord{}, fmt.Errorf("%w: offset %d: header of %d bytes", errRecord, rec.Offset, len(h))
	}
	return r, nil
}
