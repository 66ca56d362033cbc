package durable

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A batch's buffer grows by doubling but stops at maxKeptBuffer while what
// it holds fits there, so reset keeps it and the next batch encodes into
// it without growing again.
func TestBatchReserveStaysKept(t *testing.T) {
	var b batch
	seg := &segment{}
	const rec = 1000
	for range (maxKeptBuffer - 64<<10) / rec {
		buf := b.tail(seg, false)
		reserve(buf, rec)
		require.GreaterOrEqual(t, cap(*buf)-len(*buf), rec)
		*buf = (*buf)[:len(*buf)+rec]
		require.LessOrEqual(t, cap(*buf), maxKeptBuffer, "grown past what reset keeps")
	}
	before := cap(b.chunks[0].buf)
	b.reset()
	buf := b.tail(seg, false)
	assert.Equal(t, before, cap(*buf), "reset dropped the buffer")

	// A record that cannot fit in maxKeptBuffer still gets its room.
	reserve(buf, maxKeptBuffer+1)
	assert.GreaterOrEqual(t, cap(*buf), maxKeptBuffer+1)
}

// reserve keeps what the buffer holds.
func TestBatchReserveCopies(t *testing.T) {
	buf := []byte("abc")
	reserve(&buf, 1<<20)
	assert.Equal(t, "abc", string(buf))
	assert.GreaterOrEqual(t, cap(buf), 3+1<<20)
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
