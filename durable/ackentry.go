package durable

import (
	"sync"
)

// ackEntry is what Cursor and Position share: a named ackSet kept in memory
// and persisted to its own file by flushes that a groupCommit serialises.
type ackEntry struct {
	name   string
	path   string
	commit *groupCommit

	mu      sync.Mutex
	acks    ackSet
	epoch   uint64
	version uint64 // incremented by every change
	saved   uint64 // version whose whole state is persisted
	deleted bool

	gen uint64 // generation of the last file written (flushes only)
}

func newAckEntry(name, path string) ackEntry {
	return ackEntry{name: name, path: path, commit: newGroupCommit()}
}

func (e *ackEntry) offset() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.acks.floor
}

func (e *ackEntry) ranges() []AckRange {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.acks.public()
}

func (e *ackEntry) isAcked(off uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.acks.acked(off)
}

// change applies f to the set under the lock, unless the entry is deleted.
func (e *ackEntry) change(f func(a *ackSet) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.deleted {
		return ErrClosed
	}
	if err := f(&e.acks); err != nil {
		return err
	}
	e.version++
	return nil
}

// dirty reports whether changes are not persisted yet.
func (e *ackEntry) dirty() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.version != e.saved && !e.deleted
}

// highest returns the offset after the highest acknowledged one.
func (e *ackEntry) highest() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := len(e.acks.ranges); n > 0 {
		return e.acks.ranges[n-1].hi
	}
	return e.acks.floor
}

// write persists the entry's state, clipped below end (a Cursor's durable
// end; math.MaxUint64 for a Position), without fsyncing the directory. It
// returns the floor written. A flush calls it (so never two at once).
func (e *ackEntry) write(fsys FS, end uint64) (uint64, error) {
	e.mu.Lock()
	if e.deleted {
		e.mu.Unlock()
		return 0, ErrClosed
	}
	snap, ver := e.acks.clip(end), e.version
	full := snap.equal(e.acks)
	f := ackFile{gen: e.gen + 1, epoch: e.epoch, acks: snap}
	e.mu.Unlock()
	if err := writeAckFile(fsys, e.path, f); err != nil {
		return 0, err
	}
	e.gen = f.gen
	if full {
		e.mu.Lock()
		e.saved = max(e.saved, ver)
		e.mu.Unlock()
	}
	return snap.floor, nil
}

// remove marks the entry deleted and removes its files, after any flush in
// progress (so that none recreates them).
func (e *ackEntry) remove(fsys FS) error {
	return e.commit.exclusive(func() error {
		e.mu.Lock()
		e.deleted = true
		e.mu.Unlock()
		return removeAckFiles(fsys, e.path)
	})
}
