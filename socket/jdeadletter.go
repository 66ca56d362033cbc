package socket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/brookmq/brook/durable"
)

// DeadLetter is a message a journaled PUSH or DEALER gave up on after
// WithMaxDeliveries deliveries, as stored in its dead-letter journal.
type DeadLetter struct {
	// ID is the message's id in the sender's journal.
	ID MsgID
	// Deliveries is how many times it was delivered.
	Deliveries int
	// Reason says why it was given up.
	Reason string
	// Time is when it was dead-lettered; Journaled when it was sent.
	Time, Journaled time.Time
	// Msg is the message, as the application sent it.
	Msg Msg
}

// A dead-letter record is a multipart journal record: a header frame, then
// the message's frames unchanged.
//
//	header: 8 bytes "brookDLQ", 1 byte version (1), 16 bytes journal id,
//	        8 bytes epoch, 8 bytes offset, 4 bytes deliveries, 8 bytes
//	        journaled (unix ns), 8 bytes dead-lettered (unix ns),
//	        2 bytes reason length, the reason; integers big-endian
const (
	dlqMagic     = "brookDLQ"
	dlqVersion   = 1
	dlqFixed     = 8 + 1 + 16 + 8 + 8 + 4 + 8 + 8 + 2
	dlqMaxReason = 1 << 10
)

// ErrNotDeadLetter means a journal record is not a dead letter.
var ErrNotDeadLetter = errors.New("brook: journal record is not a dead letter")

func deadLetterFrames(dl DeadLetter, m Msg) [][]byte {
	reason := dl.Reason
	if len(reason) > dlqMaxReason {
		reason = reason[:dlqMaxReason]
	}
	h := make([]byte, 0, dlqFixed+len(reason))
	h = append(h, dlqMagic...)
	h = append(h, dlqVersion)
	h = append(h, dl.ID.Journal[:]...)
	h = binary.BigEndian.AppendUint64(h, dl.ID.Epoch)
	h = binary.BigEndian.AppendUint64(h, dl.ID.Offset)
	h = binary.BigEndian.AppendUint32(h, uint32(dl.Deliveries))
	h = binary.BigEndian.AppendUint64(h, uint64(dl.Journaled.UnixNano()))
	h = binary.BigEndian.AppendUint64(h, uint64(dl.Time.UnixNano()))
	h = binary.BigEndian.AppendUint16(h, uint16(len(reason)))
	h = append(h, reason...)
	frames := make([][]byte, 0, len(m.Frames)+1)
	return append(append(frames, h), m.Frames...)
}

// ReadDeadLetter decodes a record of a dead-letter journal.
func ReadDeadLetter(rec durable.Record) (DeadLetter, error) {
	frames, err := rec.Frames()
	if err != nil || len(frames) < 2 {
		return DeadLetter{}, fmt.Errorf("%w: offset %d", ErrNotDeadLetter, rec.Offset)
	}
	h := frames[0]
	if len(h) < dlqFixed || string(h[:8]) != dlqMagic || h[8] != dlqVersion {
		return DeadLetter{}, fmt.Errorf("%w: offset %d: bad header", ErrNotDeadLetter, rec.Offset)
	}
	var dl DeadLetter
	p := h[9:]
	copy(dl.ID.Journal[:], p[:16])
	dl.ID.Epoch = binary.BigEndian.Uint64(p[16:])
	dl.ID.Offset = binary.BigEndian.Uint64(p[24:])
	dl.Deliveries = int(binary.BigEndian.Uint32(p[32:]))
	dl.Journaled = time.Unix(0, int64(binary.BigEndian.Uint64(p[36:])))
	dl.Time = time.Unix(0, int64(binary.BigEndian.Uint64(p[44:])))
	n := int(binary.BigEndian.Uint16(p[52:]))
	if len(p) != 54+n {
		return DeadLetter{}, fmt.Errorf("%w: offset %d: reason of %d bytes in %d", ErrNotDeadLetter, rec.Offset, n, len(p)-54)
	}
	dl.Reason = string(p[54:])
	dl.Msg = Msg{Frames: frames[1:]}
	return dl, nil
}

// Reinject sends the dead letters of dlq that keep accepts through s
// again, as new messages (new ids), from the position of dlq's cursor
// named cursor on (created at the oldest dead letter), advancing and
// committing that cursor: run it again and it goes on where it stopped.
// It returns how many it sent when it reaches the end of dlq, or the
// first error. keep nil sends them all.
func Reinject(ctx context.Context, s *Socket, dlq *durable.Log, cursor string, keep func(DeadLetter) bool) (int, error) {
	c, err := dlq.Cursor(cursor)
	if err != nil {
		return 0, err
	}
	r := dlq.NewReader(c.Offset())
	defer r.Close()
	sent := 0
	end := dlq.End()
	for r.Offset() < end {
		rec, err := r.Next(ctx)
		if err != nil {
			return sent, err
		}
		dl, err := ReadDeadLetter(rec)
		if err != nil {
			return sent, err
		}
		if keep == nil || keep(dl) {
			if err := s.Send(ctx, dl.Msg); err != nil {
				return sent, err
			}
			sent++
		}
		if err := c.Ack(rec.Offset); err != nil {
			return sent, err
		}
	}
	return sent, c.Commit()
}
