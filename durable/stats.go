package durable

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Stats describes a journal.
type Stats struct {
	// ID is the journal id.
	ID JournalID
	// Created is when the journal was created.
	Created time.Time
	// First is the oldest retained offset, End the visible end and
	// DurableEnd the fsynced end.
	First, End, DurableEnd uint64
	// Bytes is the total size of the segment files.
	Bytes int64
	// Segments lists the segments, oldest first.
	Segments []SegmentInfo
	// Cursors lists the cursors by name.
	Cursors []CursorInfo
	// Sync is the sync mode the Log was opened with.
	Sync SyncMode
	// ReadOnly is set for a Log opened ReadOnly.
	ReadOnly bool
	// Epoch is the current epoch (see Epoch).
	Epoch Epoch
	// Failed is the sticky failure (a *FailedError), nil while the Log is
	// healthy.
	Failed error

	// The counters below run from Open; they are what a metrics collector
	// exports (as counters, except PendingBytes, a gauge).

	// Appends counts records queued by Append and AppendAsync, and
	// AppendedBytes their payload bytes.
	Appends, AppendedBytes uint64
	// WrittenBytes counts bytes written to segment files: records with
	// their headers and padding.
	WrittenBytes uint64
	// WriteTime is the time the writer spent in write(2) for them: copying
	// records into the page cache, which on some machines (a virtual
	// machine touching memory for the first time) costs more than
	// encoding them.
	WriteTime time.Duration
	// Syncs counts the fdatasyncs of appended data (group commit shares one
	// among all the appends of a batch), and SyncTime the time spent in
	// them.
	Syncs    uint64
	SyncTime time.Duration
	// Rolls counts segments created, DeletedSegments segments deleted by
	// retention.
	Rolls, DeletedSegments uint64
	// PendingBytes is the encoded size of the records queued for the
	// writer now.
	PendingBytes int
}

// SegmentInfo describes one segment file.
type SegmentInfo struct {
	// Base is the offset of its first record (its file name); End the offset
	// after its last record.
	Base, End uint64
	// Size is the file size in bytes.
	Size int64
	// Sealed is false for the active (last) segment.
	Sealed bool
	// Created is when the segment file was created.
	Created time.Time
	// Last is the timestamp of its last record (zero if it has none).
	Last time.Time
	// IndexEntries is the number of sparse index entries.
	IndexEntries int
}

// CursorInfo describes a cursor.
type CursorInfo struct {
	// Name is the cursor's name.
	Name string
	// Offset is the ack floor: every offset below it is acknowledged.
	Offset uint64
	// Ranges are the acknowledged ranges above the floor.
	Ranges []AckRange
}

// Stats returns a snapshot of the journal's state.
func (l *Log) Stats() Stats {
	st := Stats{
		ID: l.meta.id, Created: time.Unix(0, l.meta.created),
		End: l.visible.Load(), DurableEnd: l.durable.Load(),
		Sync: l.opts.sync, ReadOnly: l.ro, Syncs: l.syncs.Load(),
		Epoch: l.metaNow().epoch(), Failed: l.Err(),
		WrittenBytes: l.wrote.Load(), WriteTime: time.Duration(l.writeNanos.Load()), SyncTime: time.Duration(l.syncNanos.Load()),
		Rolls: l.rolls.Load(), DeletedSegments: l.deleted.Load(),
	}
	l.mu.Lock()
	st.First = l.firstLocked()
	st.Appends, st.AppendedBytes, st.PendingBytes = l.appends, l.appendBytes, l.pendingBytes
	for _, s := range l.segs {
		info := SegmentInfo{Base: s.base, End: s.end, Size: s.size, Sealed: s.sealedEnd.Load() != 0,
			Created: time.Unix(0, s.created), IndexEntries: len(s.idx.snapshot())}
		if s.end > s.base {
			info.Last = time.Unix(0, s.lastTS)
		}
		st.Bytes += s.size
		st.Segments = append(st.Segments, info)
	}
	cs := make([]*Cursor, 0, len(l.cursors))
	for _, c := range l.cursors {
		cs = append(cs, c)
	}
	l.mu.Unlock()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		st.Cursors = append(st.Cursors, CursorInfo{Name: c.name, Offset: c.Offset(), Ranges: c.Ranges()})
	}
	return st
}

// VerifyReport summarises a full verification.
type VerifyReport struct {
	// Segments counts the segments verified.
	Segments int
	// Records counts the records verified (gap records excluded).
	Records uint64
	// Bytes counts the bytes verified, segment headers included.
	Bytes int64
	// Gaps counts offsets skipped by gap records (written by RepairSkip).
	Gaps uint64
	// First and End bound the verified offsets.
	First, End uint64
}

// Verify reads and checks every record of every segment (length bounds,
// reserved bits, CRC32C, offset sequence, segment chain) up to End. It returns
// the first damage as a *CorruptError. It changes nothing on disk and may run
// while appends continue.
func (l *Log) Verify(ctx context.Context) (VerifyReport, error) {
	if l.closed.Load() {
		return VerifyReport{}, ErrClosed
	}
	if l.ro {
		if err := l.refresh(); err != nil {
			return VerifyReport{}, err
		}
	}
	end := l.visible.Load()
	l.mu.Lock()
	segs := make([]*segment, 0, len(l.segs))
	for _, s := range l.segs {
		if s.base < end || s.base == l.firstLocked() {
			s.refs++
			segs = append(segs, s)
		}
	}
	l.mu.Unlock()
	defer func() {
		for _, s := range segs {
			l.release(s)
		}
	}()
	rep := VerifyReport{End: end}
	if len(segs) > 0 {
		rep.First = segs[0].base
	}
	expect := rep.First
	for _, s := range segs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if s.base != expect {
			return rep, &CorruptError{Segment: s.base, Offset: expect,
				Reason: fmt.Sprintf("offset chain broken: expected a segment starting at %d", expect)}
		}
		// The segment may be sealed while it is verified (appends go on):
		// only a segment already sealed with every record below end is
		// checked for bytes after its last record.
		limit := end
		sealed := s.sealedEnd.Load()
		if sealed != 0 && sealed <= limit {
			limit = sealed
		}
		n, gaps, pos, err := verifySegment(s, limit)
		rep.Segments++
		rep.Records += n
		rep.Gaps += gaps
		rep.Bytes += pos
		if err != nil {
			return rep, err
		}
		if sealed != 0 && limit == sealed {
			size, serr := s.f.Size()
			if serr != nil {
				return rep, serr
			}
			if size != pos {
				return rep, &CorruptError{Segment: s.base, Offset: limit, Pos: pos,
					Reason: fmt.Sprintf("%d unexpected bytes after the last record of a sealed segment", size-pos)}
			}
		}
		expect = limit
	}
	return rep, nil
}

// verifySegment checks s's records from its header up to offset limit. It
// returns the records and the offsets skipped by gap records it passed.
func verifySegment(s *segment, limit uint64) (recs, gaps uint64, pos int64, err error) {
	rr := newRecReader(s.f, 1<<20)
	pos, off := int64(segHdrSize), s.base
	for off < limit {
		rec, n, err := rr.record(pos, off)
		if err != nil {
			if isIOError(err) {
				return recs, gaps, pos, err
			}
			return recs, gaps, pos, &CorruptError{Segment: s.base, Offset: off, Pos: pos, Reason: err.Error()}
		}
		if rec.IsGap() {
			gaps += rec.Following() - off
		} else {
			recs++
		}
		pos += int64(n)
		off = rec.Following()
	}
	return recs, gaps, pos, nil
}
