package durable

import (
	"fmt"
	"sort"
)

// ackRange is the half-open range [lo, hi) of acknowledged offsets.
type ackRange struct{ lo, hi uint64 }

// AckRange is an acknowledged range [Lo, Hi) above a cursor's or a
// position's floor.
type AckRange struct {
	// Lo is the first acknowledged offset of the range, Hi the offset
	// after its last.
	Lo, Hi uint64
}

// ackSet is an ack floor (every offset below it is acknowledged) and the
// acknowledged ranges above it: sorted, disjoint, not adjacent, all above
// the floor. Cursor and Position hold one under their own lock.
type ackSet struct {
	floor  uint64
	ranges []ackRange
}

// acked reports whether off is acknowledged.
func (a *ackSet) acked(off uint64) bool {
	if off < a.floor {
		return true
	}
	i := sort.Search(len(a.ranges), func(i int) bool { return a.ranges[i].hi > off })
	return i < len(a.ranges) && a.ranges[i].lo <= off
}

// add acknowledges [lo, hi). It never forgets an acknowledgement: when the
// new one would need a range beyond limit it returns ErrRangesFull and
// records nothing. Acknowledgements that join or extend existing ranges, or
// reach the floor, always fit.
func (a *ackSet) add(lo, hi uint64, limit int) error {
	lo = max(lo, a.floor)
	if lo >= hi {
		return nil
	}
	i := sort.Search(len(a.ranges), func(i int) bool { return a.ranges[i].hi >= lo })
	j := i
	for j < len(a.ranges) && a.ranges[j].lo <= hi {
		lo = min(lo, a.ranges[j].lo)
		hi = max(hi, a.ranges[j].hi)
		j++
	}
	if j == i && lo > a.floor && len(a.ranges) >= limit {
		return fmt.Errorf("%w: [%d, %d) would be range %d above floor %d, limit %d",
			ErrRangesFull, lo, hi, len(a.ranges)+1, a.floor, limit)
	}
	a.ranges = append(a.ranges[:i], append([]ackRange{{lo, hi}}, a.ranges[j:]...)...)
	for len(a.ranges) > 0 && a.ranges[0].lo <= a.floor {
		a.floor = max(a.floor, a.ranges[0].hi)
		a.ranges = a.ranges[1:]
	}
	return nil
}

// seek sets the floor to off and forgets every range.
func (a *ackSet) seek(off uint64) { a.floor, a.ranges = off, nil }

// rewind forgets every acknowledgement at or above from.
func (a *ackSet) rewind(from uint64) {
	if from <= a.floor {
		a.seek(from)
		return
	}
	keep := a.ranges[:0]
	for _, r := range a.ranges {
		if r.lo >= from {
			break
		}
		keep = append(keep, ackRange{r.lo, min(r.hi, from)})
	}
	a.ranges = keep
}

// public returns the ranges as AckRanges.
func (a *ackSet) public() []AckRange {
	out := make([]AckRange, len(a.ranges))
	for i, r := range a.ranges {
		out[i] = AckRange{Lo: r.lo, Hi: r.hi}
	}
	return out
}

// clip returns the part of a below end: what a Cursor may persist.
func (a *ackSet) clip(end uint64) ackSet {
	out := ackSet{floor: min(a.floor, end)}
	for _, r := range a.ranges {
		if r.lo >= end {
			break
		}
		out.ranges = append(out.ranges, ackRange{r.lo, min(r.hi, end)})
	}
	return out
}

func (a *ackSet) equal(b ackSet) bool {
	if a.floor != b.floor || len(a.ranges) != len(b.ranges) {
		return false
	}
	for i := range a.ranges {
		if a.ranges[i] != b.ranges[i] {
			return false
		}
	}
	return true
}
