package durable

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/brookmq/brook/durable/internal/record"
)

// SyncMode says when appended records are forced to stable storage and when
// Append returns. The zero value is Group.
type SyncMode int64

const (
	// Group (the default) acknowledges an append only after it is fsynced.
	// One writer goroutine takes every queued append, writes them with one
	// write(2) and one fdatasync, then completes all of them; the next batch
	// builds up during the sync. Readers see records up to the durable end.
	Group SyncMode = 0
	// Always acknowledges an append only after it is fsynced, one record per
	// fsync: appenders are serialised and each writes and fsyncs its own
	// record. Readers see the durable end.
	Always SyncMode = -1
	// None never fsyncs on its own (only on segment roll, Sync and Close).
	// Append returns once the record is in the journal's in-memory batch; the
	// writer goroutine writes batches continuously. A process crash can lose
	// the records still in memory, an OS crash anything not yet written back
	// by the kernel. Readers see the written end.
	None SyncMode = -2
)

// Interval returns a sync mode in which Append returns after the record has
// been written with write(2) (so it survives a process crash) and the
// records written are fsynced d later (a timer runs only while there is
// something to sync). An OS crash or power loss can lose up to d of
// acknowledged appends. Readers see the written end. WithSync rejects
// Interval(d) for d below MinInterval with ErrInvalidOption (it never turns
// into another mode).
func Interval(d time.Duration) SyncMode {
	if d <= 0 {
		return invalidSync
	}
	return SyncMode(d)
}

// invalidSync is what Interval returns for a duration that is not positive.
const invalidSync = SyncMode(math.MinInt64)

// MinInterval is the shortest Interval sync period: shorter ones cost a
// wakeup and an fsync more often than any disk can use them.
const MinInterval = time.Millisecond

// String returns the mode's name.
func (m SyncMode) String() string {
	switch {
	case m == Group:
		return "group"
	case m == Always:
		return "always"
	case m == None:
		return "none"
	case m > 0:
		return "interval(" + time.Duration(m).String() + ")"
	case m == invalidSync:
		return "interval(not positive)"
	}
	return fmt.Sprintf("SyncMode(%d)", int64(m))
}

func (m SyncMode) interval() time.Duration {
	if m > 0 {
		return time.Duration(m)
	}
	return 0
}

// acksDurable reports whether Append waits for fsync in this mode.
func (m SyncMode) acksDurable() bool { return m == Group || m == Always }

// RepairPolicy says what Open does with damage that is not a torn tail.
type RepairPolicy int

const (
	// RepairNone (the default) makes Open fail with a *CorruptError.
	RepairNone RepairPolicy = iota
	// RepairTruncate makes Open verify every record of every segment and cut
	// the journal at the first damaged one: the bytes from there to the end
	// of its segment and every later segment are moved to the lost/
	// directory, and the journal continues from that offset.
	RepairTruncate
	// RepairSkip makes Open verify every record of every segment and
	// overwrite each damaged region that is followed by a verifiable record
	// (or that ends a sealed segment) with a gap record, keeping the
	// original bytes under lost/. Readers get a *GapError (ErrGap) for the
	// offsets lost and continue after them. A torn tail is still cut, and
	// damage no gap can describe (a broken segment header, overlapping
	// segments) is cut as with RepairTruncate.
	RepairSkip
)

// Option configures Open. Options validate their arguments and make Open fail
// with ErrInvalidOption when a value is out of range.
type Option func(*options) error

type options struct {
	sync           SyncMode
	segmentSize    int64
	segmentAge     time.Duration
	maxRecord      int
	indexInterval  int64
	retainBytes    int64
	retainAge      time.Duration
	retainConsumed bool
	minFree        uint64
	repair         RepairPolicy
	readOnly       bool
	fs             FS
	logger         *slog.Logger
	cursorPersist  time.Duration
	maxAckRanges   int
	pollInterval   time.Duration
	maxPending     int
	preallocate    bool
	cacheKeep      int64
	now            func() time.Time
	customClock    bool // WithClock set now: record times call it every time
	// positions is set while OpenPositions applies options: those that
	// only make sense for a journal refuse.
	positions bool
}

// journalOnly refuses an option that does not apply to a positions store.
func (o *options) journalOnly(name string) error {
	if o.positions {
		return invalid("%s does not apply to a positions store", name)
	}
	return nil
}

