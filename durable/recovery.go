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
	// NewEpoch is set when Open started a new epoch (see Epoch): the
	// previous writer did not shut down cleanly, or recovery cut or
	// repaired something.
	NewEpoch bool
	// TornBytes is the size of a torn tail cut from the last segment, up to
	// its last non-zero byte (zeros after it are unwritten, preallocated
	// space, and are not counted).
	TornBytes int64
	// Repaired is the damage a repair policy dealt with (the first one),
	// nil if none.
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
	// were loaded from another copy (a newer one left by an interrupted
	// rewrite, or the previous one) or reset to the oldest record.
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
		if err := mkdirDurable(l.fs, l.dir); err != nil {
			return err
		}
		if err := l.checkJournalDir(); err != nil {
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
	clean, err := l.readClean(ls)
	if err != nil {
		var ce *CorruptError
		if !errors.As(err, &ce) {
			return err
		}
		if err := l.damaged(ce); err != nil {
			return err
		}
	}
	if ls.clean && !l.ro && l.opts.repair != RepairNone {
		// A repair may change what the marker describes: drop it before
		// anything changes, so that a crash in the middle of the repair
		// leaves a journal that opens as after a crash.
		if err := l.removeClean(nil); err != nil {
			return err
		}
	}
	if err := l.loadSegments(ls, clean); err != nil {
		return err
	}
	if !l.ro {
		if err := l.startWriting(); err != nil {
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

// damaged handles damage found by Open that no torn-tail rule covers: a
// read-only Open notes it, a writer fails unless a repair policy was chosen,
// in which case it is reported as repaired and recovery goes on.
func (l *Log) damaged(ce *CorruptError) error {
	switch {
	case l.ro:
		if l.recovery.Ignored == nil {
			l.recovery.Ignored = ce
		}
		return nil
	case l.opts.repair == RepairNone:
		return ce
	}
	if l.recovery.Repaired == nil {
		l.recovery.Repaired = ce
	}
	l.opts.logger.Warn("journal damage repaired", "dir", l.dir, "policy", l.opts.repair, "damage", ce)
	return nil
}

// startWriting finishes a writer's recovery: the active segment is fsynced
// (what a killed process left in the page cache becomes durable, so the
// durable end recovery reports is true), a new epoch is recorded in META if
// one starts, the clean marker and the active segment's index (which appends
// would make stale) are removed, and the active segment is preallocated.
func (l *Log) startWriting() error {
	s := l.segs[len(l.segs)-1]
	if !l.cleanMatched || l.recovery.Repaired != nil {
		if err := s.f.Sync(); err != nil {
			return err
		}
		if !l.fresh {
			l.meta = l.meta.next(l.next)
			if err := writeAtomic(l.fs, l.path(metaName), encodeMeta(l.meta), false); err != nil {
				return err
			}
			l.recovery.NewEpoch = true
			l.opts.logger.Info("journal epoch started", "dir", l.dir, "epoch", l.meta.epoch().N, "start", l.next)
		}
	}
	// The active segment's index (left by Close, or by a crash in Close
	// before CLEAN was written) would be made stale by appends.
	if err := l.removeClean(s); err != nil {
		return err
	}
	l.preallocate(s)
	return nil
}

// removeClean removes the clean marker and, with s, the index file of s (the
// active segment), then fsyncs the directory.
func (l *Log) removeClean(s *segment) error {
	if err := l.fs.Remove(l.path(cleanName)); err != nil && !isNotExist(err) {
		return err
	}
	if s != nil {
		if err := l.fs.Remove(l.path(idxName(s.base))); err != nil && !isNotExist(err) {
			return err
		}
	}
	return l.fs.SyncDir(l.dir)
}

// checkJournalDir refuses a directory that holds files but is not a
// journal (no META, nothing a journal writes first), before anything is
// written into it.
func (l *Log) checkJournalDir() error {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		switch {
		case name == metaName:
			return nil
		case name == lockName, strings.HasSuffix(name, tmpSuffix):
		case name == cleanName, name == cursorDir, name == lostDir:
			return nil // a journal whose META is missing: recovery reports it
		default:
			if _, ok := parseBase(name, segSuffix); ok {
				return nil
			}
			if _, ok := parseBase(name, idxSuffix); ok {
				return nil
			}
			return fmt.Errorf("%w: %s holds %q and no META", ErrNotJournal, l.dir, name)
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
// loads or rebuilds sealed indexes and recovers the tail. clean is the valid
// clean-shutdown marker, if any: then the directory must match it exactly.
func (l *Log) loadSegments(ls dirListing, clean *cleanInfo) error {
	if len(ls.bases) == 0 {
		if clean != nil {
			if _, err := l.cleanMismatch(clean, "no segment file left"); err != nil {
				return err
			}
		}
		if l.ro {
			return nil
		}
		return l.addFirstSegment(0)
	}
	if clean != nil && (clean.firstBase != ls.bases[0] || clean.lastBase != ls.bases[len(ls.bases)-1]) {
		reason := fmt.Sprintf("segments %020d to %020d, but the clean shutdown left %020d to %020d",
			ls.bases[0], ls.bases[len(ls.bases)-1], clean.firstBase, clean.lastBase)
		if _, err := l.cleanMismatch(clean, reason); err != nil {
			return err
		}
		clean = nil // what is there is recovered as after a crash
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
			return l.recoverTail(s, size, clean, ls.idx[base])
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
	if err := l.damaged(ce); err != nil {
		return err
	}
	prev := l.segs[len(l.segs)-1]
	prev.sealedEnd.Store(0)
	l.setEnds(prev.end)
	if l.ro {
		return nil
	}
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
		if err := l.damaged(damage); err != nil {
			return false, err
		}
		if l.ro {
			l.setEnds(s.end)
			return true, nil
		}
		dataEnd, err := lastNonZero(s.f, res.pos, size)
		if err != nil {
			return false, err
		}
		if err := l.cutTail(s, res.pos, dataEnd, false); err != nil {
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
