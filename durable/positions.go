package durable

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Positions is a durable store of named positions in journals other than
// the local one: a journaled receiver keeps, per remote journal id, what it
// has acknowledged (to drop redelivered duplicates), and a resuming
// subscriber keeps where to resume each publisher's journal. A Position has
// the semantics of a Cursor (an ack floor plus a bounded set of
// acknowledged ranges above it, and the same file format) without a Cursor's
// tie to a local journal: offsets are not checked against any end, and each
// Position also stores the remote journal's epoch.
//
// The directory holds a POSITIONS marker, a LOCK held by the one process
// using it (a second one gets ErrLocked) and one file per position with its
// previous copy. Changes live in memory until Commit, which rewrites every
// changed position with one fsync per file and one of the directory, shared
// by all goroutines committing at the same time; Close commits too. After a
// crash each position comes back as its newest valid copy: the last Commit
// (or a newer one interrupted between its fsync and its renames), or the
// one before if that is damaged. A position none of whose copies is valid
// comes back empty (floor 0, nothing acknowledged) and is reported in
// Recovery: a dedup store then lets duplicates through and a subscriber
// replays, but nothing is skipped.
//
// All methods are safe for concurrent use.
type Positions struct {
	dir    string
	fs     FS
	lock   io.Closer
	logger *slog.Logger
	limit  int
	commit *groupCommit
	closed atomic.Bool

	mu       sync.Mutex
	entries  map[string]*Position
	recovery PositionsRecovery
}

// PositionsRecovery reports what OpenPositions found.
type PositionsRecovery struct {
	// Fallbacks lists positions loaded from another copy than their current
	// file: a newer one a crash left between fsync and rename, or the
	// previous one because the current was damaged or missing.
	Fallbacks []string
	// Reset lists positions none of whose copies was valid; they start
	// empty.
	Reset []string
}

// Position is one named position of a Positions store. Its methods are safe
// for concurrent use.
type Position struct {
	ps *Positions
	ackEntry
}

// File names of a positions directory.
const (
	positionsMarker = "POSITIONS"
	markerSize      = 16
)

// OpenPositions opens (creating if needed) the positions store in dir. It
// accepts WithFS, WithLogger and WithMaxAckRanges; other options give
// ErrInvalidOption. A non-empty directory that is not a positions store is
// refused with ErrNotJournal, a store another process holds with ErrLocked.
func OpenPositions(dir string, opts ...Option) (*Positions, error) {
	o := defaultOptions()
	o.positions = true
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	ps := &Positions{dir: dir, fs: o.fs, logger: o.logger, limit: o.maxAckRanges,
		commit: newGroupCommit(), entries: make(map[string]*Position)}
	if err := ps.open(); err != nil {
		if ps.lock != nil {
			_ = ps.lock.Close()
		}
		return nil, err
	}
	return ps, nil
}

func (ps *Positions) path(name string) string { return filepath.Join(ps.dir, name) }

// open creates or checks the directory, locks it and loads every position.
func (ps *Positions) open() error {
	if err := mkdirDurable(ps.fs, ps.dir); err != nil {
		return err
	}
	names, err := ps.fs.ReadDir(ps.dir)
	if err != nil {
		return err
	}
	marker := contains(names, positionsMarker)
	for _, n := range names {
		if !marker && n != lockName && !strings.HasSuffix(n, tmpSuffix) {
			return fmt.Errorf("%w: %s holds %q and is not a positions store", ErrNotJournal, ps.dir, n)
		}
	}
	lk, err := ps.fs.Lock(ps.path(lockName))
	if err != nil {
		return err
	}
	ps.lock = lk
	if marker {
		b, err := readWhole(ps.fs, ps.path(positionsMarker), 4096)
		if err != nil {
			return err
		}
		if len(b) == markerSize {
			if err := checkVersion(checkCRC(b, posMagic), ps.path(positionsMarker)); err != nil {
				return err
			}
		}
		if len(b) != markerSize || checkCRC(b, posMagic) != nil {
			return &CorruptError{File: positionsMarker, Reason: "not a valid positions marker"}
		}
	} else {
		b := make([]byte, markerSize)
		putHeader(b, posMagic)
		sealCRC(b)
		if err := writeAtomic(ps.fs, ps.path(positionsMarker), b, false); err != nil {
			return err
		}
	}
	entries, temps := ackFileNames(names, validPositionName)
	for _, name := range entries {
		if err := ps.load(name); err != nil {
			return err
		}
	}
	return removeTemps(ps.fs, ps.dir, temps)
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// load reads a position from its newest valid copy and, if that is not its
// current file, rewrites it before any temporary file is removed.
func (ps *Positions) load(name string) error {
	p := ps.newPosition(name)
	f, from := loadAckFile(ps.fs, p.path)
	switch from {
	case copyNone:
		ps.recovery.Reset = append(ps.recovery.Reset, name)
		ps.logger.Warn("position unreadable, reset", "dir", ps.dir, "position", name)
	case copyNewer, copyPrev:
		ps.recovery.Fallbacks = append(ps.recovery.Fallbacks, name)
	}
	p.acks, p.epoch, p.gen = f.acks, f.epoch, f.gen
	p.version = 1
	ps.entries[name] = p
	if from == copyCurrent {
		p.saved = 1
		return nil
	}
	if _, err := p.write(ps.fs, unclipped); err != nil {
		return err
	}
	return ps.fs.SyncDir(ps.dir)
}

func (ps *Positions) newPosition(name string) *Position {
	return &Position{ps: ps, ackEntry: newAckEntry(name, ps.path(name))}
}

// validPositionName is validName minus the store's own file names.
func validPositionName(name string) bool {
	return validName(name) && name != lockName && name != positionsMarker
}

// Dir returns the store's directory.
func (ps *Positions) Dir() string { return ps.dir }

// Recovery returns what OpenPositions found.
func (ps *Positions) Recovery() PositionsRecovery { return ps.recovery }

// Position returns the position called name, creating it empty (floor 0,
// epoch 0, nothing acknowledged; persisted by the next Commit) if it does
// not exist. Names follow the rules of Log.Cursor (a journal id's String
// is one); LOCK and POSITIONS are taken.
func (ps *Positions) Position(name string) (*Position, error) {
	if !validPositionName(name) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	if ps.closed.Load() {
		return nil, ErrClosed
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p, ok := ps.entries[name]; ok {
		return p, nil
	}
	p := ps.newPosition(name)
	p.version = 1
	ps.entries[name] = p
	return p, nil
}

// Lookup returns the position called name if it exists.
func (ps *Positions) Lookup(name string) (*Position, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.entries[name]
	return p, ok
}

// Names returns the names of all positions, sorted.
func (ps *Positions) Names() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return sortedNames(ps.entries)
}

// Delete removes a position and its files; its *Position then returns
// ErrClosed.
func (ps *Positions) Delete(name string) error {
	if ps.closed.Load() {
		return ErrClosed
	}
	ps.mu.Lock()
	p, ok := ps.entries[name]
	delete(ps.entries, name)
	ps.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: position %q does not exist", ErrInvalidName, name)
	}
	return ps.commit.exclusive(func() error {
		p.mu.Lock()
		p.deleted = true
		p.mu.Unlock()
		return removeAckFiles(ps.fs, p.path)
	})
}

