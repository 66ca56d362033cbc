package socket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/durable"
)

// A journaled socket stores each message as one multipart journal record
// whose first frame is a small header and whose other frames are the
// message's, unchanged:
//
//	header: 1 byte   version (1) in the high nibble, flags in the low:
//	                 bit 0: a not-before time follows
//	        8 bytes  the time of Send, unix ns, big-endian: the message's
//	                 time for every receiver, live or replayed
//	        8 bytes  not-before, unix ns, big-endian (delayed delivery)
const (
	recVersion     = 1
	recFlagDelay   = 1 << 0
	recHeaderPlain = recVersion << 4
	recHeaderLen   = 9
	recHeaderDelay = 17
)

// errRecord means a journal record is not one a journaled socket wrote.
var errRecord = errors.New("brook: journal record is not a socket message")

// recordFrames returns the frames to journal for m sent at now: the
// header, then m's frames (not copied).
func recordFrames(m Msg, now int64, notBefore time.Time) [][]byte {
	return recordFramesFrom(nil, m, now, notBefore)
}

// recordFramesFrom is recordFrames taking the common case's memory from
// slab (nil: its own allocation).
func recordFramesFrom(slab *recordSlab, m Msg, now int64, notBefore time.Time) [][]byte {
	if notBefore.IsZero() && len(m.Frames) == 1 {
		// The common case in one allocation (or a slab's slot): header
		// and frame list.
		r := slab.get()
		r.h[0] = recHeaderPlain
		stampRecord(r.h[:], now)
		// Field by field: a composite literal is copied in with a bulk
		// write barrier while the GC runs, two pointers with two.
		r.frames[0] = r.h[:]
		r.frames[1] = m.Frames[0]
		return r.frames[:]
	}
	frames := make([][]byte, 0, len(m.Frames)+1)
	var h []byte
	if notBefore.IsZero() {
		h = make([]byte, recHeaderLen)
		h[0] = recHeaderPlain
	} else {
		h = make([]byte, recHeaderDelay)
		h[0] = recHeaderPlain | recFlagDelay
		binary.BigEndian.PutUint64(h[9:], uint64(notBefore.UnixNano()))
	}
	stampRecord(h, now)
	frames = append(frames, h)
	return append(frames, m.Frames...)
}

// oneFrameRecord holds the record frames of a one-frame message without
// a delay: its header and its frame list, allocated together.
type oneFrameRecord struct {
	h      [recHeaderLen]byte
	frames [2][]byte
}

// recordSlab hands out oneFrameRecords carved from chunks, so a journaled
// send does not allocate one each: a chunk is one allocation for
// recordChunk sends. Any number of goroutines may call get. A chunk stays
// in memory while any of its records is referenced (the tail cache, a
// queue, a receiver over inproc holding the message's frame list): the
// cache is a ring, so that is about as long as its records anyway.
type recordSlab struct {
	cur atomic.Pointer[recordChunk]
}

type recordChunk struct {
	recs [recordChunkLen]oneFrameRecord
	next atomic.Int32 // the next slot to hand out
}

// recordChunkLen is how many records a chunk holds (64 bytes each).
const recordChunkLen = 64

// get returns a zeroed record of its own (a new allocation when s is nil).
func (s *recordSlab) get() *oneFrameRecord {
	if s == nil {
		return new(oneFrameRecord)
	}
	for {
		c := s.cur.Load()
		if c != nil {
			if i := c.next.Add(1) - 1; i < recordChunkLen {
				return &c.recs[i]
			}
		}
		n := new(recordChunk)
		n.next.Store(1)
		if s.cur.CompareAndSwap(c, n) {
			return &n.recs[0]
		}
	}
}

// stampRecord writes the send time (unix ns) into a record header.
func stampRecord(h []byte, now int64) { binary.BigEndian.PutUint64(h[1:], uint64(now)) }

// jrecord is a decoded journal record of a journaled socket.
type jrecord struct {
	off       uint64
	time      int64    // when it was sent, unix ns
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
	if len(frames) < 2 {
		return jrecord{}, fmt.Errorf("%w: offset %d has %d frames", errRecord, rec.Offset, len(frames))
	}
	return parseHeader(rec.Offset, frames)
}

// parseHeader decodes the header frame of a record's frames.
func parseHeader(off uint64, frames [][]byte) (jrecord, error) {
	r := jrecord{off: off, frames: frames}
	h := frames[0]
	if len(h) == 0 || h[0]>>4 != recVersion || h[0]&0x0F&^recFlagDelay != 0 {
		return jrecord{}, fmt.Errorf("%w: offset %d: header %x", errRecord, off, h)
	}
	want := recHeaderLen
	if h[0]&recFlagDelay != 0 {
		want = recHeaderDelay
	}
	if len(h) != want {
		return jrecord{}, fmt.Errorf("%w: offset %d: header of %d bytes", errRecord, off, len(h))
	}
	r.time = int64(binary.BigEndian.Uint64(h[1:]))
	if want == recHeaderDelay {
		r.notBefore = int64(binary.BigEndian.Uint64(h[9:]))
	}
	return r, nil
}
