package socket

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SendBatch sends msgs in order, as that many calls of Send would, and
// returns how many it accepted: msgs[:n]. It stops at the first message it
// cannot accept and returns the reason: the errors of Send (ErrClosed,
// ErrNotSupported, ctx.Err(), a journal's errors such as
// durable.ErrTooLarge or the sticky durable.ErrFailed), or ErrEmptyMsg for
// a message without frames (the messages before it are sent). All are
// matched with errors.Is.
//
// On a journaled socket (WithJournal) the batch is journaled under one
// lock of the journal, with one clock reading and one wake-up of its
// writer, then SendBatch waits once, until the last message is durable
// per the journal's sync mode (Send waits once per message). Accepted
// means durable then: after a failure of the journal n counts the
// messages durable before it (the rest may be lost, as with Send); if ctx
// ends during that wait, the rest are journaled and may still become
// durable. On other sockets the messages go out one by one through Send,
// with its semantics (a PUB drops at the high-water mark, a PUSH blocks).
func (s *Socket) SendBatch(ctx context.Context, msgs []Msg) (int, error) {
	if s.jnl == nil {
		for i, m := range msgs {
			if err := s.Send(ctx, m); err != nil {
				return i, batchError(err, i)
			}
		}
		return len(msgs), nil
	}
	_, n, err := s.sendBatchJournaled(ctx, msgs, true)
	return n, err
}

// SendBatchAsync is SendAsync for many messages: it journals msgs[:n] in
// order, as SendBatch does, without waiting for them to be durable, and
// returns the Pending of the last one (zero when n is 0): messages become
// durable in offset order, so its Wait waits for all of them. It stops at
// the first message it cannot journal and says why, as SendBatch does;
// msgs[:n] are journaled all the same. It needs a journal
// (ErrNotJournaled).
func (s *Socket) SendBatchAsync(ctx context.Context, msgs []Msg) (Pending, int, error) {
	if s.jnl == nil {
		return Pending{}, 0, fmt.Errorf("%w: SendBatchAsync on a %s without WithJournal", ErrNotJournaled, s.typ)
	}
	return s.sendBatchJournaled(ctx, msgs, false)
}

// sendBatchJournaled journals msgs (up to the first empty one) and hands
// them to the socket's model; with wait it waits until they are durable.
// It returns the Pending of the last message accepted (journaled, and
// with wait durable), how many were, and why it stopped short.
func (s *Socket) sendBatchJournaled(ctx context.Context, msgs []Msg, wait bool) (Pending, int, error) {
	if s.closing.Load() {
		return Pending{}, 0, ErrClosed
	}
	var empty error
	for i, m := range msgs {
		if len(m.Frames) == 0 {
			msgs, empty = msgs[:i], batchError(ErrEmptyMsg, i)
			break
		}
	}
	if len(msgs) == 0 {
		return Pending{}, 0, empty
	}
	var (
		b   *recordBatch
		err error
	)
	if s.jp != nil {
		b, err = s.jp.sendBatch(ctx, msgs, wait)
	} else {
		b, err = s.jq.sendBatch(ctx, msgs)
		if werr := b.wait(ctx, s.jnl, wait); werr != nil {
			err = werr
		}
	}
	n := len(b.offs)
	s.ctr.sent.Add(uint64(n))
	var p Pending
	if n > 0 {
		p = s.jnl.pending(b.offs[n-1])
	}
	b.release()
	if err != nil {
		return p, n, batchError(journalError(err), n)
	}
	return p, n, empty
}

// batchError says which message of a batch err stopped.
func batchError(err error, i int) error {
	return fmt.Errorf("%w (message %d of the batch)", err, i)
}

// recordBatch is a batch of messages journaled together: their record
// frames and, for the first n, their offsets and times. Batches are
// reused (batchPool): the frames themselves go to the caches, the slices
// holding them do not (except a PUB's, appendPlainBatch, whose record
// frames live in the batch's own buffers, hdrs and lists, and only the
// journal reads).
type recordBatch struct {
	frames [][][]byte
	offs   []uint64
	ts     []int64
	hdrs   []byte
	lists  [][]byte
	stamp  func(i int, off uint64, ts int64) // made once per batch value
}

// maxPooledBatch bounds the batches batchPool keeps.
const maxPooledBatch = 4096

var batchPool = sync.Pool{New: func() any {
	b := &recordBatch{}
	b.stamp = func(i int, off uint64, ts int64) {
		stampRecord(b.frames[i][0], ts)
		b.offs = append(b.offs, off)
		b.ts = append(b.ts, ts)
	}
	return b
}}

