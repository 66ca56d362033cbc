package durable

import (
	"errors"
	"fmt"
	"strings"
)

// Recovery reports what Open found and did.
type Recovery struct {
	// Clean is set when the previous writer shut down cleanly (its marker
	// matched the directory) and only the last records needed checking.
	Clean bool
	// TornBytes is the size of a torn tail cut from the last segment.
	TornBytes int64
	// Repaired is the damage RepairTruncate cut away, nil if none.
	Repaired error
	// LostFiles lists files (under lost/) holding bytes or segments cut away.
	LostFiles []string
	// RebuiltIndexes lists the base offsets of segments whose index file was
	// missing or wrong and was rebuilt from the records.
	RebuiltIndexes []uint64
	// RemovedTemp counts temporary files deleted.
	RemovedTemp int
	// ClampedCursors lists cursors that pointed past the end and were clamped.
	ClampedCursors []string
	// CursorFallbacks lists cursors whose file was damaged or missing and that
	// were loaded from their previous copy or reset to the oldest record.
	CursorFallbacks []string
	// Ignored describes damage a read-only Open stopped at instead of repairing.
	Ignored error
	// Gaps lists the offsets RepairSkip replaced with gap records.
	Gaps []GapError
}

type dirListing struct {
	bases []uint64
	idx   map[uint64]bool
	meta  bool
	clean bool
}

// recover runs Open's recovery (see doc.go, "Recovery").
func (l *Log) recover() error {
	if !l.ro {
		if err := l.fs.MkdirAll(l.dir, 0o755); err != nil {
			return err
		}
		lk, err := l.fs.Lock(l.path(lockName))
		if err != nil {
			return err
		}
		l.lock = lk
	}
	ls, err := l.list()
	if err != nil {
		return err
	}
	if err := l.loadMeta(ls); err != nil {
		return err
	}
	clean, hasClean := l.readClean(ls)
	if err := l.loadSegments(ls, clean, hasClean); err != nil {
		return err
	}
	if !l.ro && hasClean {
		if err := l.fs.Remove(l.path(cleanName)); err != nil && !isNotExist(err) {
			return err
		}
		if len(l.segs) > 0 {
			last := l.segs[len(l.segs)-1]
			if err := l.fs.Remove(l.path(idxName(last.base))); err != nil && !isNotExist(err) {
				return err
			}
		}
		if err := l.fs.SyncDir(l.dir); err != nil {
			return err
		}
	}
	if err := l.loadCursors(); err != nil {
		return err
	}
	if !l.ro {
		if err := l.enforceRetention(); err != nil {
			return err
		}
	}
	return nil
}

func (l *Log) list() (dirListing, error) {
	ls := dirListing{idx: make(map[uint64]bool)}
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		if isNotExist(err) {
			return ls, fmt.Errorf("brook: no journal in %s: %w", l.dir, err)
		}
		return ls, err
	}
	removed := false
	for _, name := range names {
		switch {
		case name == metaName:
			ls.meta = true
		case name == cleanName:
			ls.clean = true
		case strings.HasSuffix(name, tmpSuffix):
			if !l.ro {
				if err := l.fs.Remove(l.path(name)); err != nil && !isNotExist(err) {
					return ls, err
				}
				l.recovery.RemovedTemp++
				removed = true
			}
		default:
			if b, ok := parseBase(name, segSuffix); ok {
				ls.bases = append(ls.bases, b)
			} else if b, ok := parseBase(name, idxSuffix); ok {
				ls.idx[b] = true
			}
		}
	}
	if removed {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return ls, err
		}
	}
	return ls, nil
}