// Defaults.
const (
	// DefaultSegmentSize is the size at which a segment is sealed and a new
	// one started.
	DefaultSegmentSize = 64 << 20
	// DefaultMaxRecordSize bounds one record's payload (never more than a
	// segment can hold).
	DefaultMaxRecordSize = 8 << 20
	// DefaultIndexInterval is the spacing, in bytes of log, of sparse index
	// entries.
	DefaultIndexInterval = 4 << 10
	// DefaultCursorPersistInterval is the minimum time between two rate-limited
	// cursor persists triggered by Ack.
	DefaultCursorPersistInterval = time.Second
	// DefaultMaxAckRanges bounds the acknowledged ranges a cursor keeps above
	// its floor.
	DefaultMaxAckRanges = 1024
	// DefaultPollInterval is how often a read-only Log looks for new records
	// written by another process while a Reader waits.
	DefaultPollInterval = 10 * time.Millisecond
	minSegmentSize      = 4 << 10
)

func defaultOptions() options {
	return options{
		sync:          Group,
		segmentSize:   DefaultSegmentSize,
		maxRecord:     DefaultMaxRecordSize,
		indexInterval: DefaultIndexInterval,
		fs:            osFS{},
		logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		cursorPersist: DefaultCursorPersistInterval,
		maxAckRanges:  DefaultMaxAckRanges,
		pollInterval:  DefaultPollInterval,
		maxPending:    4 << 20,
		preallocate:   true,
		cacheKeep:     -1,
		now:           time.Now,
	}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}

// WithSync selects the sync mode (default Group).
func WithSync(m SyncMode) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithSync"); err != nil {
			return err
		}
		switch {
		case m == invalidSync:
			return invalid("sync mode Interval needs a duration of at least %v", MinInterval)
		case m > 0 && time.Duration(m) < MinInterval:
			return invalid("sync mode %v: the interval is below the %v floor", m, MinInterval)
		case m < None:
			return invalid("unknown sync mode %v", m)
		}
		o.sync = m
		return nil
	}
}

// WithSegmentSize sets the size at which segments roll (default 64 MiB,
// minimum 4 KiB).
func WithSegmentSize(n int64) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithSegmentSize"); err != nil {
			return err
		}
		if n < minSegmentSize || n > 1<<40 {
			return invalid("segment size %d", n)
		}
		o.segmentSize = n
		return nil
	}
}

// WithSegmentAge also rolls the active segment once it is older than d when
// the next record is appended, so age retention can delete it later. Zero
// (the default) rolls by size only.
func WithSegmentAge(d time.Duration) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithSegmentAge"); err != nil {
			return err
		}
		if d < 0 {
			return invalid("segment age %v", d)
		}
		o.segmentAge = d
		return nil
	}
}

// WithMaxRecordSize bounds one record's payload (default 8 MiB). Appends of
// larger records fail with ErrTooLarge. The effective bound never exceeds what
// fits in one segment.
func WithMaxRecordSize(n int) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithMaxRecordSize"); err != nil {
			return err
		}
		if n <= 0 || n > record.MaxLen {
			return invalid("max record size %d", n)
		}
		o.maxRecord = n
		return nil
	}
}

// WithIndexInterval sets the spacing of sparse index entries in bytes of log
// (default 4 KiB).
func WithIndexInterval(n int64) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithIndexInterval"); err != nil {
			return err
		}
		if n < record.HeaderSize {
			return invalid("index interval %d", n)
		}
		o.indexInterval = n
		return nil
	}
}

// WithRetainBytes deletes the oldest sealed segments while the journal is
// larger than n bytes. Zero (the default) disables byte retention.
func WithRetainBytes(n int64) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithRetainBytes"); err != nil {
			return err
		}
		if n < 0 {
			return invalid("retain bytes %d", n)
		}
		o.retainBytes = n
		return nil
	}
}

// WithRetainAge deletes sealed segments whose newest record is older than d.
// Zero (the default) disables age retention.
func WithRetainAge(d time.Duration) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithRetainAge"); err != nil {
			return err
		}
		if d < 0 {
			return invalid("retain age %v", d)
		}
		o.retainAge = d
		return nil
	}
}

// WithRetainConsumed deletes sealed segments whose records are all below the
// persisted floor of every cursor. It never deletes anything while there is
// no cursor.
func WithRetainConsumed() Option {
	return func(o *options) error {
		if err := o.journalOnly("WithRetainConsumed"); err != nil {
			return err
		}
		o.retainConsumed = true
		return nil
	}
}

// WithMinFreeBytes sets a free-space floor: an append that would leave less
// than n bytes free on the journal's file system fails with ErrFull before
// anything is written. Zero (the default) disables the check.
func WithMinFreeBytes(n uint64) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithMinFreeBytes"); err != nil {
			return err
		}
		o.minFree = n
		return nil
	}
}

