package durable

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Cursor is a named consumer position: an ack floor (every offset below it is
// acknowledged) plus a bounded set of acknowledged ranges above it. It is
// persisted to cursors/<name> by atomic rewrite, at most once per
// WithCursorPersistInterval on Ack, always on Commit and on Log.Close. A
// persisted cursor never points past the durable end. Methods are safe for
// concurrent use; concurrent Commits share rewrites (see Positions.Commit).
type Cursor struct {
	l *Log
	ackEntry

	lastPersist atomic.Int64  // unix ns of the last persist
	persisted   atomic.Uint64 // floor as last persisted (for retention)
}

// Cursor returns the cursor called name, creating it (at the oldest retained
// offset, and persisted before Cursor returns) if it does not exist. Names
// are 1 to 100 characters of letters, digits, '.', '_' and '-', not starting
// with '.'. The same *Cursor is returned for the same name, also to
// goroutines asking at the same time.
func (l *Log) Cursor(name string) (*Cursor, error) {
	if !validName(name) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	l.cursorMu.Lock()
	defer l.cursorMu.Unlock()
	l.mu.Lock()
	c, ok := l.cursors[name]
	l.mu.Unlock()
	if ok {
		return c, nil
	}
	if l.ro {
		return nil, fmt.Errorf("%w: cursor %q does not exist", ErrReadOnly, name)
	}
	if err := l.makeCursorDir(); err != nil {
		return nil, err
	}
	c = l.newCursor(name)
	c.acks.floor = l.First()
	c.epoch = l.Epoch().N
	c.version = 1
	if err := c.persist(false); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.cursors[name] = c
	l.mu.Unlock()
	return c, nil
}

func (l *Log) newCursor(name string) *Cursor {
	return &Cursor{l: l, ackEntry: newAckEntry(name, l.path(filepath.Join(cursorDir, name)))}
}

// makeCursorDir creates cursors/ durably.
func (l *Log) makeCursorDir() error {
	return mkdirDurable(l.fs, l.path(cursorDir))
}

// Cursors returns the names of all cursors, sorted.
func (l *Log) Cursors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return sortedNames(l.cursors)
}

// DeleteCursor removes a cursor and its files. Retention by consumption then
// ignores it; its *Cursor returns ErrClosed.
func (l *Log) DeleteCursor(name string) error {
	if l.ro {
		return ErrReadOnly
	}
	l.cursorMu.Lock()
	defer l.cursorMu.Unlock()
	l.mu.Lock()
	c, ok := l.cursors[name]
	delete(l.cursors, name)
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: cursor %q does not exist", ErrInvalidName, name)
	}
	return c.remove(l.fs)
}

// validName reports whether name can be a cursor or position file name.
func validName(name string) bool {
	if name == "" || len(name) > 100 || name[0] == '.' ||
		strings.HasSuffix(name, tmpSuffix) || strings.HasSuffix(name, prevSuffix) {
		return false
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// Name returns the cursor's name.
func (c *Cursor) Name() string { return c.name }

// Offset returns the ack floor: the first offset not yet acknowledged, where
// a consumer resumes.
func (c *Cursor) Offset() uint64 { return c.offset() }

// Ranges returns the acknowledged ranges above the floor.
func (c *Cursor) Ranges() []AckRange { return c.ranges() }

// Acked reports whether off has been acknowledged.
func (c *Cursor) Acked(off uint64) bool { return c.isAcked(off) }

// Ack acknowledges offset off, which must be below Log.End.
func (c *Cursor) Ack(off uint64) error { return c.AckRange(off, off+1) }

// AckRange acknowledges every offset in [lo, hi); hi must not exceed
// Log.End (an *OutOfRangeError otherwise). An acknowledgement is never
// forgotten: if it would need more than WithMaxAckRanges separate ranges
// above the floor, AckRange returns ErrRangesFull and records nothing (the
// records stay unacknowledged and will be delivered again; retry once the
// floor has moved). Acknowledgements that extend or join existing ranges or
// reach the floor always succeed.
func (c *Cursor) AckRange(lo, hi uint64) error {
	if c.l.ro {
		return ErrReadOnly
	}
	if c.l.closed.Load() {
		return ErrClosed
	}
	if hi <= lo {
		return nil
	}
	if end := c.l.End(); hi > end {
		return &OutOfRangeError{Offset: hi - 1, First: c.l.First(), End: end}
	}
	limit := c.l.opts.maxAckRanges
	if err := c.change(func(a *ackSet) error { return a.add(lo, hi, limit) }); err != nil {
		return err
	}
	if time.Since(time.Unix(0, c.lastPersist.Load())) >= c.l.opts.cursorPersist {
		return c.persist(true)
	}
	return nil
}

// Seek moves the cursor to off, forgetting every acknowledgement at or above
// it and acknowledging everything below. It is persisted on the next Commit.
func (c *Cursor) Seek(off uint64) error {
	if c.l.ro {
		return ErrReadOnly
	}
	if c.l.closed.Load() {
		return ErrClosed
	}
	if end := c.l.End(); off > end {
		return &OutOfRangeError{Offset: off, First: c.l.First(), End: end}
	}
	return c.change(func(a *ackSet) error { a.seek(off); return nil })
}

// Commit persists the cursor now. If acknowledged offsets are not durable yet
// (None or Interval mode) it syncs the Log first.
func (c *Cursor) Commit() error {
	if c.l.ro {
		return ErrReadOnly
	}
	if c.l.closed.Load() {
		return ErrClosed
	}
	return c.persist(true)
}

// persist writes the cursor, clipped to the durable end, with a flush that
// concurrent callers share. With logSync, acknowledgements past the durable
// end are first made durable by syncing the Log (Open and Close need not:
// their ends are durable already).
func (c *Cursor) persist(logSync bool) error {
	return c.commit.do(context.Background(), func() error {
		if logSync && c.highest() > c.l.DurableEnd() {
			if err := c.l.Sync(); err != nil {
				return err
			}
		}
		floor, err := c.write(c.l.fs, c.l.DurableEnd())
		if err != nil {
			return err
		}
		if err := c.l.fs.SyncDir(c.l.path(cursorDir)); err != nil {
			return err
		}
		c.persisted.Store(floor)
		c.lastPersist.Store(time.Now().UnixNano())
		return nil
	})
}

// unclipped is the end a Position's state is clipped to: none.
const unclipped = math.MaxUint64
