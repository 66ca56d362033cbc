package durable

import (
	"context"
	"time"

	"github.com/brookmq/brook/durable/internal/record"
)

// Refresh makes a read-only Log look for records and segments the writer (in
// another process) appended since it last looked, so that End, Changed and
// Stats reflect them; records are verified as they are found. On a writer's
// Log it does nothing. Reader.Next, WaitVisible, OffsetAt and Verify refresh
// on their own.
//
// It also looks at META: if the writer has started a new epoch (it crashed
// and recovered), the read-only Log adopts it as long as every record it
// has seen is still stable; otherwise records it has seen may be gone, and
// from then on Refresh, Reader.Next and WaitVisible fail with a
// *RewoundError (ErrRewound): reopen the Log and resume where CheckResume
// says. (Records a Reader had not yet returned are read as they are now.)
func (l *Log) Refresh() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if !l.ro {
		return nil
	}
	return l.refresh()
}

// waitReadOnly polls a read-only Log until the record at off is visible.
func (l *Log) waitReadOnly(ctx context.Context, off uint64) error {
	for {
		if l.closed.Load() {
			return ErrClosed
		}
		if err := l.refresh(); err != nil {
			return err
		}
		if l.visible.Load() > off {
			return nil
		}
		t := time.NewTimer(l.opts.pollInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// refresh makes a read-only Log see records and segments appended by a writer
// in another process since the last look. Records are verified as they are
// found; an incomplete or unverifiable record ends the visible log until a
// later refresh finds it complete.
func (l *Log) refresh() error {
	l.roMu.Lock()
	defer l.roMu.Unlock()
	if r := l.rewound.Load(); r != nil {
		return r
	}
	// META is looked at before the scan (a restart since the last look)
	// and after it (a restart during the scan, whose records then cannot
	// be told apart).
	if err := l.followEpoch(); err != nil {
		return err
	}
	if err := l.scanAll(); err != nil {
		return err
	}
	return l.followEpoch()
}

// followEpoch re-reads META and adopts a new epoch the writer started, or
// marks this Log rewound if records it has seen may have been dropped.
func (l *Log) followEpoch() error {
	b, err := readWhole(l.fs, l.path(metaName), 4096)
	if err != nil {
		return nil // replaced atomically: retried at the next look
	}
	m, err := decodeMeta(b)
	cur := l.metaNow()
	if err != nil || m.id != cur.id || m.epoch().N == cur.epoch().N {
		return nil
	}
	l.mu.Lock()
	next := l.next
	l.mu.Unlock()
	if stable := m.stableSince(cur.epoch().N); stable < next {
		r := &RewoundError{Epoch: cur.epoch().N, Offset: next, Stable: stable}
		l.rewound.Store(r)
		l.notify()
		return r
	}
	l.metaMu.Lock()
	l.meta = m
	l.metaMu.Unlock()
	return nil
}

// scanAll verifies what the writer appended to the last segment and opens
// the segments it created since.
func (l *Log) scanAll() error {
	for {
		l.mu.Lock()
		var s *segment
		if n := len(l.segs); n > 0 {
			s = l.segs[n-1]
		}
		next := l.next
		l.mu.Unlock()
		if s == nil {
			if !l.tryAddSegment(next) {
				return nil
			}
			continue
		}
		if err := l.scanNew(s); err != nil {
			return err
		}
		l.mu.Lock()
		next = l.next
		l.mu.Unlock()
		if next == s.base || !l.tryAddSegment(next) {
			return nil
		}
	}
}

// scanNew verifies records appended to s after its known end.
func (l *Log) scanNew(s *segment) error {
	size, err := s.f.Size()
	if err != nil {
		return err
	}
	l.mu.Lock()
	pos, off := s.size, s.end
	l.mu.Unlock()
	if pos >= size || unwritten(s.f, pos) {
		return nil
	}
	rr := newRecReader(s.f, 64<<10)
	var last int64
	for pos < size {
		rec, n, err := rr.record(pos, off)
		if err != nil {
			if isIOError(err) {
				return err
			}
			break
		}
		s.idx.add(indexEntry{off: off, pos: pos, ts: rec.Time}, l.opts.indexInterval)
		pos += int64(n)
		off = rec.Following()
		last = max(last, rec.Time)
	}
	l.mu.Lock()
	if off > s.end {
		s.size, s.end, s.lastTS = pos, off, max(s.lastTS, last)
		l.next = off
	}
	l.mu.Unlock()
	if off > l.visible.Load() {
		l.visible.Store(off)
		l.written.Store(off)
		l.notify()
	}
	return nil
}

// tryAddSegment opens the segment with base next if the writer created it.
func (l *Log) tryAddSegment(next uint64) bool {
	s, _, err := l.openSegment(next, osRDONLY)
	if err != nil {
		return false
	}
	l.mu.Lock()
	if n := len(l.segs); n > 0 {
		l.segs[n-1].sealedEnd.Store(next)
	}
	l.segs = append(l.segs, s)
	l.mu.Unlock()
	return true
}

// unwritten reports whether the record header at pos is all zeros
// (preallocated space the writer has not reached): a tailing read-only Log
// polls it without reading any further.
func unwritten(f File, pos int64) bool {
	var hdr [record.HeaderSize]byte
	n, _ := f.ReadAt(hdr[:], pos)
	return n == len(hdr) && hdr == [record.HeaderSize]byte{}
}
