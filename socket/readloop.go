package socket

import (
	"context"
	"errors"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// batchReader is implemented by connections that return the messages
// that have already arrived several at a time (zmtp, inproc).
type batchReader interface {
	ReadMsgs(dst []Msg, max int) ([]Msg, error)
}

// maxReadBatch bounds the messages a reader hands over at once, so the
// application sees the first of them soon.
const maxReadBatch = 128

// batchReading says whether conn's messages can go to the pattern in
// batches: plain connections (no journal profile, whose commands travel
// with the messages) to patterns that take batches.
func (s *Socket) batchReading(conn transport.Conn, cs *connState) (batchReader, patterns.BatchInbound, bool) {
	if cs != nil {
		return nil, nil, false
	}
	r, ok := conn.(batchReader)
	if !ok {
		return nil, nil, false
	}
	in, ok := s.pat.(patterns.BatchInbound)
	return r, in, ok
}

// readBatches is runConn's read loop for batches: it waits for room in
// the pattern, reads at most that many messages that have arrived, and
// hands them over at once. A closing socket's pattern takes nothing: what
// still arrives is read (the linger waits for the peer to hang up) and
// dropped as unread. It returns why reading ended.
func (s *Socket) readBatches(ctx context.Context, p *pipe, r batchReader, in patterns.BatchInbound) error {
	batch := make([]Msg, 0, 16)
	for {
		room, err := in.Room(ctx, p)
		closing := err != nil && s.closing.Load() && errors.Is(err, transport.ErrClosed)
		if err != nil && !closing {
			return err
		}
		if closing {
			room = maxReadBatch
		}
		batch, err = r.ReadMsgs(batch[:0], min(room, maxReadBatch))
		if err != nil {
			return err
		}
		p.received.Add(uint64(len(batch)))
		if !closing {
			if err := in.InboundBatch(p, batch); err != nil {
				if !s.closing.Load() || !errors.Is(err, transport.ErrClosed) {
					return err
				}
				closing = true
			}
		}
		if closing {
			s.dropped(p, DropUnread, len(batch))
		}
		clear(batch)
	}
}
