package durable

import (
	"context"
	"fmt"

	"github.com/brookmq/brook/durable/internal/record"
)

// Append adds one record and returns its offset. When it returns depends on
// the sync mode: after fsync (Group, Always), after write(2) (Interval), or
// once queued in memory (None).
//
// If ctx ends while Append waits for that point, it returns the offset the
// record was given together with ctx.Err(): the record is queued and is never
// withdrawn, so it may still become durable and visible. A caller that
// retries after a cancelled Append may store the payload twice; the returned
// offset lets it check. A ctx that has already ended when Append is called,
// or that ends while Append waits for room in the queue (see
// WithMaxPendingBytes), queues nothing (offset 0). In Always mode, where each
// appender writes and fsyncs its own record, the waits for the previous
// appender and for its own fsync ignore ctx: they are bounded by the disk.
//
// After a write or fsync failure Append returns the sticky *FailedError
// (ErrFailed): a record queued when the failure happened is not
// acknowledged, and after a reopen it is either present whole or absent.
// Errors returned before anything was queued (ErrClosed, ErrReadOnly,
// ErrTooLarge, ErrFull from the free-space floor) come with offset 0.
func (l *Log) Append(ctx context.Context, payload []byte) (uint64, error) {
	return l.append(ctx, 0, payload, nil, true, nil)
}

// AppendMsg adds one multipart record holding frames (a ZeroMQ message) and
// returns its offset; Record.Frames gives the frames back. It behaves like
// Append otherwise.
func (l *Log) AppendMsg(ctx context.Context, frames [][]byte) (uint64, error) {
	return l.append(ctx, record.FlagMultipart, nil, frames, true, nil)
}

// AppendAsync queues one record and returns its offset without waiting for
// it to be written or fsynced: WaitDurable (or WaitVisible) then waits for
// that. One goroutine can so keep many appends in flight and reach the
// throughput of many concurrent Appends in Group mode (see
// BenchmarkAppendAsync). It refuses what Append refuses, before queueing
// anything (ErrTooLarge, ErrFull below the free-space floor, the sticky
// ErrFailed, ErrClosed, ErrReadOnly), and blocks while the queue is full
// (WithMaxPendingBytes) until the writer takes it or ctx ends (then
// ctx.Err(), nothing queued). A queued record is never withdrawn; if the Log
// fails before it is durable, WaitDurable returns the failure and after a
// reopen the record is present whole or absent.
//
// In Always mode, which means one fsync per record, AppendAsync writes and
// fsyncs the record before it returns, like Append.
func (l *Log) AppendAsync(ctx context.Context, payload []byte) (uint64, error) {
	return l.append(ctx, 0, payload, nil, false, nil)
}

// AppendMsgAsync is AppendAsync for a multipart record holding frames.
func (l *Log) AppendMsgAsync(ctx context.Context, frames [][]byte) (uint64, error) {
	return l.append(ctx, record.FlagMultipart, nil, frames, false, nil)
}

// AppendMsgAsyncStamped is AppendMsgAsync that calls stamp with the offset
// and the timestamp (Unix nanoseconds, as Record.Time) the record receives,
// after they are assigned and before the frames are encoded, so the caller
// can write them into a frame of its own (a header) and the stored record
// carries the same time that OffsetAt searches. stamp runs under the Log's
// append lock: it must be quick and must not call the Log. It is not called
// when nothing is queued.
func (l *Log) AppendMsgAsyncStamped(ctx context.Context, frames [][]byte, stamp func(off uint64, ts int64)) (uint64, error) {
	return l.append(ctx, record.FlagMultipart, nil, frames, false, stamp)
}

// append checks and queues a record; with wait set it then waits until the
// sync mode acknowledges it. A non-nil stamp is called as
// AppendMsgAsyncStamped describes.
func (l *Log) append(ctx context.Context, flags uint32, payload []byte, frames [][]byte, wait bool, stamp func(uint64, int64)) (uint64, error) {
	if l.ro {
		return 0, ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := len(payload)
	if flags&record.FlagMultipart != 0 {
		n = record.FramesSize(frames)
	}
	if n > l.opts.maxRecord {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, l.opts.maxRecord)
	}
	mode := l.opts.sync
	if mode == Always {
		// Write and fsync the record from this goroutine: no hand-off to
		// the writer goroutine and back on the path of every append.
		l.alwaysMu.Lock()
		defer l.alwaysMu.Unlock()
		off, err := l.enqueue(ctx, flags, payload, frames, n, false, stamp)
		if err != nil {
			return 0, err
		}
		l.writeMu.Lock()
		l.drain(true)
		l.writeMu.Unlock()
		return off, l.wait(ctx, &l.durable, off)
	}
	off, err := l.enqueue(ctx, flags, payload, frames, n, true, stamp)
	if err != nil || !wait {
		return off, err
	}
	switch {
	case mode.acksDurable():
		return off, l.wait(ctx, &l.durable, off)
	case mode.interval() > 0:
		return off, l.wait(ctx, &l.written, off)
	}
	return off, nil
}

