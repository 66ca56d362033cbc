package durable

import (
	"time"
)

// run is the writer goroutine: it takes the pending batch, writes it with one
// write per segment touched, fsyncs (Group) and publishes the new ends. The
// next batch builds up while it writes and syncs. (In Always mode each
// appender writes and fsyncs its own record, under writeMu too.)
func (l *Log) run() {
	defer close(l.done)
	var tick <-chan time.Time
	if d := l.opts.sync.interval(); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	durableMode := l.opts.sync.acksDurable()
	for {
		select {
		case <-l.kick:
			l.writeMu.Lock()
			l.drain(durableMode)
			l.writeMu.Unlock()
		case <-tick:
			l.writeMu.Lock()
			l.drain(false)
			l.syncActive()
			l.writeMu.Unlock()
		case reply := <-l.syncReq:
			l.writeMu.Lock()
			l.drain(false)
			err := l.syncActive()
			l.writeMu.Unlock()
			reply <- err
		case <-l.quit:
			l.writeMu.Lock()
			l.drain(false)
			l.syncActive()
			l.writeMu.Unlock()
			return
		}
	}
}

// drain writes pending batches until none is left. (writeMu held)
func (l *Log) drain(sync bool) {
	for {
		l.mu.Lock()
		b := l.pending
		if b.empty() {
			l.writerIdle = true
			l.mu.Unlock()
			return
		}
		l.pending, l.spare = l.spare, nil
		l.pendingBytes = 0
		l.space.Broadcast()
		l.mu.Unlock()

		if l.failure.Load() == nil {
			l.writeBatch(b, sync)
		}

		b.reset()
		l.mu.Lock()
		l.spare = b
		l.mu.Unlock()
	}
}

// writeBatch writes one batch and publishes it. Any error fails the Log.
func (l *Log) writeBatch(b *batch, sync bool) {
	for i := range b.chunks {
		c := &b.chunks[i]
		if c.create {
			if err := l.roll(c.seg); err != nil {
				l.fail("roll", err)
				return
			}
		}
		if _, err := c.seg.f.WriteAt(c.buf, c.seg.written); err != nil {
			l.fail("write", err)
			return
		}
		c.seg.written += int64(len(c.buf))
	}
	l.written.Store(b.end)
	if sync {
		if err := l.activeWriteSeg().f.Sync(); err != nil {
			l.fail("fsync", err)
			return
		}
		l.syncs.Add(1)
		l.durable.Store(b.end)
	}
	if l.opts.sync.acksDurable() {
		l.visible.Store(l.durable.Load())
	} else {
		l.visible.Store(b.end)
	}
	l.refreshFree()
	l.notify()
}

// activeWriteSeg returns the last segment that has a file.
func (l *Log) activeWriteSeg() *segment {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.segs) - 1; i >= 0; i-- {
		if l.segs[i].f != nil {
			return l.segs[i]
		}
	}
	return nil
}

// syncActive fsyncs whatever has been written and publishes the durable end.
func (l *Log) syncActive() error {
	if f := l.failure.Load(); f != nil {
		return f
	}
	w := l.written.Load()
	if l.durable.Load() == w {
		return nil
	}
	if err := l.activeWriteSeg().f.Sync(); err != nil {
		return l.fail("fsync", err)
	}
	l.syncs.Add(1)
	l.durable.Store(w)
	if l.opts.sync.acksDurable() {
		l.visible.Store(w)
	}
	l.notify()
	return nil
}

// roll seals the current write segment (fsync, index file) and creates next
// on disk: temp file, header, fsync, rename, directory fsync. Then it applies
// retention.
func (l *Log) roll(next *segment) error {
	prev := l.activeWriteSeg()
	if err := prev.f.Sync(); err != nil {
		return err
	}
	if end := l.written.Load(); end > l.durable.Load() {
		l.durable.Store(end)
	}
	if err := l.writeIndex(prev); err != nil {
		return err
	}
	f, err := l.createSegment(next.base, next.created)
	if err != nil {
		return err
	}
	l.mu.Lock()
	next.f = f
	l.mu.Unlock()
	next.written = segHdrSize
	return l.enforceRetention()
}

// createSegment creates an empty segment file with base offset base.
func (l *Log) createSegment(base uint64, created int64) (File, error) {
	name := l.path(segName(base))
	tmp := name + tmpSuffix
	f, err := l.fs.OpenFile(tmp, osRDWR|osCREATE|osTRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (File, error) {
		_ = f.Close()
		_ = l.fs.Remove(tmp)
		return nil, err
	}
	if _, err := f.WriteAt(encodeSegHeader(base, l.meta.id, created), 0); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := l.fs.Rename(tmp, name); err != nil {
		return fail(err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}
