package socket

import (
	"sort"

	"github.com/brookmq/brook/socket/internal/jwire"
)

// ackSet is a set of offsets: every offset below floor, and the sorted,
// disjoint, non-touching ranges above it.
type ackSet struct {
	floor  uint64
	ranges []jwire.Range
}

// has reports whether off is in the set.
func (a *ackSet) has(off uint64) bool {
	return off < a.floor || rangesHave(a.ranges, off)
}

// add puts [lo, hi) in the set.
func (a *ackSet) add(lo, hi uint64) {
	if lo <= a.floor && len(a.ranges) == 0 {
		// In order (a stream's Recv, a queue read by one receiver): the
		// floor moves, nothing to merge.
		a.floor = max(a.floor, hi)
		return
	}
	lo = max(lo, a.floor)
	if lo >= hi {
		return
	}
	a.ranges = addRange(a.ranges, lo, hi)
	a.settle()
}

// addRange merges [lo, hi) (non-empty) into sorted, disjoint,
// non-touching ranges.
func addRange(rs []jwire.Range, lo, hi uint64) []jwire.Range {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Hi >= lo })
	j := i
	for j < len(rs) && rs[j].Lo <= hi {
		lo = min(lo, rs[j].Lo)
		hi = max(hi, rs[j].Hi)
		j++
	}
	if j == i+1 {
		rs[i] = jwire.Range{Lo: lo, Hi: hi}
		return rs
	}
	return append(rs[:i], append([]jwire.Range{{Lo: lo, Hi: hi}}, rs[j:]...)...)
}

// raise moves the floor up to f (everything below f joins the set).
func (a *ackSet) raise(f uint64) {
	if f <= a.floor {
		return
	}
	a.floor = f
	i := sort.Search(len(a.ranges), func(i int) bool { return a.ranges[i].Hi > f })
	a.ranges = append(a.ranges[:0], a.ranges[i:]...)
	a.settle()
}

// settle merges the ranges that reach the floor into it.
func (a *ackSet) settle() {
	k := 0
	for k < len(a.ranges) && a.ranges[k].Lo <= a.floor {
		a.floor = max(a.floor, a.ranges[k].Hi)
		k++
	}
	if k > 0 {
		a.ranges = append(a.ranges[:0], a.ranges[k:]...)
	}
}

// rangesHave reports whether sorted, disjoint ranges hold off.
func rangesHave(rs []jwire.Range, off uint64) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Hi > off })
	return i < len(rs) && rs[i].Lo <= off
}
