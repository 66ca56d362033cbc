package durable

import (
	"fmt"
	"path/filepath"

	"github.com/brookmq/brook/durable/internal/record"
)

// skipDamage applies RepairSkip to a sealed segment s: while the scan stops
// at damage, or ends before nextBase, the damaged bytes are kept under lost/
// and overwritten with a gap record up to the next verifiable record (or to
// the segment's end and offset nextBase). It returns the final scan.
func (l *Log) skipDamage(s *segment, size int64, res scanResult, nextBase uint64, sealed bool) (scanResult, error) {
	for res.bad != nil || (sealed && res.end < nextBase) {
		next, err := l.skipOnce(s, size, res, nextBase, sealed)
		if err != nil || next == nil {
			return res, err
		}
		if size, err = s.f.Size(); err != nil {
			return res, err
		}
		res = *next
	}
	return res, nil
}

// skipOnce replaces the damage a scan of s stopped at with a gap record and
// scans again. The gap runs to the next verifiable record; with none, in a
// sealed segment it runs to the end of the file and stands for the offsets
// up to nextBase, and in the last segment nothing is done (nil: the caller
// cuts there).
func (l *Log) skipOnce(s *segment, size int64, res scanResult, nextBase uint64, sealed bool) (*scanResult, error) {
	end, next := size, nextBase
	pos2, off2, found, err := findValidAfter(s.f, res.pos, size, size, res.end, false)
	for err == nil && found && pos2-res.pos < record.MinGapSize {
		// Too little room for a gap record: swallow the next record too.
		pos2, off2, found, err = findValidAfter(s.f, pos2, size, size, off2+1, false)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case found:
		end, next = pos2, off2
	case !sealed || nextBase < res.end:
		return nil, nil
	}
	// Whatever precedes the gap becomes durable before the gap record,
	// whose zero lag claims it.
	if err := s.f.Sync(); err != nil {
		return nil, err
	}
	gapSize := int64(record.Pad(int(max(end-res.pos, record.MinGapSize))))
	if end > res.pos {
		name := filepath.Join(lostDir, fmt.Sprintf("%020d-%d-%d.gap", s.base, res.pos, l.opts.now().UnixNano()))
		if err := l.copyAside(s.f, res.pos, end, l.path(name)); err != nil {
			return nil, err
		}
		l.recovery.LostFiles = append(l.recovery.LostFiles, name)
	}
	gap := record.AppendGap(nil, res.end, next, res.lastTS, int(gapSize))
	if _, err := s.f.WriteAt(gap, res.pos); err != nil {
		return nil, err
	}
	if !found {
		if err := s.f.Truncate(res.pos + gapSize); err != nil {
			return nil, err
		}
		size = res.pos + gapSize
	}
	if err := s.f.Sync(); err != nil {
		return nil, err
	}
	g := GapError{From: res.end, To: next}
	l.recovery.Gaps = append(l.recovery.Gaps, g)
	l.opts.logger.Warn("journal damage skipped", "dir", l.dir, "segment", s.base, "from", g.From, "to", g.To)
	prev := res.pos
	again, err := scanSegment(s.f, s.base, size, l.opts.indexInterval)
	if err != nil {
		return nil, err
	}
	if again.pos <= prev {
		return nil, fmt.Errorf("brook: journal repair made no progress in segment %020d at byte %d", s.base, prev)
	}
	return &again, nil
}
