package durable

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cursor is a named consumer position: an ack floor (every offset below it is
// acknowledged) plus a bounded set of acknowledged ranges above it. It is
// persisted to cursors/<name> by atomic rewrite, at most once per
// WithCursorPersistInterval on Ack, always on Commit and on Log.Close. A
// persisted cursor never points past the durable end. Methods are safe for
// concurrent use.
type Cursor struct {
	l    *Log
	name string
	path string

	mu          sync.Mutex
	floor       uint64
	ranges      []ackRange // sorted, disjoint, not adjacent, all above floor
	dirty       bool
	lastPersist time.Time
	deleted     bool

	persisted atomic.Uint64 // floor as last persisted (for retention)
}

// ackRange is the half-open range [lo, hi) of acknowledged offsets.
type ackRange struct{ lo, hi uint64 }

// AckRange is an acknowledged range [Lo, Hi) above a cursor's floor.
type AckRange struct {
	// Lo is the first acknowledged offset of the range, Hi the offset
	// after its last.
	Lo, Hi uint64
}

// Cursor returns the cursor called name, creating it (at the oldest retained
// offset) if it does not exist. Names are 1 to 100 characters of letters,
// digits, '.', '_' and '-', not starting with '.'. The same *Cursor is
// returned for the same name.
func (l *Log) Cursor(name string) (*Cursor, error) {
	if !validCursorName(name) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	l.mu.Lock()
	if c, ok := l.cursors[name]; ok {
		l.mu.Unlock()
		return c, nil
	}
	l.mu.Unlock()
	if l.ro {
		return nil, fmt.Errorf("%w: cursor %q does not exist", ErrReadOnly, name)
	}
	if err := l.fs.MkdirAll(l.path(cursorDir), 0o755); err != nil {
		return nil, err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return nil, err
	}
	c := &Cursor{l: l, name: name, path: l.path(filepath.Join(cursorDir, name)), floor: l.First()}
	c.mu.Lock()
	err := c.persistLocked()
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.cursors[name]; ok {
		return prev, nil
	}
	l.cursors[name] = c
	return c, nil
}

// Cursors returns the names of all cursors, sorted.
func (l *Log) Cursors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.cursors))
	for n := range l.cursors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DeleteCursor removes a cursor and its files. Retention by consumption then
// ignores it.
func (l *Log) DeleteCursor(name string) error {
	if l.ro {
		return ErrReadOnly
	}
	l.mu.Lock()
	c, ok := l.cursors[name]
	delete(l.cursors, name)
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: cursor %q does not exist", ErrInvalidName, name)
	}
	c.mu.Lock()
	c.deleted = true
	c.mu.Unlock()
	for _, p := range []string{c.path, c.path + prevSuffix} {
		if err := l.fs.Remove(p); err != nil && !isNotExist(err) {
			return err
		}
	}
	return l.fs.SyncDir(l.path(cursorDir))
}

func validCursorName(name string) bool {
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
func (c *Cursor) Offset() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.floor
}

// Ranges returns the acknowledged ranges above the floor.
func (c *Cursor) Ranges() []AckRange {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]AckRange, len(c.ranges))
	for i, r := range c.ranges {
		out[i] = AckRange{Lo: r.lo, Hi: r.hi}
	}
	return out
}

// Acked reports whether off has been acknowledged.
func (c *Cursor) Acked(off uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if off < c.floor {
		return true
	}
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].hi > off })
	return i < len(c.ranges) && c.ranges[i].lo <= off
}

// Ack acknowledges offset off, which must be below Log.End.
func (c *Cursor) Ack(off uint64) error { return c.AckRange(off, off+1) }

// AckRange acknowledges every offset in [lo, hi); hi must not exceed Log.End.
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
		return fmt.Errorf("%w: ack of offset %d at or past the end %d", ErrOutOfRange, hi-1, end)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deleted {
		return ErrClosed
	}
	c.insertLocked(max(lo, c.floor), hi)
	c.dirty = true
	if time.Since(c.lastPersist) >= c.l.opts.cursorPersist {
		return c.persistLocked()
	}
	return nil
}

