package durable

import (
	"fmt"
	"math"
)

// Epoch is one run of a journal's writer between two recoveries that may
// have dropped records. A new journal starts in epoch 1 at offset 0; Open
// starts a new epoch whenever it did not find a valid clean-shutdown marker
// or recovery cut or repaired anything. Start is the offset after the last
// record recovery kept: records below it are the same in every later epoch;
// offsets at or above it may have held different records in an earlier
// epoch (in None or Interval mode a record can be visible and then lost).
type Epoch struct {
	// N numbers the epochs 1, 2, 3, ... without gaps.
	N uint64
	// Start is the first offset written in this epoch.
	Start uint64
}

// maxEpochs bounds the epochs META remembers; older ones are summarised by
// the lowest start among them.
const maxEpochs = 64

type metaInfo struct {
	id      JournalID
	created int64
	// epochs are the remembered epochs, oldest first; the last is current.
	epochs []Epoch
	// dropped is the lowest Start of the epochs forgotten to keep the list
	// bounded (math.MaxUint64 when none was).
	dropped uint64
}

func (m metaInfo) epoch() Epoch { return m.epochs[len(m.epochs)-1] }

// next returns m with a new epoch starting at start.
func (m metaInfo) next(start uint64) metaInfo {
	cur := m.epoch()
	eps := append(append([]Epoch(nil), m.epochs...), Epoch{N: cur.N + 1, Start: start})
	for len(eps) > maxEpochs {
		m.dropped = min(m.dropped, eps[0].Start)
		eps = eps[1:]
	}
	m.epochs = eps
	return m
}

// stableSince returns the offset below which every record is the same now
// as in epoch n (see Log.StableSince).
func (m metaInfo) stableSince(n uint64) uint64 {
	cur := m.epoch()
	switch {
	case n == cur.N:
		return math.MaxUint64
	case n > cur.N:
		return 0 // an epoch this journal never had: nothing is known
	}
	stable := uint64(math.MaxUint64)
	if n+1 < m.epochs[0].N {
		stable = m.dropped // some epochs after n were forgotten
	}
	for _, e := range m.epochs {
		if e.N > n {
			stable = min(stable, e.Start)
		}
	}
	return stable
}

// Epoch returns the current epoch: its number and the offset it started at.
// Message ids that must never repeat with different content are (ID,
// Epoch().N, offset). A read-only Log follows the writer's epochs as long as
// nothing it has seen was dropped (see Refresh).
func (l *Log) Epoch() Epoch { return l.metaNow().epoch() }

// Epochs returns the epochs META remembers (the last 64), oldest first; the
// last is the current one.
func (l *Log) Epochs() []Epoch { return append([]Epoch(nil), l.metaNow().epochs...) }

// StableSince returns the offset below which every record is the same now
// as it was during epoch n: a consumer that read offsets of this journal in
// epoch n can trust what it read below that offset, and must read again from
// there (those offsets may now hold other records). It returns
// math.MaxUint64 for the current epoch and 0 for an epoch this journal never
// had (a newer number: the directory was replaced by an older copy). For an
// epoch older than the 64 remembered, the answer is the lowest start of any
// forgotten epoch: possibly lower than needed, never higher.
func (l *Log) StableSince(n uint64) uint64 { return l.metaNow().stableSince(n) }

// metaNow returns META as this Log knows it now: a read-only Log adopts the
// epochs a writer in another process starts.
func (l *Log) metaNow() metaInfo {
	l.metaMu.RLock()
	defer l.metaMu.RUnlock()
	return l.meta
}

// CheckResume checks a position a consumer stored for this journal (the
// journal id and epoch it was taken in, the offset to resume at) against the
// journal as it is now. It returns nil when resuming at off is right,
// ErrOtherJournal for a position of another journal (the directory was
// replaced), a *RewoundError (ErrRewound) when records below off may differ
// from what the consumer read (resume at its Stable offset), and an
// *OutOfRangeError when off is past the end or below the oldest retained
// record (deleted by retention: resume at First and report the gap).
func (l *Log) CheckResume(id JournalID, epoch, off uint64) error {
	if id != l.meta.id {
		return fmt.Errorf("%w: %s, not %s", ErrOtherJournal, id, l.meta.id)
	}
	if stable := l.StableSince(epoch); off > stable {
		return &RewoundError{Epoch: epoch, Offset: off, Stable: stable}
	}
	if l.ro {
		if err := l.refresh(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	first, next := l.firstLocked(), l.next
	l.mu.Unlock()
	if off > next || off < first {
		return &OutOfRangeError{Offset: off, First: first, End: next}
	}
	return nil
}
