package durable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/durable/internal/record"
)

// Log is an open journal directory. All methods are safe for concurrent use by
// multiple goroutines. A Log opened for writing owns one writer goroutine,
// stopped by Close.
type Log struct {
	dir    string
	opts   options
	fs     FS
	lock   io.Closer
	meta   metaInfo     // id and created never change after Open
	metaMu sync.RWMutex // guards meta's epochs once a read-only Log runs
	ro     bool
	// fresh is set when Open created the journal; cleanMatched when it
	// found a clean-shutdown marker matching the directory.
	fresh, cleanMatched bool

	mu           sync.Mutex
	room         chan struct{}      // (mu) closed when the pending batch is taken
	roomWaiters  int                // (mu) appenders waiting on room
	segs         []*segment         // (mu) sorted by base; the last is active
	next         uint64             // (mu) next offset to assign
	lastTS       int64              // (mu)
	clock        stampClock         // record times with the default clock (mu)
	pending      *batch             // (mu) records encoded but not yet taken by the writer
	spare        *batch             // (mu)
	pendingBytes int                // (mu)
	writerIdle   bool               // (mu)
	closing      bool               // (mu)
	appends      uint64             // (mu) records queued since Open
	appendBytes  uint64             // (mu) payload bytes queued since Open
	cursors      map[string]*Cursor // (mu)
	cursorMu     sync.Mutex         // serialises creating and deleting cursors
	recovery     Recovery
	failure      atomic.Pointer[FailedError]
	closed       atomic.Bool

	visible    atomic.Uint64 // readers see offsets below this
	written    atomic.Uint64 // offsets below this are written to files
	durable    atomic.Uint64 // offsets below this are fsynced
	freeBytes  atomic.Uint64
	syncs      atomic.Uint64 // fdatasyncs of appended data, for Stats
	syncNanos  atomic.Int64  // time spent in them
	writeNanos atomic.Int64  // time spent writing batches to segment files
	wrote      atomic.Uint64 // bytes written to segment files since Open
	rolls      atomic.Uint64 // segments created since Open
	deleted    atomic.Uint64 // segments deleted by retention since Open
	ticks      atomic.Uint64 // Interval timer expiries (observed by tests)

	notifyMu    sync.Mutex
	notifyCh    chan struct{}
	notifyTaken bool          // notifyCh was handed out since the last notify
	closedCh    chan struct{} // closed at the end of Close

	alwaysMu sync.Mutex // serialises appenders in Always mode
	// writeMu is held by whoever writes batches, rolls and syncs: the
	// writer goroutine, or in Always mode the appender writing its record.
	writeMu sync.Mutex
	kick    chan struct{}
	syncReq chan chan error
	quit    chan struct{}
	done    chan struct{}
	roMu    sync.Mutex // serialises refreshes of a read-only Log
	// rewound is set when a read-only Log finds the writer dropped records
	// it had seen (see Refresh).
	rewound atomic.Pointer[RewoundError]
}

// Open opens (creating if needed) the journal in dir and runs recovery: see
// the package documentation for exactly what recovery does. A second writer
// on the same directory gets ErrLocked; damage other than a torn tail gives a
// *CorruptError unless WithRepair chose a policy.
func Open(dir string, opts ...Option) (*Log, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	// The largest payload whose padded record still fits an empty segment.
	if limit := int(o.segmentSize-segHdrSize-record.HeaderSize) &^ (record.Align - 1); o.maxRecord > limit {
		o.maxRecord = limit
	}
	l := &Log{
		dir:      dir,
		opts:     o,
		fs:       o.fs,
		ro:       o.readOnly,
		cursors:  make(map[string]*Cursor),
		notifyCh: make(chan struct{}),
		closedCh: make(chan struct{}),
		pending:  new(batch),
		spare:    new(batch),
	}
	l.room = make(chan struct{})
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	if l.ro {
		return l, nil
	}
	l.refreshFree()
	l.writerIdle = true
	l.kick = make(chan struct{}, 1)
	l.syncReq = make(chan chan error)
	l.quit = make(chan struct{})
	l.done = make(chan struct{})
	go l.run()
	return l, nil
}

func (l *Log) path(name string) string { return filepath.Join(l.dir, name) }

// ID returns the journal id stored in META.
func (l *Log) ID() JournalID { return l.meta.id }

// Dir returns the journal directory.
func (l *Log) Dir() string { return l.dir }

// Recovery returns what Open's recovery found and did.
func (l *Log) Recovery() Recovery { return l.recovery }

// First returns the oldest offset still retained.
func (l *Log) First() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.segs) == 0 {
		return l.next
	}
	return l.segs[0].base
}

// End returns the offset after the last record readers can see: the durable
// end in Group and Always mode, the written end in Interval and None mode and
// for a read-only Log.
func (l *Log) End() uint64 { return l.visible.Load() }

// DurableEnd returns the offset after the last fsynced record.
func (l *Log) DurableEnd() uint64 { return l.durable.Load() }

// Err returns the sticky failure, or nil while the Log is healthy.
func (l *Log) Err() error {
	if f := l.failure.Load(); f != nil {
		return f
	}
	return nil
}

// Changed returns a channel that is closed at the next change of End,
// DurableEnd or the failure state (Err), and when the Log is closed (a
// closed Log returns a closed channel). A dispatcher tails the Log without a
// Reader per consumer by taking the channel before it reads End, so that no
// change can slip between the two:
//
//	for {
//		changed := l.Changed()
//		for end := l.End(); next < end; next++ {
//			... hand record next to its consumer ...
//		}
//		select {
//		case <-changed:
//		case <-ctx.Done():
//			return
//		}
//	}
//
// A read-only Log notices the writer's progress only when it looks for it:
// Refresh, Reader.Next, WaitVisible, OffsetAt and Verify do.
func (l *Log) Changed() <-chan struct{} {
	if l.closed.Load() {
		return l.closedCh
	}
	return l.notifyChan()
}

