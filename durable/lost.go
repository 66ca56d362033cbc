package durable

import (
	"fmt"
	"path/filepath"
)

// cutTail keeps bytes [pos, dataEnd) of s aside under lost/ and truncates s
// at pos (dropping any zeros after dataEnd too). s becomes the active
// segment. A torn tail (torn) was never acknowledged: on a full disk it is
// cut without a copy rather than keeping the journal closed.
func (l *Log) cutTail(s *segment, pos, dataEnd int64, torn bool) error {
	if dataEnd > pos {
		name := filepath.Join(lostDir, fmt.Sprintf("%020d-%d-%d.cut", s.base, pos, l.opts.now().UnixNano()))
		switch err := l.copyAside(s.f, pos, dataEnd, l.path(name)); {
		case err == nil:
			l.recovery.LostFiles = append(l.recovery.LostFiles, name)
		case isNoSpace(err) && torn:
			l.opts.logger.Warn("journal torn tail not kept aside: disk full", "dir", l.dir, "err", err)
			_ = l.fs.Remove(l.path(name))
		default:
			return err
		}
	}
	if err := s.f.Truncate(pos); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.written = pos
	s.size = pos
	s.sealedEnd.Store(0)
	if err := l.fs.Remove(l.path(idxName(s.base))); err != nil && !isNotExist(err) {
		return err
	}
	l.setEnds(s.end)
	return nil
}

func (l *Log) copyAside(src File, from, to int64, name string) error {
	if err := l.makeLostDir(); err != nil {
		return err
	}
	dst, err := l.fs.OpenFile(name, osWRONLY|osCREATE|osTRUNC, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, min(to-from, 1<<20))
	for p := from; p < to; {
		n, rerr := src.ReadAt(buf[:min(int64(len(buf)), to-p)], p)
		if n > 0 {
			if _, err := dst.WriteAt(buf[:n], p-from); err != nil {
				_ = dst.Close()
				return err
			}
			p += int64(n)
		}
		if rerr != nil {
			break
		}
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return l.fs.SyncDir(filepath.Dir(name))
}

// makeLostDir creates lost/ durably.
func (l *Log) makeLostDir() error {
	if err := l.fs.MkdirAll(l.path(lostDir), 0o755); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

// cutSegments moves whole segments (and drops their indexes) under lost/.
func (l *Log) cutSegments(bases []uint64) error {
	if l.ro || len(bases) == 0 {
		return nil
	}
	if err := l.makeLostDir(); err != nil {
		return err
	}
	for _, b := range bases {
		name := filepath.Join(lostDir, segName(b))
		if err := l.fs.Rename(l.path(segName(b)), l.path(name)); err != nil {
			return err
		}
		l.recovery.LostFiles = append(l.recovery.LostFiles, name)
		if err := l.fs.Remove(l.path(idxName(b))); err != nil && !isNotExist(err) {
			return err
		}
	}
	if err := l.fs.SyncDir(l.path(lostDir)); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

// lastNonZero returns the position after the last non-zero byte of f in
// [pos, size), or pos if there is none: zeros at the end of a segment are
// unwritten, preallocated space.
func lastNonZero(f File, pos, size int64) (int64, error) {
	buf := make([]byte, min(size-pos, 1<<20))
	for end := size; end > pos; {
		start := max(pos, end-int64(len(buf)))
		b := buf[:end-start]
		if n, err := f.ReadAt(b, start); err != nil && n < len(b) {
			return 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != 0 {
				return start + int64(i) + 1, nil
			}
		}
		end = start
	}
	return pos, nil
}
