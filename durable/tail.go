package durable

import (
	"fmt"
)

// cleanMismatch reports that the directory does not match a valid clean
// marker: corruption, since a cleanly closed journal can only change by
// damage. A read-only Open first looks again, and confirmed=false says the
// marker is gone: a writer opened since and may have appended.
func (l *Log) cleanMismatch(clean *cleanInfo, reason string) (confirmed bool, err error) {
	if l.ro {
		ls, err := l.list()
		if err != nil {
			return false, err
		}
		if now, err := l.readClean(ls); err != nil || now == nil || *now != *clean {
			return false, nil
		}
	}
	return true, l.damaged(&CorruptError{File: cleanName, Reason: "journal does not match its clean shutdown: " + reason})
}

// recoverTail verifies the last segment. With a valid clean marker it must
// end exactly where the marker says (checking only the records after the
// last index entry when the index is valid and no repair policy asks for
// every record); anything else is corruption. Without one, damage is a torn
// tail unless a verifiable record after it claims (through its lag) that the
// damaged offset had been fsynced.
func (l *Log) recoverTail(s *segment, size int64, clean *cleanInfo, hasIdx bool) error {
	if clean != nil && hasIdx && clean.lastSize == size && l.opts.repair == RepairNone &&
		l.tailFromIndex(s, size, clean.next) {
		l.recovery.Clean, l.cleanMatched = true, true
		l.setEnds(s.end)
		return nil
	}
	res, err := scanSegment(s.f, s.base, size, l.opts.indexInterval)
	if err != nil {
		return err
	}
	if clean != nil {
		if res.bad == nil && res.end == clean.next && size == clean.lastSize {
			l.recovery.Clean = l.opts.repair == RepairNone
			l.cleanMatched = true
			l.keepTail(s, res)
			return nil
		}
		reason := fmt.Sprintf("the last segment ends at offset %d, byte %d, but the clean shutdown left offset %d, byte %d",
			res.end, size, clean.next, clean.lastSize)
		if res.bad != nil {
			reason = fmt.Sprintf("offset %d (byte %d of the last segment) is damaged: %v", res.end, res.pos, res.bad)
		}
		confirmed, err := l.cleanMismatch(clean, reason)
		if err != nil {
			return err
		}
		if !confirmed {
			clean = nil
		}
	}
	for {
		l.keepTail(s, res)
		if res.bad == nil {
			return nil
		}
		damage := &CorruptError{Segment: s.base, Offset: res.end, Pos: res.pos, Reason: res.bad.Error()}
		dataEnd, err := lastNonZero(s.f, res.pos, size)
		if err != nil {
			return err
		}
		proof := false
		if clean == nil {
			_, _, proof, err = findValidAfter(s.f, res.pos, dataEnd, size, res.end, true)
			if err != nil {
				return err
			}
		}
		if !proof && clean == nil {
			return l.tornTail(s, res.pos, dataEnd)
		}
		// Records after the damage say it had been fsynced (or a clean
		// shutdown says everything had): this is corruption.
		if err := l.damaged(damage); err != nil {
			return err
		}
		if l.ro {
			return nil
		}
		if l.opts.repair == RepairSkip {
			next, err := l.skipOnce(s, size, res, 0, false)
			if err != nil {
				return err
			}
			if next != nil {
				res = *next
				continue
			}
		}
		return l.cutTail(s, res.pos, dataEnd, false)
	}
}

// keepTail makes the scanned part of the last segment its content.
func (l *Log) keepTail(s *segment, res scanResult) {
	s.idx.replace(res.entries)
	s.end, s.size, s.lastTS = res.end, res.pos, res.lastTS
	s.written = res.pos
	l.setEnds(s.end)
}

// tornTail cuts a torn tail at pos: the bytes up to dataEnd, the last
// non-zero one, are kept under lost/. A read-only Open only reports them.
func (l *Log) tornTail(s *segment, pos, dataEnd int64) error {
	l.recovery.TornBytes = dataEnd - pos
	if l.ro {
		return nil
	}
	if dataEnd > pos {
		l.opts.logger.Warn("journal torn tail truncated", "dir", l.dir, "segment", s.base,
			"offset", s.end, "bytes", dataEnd-pos)
	}
	return l.cutTail(s, pos, dataEnd, true)
}

// tailFromIndex loads the last segment's index and verifies the records after
// its last entry, which must end exactly at size with offset next.
func (l *Log) tailFromIndex(s *segment, size int64, next uint64) bool {
	b, err := readWhole(l.fs, l.path(idxName(s.base)), 1<<30)
	if err != nil {
		return false
	}
	f, err := decodeIdx(b, s.base, size)
	if err != nil || f.end != next {
		return false
	}
	start := indexEntry{off: s.base, pos: segHdrSize}
	if n := len(f.entries); n > 0 {
		start = f.entries[n-1]
	}
	rr := newRecReader(s.f, scanChunk(size))
	pos, off := start.pos, start.off
	for pos < size {
		rec, n, err := rr.record(pos, off)
		if err != nil {
			return false
		}
		pos += int64(n)
		off = rec.Following()
	}
	if pos != size || off != next {
		return false
	}
	s.idx.replace(f.entries)
	s.end, s.size, s.lastTS = f.end, size, f.lastTS
	s.written = size
	return true
}
