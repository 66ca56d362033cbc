package durable

import (
	"path/filepath"
	"strings"
)

// loadCursors reads every cursor file, falling back to the previous copy when
// the current one is damaged or missing, and clamps cursors past the end.
func (l *Log) loadCursors() error {
	dir := l.path(cursorDir)
	names, err := l.fs.ReadDir(dir)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return err
	}
	seen := make(map[string]bool)
	removed := false
	for _, n := range names {
		switch {
		case strings.HasSuffix(n, tmpSuffix):
			if !l.ro {
				if err := l.fs.Remove(filepath.Join(dir, n)); err != nil && !isNotExist(err) {
					return err
				}
				removed = true
			}
		case strings.HasSuffix(n, prevSuffix):
			seen[strings.TrimSuffix(n, prevSuffix)] = true
		default:
			seen[n] = true
		}
	}
	if removed {
		if err := l.fs.SyncDir(dir); err != nil {
			return err
		}
	}
	for name := range seen {
		if !validCursorName(name) {
			continue
		}
		if err := l.loadCursor(name); err != nil {
			return err
		}
	}
	return nil
}

func (l *Log) loadCursor(name string) error {
	c := &Cursor{l: l, name: name, path: l.path(filepath.Join(cursorDir, name))}
	floor, rs, ok := l.readCursorFile(c.path)
	if !ok {
		l.recovery.CursorFallbacks = append(l.recovery.CursorFallbacks, name)
		floor, rs, ok = l.readCursorFile(c.path + prevSuffix)
		if !ok {
			l.opts.logger.Warn("journal cursor unreadable, reset to oldest record", "cursor", name)
			floor, rs = l.firstLocked(), nil
		}
	}
	end := l.next
	clamped := false
	if floor > end {
		floor, rs, clamped = end, nil, true
	}
	for i, r := range rs {
		if r.hi > end {
			rs, clamped = rs[:i], true
			break
		}
	}
	c.floor, c.ranges = floor, rs
	c.persisted.Store(floor)
	l.cursors[name] = c
	if clamped {
		l.recovery.ClampedCursors = append(l.recovery.ClampedCursors, name)
		l.opts.logger.Warn("journal cursor past the end clamped", "cursor", name, "end", end)
	}
	if !l.ro && (clamped || !ok) {
		c.mu.Lock()
		err := c.persistLocked()
		c.mu.Unlock()
		return err
	}
	return nil
}

func (l *Log) readCursorFile(path string) (uint64, []ackRange, bool) {
	b, err := readWhole(l.fs, path, cursorHdr+cursorRange*(1<<20))
	if err != nil {
		return 0, nil, false
	}
	floor, rs, err := decodeCursor(b)
	return floor, rs, err == nil
}

// firstLocked is First without taking mu (used during Open).
func (l *Log) firstLocked() uint64 {
	if len(l.segs) == 0 {
		return l.next
	}
	return l.segs[0].base
}

// commitAll persists every dirty cursor (at Close).
func (l *Log) commitAll() error {
	l.mu.Lock()
	cs := make([]*Cursor, 0, len(l.cursors))
	for _, c := range l.cursors {
		cs = append(cs, c)
	}
	l.mu.Unlock()
	var first error
	for _, c := range cs {
		c.mu.Lock()
		if c.dirty && !c.deleted {
			if err := c.persistLocked(); err != nil && first == nil {
				first = err
			}
		}
		c.mu.Unlock()
	}
	return first
}
