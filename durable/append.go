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
// offset lets it check. A ctx that has already ended when Append is called
// queues nothing (offset 0). Some waits ignore ctx because they are bounded by
// the disk's progress: in Always mode, where each appender writes and fsyncs
// its own record, for the previous appender and for its own fsync, and in
// any mode for room when 4 MiB of records are already queued.
//
// After a write or fsync failure Append returns the sticky *FailedError
// (ErrFailed): a record queued when the failure happened is not
// acknowledged, and after a reopen it is either present whole or absent.
// Errors returned before anything was queued (ErrClosed, ErrReadOnly,
// ErrTooLarge, ErrFull from the free-space floor) come with offset 0.
func (l *Log) Append(ctx context.Context, payload []byte) (uint64, error) {
	return l.append(ctx, 0, payload, nil)
}

// AppendMsg adds one multipart record holding frames (a ZeroMQ message) and
// returns its offset; Record.Frames gives the frames back. It behaves like
// Append otherwise.
func (l *Log) AppendMsg(ctx context.Context, frames [][]byte) (uint64, error) {
	return l.append(ctx, record.FlagMultipart, nil, frames)
}

func (l *Log) append(ctx context.Context, flags uint32, payload []byte, frames [][]byte) (uint64, error) {
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
		l.alwaysMu.Lock()
		defer l.alwaysMu.Unlock()
	}
	off, err := l.enqueue(flags, payload, frames, n, mode != Always)
	if err != nil {
		return 0, err
	}
	if mode == Always {
		// Write and fsync the record from this goroutine: no hand-off to
		// the writer goroutine and back on the path of every append.
		l.writeMu.Lock()
		l.drain(true)
		l.writeMu.Unlock()
	}
	switch {
	case mode.acksDurable():
		return off, l.wait(ctx, &l.durable, off)
	case mode.interval() > 0:
		return off, l.wait(ctx, &l.written, off)
	}
	return off, nil
}

// enqueue assigns the next offset and encodes the record into the pending
// batch, rolling to a new segment when the active one is full. With kick
// set it wakes the writer goroutine if it is idle; otherwise the caller
// drains the batch itself.
func (l *Log) enqueue(flags uint32, payload []byte, frames [][]byte, n int, kick bool) (uint64, error) {
	size := record.Size(n)
	l.mu.Lock()
	for {
		if l.closing {
			l.mu.Unlock()
			return 0, ErrClosed
		}
		if f := l.failure.Load(); f != nil {
			l.mu.Unlock()
			return 0, f
		}
		if l.pendingBytes < l.opts.maxPending {
			break
		}
		l.space.Wait()
	}
	if floor := l.opts.minFree; floor > 0 {
		need := floor + uint64(l.pendingBytes+size)
		if l.freeBytes.Load() < need {
			l.refreshFree()
		}
		if free := l.freeBytes.Load(); free < need {
			l.mu.Unlock()
			return 0, fmt.Errorf("%w: %d bytes free, floor %d", ErrFull, free, floor)
		}
	}
	off := l.next
	ts := l.opts.now().UnixNano()
	if ts < l.lastTS {
		ts = l.lastTS
	}
	seg := l.segs[len(l.segs)-1]
	create := false
	if seg.end > seg.base && (seg.size+int64(size) > l.opts.segmentSize ||
		(l.opts.segmentAge > 0 && ts-seg.created >= int64(l.opts.segmentAge))) {
		seg.sealedEnd.Store(seg.end)
		next := &segment{base: off, path: l.path(segName(off)), size: segHdrSize, end: off, created: ts}
		l.segs = append(l.segs, next)
		seg, create = next, true
	}
	buf := l.pending.tail(seg, create)
	*buf = record.Append(*buf, record.Header{Offset: off, Time: ts, Flags: flags}, payload, frames)
	seg.idx.add(indexEntry{off: off, pos: seg.size, ts: ts}, l.opts.indexInterval)
	seg.size += int64(size)
	seg.end = off + 1
	seg.lastTS = ts
	l.lastTS = ts
	l.next = off + 1
	l.pending.end = off + 1
	l.pending.n++
	l.pendingBytes += size
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
	return off, nil
}