// WaitDurable blocks until the record at off has been fsynced, the Log
// fails (the sticky *FailedError), it is closed (ErrClosed, unless Close
// made off durable, which it does for every queued record) or ctx ends. An
// offset not yet assigned to any record gives an *OutOfRangeError. It does
// not force a sync: in None mode records become durable on Sync, a segment
// roll or Close, in Interval mode at the next tick. A read-only Log gives
// ErrReadOnly.
func (l *Log) WaitDurable(ctx context.Context, off uint64) error {
	if l.ro {
		return ErrReadOnly
	}
	if err := l.checkAssigned(off); err != nil {
		return err
	}
	return l.wait(ctx, &l.durable, off)
}

// WaitVisible blocks until Readers can see the record at off (see End),
// under the same rules as WaitDurable. On a read-only Log it polls for the
// writer's progress every WithPollInterval and waits for offsets past what
// it has seen so far.
func (l *Log) WaitVisible(ctx context.Context, off uint64) error {
	if l.ro {
		return l.waitReadOnly(ctx, off)
	}
	if err := l.checkAssigned(off); err != nil {
		return err
	}
	return l.wait(ctx, &l.visible, off)
}

// checkAssigned returns an *OutOfRangeError if off has not been given to a
// record yet.
func (l *Log) checkAssigned(off uint64) error {
	l.mu.Lock()
	next, first := l.next, l.firstLocked()
	l.mu.Unlock()
	if off >= next {
		return &OutOfRangeError{Offset: off, First: first, End: next}
	}
	return nil
}

// enqueue assigns the next offset and encodes the record into the pending
// batch, rolling to a new segment when the active one is full. It waits
// (until ctx ends) while the pending batch is full. With kick set it wakes
// the writer goroutine if it is idle; otherwise the caller drains the batch
// itself.
func (l *Log) enqueue(ctx context.Context, flags uint32, payload []byte, frames [][]byte, n int, kick bool, stamp func(uint64, int64)) (uint64, error) {
	size := record.Size(n)
	l.mu.Lock()
	if _, err := l.admitLocked(ctx, size); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	off := l.encodeLocked(flags, payload, frames, n, size, l.stampLocked(), stamp)
	l.kickLocked(kick)
	return off, nil
}

// admitLocked waits (until ctx ends) while the pending batch has no room
// for size more bytes, and refuses when the Log is closing or failed or
// the disk is below the free-space floor. It returns with mu held, also on
// error, and whether it let mu go to wait. (mu held)
func (l *Log) admitLocked(ctx context.Context, size int) (waited bool, err error) {
	for {
		if l.closing {
			return waited, ErrClosed
		}
		if f := l.failure.Load(); f != nil {
			return waited, f
		}
		if l.pendingBytes == 0 || l.pendingBytes+size <= l.opts.maxPending {
			break
		}
		room := l.room
		l.roomWaiters++
		waited = true
		// The writer may be idle with a full batch queued by this very
		// appender (AppendMsgsAsync encodes many before it kicks).
		l.kickLocked(true)
		select {
		case <-room:
		case <-ctx.Done():
			err = ctx.Err()
		}
		l.mu.Lock()
		l.roomWaiters--
		if err != nil {
			return waited, err
		}
	}
	if floor := l.opts.minFree; floor > 0 {
		need := floor + uint64(l.pendingBytes+size)
		if l.freeBytes.Load() < need {
			l.refreshFree()
		}
		if free := l.freeBytes.Load(); free < need {
			return waited, fmt.Errorf("%w: %d bytes free, floor %d", ErrFull, free, floor)
		}
	}
	return waited, nil
}

// stampLocked reads the clock for the next records: never before the
// last record's time. (mu held)
func (l *Log) stampLocked() int64 {
	var ts int64
	if l.opts.customClock {
		ts = l.opts.now().UnixNano()
	} else {
		ts = l.clock.now()
	}
	return max(ts, l.lastTS)
}

