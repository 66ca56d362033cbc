package durable

import (
	"time"
)

// EnforceRetention applies the retention options now. Retention also runs at
// Open and after every segment roll. Only whole sealed segments are deleted,
// oldest first; the active segment is never deleted.
func (l *Log) EnforceRetention() error {
	if l.ro {
		return ErrReadOnly
	}
	if l.closed.Load() {
		return ErrClosed
	}
	return l.enforceRetention()
}

// enforceRetention deletes the sealed segments that retention selects.
func (l *Log) enforceRetention() error {
	o := l.opts
	if o.retainBytes == 0 && o.retainAge == 0 && !o.retainConsumed {
		return nil
	}
	now := o.now().UnixNano()
	l.mu.Lock()
	consumed, haveCursor := uint64(0), false
	if o.retainConsumed {
		for _, c := range l.cursors {
			p := c.persisted.Load()
			if !haveCursor || p < consumed {
				consumed = p
			}
			haveCursor = true
		}
	}
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	var victims, closeNow []*segment
	for len(l.segs) > 1 {
		s := l.segs[0]
		end := s.sealedEnd.Load()
		if end == 0 || s.f == nil || l.segs[1].f == nil {
			break
		}
		byBytes := o.retainBytes > 0 && total > o.retainBytes
		byAge := o.retainAge > 0 && now-s.lastTS > int64(o.retainAge/time.Nanosecond)
		byConsumed := haveCursor && end <= consumed
		if !byBytes && !byAge && !byConsumed {
			break
		}
		total -= s.size
		s.removed = true
		victims = append(victims, s)
		if s.refs == 0 {
			closeNow = append(closeNow, s)
		}
		l.segs = l.segs[1:]
	}
	l.mu.Unlock()
	if len(victims) == 0 {
		return nil
	}
	for _, s := range victims {
		l.opts.logger.Info("journal retention deleted segment", "dir", l.dir, "segment", s.base)
		if err := l.fs.Remove(s.path); err != nil && !isNotExist(err) {
			return err
		}
		if err := l.fs.Remove(l.path(idxName(s.base))); err != nil && !isNotExist(err) {
			return err
		}
		l.deleted.Add(1)
	}
	for _, s := range closeNow {
		_ = s.f.Close()
	}
	return l.fs.SyncDir(l.dir)
}
