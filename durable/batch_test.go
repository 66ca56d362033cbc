package durable

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A growing batch takes chunks that double up to maxChunk instead of
// copying what it holds into a bigger buffer; a record larger than that
// gets a chunk of its size; reset keeps the buffers, so the next batch of
// the same shape allocates nothing.
func TestBatchRoomChunks(t *testing.T) {
	var b batch
	seg := &segment{}
	const rec = 1000
	record := make([]byte, rec)
	fill := func() {
		for range 3 * maxChunk / rec {
			buf := b.room(seg, false, rec)
			if cap(*buf)-len(*buf) < rec {
				t.Fatal("room returned no room")
			}
			*buf = append(*buf, record...)
		}
	}
	fill()
	require.Greater(t, len(b.chunks), 2)
	for i, c := range b.chunks {
		assert.Same(t, seg, c.seg)
		assert.Equal(t, min(minChunk<<i, maxChunk), cap(c.buf), "chunk %d", i)
		if i < len(b.chunks)-1 {
			assert.Greater(t, len(c.buf), cap(c.buf)-rec, "chunk %d was filled before the next", i)
		}
	}
	first := &b.chunks[0].buf[0]

	b.reset()
	assert.Zero(t, testing.AllocsPerRun(3, func() { b.reset(); fill() }), "the kept buffers are reused")
	assert.Same(t, first, &b.chunks[0].buf[0])

	big := b.room(seg, false, maxChunk+1)
	assert.GreaterOrEqual(t, cap(*big), maxChunk+1)
	assert.Empty(t, *big)
}

// The first chunk of a new segment is marked create, and only that one.
func TestBatchRoomCreate(t *testing.T) {
	var b batch
	old, next := &segment{}, &segment{}
	*b.room(old, false, 8) = make([]byte, 8)
	buf := b.room(next, true, minChunk)
	*buf = (*buf)[:cap(*buf)]
	b.room(next, true, 8)
	require.Len(t, b.chunks, 3)
	assert.False(t, b.chunks[0].create)
	assert.True(t, b.chunks[1].create)
	assert.False(t, b.chunks[2].create, "a segment is created once")
	assert.Same(t, next, b.chunks[2].seg)
}

// The index adds an entry only every interval bytes, whether or not its
// lock-free check has seen an entry yet, and replace resets that check.
func TestIndexAddInterval(t *testing.T) {
	var x index
	for pos := int64(64); pos < 64+10*100; pos += 100 {
		x.add(indexEntry{off: uint64(pos), pos: pos}, 250)
	}
	got := x.snapshot()
	require.Len(t, got, 4)
	assert.Equal(t, []int64{64, 364, 664, 964}, []int64{got[0].pos, got[1].pos, got[2].pos, got[3].pos})

	x.replace(nil)
	x.add(indexEntry{off: 1, pos: 70}, 250)
	require.Len(t, x.snapshot(), 1, "after replace(nil) the first record is indexed")
	x.replace([]indexEntry{{off: 9, pos: 1000}})
	x.add(indexEntry{off: 10, pos: 1100}, 250)
	assert.Len(t, x.snapshot(), 1)
	x.add(indexEntry{off: 11, pos: 1250}, 250)
	assert.Len(t, x.snapshot(), 2)
}
