package durable

import (
	"time"
)

// run is the writer goroutine: it takes the pending batch, writes it with one
// write per chunk (a few per segment touched), fsyncs (Group) and publishes the new ends. The
// next batch builds up while it writes and syncs. (In Always mode each
// appender writes and fsyncs its own record, under writeMu too.) In Interval
// mode a timer is armed only while written records wait for their fsync, so
// an idle journal costs no wakeups.
func (l *Log) run() {
	defer close(l.done)
	interval := l.opts.sync.interval()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed := false
	durableMode := l.opts.sync.acksDurable()
	for {
		select {
		case <-l.kick:
			l.writeMu.Lock()
			l.drain(durableMode)
			l.writeMu.Unlock()
		case <-timer.C:
			armed = false
			l.ticks.Add(1)
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
		if interval > 0 && !armed && l.durable.Load() < l.written.Load() && l.failure.Load() == nil {
			timer.Reset(interval)
			armed = true
		}
	}
}

// drain writes pending batches until none is left. (writeMu held)
func (l *Log) drain(sync bool) {
	// The batch just written goes back as the spare under the same lock
	// that takes the next one: two acquisitions of mu a batch, not three,
	// on a lock the appenders hold for every record.
	var written *batch
	for {
		l.mu.Lock()
		if written != nil {
			l.spare, written = written, nil
		}
		b := l.pending
		if b.empty() {
			l.writerIdle = true
			l.mu.Unlock()
			return
		}
		l.pending, l.spare = l.spare, nil
		l.pendingBytes = 0
		l.freeRoom()
		l.mu.Unlock()

		if l.failure.Load() == nil {
			l.writeBatch(b, sync)
		}

		b.reset()
		written = b
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
		start := time.Now()
		_, err := c.seg.f.WriteAt(c.buf, c.seg.written)
		l.writeNanos.Add(int64(time.Since(start)))
		if err != nil {
			l.fail("write", err)
			return
		}
		c.seg.written += int64(len(c.buf))
		l.wrote.Add(uint64(len(c.buf)))
	}
	l.written.Store(b.end)
	durableEnd := l.durable.Load()
	if sync {
		if err := l.syncData(l.activeWriteSeg().f); err != nil {
			l.fail("fsync", err)
			return
		}
		durableEnd = b.end
	}
	// Visible first, durable second: in the modes that acknowledge
	// durability a record is visible once durable, so DurableEnd must
	// never be seen ahead of End (a journaled socket delivers what
	// DurableEnd covers and acks it through a Cursor bounded by End).
	if l.opts.sync.acksDurable() {
		l.visible.Store(durableEnd)
	} else {
		l.visible.Store(b.end)
	}
	if sync {
		l.durable.Store(b.end)
		l.dropSynced(l.activeWriteSeg(), l.opts.cacheKeep)
	}
	l.refreshFree()
	l.notify()
}

// dropSynced evicts s's synced pages older than its newest keep bytes
// (WithCacheKeep; none if keep < 0) from the page cache, after each
// fdatasync of the writer goroutine (Group and Interval modes, Sync) and
// at a roll, so that the journal's writes reuse the pages it freed
// instead of growing the cache into memory untouched since boot, which
// in a virtual machine whose host takes free memory back (free page
// reporting) costs a fault on the host for each new page, several times
// the copy into it. Only data fdatasynced is dropped (clean pages), so no
// durability mode changes; readers further behind read from the disk.
// (writeMu held)
func (l *Log) dropSynced(s *segment, keep int64) {
	if s == nil || keep < 0 || l.opts.cacheKeep < 0 {
		return
	}
	d, ok := s.f.(cacheDropper)
	if !ok {
		return
	}
	const page = 4 << 10
	to := (s.written - keep) &^ (page - 1)
	if to <= s.uncached || to-s.uncached < keep/4 { // evict in runs, not a call a batch
		return
	}
	d.dropCache(s.uncached, to-s.uncached)
	s.uncached = to
}

// syncData fdatasyncs appended data and counts it for Stats.
func (l *Log) syncData(f File) error {
	start := time.Now()
	err := f.Sync()
	l.syncNanos.Add(int64(time.Since(start)))
	if err == nil {
		l.syncs.Add(1)
	}
	return err
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
	if err := l.syncData(l.activeWriteSeg().f); err != nil {
		return l.fail("fsync", err)
	}
	if l.opts.sync.acksDurable() {
		l.visible.Store(w) // before durable: see writeBatch
	}
	l.durable.Store(w)
	l.dropSynced(l.activeWriteSeg(), l.opts.cacheKeep)
	l.notify()
	return nil
}

// roll seals the current write segment (fsync, index file) and creates next
// on disk: temp file, header, fsync, rename, directory fsync. Then it applies
// retention.
func (l *Log) roll(next *segment) error {
	prev := l.activeWriteSeg()
	if err := l.trimSegment(prev); err != nil {
		return err
	}
	l.dropSynced(prev, 0)
	if end := l.written.Load(); end > l.durable.Load() {
		if l.opts.sync.acksDurable() {
			l.visible.Store(end) // before durable: see writeBatch
		}
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
	l.rolls.Add(1)
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
	l.preallocateFile(f, segHdrSize, name)
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

// trimSegment cuts s's file back to its records (dropping preallocated
// space) and fsyncs it: a sealed segment, and the active one at Close, end
// exactly after their last record.
func (l *Log) trimSegment(s *segment) error {
	if l.opts.preallocate {
		if err := s.f.Truncate(s.written); err != nil {
			return err
		}
	}
	return s.f.Sync()
}

// preallocate extends the active segment's file to the segment size after
// recovery (a segment created by this Log already was).
func (l *Log) preallocate(s *segment) {
	l.preallocateFile(s.f, s.written, s.path)
}

// preallocateFile extends f, holding size bytes of data, to the segment size
// if the FS can. A failure only costs speed: it is logged, and the file cut
// back to its data if the failed call left it longer.
func (l *Log) preallocateFile(f File, size int64, name string) {
	a, ok := f.(Allocator)
	if !ok || !l.opts.preallocate || size >= l.opts.segmentSize {
		return
	}
	if err := a.Allocate(l.opts.segmentSize); err != nil {
		l.opts.logger.Warn("journal segment not preallocated", "file", name, "err", err)
		if now, serr := f.Size(); serr == nil && now > size {
			_ = f.Truncate(size)
		}
	}
}
