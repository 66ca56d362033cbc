package durable

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package that has one of these
// meanings matches it with errors.Is.
var (
	// ErrCorrupt reports damage that is not a torn tail: a record, segment
	// header, META file or segment chain that fails its checks. The concrete
	// error is a *CorruptError carrying the segment and offset.
	ErrCorrupt = errors.New("brook: journal corrupt")
	// ErrLocked is returned by Open when another writer holds the journal lock.
	ErrLocked = errors.New("brook: journal locked by another writer")
	// ErrFull is returned when an append would take the file system below the
	// configured free-space floor (nothing is written), and wrapped in the
	// sticky failure when a write fails with ENOSPC.
	ErrFull = errors.New("brook: journal disk full")
	// ErrClosed is returned by every operation on a closed Log, Reader or Cursor.
	ErrClosed = errors.New("brook: journal closed")
	// ErrFailed is the sticky failed state: after any write or fsync error the
	// Log refuses every later append until it is closed and reopened (which
	// runs recovery). The concrete error also wraps the original cause.
	ErrFailed = errors.New("brook: journal failed")
	// ErrOutOfRange is returned for an offset that is below the oldest retained
	// record (deleted by retention) or beyond the end of the journal.
	ErrOutOfRange = errors.New("brook: journal offset out of range")
	// ErrReadOnly is returned for a write operation on a Log opened ReadOnly.
	ErrReadOnly = errors.New("brook: journal opened read-only")
	// ErrTooLarge is returned by Append for a record larger than the maximum
	// record size.
	ErrTooLarge = errors.New("brook: journal record too large")
	// ErrInvalidName is returned by Cursor and Positions.Position for a name
	// that cannot be a file name.
	ErrInvalidName = errors.New("brook: invalid cursor name")
	// ErrRangesFull is returned by an acknowledgement that would need more
	// separate acknowledged ranges above the floor than WithMaxAckRanges
	// allows; nothing was recorded (see Cursor.AckRange).
	ErrRangesFull = errors.New("brook: too many acknowledged ranges")
	// ErrInvalidOption is returned by Open when an option value is out of range.
	ErrInvalidOption = errors.New("brook: invalid journal option")
	// ErrOtherJournal is returned by CheckResume for a position taken in
	// another journal (the directory was replaced).
	ErrOtherJournal = errors.New("brook: position belongs to another journal")
	// ErrRewound is returned by CheckResume for a position past what is
	// stable since the epoch it was taken in; the concrete error is a
	// *RewoundError.
	ErrRewound = errors.New("brook: journal rewound since the position was taken")
	// ErrFormatVersion is returned by Open (and OpenPositions) for a
	// journal written in another format version; nothing is changed, and
	// no repair policy applies.
	ErrFormatVersion = errors.New("brook: unsupported journal format version")
	// ErrNotJournal is returned by Open for a directory that holds other
	// files and is not a journal (nothing is written into it), and by
	// OpenPositions for one that is not a positions store.
	ErrNotJournal = errors.New("brook: not a journal directory")
	// ErrGap is returned by Reader.Next for offsets that RepairSkip dropped
	// with damaged bytes; the concrete error is a *GapError.
	ErrGap = errors.New("brook: journal gap")
)

// GapError reports offsets [From, To) lost to damage and skipped by
// RepairSkip. It matches ErrGap. The Reader has moved on to To.
type GapError struct {
	// From is the first lost offset, To the offset after the last.
	From, To uint64
}

// Error implements error.
func (e *GapError) Error() string {
	return fmt.Sprintf("brook: journal gap: offsets %d to %d were lost to damage", e.From, e.To)
}

// Is reports whether target is ErrGap.
func (e *GapError) Is(target error) bool { return target == ErrGap }

// OutOfRangeError reports an offset outside the journal: below First
// (deleted by retention, or never there) or past the end (not assigned to
// any record, for instance a position taken from a replaced or rewound
// journal). It matches ErrOutOfRange.
type OutOfRangeError struct {
	// Offset is the offset asked for.
	Offset uint64
	// First and End bound the offsets the journal held when the error was
	// made: [First, End).
	First, End uint64
}

// Error implements error.
func (e *OutOfRangeError) Error() string {
	if e.Offset < e.First {
		return fmt.Sprintf("brook: journal offset out of range: offset %d is below the oldest retained record %d", e.Offset, e.First)
	}
	return fmt.Sprintf("brook: journal offset out of range: offset %d is past the end %d", e.Offset, e.End)
}

// Is reports whether target is ErrOutOfRange.
func (e *OutOfRangeError) Is(target error) bool { return target == ErrOutOfRange }

// RewoundError reports that records a consumer may have read in an earlier
// epoch are gone: the journal holds the same records as in Epoch only below
// Stable, and the consumer's position Offset is past that. It matches
// ErrRewound. Resume at Stable: the offsets from there may hold records the
// consumer has not seen (and those it saw there are lost, which only the
// None and Interval sync modes allow, or a repair).
type RewoundError struct {
	// Epoch is the epoch the position was taken in, Offset its offset.
	Epoch, Offset uint64
	// Stable is Log.StableSince(Epoch).
	Stable uint64
}

// Error implements error.
func (e *RewoundError) Error() string {
	return fmt.Sprintf("brook: journal rewound since the position was taken: offset %d of epoch %d, but only offsets below %d are unchanged since", e.Offset, e.Epoch, e.Stable)
}

// Is reports whether target is ErrRewound.
func (e *RewoundError) Is(target error) bool { return target == ErrRewound }

// CorruptError describes damage found in a journal directory. It matches
// ErrCorrupt with errors.Is.
type CorruptError struct {
	// Segment is the base offset of the damaged segment file (its name).
	Segment uint64
	// Offset is the offset of the first record that could not be read.
	Offset uint64
	// Pos is the byte position of the damage inside the segment file.
	Pos int64
	// File names the damaged file when the damage is not in a segment
	// (META, an index or a cursor file); empty for segment damage.
	File string
	// Reason says what check failed.
	Reason string
}

// Error implements error.
func (e *CorruptError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("brook: journal corrupt: %s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("brook: journal corrupt: segment %020d offset %d (byte %d): %s",
		e.Segment, e.Offset, e.Pos, e.Reason)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// FailedError is the sticky failure of a Log after a write or fsync error. It
// matches ErrFailed and unwraps to the original cause (so a full disk also
// matches ErrFull).
type FailedError struct {
	// Op is the operation that failed ("write", "fsync", "roll", ...).
	Op string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *FailedError) Error() string {
	return "brook: journal failed: " + e.Op + ": " + e.Err.Error()
}

// Is reports whether target is ErrFailed.
func (e *FailedError) Is(target error) bool { return target == ErrFailed }

// Unwrap returns the underlying cause.
func (e *FailedError) Unwrap() error { return e.Err }