// notifyChan returns a channel closed at the next change of visible, durable
// or failure state.
func (l *Log) notifyChan() <-chan struct{} {
	l.notifyMu.Lock()
	defer l.notifyMu.Unlock()
	l.notifyTaken = true
	return l.notifyCh
}

// notify wakes everyone waiting on the channel notifyChan handed out (a new
// channel is made only if one was handed out since the last notify).
func (l *Log) notify() {
	l.notifyMu.Lock()
	if l.notifyTaken {
		close(l.notifyCh)
		l.notifyCh = make(chan struct{})
		l.notifyTaken = false
	}
	l.notifyMu.Unlock()
}

// fail enters the sticky failed state.
func (l *Log) fail(op string, err error) *FailedError {
	if isNoSpace(err) && !errors.Is(err, ErrFull) {
		err = fmt.Errorf("%w: %w", ErrFull, err)
	}
	f := &FailedError{Op: op, Err: err}
	if !l.failure.CompareAndSwap(nil, f) {
		f = l.failure.Load()
	}
	l.opts.logger.Error("journal failed", "dir", l.dir, "op", op, "err", err)
	l.mu.Lock()
	l.freeRoom()
	l.mu.Unlock()
	l.notify()
	return f
}

// segmentFor returns the segment holding off and takes a reference on it.
// (mu held)
func (l *Log) segmentForLocked(off uint64) (*segment, error) {
	if len(l.segs) == 0 || off < l.segs[0].base {
		return nil, &OutOfRangeError{Offset: off, First: l.firstLocked(), End: l.next}
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > off }) - 1
	s := l.segs[i]
	s.refs++
	return s, nil
}

// release drops a reference taken by segmentForLocked.
func (l *Log) release(s *segment) {
	if s == nil {
		return
	}
	l.mu.Lock()
	s.refs--
	closeIt := s.removed && s.refs == 0
	l.mu.Unlock()
	if closeIt {
		_ = s.f.Close()
	}
}

// Sync writes every queued record and fsyncs it, in any sync mode. In Group
// and Always mode it returns once everything appended before the call is
// durable.
func (l *Log) Sync() error {
	if l.ro {
		return ErrReadOnly
	}
	if l.closed.Load() {
		return ErrClosed
	}
	if f := l.failure.Load(); f != nil {
		return f
	}
	reply := make(chan error, 1)
	select {
	case l.syncReq <- reply:
		return <-reply
	case <-l.done:
		return ErrClosed
	}
}

// Close flushes and fsyncs every queued record, commits every cursor, writes
// the clean-shutdown marker and releases the lock. Blocked Readers and
// appenders return ErrClosed. Close is idempotent; later calls return nil.
func (l *Log) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	var err error
	if !l.ro {
		l.mu.Lock()
		l.closing = true
		l.freeRoom()
		l.mu.Unlock()
		close(l.quit)
		<-l.done
		if cerr := l.commitAll(); cerr != nil {
			err = cerr
		}
		if f := l.failure.Load(); f != nil {
			err = errors.Join(err, f)
		} else if werr := l.writeClean(); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	l.notify()
	close(l.closedCh)
	l.closeFiles()
	return err
}

// writeClean cuts the active segment back to its records, writes its index
// and the clean marker.
func (l *Log) writeClean() error {
	l.mu.Lock()
	s := l.segs[len(l.segs)-1]
	info := cleanInfo{next: l.next, firstBase: l.segs[0].base, lastBase: s.base, lastSize: s.size}
	l.mu.Unlock()
	if err := l.trimSegment(s); err != nil {
		return err
	}
	if err := l.writeIndex(s); err != nil {
		return err
	}
	return writeAtomic(l.fs, l.path(cleanName), encodeClean(info), false)
}

func (l *Log) closeFiles() {
	l.mu.Lock()
	segs := l.segs
	l.mu.Unlock()
	for _, s := range segs {
		if s.f != nil {
			_ = s.f.Close()
		}
	}
	if l.lock != nil {
		_ = l.lock.Close()
		l.lock = nil
	}
}

func (l *Log) refreshFree() {
	if l.opts.minFree == 0 {
		return
	}
	free, err := l.fs.FreeSpace(l.dir)
	if err != nil {
		l.opts.logger.Warn("journal free space", "dir", l.dir, "err", err)
		return
	}
	l.freeBytes.Store(free)
}

// wait blocks until level passes off, the Log fails or closes, or ctx ends.
func (l *Log) wait(ctx context.Context, level *atomic.Uint64, off uint64) error {
	for {
		if level.Load() > off {
			return nil
		}
		ch := l.notifyChan()
		if level.Load() > off {
			return nil
		}
		if f := l.failure.Load(); f != nil {
			return f
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			if level.Load() > off {
				return nil
			}
			if f := l.failure.Load(); f != nil {
				return f
			}
			return ErrClosed
		}
	}
}

// writeIndex writes a segment's index file atomically.
func (l *Log) writeIndex(s *segment) error {
	l.mu.Lock()
	f := idxFile{base: s.base, end: s.end, size: s.size, lastTS: s.lastTS}
	l.mu.Unlock()
	f.entries = s.idx.snapshot()
	return writeAtomic(l.fs, l.path(idxName(s.base)), encodeIdx(f), false)
}
