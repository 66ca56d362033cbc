package socket

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket/internal/jwire"
)

// queueAckRanges is the cursor range bound of a queue's own journal.
const queueAckRanges = 1 << 14

// journal is a journaled socket's journal and what it needs of it.
type journal struct {
	log    *durable.Log
	owned  bool // opened by WithJournalDir: the socket closes it
	id     durable.JournalID
	epochs []durable.Epoch // oldest first; the last is the current epoch
	opts   journalOptions
	recs   recordSlab // the record frames of one-frame messages
}

// openJournal opens (WithJournalDir) or takes (WithJournal) the journal;
// a queue's own journal retains what receivers have not acknowledged.
func openJournal(o journalOptions, queue bool) (*journal, error) {
	log, owned := o.log, false
	if o.dir != "" {
		opts := o.dirOpts
		if queue {
			// Acknowledgements come out of order (round robin, redeliveries,
			// delayed messages): room for many ranges above the floor.
			opts = append([]durable.Option{durable.WithRetainConsumed(), durable.WithMaxAckRanges(queueAckRanges)}, opts...)
		}
		var err error
		if log, err = durable.Open(o.dir, opts...); err != nil {
			return nil, fmt.Errorf("%w: journal %s: %w", ErrBadOption, o.dir, err)
		}
		owned = true
	}
	if err := log.Err(); err != nil {
		if owned {
			log.Close()
		}
		return nil, fmt.Errorf("%w: journal: %w", ErrBadOption, err)
	}
	epochs := log.Epochs()
	if len(epochs) == 0 {
		epochs = []durable.Epoch{log.Epoch()}
	}
	return &journal{log: log, owned: owned, id: log.ID(), epochs: epochs, opts: o}, nil
}

// epoch is the current epoch: new records are written in it.
func (j *journal) epoch() uint64 { return j.epochs[len(j.epochs)-1].N }

// epochSpan returns the epoch the record at off was written in and the
// offsets [lo, hi) that share it (hi is MaxUint64 for the current one).
func (j *journal) epochSpan(off uint64) (n, lo, hi uint64) {
	i := sort.Search(len(j.epochs), func(i int) bool { return j.epochs[i].Start > off })
	hi = math.MaxUint64
	if i < len(j.epochs) {
		hi = j.epochs[i].Start
	}
	if i == 0 {
		return j.epochs[0].N, 0, hi
	}
	return j.epochs[i-1].N, j.epochs[i-1].Start, hi
}

// epochOf returns the epoch the record at off was written in: the last
// epoch starting at or before it.
func (j *journal) epochOf(off uint64) uint64 {
	i := sort.Search(len(j.epochs), func(i int) bool { return j.epochs[i].Start > off })
	if i == 0 {
		return j.epochs[0].N
	}
	return j.epochs[i-1].N
}

// hello is what the socket announces in X-Brook-Journal.
func (j *journal) hello(publisher bool) jwire.Hello {
	h := jwire.Hello{Flags: jwire.FlagJournal, Journal: j.id, Epoch: j.epoch()}
	if publisher {
		h.Flags |= jwire.FlagPublisher
	}
	return h
}

// append journals m without waiting for it to be durable; frames are the
// record's frames (the header first). The header's time is the journal
// record's own (stamped under the journal's append lock), so
// Delivery.Time, StartTime and durable.Log.OffsetAt agree and times never
// decrease along the journal.
func (j *journal) append(ctx context.Context, m Msg, notBefore time.Time) (Pending, [][]byte, error) {
	frames := recordFramesFrom(&j.recs, m, 0, notBefore)
	h := frames[0]
	off, err := j.log.AppendMsgAsyncStamped(ctx, frames, func(_ uint64, t int64) {
		stampRecord(h, t)
	})
	if err != nil {
		return Pending{}, nil, journalError(err)
	}
	return Pending{id: MsgID{Journal: j.id, Epoch: j.epoch(), Offset: off}, log: j.log}, frames, nil
}

// close closes the journal if the socket opened it.
func (j *journal) close() error {
	if !j.owned {
		return nil
	}
	return j.log.Close()
}

// appendPlain is append for a message without a delay whose record
// frames only the journal needs (a journaled PUB's: its cache keeps the
// message's own frames and the time, a bare cacheRec): they are built on
// the stack for a message of up to plainStackFrames frames, so the send
// allocates nothing for them. It returns the record's offset and time.
func (j *journal) appendPlain(ctx context.Context, m Msg) (uint64, int64, error) {
	// Stores into the arrays themselves, not through a slice, so that
	// neither escapes.
	var h [recHeaderLen]byte
	h[0] = recHeaderPlain
	var stack [plainStackFrames + 1][]byte
	var frames [][]byte
	if len(m.Frames) <= plainStackFrames {
		stack[0] = h[:]
		for i, f := range m.Frames {
			stack[i+1] = f
		}
		frames = stack[:len(m.Frames)+1]
	} else {
		frames = recordFrames(m, 0, time.Time{})
	}
	var ts int64
	off, err := j.log.AppendMsgAsyncStamped(ctx, frames, func(_ uint64, t int64) {
		stampRecord(frames[0], t)
		ts = t
	})
	if err != nil {
		return 0, 0, journalError(err)
	}
	return off, ts, nil
}

// plainStackFrames is how many frames a message may have for appendPlain
// to build its record's frame list on the stack.
const plainStackFrames = 3

// journalError makes a journal's closed error the socket's.
func journalError(err error) error {
	if errors.Is(err, durable.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}
