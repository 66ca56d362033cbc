package durable

// refresh makes a read-only Log see records and segments appended by a writer
// in another process since the last look. Records are verified as they are
// found; an incomplete or unverifiable record ends the visible log until a
// later refresh finds it complete.
func (l *Log) refresh() error {
	l.roMu.Lock()
	defer l.roMu.Unlock()
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
	if pos >= size {
		return nil
	}
	rr := newRecReader(s.f, scanChunk(size))
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
	l.visible.Store(off)
	l.written.Store(off)
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
