package socket

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// ackSet against a map of offsets under random adds and floor raises.
func TestAckSetMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 40; round++ {
		var a ackSet
		model := map[uint64]bool{}
		var floor uint64
		for step := 0; step < 120; step++ {
			if rng.IntN(10) == 0 {
				f := floor + uint64(rng.IntN(20))
				a.raise(f)
				for o := floor; o < f; o++ {
					model[o] = true
				}
				floor = max(floor, f)
			} else {
				lo := uint64(rng.IntN(300))
				hi := lo + uint64(1+rng.IntN(5))
				a.add(lo, hi)
				for o := lo; o < hi; o++ {
					model[o] = true
				}
			}
			for o := uint64(0); o < 320; o++ {
				require.Equal(t, model[o] || o < floor, a.has(o), "offset %d after step %d", o, step)
			}
			var prev uint64
			for i, r := range a.ranges {
				require.Greater(t, r.Hi, r.Lo)
				require.Greater(t, r.Lo, a.floor, "range %d above the floor", i)
				if i > 0 {
					require.Greater(t, r.Lo, prev, "ranges disjoint and not touching")
				}
				prev = r.Hi
			}
		}
	}
}

// Offsets added in order only move the floor.
func TestAckSetInOrder(t *testing.T) {
	var a ackSet
	for o := uint64(0); o < 1000; o++ {
		a.add(o, o+1)
	}
	a.add(500, 600) // again: nothing changes
	require.EqualValues(t, 1000, a.floor)
	require.Empty(t, a.ranges)
	a.add(1001, 1002)
	a.add(1000, 1001)
	require.EqualValues(t, 1002, a.floor, "the range above joins the floor")
	require.Empty(t, a.ranges)
	require.True(t, a.has(1001))
	require.False(t, a.has(1002))
}

// BenchmarkAckSetInOrder: a stream subscriber's Recv acknowledging each
// offset as it comes.
func BenchmarkAckSetInOrder(b *testing.B) {
	var a ackSet
	b.ReportAllocs()
	var o uint64
	for b.Loop() {
		a.add(o, o+1)
		o++
	}
}
