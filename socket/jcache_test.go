package socket

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cacheFrames(off uint64) [][]byte { return [][]byte{{byte(off)}, []byte("body")} }

// getRun returns the kept frames of consecutive offsets, stopping at the
// first one not kept, and never more than asked for.
func TestTailCacheGetRun(t *testing.T) {
	c := newTailCache()
	for off := uint64(10); off < 20; off++ {
		if off != 15 {
			c.put(off, cacheFrames(off))
		}
	}
	got := c.getRun(10, 100, nil)
	require.Len(t, got, 5, "up to the hole at 15")
	for i, r := range got {
		assert.Equal(t, byte(10+i), r.frames[0][0])
	}
	assert.Len(t, c.getRun(16, 2, nil), 2, "max bounds it")
	assert.Empty(t, c.getRun(20, 5, nil))
}

// The ring doubles when a reader misses what a ring twice as big would
// have held, not when it is further behind, and not beyond cacheMaxSlots;
// what it held survives the growth.
func TestTailCacheGrowsForReadersBehind(t *testing.T) {
	c := newTailCache()
	n := uint64(cacheSlots)
	for off := range 2 * n {
		c.put(off, cacheFrames(off))
	}
	_, ok := c.get(0)
	require.False(t, ok, "overwritten by the ring")
	c.missed(0, 2*n+1)
	assert.Equal(t, cacheSlots, c.size(), "a reader more than twice the ring behind does not grow it")
	c.missed(10, 2*n)
	require.Equal(t, 2*cacheSlots, c.size(), "one within twice the ring does")
	for _, off := range []uint64{n, 2*n - 1} {
		f, ok := c.get(off)
		require.True(t, ok, "offset %d kept through the growth", off)
		assert.Equal(t, byte(off), f[0][0])
	}
	for c.size() < cacheMaxSlots {
		c.missed(0, 1)
	}
	c.missed(0, 1)
	assert.Equal(t, cacheMaxSlots, c.size(), "never beyond cacheMaxSlots")
}

// putAll keeps each record as put would, in one lock.
func TestTailCachePutAll(t *testing.T) {
	c := newTailCache()
	offs := []uint64{7, 8, 9}
	frames := [][][]byte{cacheFrames(7), cacheFrames(8), cacheFrames(9)}
	c.putAll(offs, frames)
	got := c.getRun(7, 10, nil)
	require.Len(t, got, 3)
	for i, r := range got {
		assert.Equal(t, frames[i], r.frames)
		assert.False(t, r.bare)
	}
	c.putAll(nil, nil)
	assert.Len(t, c.getRun(7, 10, nil), 3)
}

// keepUp doubles the ring while a reader is more than half of it behind
// the newest record, keeping what it held, and never past cacheMaxSlots.
func TestTailCacheKeepUpGrowsForReaderHalfARingBehind(t *testing.T) {
	c := newTailCache()
	n := uint64(cacheSlots)
	for off := range n {
		c.put(off, cacheFrames(off))
	}
	c.keepUp(n / 2)
	assert.Equal(t, cacheSlots, c.size(), "half a ring behind: no growth")
	c.keepUp(n/2 - 1)
	require.Equal(t, 2*cacheSlots, c.size(), "more than half a ring behind: doubled")
	for _, off := range []uint64{0, n / 2, n - 1} {
		f, ok := c.get(off)
		require.True(t, ok, "offset %d kept through the growth", off)
		assert.Equal(t, byte(off), f[0][0])
	}
	c.keepUp(n/2 - 1)
	assert.Equal(t, 2*cacheSlots, c.size(), "now within half the ring")
	c.grow(cacheSlots)
	assert.Equal(t, 2*cacheSlots, c.size(), "a stale size does not grow it again")
	c.put(4*cacheMaxSlots, cacheFrames(0))
	for range 8 {
		c.keepUp(0)
	}
	assert.Equal(t, cacheMaxSlots, c.size(), "never beyond cacheMaxSlots")
}

// putAhead asks for growth only for a record more than half the ring
// ahead of the durable end.
func TestTailCachePutAheadAsksForGrowth(t *testing.T) {
	c := newTailCache()
	n := uint64(cacheSlots)
	assert.Zero(t, c.putAhead(n/2+10, cacheRec{frames: cacheFrames(0)}, 10), "half a ring ahead")
	assert.Equal(t, cacheSlots, c.putAhead(n/2+11, cacheRec{frames: cacheFrames(0)}, 10), "more than half a ring ahead")
	assert.Zero(t, c.putAhead(5, cacheRec{frames: cacheFrames(5)}, 10), "already durable")
	f, ok := c.get(n/2 + 11)
	require.True(t, ok, "kept all the same")
	assert.Equal(t, cacheFrames(0), f)
}

// A bare record (a journaled PUB's: the message's own frames and the
// time) comes back whole from getRun, message first, and is a miss for
// get, which serves the caches that keep record frames.
func TestTailCacheBareRecords(t *testing.T) {
	c := newTailCache()
	msg := [][]byte{[]byte("topic"), []byte("body")}
	c.putAhead(3, cacheRec{frames: msg, ts: 42, bare: true}, 0)
	c.put(4, cacheFrames(4))
	got := c.getRun(3, 10, nil)
	require.Len(t, got, 2)
	assert.True(t, got[0].bare)
	assert.Equal(t, int64(42), got[0].ts)
	assert.Equal(t, msg, got[0].msg())
	assert.False(t, got[1].bare)
	assert.Equal(t, [][]byte{[]byte("body")}, got[1].msg(), "a record's message is past its header")
	_, ok := c.get(3)
	assert.False(t, ok, "get does not return bare records")
	_, ok = c.get(4)
	assert.True(t, ok)
}

// A slot is 48 bytes on 64-bit platforms: the ring grows to cacheMaxSlots
// of them in a burst, and every one is zeroed, copied and scanned.
func TestTailCacheSlotSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("64-bit layout")
	}
	assert.EqualValues(t, 48, unsafe.Sizeof(cacheSlot{}))
}

// A page holds one block of offsets: a newer block takes an older one's
// page (and its bytes leave the count), a record of an older block than
// the page's is not kept, and growing moves whole pages, the records
// they hold with them.
func TestTailCachePages(t *testing.T) {
	c := newTailCache()
	ring := uint64(cacheSlots)
	c.put(1, cacheFrames(1))
	c.put(2, cacheFrames(2))
	held := c.bytes
	require.Equal(t, 2*framesSize(cacheFrames(0)), held)

	c.put(ring+1, cacheFrames(ring+1))
	_, ok := c.get(2)
	assert.False(t, ok, "the newer block took the page, with every record of the older one")
	assert.Equal(t, held/2, c.bytes, "what the older block held left the count")
	c.put(3, cacheFrames(3))
	_, ok = c.get(3)
	assert.False(t, ok, "an older block does not take a newer one's page")
	f, ok := c.get(ring + 1)
	require.True(t, ok)
	assert.Equal(t, byte(ring+1), f[0][0])

	for off := ring + pageSlots; off < 2*ring; off += pageSlots {
		c.put(off, cacheFrames(off))
	}
	c.grow(cacheSlots)
	require.Equal(t, 2*cacheSlots, c.size())
	for _, off := range []uint64{ring + 1, ring + pageSlots, 2*ring - pageSlots} {
		f, ok := c.get(off)
		require.True(t, ok, "offset %d kept through the growth", off)
		assert.Equal(t, byte(off), f[0][0])
	}
	c.put(1, cacheFrames(1))
	_, ok = c.get(1)
	assert.True(t, ok, "in the doubled ring block 0 has a page of its own again")
}