// WithRepair chooses what Open does with damage other than a torn tail
// (default RepairNone: fail with ErrCorrupt).
func WithRepair(p RepairPolicy) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithRepair"); err != nil {
			return err
		}
		if p != RepairNone && p != RepairTruncate && p != RepairSkip {
			return invalid("repair policy %d", p)
		}
		o.repair = p
		return nil
	}
}

// ReadOnly opens the journal without taking the writer lock and without
// changing anything on disk. A torn or damaged tail ends the journal for this
// opener instead of being truncated. Readers of a read-only Log follow records
// written by a writer in another process (polling every WithPollInterval) up
// to the written end.
func ReadOnly() Option {
	return func(o *options) error {
		if err := o.journalOnly("ReadOnly"); err != nil {
			return err
		}
		o.readOnly = true
		return nil
	}
}

// WithFS replaces the file system (default: the operating system's). Tests use
// it to inject faults.
func WithFS(fsys FS) Option {
	return func(o *options) error {
		if fsys == nil {
			return invalid("nil FS")
		}
		o.fs = fsys
		return nil
	}
}

// WithLogger sets the logger for recovery and retention events (default:
// discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return invalid("nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithCursorPersistInterval sets the minimum time between two persists of a
// cursor triggered by Ack (default 1 s). Zero persists on every Ack.
// Cursor.Commit always persists.
func WithCursorPersistInterval(d time.Duration) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithCursorPersistInterval"); err != nil {
			return err
		}
		if d < 0 {
			return invalid("cursor persist interval %v", d)
		}
		o.cursorPersist = d
		return nil
	}
}

// WithMaxAckRanges bounds the acknowledged ranges a cursor keeps above its
// floor (default 1024). When the bound is hit the range furthest from the
// floor is forgotten: those records will be delivered again, never lost.
func WithMaxAckRanges(n int) Option {
	return func(o *options) error {
		if n < 0 || n > 1<<20 {
			return invalid("max ack ranges %d", n)
		}
		o.maxAckRanges = n
		return nil
	}
}

// WithPollInterval sets how often Readers of a read-only Log look for records
// appended by another process (default 10 ms).
func WithPollInterval(d time.Duration) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithPollInterval"); err != nil {
			return err
		}
		if d <= 0 {
			return invalid("poll interval %v", d)
		}
		o.pollInterval = d
		return nil
	}
}

// WithMaxPendingBytes bounds the encoded records queued for the writer
// (default 4 MiB). An append that would go past it waits until the writer
// takes the queue (or its ctx ends); a single record larger than the bound
// is queued alone. Records the writer is writing and syncing are not
// counted, so up to about twice the bound is in memory.
func WithMaxPendingBytes(n int) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithMaxPendingBytes"); err != nil {
			return err
		}
		if n < 4<<10 || n > 1<<30 {
			return invalid("max pending bytes %d (4 KiB to 1 GiB)", n)
		}
		o.maxPending = n
		return nil
	}
}

// WithPreallocate turns segment preallocation on (the default) or off. A
// new segment file is extended to the full segment size with fallocate(2)
// before it is first fsynced, so that the fdatasync after each append does
// not also commit a new file size (measured in BenchmarkPreallocate). The
// zeros after the last record are not data: a sealed segment and the active
// one at Close are cut back to their records, and recovery treats trailing
// zeros as unwritten space. Without an Allocator-capable FS (or when the file
// system refuses) segments simply grow.
func WithPreallocate(on bool) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithPreallocate"); err != nil {
			return err
		}
		o.preallocate = on
		return nil
	}
}

// WithCacheKeep makes the writer evict synced journal data from the page
// cache, keeping the active segment's newest n bytes: after each
// fdatasync it drops older synced pages (POSIX_FADV_DONTNEED), and a
// sealed segment's pages when it seals it, so that appends reuse the pages
// just freed rather than growing the cache into fresh memory. That pays
// where fresh memory is dear (a virtual machine whose host reclaims free
// guest memory makes each new page a host fault, several times the copy
// into it: 1.6-3 ns per byte appended against 0.2 here) and where readers
// stay within n bytes of the end; readers further behind then read from
// the disk. A negative n, the default, never evicts: the cache holds what
// the kernel keeps, as Kafka relies on for consumers catching up. Only
// synced, clean pages are evicted (not in Always mode): no durability mode
// changes.
func WithCacheKeep(n int64) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithCacheKeep"); err != nil {
			return err
		}
		o.cacheKeep = n
		return nil
	}
}

// WithClock replaces the clock used for record timestamps and age retention
// (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if err := o.journalOnly("WithClock"); err != nil {
			return err
		}
		if now == nil {
			return invalid("nil clock")
		}
		o.now = now
		o.customClock = true
		return nil
	}
}