// Commit makes every change made to any position before the call durable:
// one rewrite (temp file, fsync, renames) per changed position and one
// fsync of the directory, shared by every goroutine committing meanwhile.
// ctx bounds only the wait for a commit already running.
func (ps *Positions) Commit(ctx context.Context) error {
	if ps.closed.Load() {
		return ErrClosed
	}
	return ps.commit.do(ctx, ps.flush)
}

// flush writes every changed position and fsyncs the directory.
func (ps *Positions) flush() error {
	ps.mu.Lock()
	dirty := make([]*Position, 0, len(ps.entries))
	for _, p := range ps.entries {
		if p.dirty() {
			dirty = append(dirty, p)
		}
	}
	ps.mu.Unlock()
	if len(dirty) == 0 {
		return nil
	}
	for _, p := range dirty {
		if _, err := p.write(ps.fs, unclipped); err != nil && err != ErrClosed {
			return err
		}
	}
	return ps.fs.SyncDir(ps.dir)
}

// Close commits every change and releases the lock. Later calls return nil.
func (ps *Positions) Close() error {
	if !ps.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := ps.commit.do(context.Background(), ps.flush)
	if cerr := ps.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

// Name returns the position's name.
func (p *Position) Name() string { return p.name }

// Offset returns the ack floor: every offset below it is acknowledged. A
// subscriber resumes there.
func (p *Position) Offset() uint64 { return p.offset() }

// Ranges returns the acknowledged ranges above the floor.
func (p *Position) Ranges() []AckRange { return p.ranges() }

// Acked reports whether off is acknowledged: a receiver drops a message it
// has acknowledged already.
func (p *Position) Acked(off uint64) bool { return p.isAcked(off) }

// Epoch returns the epoch stored with the position (0 until SetEpoch or
// Rewind sets one).
func (p *Position) Epoch() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.epoch
}

// Ack acknowledges offset off.
func (p *Position) Ack(off uint64) error { return p.AckRange(off, off+1) }

// AckRange acknowledges [lo, hi). As with Cursor.AckRange an
// acknowledgement is never forgotten: one that would need more than
// WithMaxAckRanges ranges above the floor returns ErrRangesFull and records
// nothing. A receiver using the store to drop duplicates can rely on this:
// Acked reports true exactly for what Ack and AckRange accepted (and Seek
// and Rewind did not take back), and after a crash for what the last
// successful Commit covered.
func (p *Position) AckRange(lo, hi uint64) error {
	if p.ps.closed.Load() {
		return ErrClosed
	}
	if hi <= lo {
		return nil
	}
	limit := p.ps.limit
	return p.change(func(a *ackSet) error { return a.add(lo, hi, limit) })
}

// Seek sets the floor to off, acknowledging everything below it and
// forgetting every acknowledgement at or above it (a subscriber's new
// resume point).
func (p *Position) Seek(off uint64) error {
	if p.ps.closed.Load() {
		return ErrClosed
	}
	return p.change(func(a *ackSet) error { a.seek(off); return nil })
}

// SetEpoch stores the remote journal's epoch with the position, changing
// nothing else.
func (p *Position) SetEpoch(epoch uint64) error {
	if p.ps.closed.Load() {
		return ErrClosed
	}
	return p.change(func(*ackSet) error { p.epoch = epoch; return nil })
}

// Rewind handles a new epoch of the remote journal: it forgets every
// acknowledgement at or above from (the remote's StableSince of the stored
// epoch: those offsets now hold other records) and stores epoch.
func (p *Position) Rewind(epoch, from uint64) error {
	if p.ps.closed.Load() {
		return ErrClosed
	}
	return p.change(func(a *ackSet) error { a.rewind(from); p.epoch = epoch; return nil })
}

// Commit commits the whole store (Positions.Commit).
func (p *Position) Commit(ctx context.Context) error { return p.ps.Commit(ctx) }
