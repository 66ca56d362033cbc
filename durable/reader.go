package durable

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Reader reads records in offset order from a starting offset and then tails
// the Log: Next blocks for new records until its context ends. A Reader is not
// safe for concurrent use; use one per goroutine. Close it when done so
// retention can release deleted segments.
type Reader struct {
	l    *Log
	next uint64
	seg  *segment
	pos  int64 // byte position of the record holding next, valid when posK
	posK bool  // pos is known
	// posOff is the offset of the record at pos: next, or less when next
	// falls inside a gap record.
	posOff uint64
	// indexed is set while pos comes from an index entry not yet confirmed
	// by reading the record there.
	indexed bool
	rr      *recReader
	closed  bool
	// waitPast makes Next wait at an offset past the end (WaitPastEnd).
	waitPast bool
}

// ReaderOption configures a Reader.
type ReaderOption func(*Reader)

// WaitPastEnd makes Next wait at an offset past the end of the journal (not
// yet given to any record) until the journal reaches it, instead of failing
// with ErrOutOfRange. Use it to start a Reader at a future offset on
// purpose; a position resumed from storage should rather fail fast, since
// the journal may have been replaced or rewound (see Log.CheckResume).
func WaitPastEnd() ReaderOption { return func(r *Reader) { r.waitPast = true } }