// loadSegments opens every segment, checks headers and the offset chain,
// loads or rebuilds sealed indexes and recovers the tail.
func (l *Log) loadSegments(ls dirListing, clean cleanInfo, hasClean bool) error {
	if len(ls.bases) == 0 {
		if l.ro {
			return nil
		}
		return l.addFirstSegment(0)
	}
	flag := osRDWR
	if l.ro {
		flag = osRDONLY
	}
	for i := 0; i < len(ls.bases); i++ {
		base := ls.bases[i]
		s, size, err := l.openSegment(base, flag)
		if err != nil && l.ro && len(l.segs) == 0 && i < len(ls.bases)-1 && isNotExist(err) {
			// The writer's retention deleted it after the listing (oldest
			// first, never the last one): the journal starts later.
			continue
		}
		if err != nil {
			var ce *CorruptError
			if i == 0 || !errors.As(err, &ce) {
				return err
			}
			return l.badSegmentHeader(ce, ls.bases[i:])
		}
		l.segs = append(l.segs, s)
		if i == len(ls.bases)-1 {
			return l.recoverTail(s, size, clean, hasClean && clean.lastBase == base, ls.idx[base])
		}
		cut, err := l.loadSealed(s, size, ls.bases[i+1], ls.idx[base])
		if err != nil {
			return err
		}
		if cut {
			return l.cutSegments(ls.bases[i+1:])
		}
	}
	return nil
}

// badSegmentHeader handles a segment after the first whose header is damaged:
// corruption, unless RepairTruncate cuts the journal there (the previous
// segment becomes the active one). A read-only Open stops before it.
func (l *Log) badSegmentHeader(ce *CorruptError, bases []uint64) error {
	if !l.ro && l.opts.repair == RepairNone {
		return ce
	}
	prev := l.segs[len(l.segs)-1]
	prev.sealedEnd.Store(0)
	l.setEnds(prev.end)
	if l.ro {
		l.recovery.Ignored = ce
		return nil
	}
	l.recovery.Repaired = ce
	if err := l.fs.Remove(l.path(idxName(prev.base))); err != nil && !isNotExist(err) {
		return err
	}
	return l.cutSegments(bases)
}

func (l *Log) openSegment(base uint64, flag int) (*segment, int64, error) {
	name := l.path(segName(base))
	f, err := l.fs.OpenFile(name, flag, 0)
	if err != nil {
		return nil, 0, err
	}
	size, err := f.Size()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	hdr := make([]byte, segHdrSize)
	n, _ := f.ReadAt(hdr, 0)
	hb, id, created, herr := decodeSegHeader(hdr[:n])
	switch {
	case herr != nil:
	case hb != base:
		herr = fmt.Errorf("header base %d does not match file name", hb)
	case id != l.meta.id:
		herr = fmt.Errorf("segment belongs to journal %s", id)
	}
	if herr != nil {
		_ = f.Close()
		return nil, 0, &CorruptError{Segment: base, Offset: base, Reason: herr.Error()}
	}
	s := &segment{base: base, path: name, f: f, created: created, end: base, size: segHdrSize}
	s.written = size
	return s, size, nil
}

