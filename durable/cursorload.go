package durable

// loadCursors reads every cursor from the newest valid copy of its file,
// clamps cursors past the end and (for a writer) rewrites those not loaded
// from their current file, then removes leftover temporary files.
func (l *Log) loadCursors() error {
	dir := l.path(cursorDir)
	names, err := l.fs.ReadDir(dir)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return err
	}
	entries, temps := ackFileNames(names, validName)
	for _, name := range entries {
		if err := l.loadCursor(name); err != nil {
			return err
		}
	}
	if l.ro {
		return nil
	}
	return removeTemps(l.fs, dir, temps)
}

func (l *Log) loadCursor(name string) error {
	c := l.newCursor(name)
	f, from := loadAckFile(l.fs, c.path)
	switch from {
	case copyNone:
		l.recovery.CursorFallbacks = append(l.recovery.CursorFallbacks, name)
		l.opts.logger.Warn("journal cursor unreadable, reset to oldest record", "cursor", name)
		f = ackFile{acks: ackSet{floor: l.firstLocked()}}
	case copyNewer, copyPrev:
		l.recovery.CursorFallbacks = append(l.recovery.CursorFallbacks, name)
	}
	c.acks, c.epoch, c.gen = f.acks, f.epoch, f.gen
	end := l.next
	clip := c.acks.clip(end)
	clamped := !clip.equal(c.acks)
	c.acks = clip
	c.persisted.Store(c.acks.floor)
	c.version = 1
	if from == copyCurrent && !clamped {
		c.saved = 1
	}
	l.cursors[name] = c
	if clamped {
		l.recovery.ClampedCursors = append(l.recovery.ClampedCursors, name)
		l.opts.logger.Warn("journal cursor past the end clamped", "cursor", name, "end", end)
	}
	if l.ro || c.saved == c.version {
		return nil
	}
	c.epoch = l.metaNow().epoch().N
	return c.persist(false)
}

// firstLocked is First without taking mu (used during Open).
func (l *Log) firstLocked() uint64 {
	if len(l.segs) == 0 {
		return l.next
	}
	return l.segs[0].base
}

// commitAll persists every cursor with unsaved changes (at Close).
func (l *Log) commitAll() error {
	l.mu.Lock()
	cs := make([]*Cursor, 0, len(l.cursors))
	for _, c := range l.cursors {
		cs = append(cs, c)
	}
	l.mu.Unlock()
	var first error
	for _, c := range cs {
		if !c.dirty() {
			continue
		}
		if err := c.persist(false); err != nil && first == nil {
			first = err
		}
	}
	return first
}
