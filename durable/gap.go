package durable

import (
	"fmt"
	"path/filepath"

	"github.com/brookmq/brook/durable/internal/record"
)

// skipDamage applies RepairSkip to segment s: while the scan stops at damage
// followed by a verifiable record (or, in a sealed segment, at damage before
// the segment's end), the damaged bytes are kept under lost/ and overwritten
// with a gap record, and the segment is scanned again. It returns the final
// scan; damage it left (res.bad) has nothing verifiable after it.
func (l *Log) skipDamage(s *segment, size int64, res scanResult, nextBase uint64, sealed bool) (scanResult, error) {
	for res.bad != nil || (sealed && res.end < nextBase) {
		end, next := size, nextBase
		pos2, off2, found, err := findValidAfter(s.f, res.pos, size, res.end)
		for err == nil && found && pos2-res.pos < record.MinGapSize {
			// Too little room for a gap record: swallow the next record too.
			pos2, off2, found, err = findValidAfter(s.f, pos2, size, off2+1)
		}
		if err != nil {
			return res, err
		}
		switch {
		case found:
			end, next = pos2, off2
		case !sealed || nextBase < res.end:
			return res, nil
		}
		gapSize := int64(record.Pad(int(max(end-res.pos, record.MinGapSize))))
		if end > res.pos {
			name := filepath.Join(lostDir, fmt.Sprintf("%020d-%d-%d.gap", s.base, res.pos, l.opts.now().UnixNano()))
			if err := l.copyAside(s.f, res.pos, end, l.path(name)); err != nil {
				return res, err
			}
			l.recovery.LostFiles = append(l.recovery.LostFiles, name)
		}
		gap := record.AppendGap(nil, res.end, next, res.lastTS, int(gapSize))
		if _, err := s.f.WriteAt(gap, res.pos); err != nil {
			return res, err
		}
		if !found {
			if err := s.f.Truncate(res.pos + gapSize); err != nil {
				return res, err
			}
			size = res.pos + gapSize
		}
		if err := s.f.Sync(); err != nil {
			return res, err
		}
		g := GapError{From: res.end, To: next}
		l.recovery.Gaps = append(l.recovery.Gaps, g)
		l.opts.logger.Warn("journal damage skipped", "dir", l.dir, "segment", s.base, "from", g.From, "to", g.To)
		prev := res.pos
		if res, err = scanSegment(s.f, s.base, size, l.opts.indexInterval); err != nil {
			return res, err
		}
		if res.pos <= prev {
			return res, fmt.Errorf("brook: journal repair made no progress in segment %020d at byte %d", s.base, prev)
		}
	}
	return res, nil
}