// NewReader returns a Reader positioned at offset from: Log.First for the
// oldest retained record, Log.End to receive only records appended from now
// on, Log.OffsetAt for the first record at or after a time, or a cursor's
// Offset to resume. An offset below the oldest retained record (deleted by
// retention) makes Next return an *OutOfRangeError (ErrOutOfRange), and the
// Reader stays there until Seek moves it (typically to Log.First). So does
// an offset past the end, one not yet given to any record (a Reader at End
// waits for the next record), unless the Reader was made with WaitPastEnd.
func (l *Log) NewReader(from uint64, opts ...ReaderOption) *Reader {
	r := &Reader{l: l, next: from, rr: newRecReader(nil, 64<<10)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Offset returns the offset of the record the next call to Next returns.
func (r *Reader) Offset() uint64 { return r.next }

// Seek repositions the Reader at offset off.
func (r *Reader) Seek(off uint64) {
	r.next = off
	r.posK = false
}

// Close releases the Reader's segment reference; Next then returns
// ErrClosed. Close is idempotent.
func (r *Reader) Close() error {
	r.l.release(r.seg)
	r.seg = nil
	r.closed = true
	return nil
}

// Next returns the record at the Reader's offset and advances. At the end of
// the log it blocks until a new record becomes visible (see Log.End), ctx
// ends (ctx.Err()), or the Log or the Reader is closed (ErrClosed). Damage
// gives a *CorruptError; an offset deleted by retention, or past the end
// without WaitPastEnd, gives an *OutOfRangeError (the Reader does not move:
// Seek to go on); offsets that RepairSkip replaced with a gap give a
// *GapError (ErrGap), after which the Reader is past the gap.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	l := r.l
	for {
		if r.closed || l.closed.Load() {
			return Record{}, ErrClosed
		}
		if r.next < l.visible.Load() {
			return r.read()
		}
		if l.ro {
			if err := l.refresh(); err != nil {
				return Record{}, err
			}
			if r.next < l.visible.Load() {
				continue
			}
			if err := r.pastEnd(); err != nil {
				return Record{}, err
			}
			t := time.NewTimer(l.opts.pollInterval)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return Record{}, ctx.Err()
			}
			continue
		}
		ch := l.notifyChan()
		if r.next < l.visible.Load() || l.closed.Load() {
			continue
		}
		if f := l.failure.Load(); f != nil {
			return Record{}, f
		}
		if err := r.pastEnd(); err != nil {
			return Record{}, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
}

// pastEnd returns an *OutOfRangeError if the Reader is past the end of the
// journal (beyond the next offset to be assigned) and may not wait there.
func (r *Reader) pastEnd() error {
	if r.waitPast {
		return nil
	}
	l := r.l
	l.mu.Lock()
	next, first := l.next, l.firstLocked()
	l.mu.Unlock()
	if r.next > next {
		return &OutOfRangeError{Offset: r.next, First: first, End: next}
	}
	return nil
}

// read reads record r.next, which is visible. A gap record makes it return a
// *GapError and move past the gap.
func (r *Reader) read() (Record, error) {
	if r.seg == nil || !r.seg.contains(r.next) {
		if err := r.locate(); err != nil {
			return Record{}, err
		}
	}
	if !r.posK {
		if err := r.position(); err != nil {
			return Record{}, err
		}
	}
	rec, n, err := r.rr.record(r.pos, r.posOff)
	if err != nil && r.indexed && !isIOError(err) {
		// The index is only a cache: rescan from the segment start.
		r.indexed = false
		if err := r.positionFrom(indexEntry{off: r.seg.base, pos: segHdrSize}); err != nil {
			return Record{}, err
		}
		rec, n, err = r.rr.record(r.pos, r.posOff)
	}
	if err != nil {
		return Record{}, r.damageAt(r.pos, r.posOff, err)
	}
	r.indexed = false
	r.pos += int64(n)
	r.posOff = rec.Following()
	if rec.IsGap() {
		gap := &GapError{From: r.next, To: rec.Following()}
		r.next = gap.To
		return Record{}, gap
	}
	r.next++
	return toRecord(rec), nil
}

// locate finds the segment holding r.next.
func (r *Reader) locate() error {
	l := r.l
	l.mu.Lock()
	s, err := l.segmentForLocked(r.next)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	l.release(r.seg)
	r.seg = s
	r.rr.reset(s.f)
	r.posK = false
	return nil
}

// position finds the record holding r.next: index floor, then a forward
// scan. A wrong index entry falls back to a scan from the segment start.
func (r *Reader) position() error {
	start := indexEntry{off: r.seg.base, pos: segHdrSize}
	if e, ok := r.seg.idx.floor(r.next); ok {
		start = e
	}
	err := r.positionFrom(start)
	if err != nil && start.pos != segHdrSize {
		start = indexEntry{off: r.seg.base, pos: segHdrSize}
		err = r.positionFrom(start)
	}
	if err != nil {
		return err
	}
	r.indexed = start.pos != segHdrSize
	return nil
}

// positionFrom scans forward from e to the record holding r.next.
func (r *Reader) positionFrom(e indexEntry) error {
	pos, off := e.pos, e.off
	for {
		rec, n, err := r.rr.record(pos, off)
		if err != nil {
			if off == r.next {
				// The record itself is read (and reported) by read.
				break
			}
			return r.damageAt(pos, off, err)
		}
		if rec.Following() > r.next {
			break
		}
		pos += int64(n)
		off = rec.Following()
	}
	r.pos, r.posOff, r.posK = pos, off, true
	return nil
}

func (r *Reader) damageAt(pos int64, off uint64, err error) error {
	if r.l.closed.Load() {
		return ErrClosed
	}
	if isIOError(err) {
		return fmt.Errorf("brook: journal read segment %020d: %w", r.seg.base, errors.Unwrap(err))
	}
	return &CorruptError{Segment: r.seg.base, Offset: off, Pos: pos, Reason: err.Error()}
}

// OffsetAt returns the offset of the first record appended at or after t, or
// End() if there is none. It uses the time index, then scans forward.
func (l *Log) OffsetAt(t time.Time) (uint64, error) {
	if l.closed.Load() {
		return 0, ErrClosed
	}
	if l.ro {
		if err := l.refresh(); err != nil {
			return 0, err
		}
	}
	ts := t.UnixNano()
	l.mu.Lock()
	segs := append([]*segment(nil), l.segs...)
	l.mu.Unlock()
	end := l.visible.Load()
	for _, s := range segs {
		if s.base >= end {
			break
		}
		e, ok := s.idx.floorTime(ts)
		if !ok {
			if first, has := s.idx.floor(s.base); has && first.ts >= ts {
				return s.base, nil
			}
			e = indexEntry{off: s.base, pos: segHdrSize}
		}
		l.mu.Lock()
		s.refs++
		removed := s.removed
		l.mu.Unlock()
		if removed {
			l.release(s)
			continue
		}
		off, found, err := scanTime(s, e, ts, end)
		if err != nil && !isIOError(err) && e.pos != segHdrSize {
			// A wrong index entry: the index is only a cache.
			off, found, err = scanTime(s, indexEntry{off: s.base, pos: segHdrSize}, ts, end)
		}
		l.release(s)
		if err != nil || found {
			if isIOError(err) {
				err = errors.Unwrap(err)
			}
			return off, err
		}
	}
	return end, nil
}

// scanTime scans s from entry e for the first record with timestamp >= ts
// below end.
func scanTime(s *segment, e indexEntry, ts int64, end uint64) (uint64, bool, error) {
	rr := newRecReader(s.f, 64<<10)
	pos, off := e.pos, e.off
	for off < end && s.contains(off) {
		rec, n, err := rr.record(pos, off)
		if err != nil {
			if isIOError(err) {
				return 0, false, ioError{fmt.Errorf("brook: journal read segment %020d: %w", s.base, errors.Unwrap(err))}
			}
			return 0, false, &CorruptError{Segment: s.base, Offset: off, Pos: pos, Reason: err.Error()}
		}
		if rec.Time >= ts && !rec.IsGap() {
			return off, true, nil
		}
		pos += int64(n)
		off = rec.Following()
	}
	return 0, false, nil
}