// insertLocked merges [lo, hi) into the range set and advances the floor.
func (c *Cursor) insertLocked(lo, hi uint64) {
	if lo >= hi {
		return
	}
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].hi >= lo })
	j := i
	for j < len(c.ranges) && c.ranges[j].lo <= hi {
		lo = min(lo, c.ranges[j].lo)
		hi = max(hi, c.ranges[j].hi)
		j++
	}
	c.ranges = append(c.ranges[:i], append([]ackRange{{lo, hi}}, c.ranges[j:]...)...)
	for len(c.ranges) > 0 && c.ranges[0].lo <= c.floor {
		c.floor = max(c.floor, c.ranges[0].hi)
		c.ranges = c.ranges[1:]
	}
	if limit := c.l.opts.maxAckRanges; len(c.ranges) > limit {
		// Forget the ranges furthest from the floor: redelivery, never loss.
		c.ranges = c.ranges[:limit]
	}
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
		return fmt.Errorf("%w: seek to %d past the end %d", ErrOutOfRange, off, end)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deleted {
		return ErrClosed
	}
	c.floor, c.ranges, c.dirty = off, nil, true
	return nil
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
	c.mu.Lock()
	need := c.floor
	if n := len(c.ranges); n > 0 {
		need = c.ranges[n-1].hi
	}
	c.mu.Unlock()
	if need > c.l.DurableEnd() {
		if err := c.l.Sync(); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.persistLocked()
}

// persistLocked writes the cursor, clipped to the durable end.
func (c *Cursor) persistLocked() error {
	if c.deleted {
		return ErrClosed
	}
	durable := c.l.DurableEnd()
	floor := min(c.floor, durable)
	var rs []ackRange
	for _, r := range c.ranges {
		if r.lo >= durable {
			break
		}
		rs = append(rs, ackRange{r.lo, min(r.hi, durable)})
	}
	if err := writeAtomic(c.l.fs, c.path, encodeCursor(floor, rs), true); err != nil {
		return err
	}
	c.persisted.Store(floor)
	c.lastPersist = time.Now()
	c.dirty = floor != c.floor || len(rs) != len(c.ranges)
	return nil
}

func encodeCursor(floor uint64, rs []ackRange) []byte {
	b := make([]byte, cursorHdr+cursorRange*len(rs))
	putHeader(b, cursorMagic)
	binary.LittleEndian.PutUint64(b[16:24], floor)
	binary.LittleEndian.PutUint32(b[24:28], uint32(len(rs)))
	p := b[cursorHdr:]
	for _, r := range rs {
		binary.LittleEndian.PutUint64(p[0:8], r.lo)
		binary.LittleEndian.PutUint64(p[8:16], r.hi)
		p = p[cursorRange:]
	}
	sealCRC(b)
	return b
}

func decodeCursor(b []byte) (uint64, []ackRange, error) {
	if len(b) < cursorHdr {
		return 0, nil, fmt.Errorf("short")
	}
	if err := checkCRC(b, cursorMagic); err != nil {
		return 0, nil, err
	}
	floor := binary.LittleEndian.Uint64(b[16:24])
	n := binary.LittleEndian.Uint32(b[24:28])
	if uint64(len(b)-cursorHdr) != uint64(n)*cursorRange {
		return 0, nil, fmt.Errorf("range count %d does not match size", n)
	}
	rs := make([]ackRange, n)
	prev := floor
	p := b[cursorHdr:]
	for i := range rs {
		r := ackRange{binary.LittleEndian.Uint64(p[0:8]), binary.LittleEndian.Uint64(p[8:16])}
		if r.lo <= prev || r.hi <= r.lo {
			return 0, nil, fmt.Errorf("range %d out of order", i)
		}
		rs[i], prev = r, r.hi
		p = p[cursorRange:]
	}
	return floor, rs, nil
}