// encodeLocked gives the record the next offset and time ts and encodes it
// into the pending batch, rolling to a new segment when the active one is
// full or old. (mu held)
func (l *Log) encodeLocked(flags uint32, payload []byte, frames [][]byte, n, size int, ts int64, stamp func(uint64, int64)) uint64 {
	off := l.next
	seg := l.segs[len(l.segs)-1]
	create := false
	if seg.end > seg.base && (seg.size+int64(size) > l.opts.segmentSize ||
		(l.opts.segmentAge > 0 && ts-seg.created >= int64(l.opts.segmentAge))) {
		seg.sealedEnd.Store(seg.end)
		next := &segment{base: off, path: l.path(segName(off)), size: segHdrSize, end: off, created: ts}
		l.segs = append(l.segs, next)
		seg, create = next, true
	}
	if stamp != nil {
		stamp(off, ts)
	}
	buf := l.pending.room(seg, create, size)
	h := record.Header{Offset: off, Lag: record.LagFor(off, l.durable.Load()), Time: ts, Flags: flags}
	*buf = record.Append(*buf, h, payload, frames)
	seg.idx.add(indexEntry{off: off, pos: seg.size, ts: ts}, l.opts.indexInterval)
	seg.size += int64(size)
	seg.end = off + 1
	seg.lastTS = ts
	l.lastTS = ts
	l.next = off + 1
	l.pending.end = off + 1
	l.pending.n++
	l.pendingBytes += size
	l.appends++
	l.appendBytes += uint64(n)
	return off
}

// kickLocked unlocks mu and, with kick set, wakes the writer goroutine if
// it is idle. (mu held on entry, not on return)
func (l *Log) kickLocked(kick bool) {
	wake := kick && l.writerIdle
	if kick {
		l.writerIdle = false
	}
	l.mu.Unlock()
	if wake {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// AppendMsgsAsync is AppendMsgAsync for many records at once: msgs[i]
// becomes a multipart record, in order, and stamp (if not nil) is called
// with i, the record's offset and its timestamp, under the append lock as
// AppendMsgAsyncStamped describes. The records are encoded under one lock,
// with one clock reading and one wake-up of the writer, as long as the
// queue has room (WithMaxPendingBytes); when it fills, the call hands what
// it queued to the writer and waits for room (ctx may end that wait), and
// another appender's records may then come between two of msgs. It returns
// how many records it queued: msgs[:n], at the offsets stamp was given.
// With n < len(msgs) the error says why msgs[n] was not queued (the errors
// of AppendMsgAsync: ErrTooLarge, ErrClosed, ErrReadOnly, ErrFull, the
// sticky ErrFailed, ctx.Err()); msgs[:n] are queued all the same and
// become durable as any other record. In Always mode each record is
// written and fsynced in turn, as AppendMsgAsync does.
func (l *Log) AppendMsgsAsync(ctx context.Context, msgs [][][]byte, stamp func(i int, off uint64, ts int64)) (int, error) {
	if l.ro {
		return 0, ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var one func(uint64, int64)
	i := 0
	if stamp != nil {
		one = func(off uint64, ts int64) { stamp(i, off, ts) }
	}
	if l.opts.sync == Always {
		for ; i < len(msgs); i++ {
			if _, err := l.append(ctx, record.FlagMultipart, nil, msgs[i], false, one); err != nil {
				return i, err
			}
		}
		return i, nil
	}
	l.mu.Lock()
	var ts int64
	for ; i < len(msgs); i++ {
		n := record.FramesSize(msgs[i])
		if n > l.opts.maxRecord {
			l.kickLocked(i > 0)
			return i, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, l.opts.maxRecord)
		}
		size := record.Size(n)
		waited, err := l.admitLocked(ctx, size)
		if err != nil {
			l.kickLocked(i > 0)
			return i, err
		}
		if i == 0 || waited {
			// The clock is read once, and again after letting the lock go.
			ts = l.stampLocked()
		}
		l.encodeLocked(record.FlagMultipart, nil, msgs[i], n, size, ts, one)
	}
	l.kickLocked(true)
	return i, nil
}

// freeRoom wakes appenders waiting for room in the pending batch. (mu held)
func (l *Log) freeRoom() {
	if l.roomWaiters > 0 {
		close(l.room)
		l.room = make(chan struct{})
	}
}