// loadSealed loads a sealed segment from its index file, or rebuilds the
// index by scanning. It reports cut=true when RepairTruncate cut the journal
// inside or right after this segment (later segments must go).
func (l *Log) loadSealed(s *segment, size int64, nextBase uint64, hasIdx bool) (cut bool, err error) {
	// A repair policy makes Open verify every sealed segment, so damage the
	// index would have hidden is found and repaired.
	if hasIdx && l.opts.repair == RepairNone {
		if b, rerr := readWhole(l.fs, l.path(idxName(s.base)), 1<<30); rerr == nil {
			if f, derr := decodeIdx(b, s.base, size); derr == nil && f.end == nextBase {
				s.idx.replace(f.entries)
				s.end, s.size, s.lastTS = f.end, size, f.lastTS
				s.sealedEnd.Store(f.end)
				return false, nil
			}
		}
	}
	res, err := scanSegment(s.f, s.base, size, l.opts.indexInterval)
	if err != nil {
		return false, err
	}
	if (res.bad != nil || res.end < nextBase) && !l.ro && l.opts.repair == RepairSkip {
		if res, err = l.skipDamage(s, size, res, nextBase, true); err != nil {
			return false, err
		}
		if size, err = s.f.Size(); err != nil {
			return false, err
		}
		s.written = size
	}
	var damage *CorruptError
	switch {
	case res.bad != nil:
		damage = &CorruptError{Segment: s.base, Offset: res.end, Pos: res.pos, Reason: res.bad.Error()}
	case res.end != nextBase:
		damage = &CorruptError{Segment: nextBase, Offset: res.end, Pos: 0,
			Reason: fmt.Sprintf("offset chain broken: segment %020d ends at offset %d", s.base, res.end)}
	}
	s.idx.replace(res.entries)
	s.end, s.size, s.lastTS = res.end, res.pos, res.lastTS
	if damage != nil {
		if l.ro {
			l.recovery.Ignored = damage
			l.setEnds(s.end)
			return true, nil
		}
		if l.opts.repair == RepairNone {
			return false, damage
		}
		l.recovery.Repaired = damage
		if err := l.cutTail(s, res.pos, size); err != nil {
			return false, err
		}
		return true, nil
	}
	s.sealedEnd.Store(s.end)
	if !l.ro {
		l.recovery.RebuiltIndexes = append(l.recovery.RebuiltIndexes, s.base)
		if err := l.writeIndex(s); err != nil {
			return false, err
		}
	}
	return false, nil
}

// recoverTail verifies the last segment. With a matching clean marker and a
// valid index only the records after the last index entry are checked,
// unless a repair policy asks for every record to be verified.
func (l *Log) recoverTail(s *segment, size int64, clean cleanInfo, cleanMatch, hasIdx bool) error {
	if cleanMatch && hasIdx && clean.lastSize == size && l.opts.repair == RepairNone &&
		l.tailFromIndex(s, size, clean.next) {
		l.recovery.Clean = true
		l.setEnds(s.end)
		return nil
	}
	res, err := scanSegment(s.f, s.base, size, l.opts.indexInterval)
	if err != nil {
		return err
	}
	if res.bad != nil && !l.ro && l.opts.repair == RepairSkip {
		if res, err = l.skipDamage(s, size, res, 0, false); err != nil {
			return err
		}
	}
	s.idx.replace(res.entries)
	s.end, s.size, s.lastTS = res.end, res.pos, res.lastTS
	l.setEnds(s.end)
	if res.bad == nil {
		return nil
	}
	damage := &CorruptError{Segment: s.base, Offset: res.end, Pos: res.pos, Reason: res.bad.Error()}
	after, err := validAfter(s.f, res.pos, size, res.end)
	if err != nil {
		return err
	}
	if l.ro {
		if after {
			l.recovery.Ignored = damage
		} else {
			l.recovery.TornBytes = size - res.pos
		}
		return nil
	}
	if !after {
		l.recovery.TornBytes = size - res.pos
		l.opts.logger.Warn("journal torn tail truncated", "dir", l.dir, "segment", s.base,
			"offset", res.end, "bytes", size-res.pos)
		return l.cutTail(s, res.pos, size)
	}
	if l.opts.repair == RepairNone {
		return damage
	}
	l.recovery.Repaired = damage
	return l.cutTail(s, res.pos, size)
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
	return true
}

func (l *Log) setEnds(end uint64) {
	l.next = end
	l.visible.Store(end)
	l.written.Store(end)
	l.durable.Store(end)
	if n := len(l.segs); n > 0 {
		l.lastTS = l.segs[n-1].lastTS
	}
}

func (l *Log) addFirstSegment(base uint64) error {
	created := l.opts.now().UnixNano()
	f, err := l.createSegment(base, created)
	if err != nil {
		return err
	}
	s := &segment{base: base, path: l.path(segName(base)), f: f, size: segHdrSize, end: base,
		created: created, written: segHdrSize}
	l.segs = append(l.segs, s)
	l.setEnds(base)
	return nil
}
