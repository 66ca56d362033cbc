package bufpool

import (
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Classes run in eight steps per power of two from just above MinSize
// to MaxSize, each index naming one size.
func TestClasses(t *testing.T) {
	for _, c := range []struct{ n, size int }{
		{MinSize + 1, 2304}, {2304, 2304}, {2305, 2560}, {4096, 4096}, {4097, 4608},
		{50000, 53248}, {60 << 10, 60 << 10}, {64 << 10, 64 << 10}, {64<<10 + 1, 72 << 10},
		{1 << 20, 1 << 20}, {MaxSize, MaxSize},
	} {
		_, size, ok := class(c.n)
		require.True(t, ok, "%d", c.n)
		assert.Equal(t, c.size, size, "class of %d", c.n)
		assert.Equal(t, c.size, ClassSize(c.n))
	}
	for _, n := range []int{-1, 0, 1, 100, MinSize, MaxSize + 1} {
		_, _, ok := class(n)
		assert.False(t, ok, "%d is outside the classes", n)
		assert.Equal(t, n, ClassSize(n))
	}
	// Every index in turn, every size above the one before and at most
	// an eighth above it.
	prevIdx, prevSize := -1, MinSize
	for n := MinSize + 1; n <= MaxSize; {
		idx, size, ok := class(n)
		require.True(t, ok)
		require.Equal(t, prevIdx+1, idx, "size %d", size)
		require.Greater(t, size, prevSize)
		require.LessOrEqual(t, size-prevSize, prevSize/8+1, "size %d after %d", size, prevSize)
		sameIdx, same, _ := class(size)
		require.Equal(t, idx, sameIdx)
		require.Equal(t, size, same)
		prevIdx, prevSize = idx, size
		n = size + 1
	}
	assert.Equal(t, len(pools)-1, prevIdx, "the last class fills the table")
}

// Get hands out its class's capacity; Put takes back only buffers whose
// capacity is exactly a class, and Get then reuses them, with the bytes
// past the length zeroed.
func TestGetPutReuse(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a collection empties the pools
	b, ok := Get(50000)
	require.True(t, ok)
	assert.Len(t, b, 50000)
	assert.Equal(t, 53248, cap(b))

	_, ok = Get(MinSize)
	assert.False(t, ok, "small bodies are not pooled")
	_, ok = Get(MaxSize + 1)
	assert.False(t, ok, "huge bodies are not pooled")

	assert.False(t, Put(make([]byte, 50000)), "capacity not a class")
	assert.False(t, Put(make([]byte, 2048)), "too small")
	assert.False(t, Put(nil))

	// sync.Pool drops a Put now and then under the race detector: try
	// a few times.
	reused := false
	for range 20 {
		b, _ := Get(50000)
		full := b[:cap(b)]
		for i := range full {
			full[i] = 0xEE
		}
		require.True(t, Put(b))
		again, _ := Get(52000)
		if unsafe.SliceData(again) != unsafe.SliceData(b) {
			continue
		}
		reused = true
		assert.Len(t, again, 52000)
		assert.Equal(t, 53248, cap(again))
		for i, x := range again[len(again):cap(again)] {
			require.Zero(t, x, "byte %d past the length", len(again)+i)
		}
		break
	}
	assert.True(t, reused, "a buffer put back is handed out again")
}

// Recycling a buffer costs no allocation.
func TestGetPutDoesNotAllocate(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	b, _ := Get(64 << 10)
	Put(b)
	allocs := testing.AllocsPerRun(1000, func() {
		b, _ := Get(64 << 10)
		Put(b)
	})
	// The race detector's sync.Pool drops a quarter of what is Put.
	assert.Less(t, allocs, 0.5)
}

// Put does not turn the reader's recycling on; Release and SetActive do.
func TestActive(t *testing.T) {
	defer SetActive(Active())
	SetActive(false)
	Put(make([]byte, 4096))
	assert.False(t, Active())
	assert.False(t, Release(make([]byte, 100)))
	assert.False(t, Active(), "nothing was pooled")
	assert.True(t, Release(make([]byte, 4096)))
	assert.True(t, Active())
	SetActive(false)
	assert.False(t, Active())
}

func BenchmarkGetPut(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		buf, _ := Get(64 << 10)
		Put(buf)
	}
}