// release gives b back to batchPool, keeping no message (and not the
// slices of a very large batch).
func (b *recordBatch) release() {
	if cap(b.frames) > maxPooledBatch {
		return
	}
	if cap(b.lists) > 4*maxPooledBatch {
		return
	}
	clear(b.frames[:cap(b.frames)])
	clear(b.lists[:cap(b.lists)])
	b.frames, b.offs, b.ts, b.hdrs, b.lists = b.frames[:0], b.offs[:0], b.ts[:0], b.hdrs[:0], b.lists[:0]
	batchPool.Put(b)
}

// appendBatch journals msgs (none empty) without waiting for them to be
// durable, each with a header stamped with its record's time (see
// append). It returns what it journaled: msgs[:len(b.offs)], and why it
// stopped short; release the batch after use.
func (j *journal) appendBatch(ctx context.Context, msgs []Msg) (*recordBatch, error) {
	b := batchPool.Get().(*recordBatch)
	for _, m := range msgs {
		b.frames = append(b.frames, recordFramesFrom(&j.recs, m, 0, time.Time{}))
	}
	_, err := j.log.AppendMsgsAsync(ctx, b.frames, b.stamp)
	b.frames = b.frames[:len(b.offs)]
	return b, err
}

// appendPlainBatch is appendBatch for a journaled PUB, whose cache keeps
// the messages' own frames and times (bare cacheRecs): the record frames
// are built in the batch's own buffers, so a batch allocates nothing per
// message once its buffers have grown.
func (j *journal) appendPlainBatch(ctx context.Context, msgs []Msg) (*recordBatch, error) {
	b := batchPool.Get().(*recordBatch)
	k := 0
	for _, m := range msgs {
		k += len(m.Frames) + 1
	}
	b.hdrs = slices.Grow(b.hdrs[:0], len(msgs)*recHeaderLen)
	b.lists = slices.Grow(b.lists[:0], k)
	for _, m := range msgs {
		at := len(b.hdrs)
		b.hdrs = append(b.hdrs, recHeaderPlain)
		b.hdrs = b.hdrs[:at+recHeaderLen]
		first := len(b.lists)
		b.lists = append(b.lists, b.hdrs[at:at+recHeaderLen:at+recHeaderLen])
		b.lists = append(b.lists, m.Frames...)
		b.frames = append(b.frames, b.lists[first:len(b.lists):len(b.lists)])
	}
	_, err := j.log.AppendMsgsAsync(ctx, b.frames, b.stamp)
	b.frames = b.frames[:len(b.offs)]
	return b, err
}

// wait (if wait is set) waits until the batch is durable. On an error
// (the journal failed, ctx ended) it keeps in b what the journal made
// durable before: records become durable in offset order.
func (b *recordBatch) wait(ctx context.Context, j *journal, wait bool) error {
	if !wait || len(b.offs) == 0 {
		return nil
	}
	err := j.pending(b.offs[len(b.offs)-1]).Wait(ctx)
	if err == nil {
		return nil
	}
	end := j.log.DurableEnd()
	n := 0
	for n < len(b.offs) && b.offs[n] < end {
		n++
	}
	b.offs, b.frames, b.ts = b.offs[:n], b.frames[:n], b.ts[:n]
	return err
}

// pending is the Pending of the record at off.
func (j *journal) pending(off uint64) Pending {
	return Pending{id: MsgID{Journal: j.id, Epoch: j.epoch(), Offset: off}, log: j.log}
}

// sendBatch journals msgs and fans them out to plain subscribers, as send
// does each; with wait, once they are durable.
func (pb *publisher) sendBatch(ctx context.Context, msgs []Msg, wait bool) (*recordBatch, error) {
	b, err := pb.j.appendPlainBatch(ctx, msgs)
	if n := pb.cache.putAheadAll(b.offs, msgs, b.ts, pb.j.log.DurableEnd()); n > 0 && pb.feedN.Load() > 0 {
		pb.cache.grow(n)
	}
	if werr := b.wait(ctx, pb.j, wait); werr != nil {
		err = werr
	}
	if pb.plainN.Load() == 0 {
		return b, err
	}
	for _, m := range msgs[:len(b.offs)] {
		pb.fanned.Add(1)
		if serr := pb.s.snd.Send(ctx, m); serr != nil {
			// Journaled all the same: profile subscribers get them.
			return b, serr
		}
	}
	return b, err
}

// sendBatch journals msgs for the queue's dispatcher, as send does each.
func (q *qsender) sendBatch(ctx context.Context, msgs []Msg) (*recordBatch, error) {
	b, err := q.j.appendBatch(ctx, msgs)
	if len(b.offs) == 0 {
		return b, err
	}
	q.cache.putAll(b.offs, b.frames)
	for end := b.offs[len(b.offs)-1] + 1; ; {
		cur := q.sent.Load()
		if cur >= end || q.sent.CompareAndSwap(cur, end) {
			break
		}
	}
	return b, err
}
