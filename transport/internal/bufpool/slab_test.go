package bufpool

import (
	"runtime/debug"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noGC keeps the collector from emptying the pool during a test.
func noGC(t *testing.T) {
	t.Helper()
	gc := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(gc) })
}

// A slab goes back to the pool once the reader has retired it and every
// token it handed out has been released, whichever comes last, and not
// before.
func TestSlabBackAfterLastReference(t *testing.T) {
	noGC(t)
	for _, retireFirst := range []bool{true, false} {
		s, data := GetSlab()
		require.True(t, s.Valid())
		require.Len(t, data, SlabSize)
		toks := [][]byte{s.Ref(), s.Ref(), s.Ref()}
		back := slabsBack.Load()
		if retireFirst {
			s.Retire()
			assert.False(t, s.Valid(), "Retire clears the reader's handle")
		}
		for _, tok := range toks[:2] {
			require.True(t, ReleaseToken(tok))
			require.Equal(t, back, slabsBack.Load(), "a token is still out")
		}
		require.True(t, ReleaseToken(toks[2]))
		if retireFirst {
			assert.Equal(t, back+1, slabsBack.Load(), "the last token gives the slab back")
			continue
		}
		require.Equal(t, back, slabsBack.Load(), "the reader still carves it")
		s.Retire()
		assert.Equal(t, back+1, slabsBack.Load(), "retiring the last reference gives it back")
	}
}

// A slab nothing was carved from goes back when retired; the zero Slab
// retires as a no-op.
func TestSlabUnusedBackAtRetire(t *testing.T) {
	noGC(t)
	back := slabsBack.Load()
	s, _ := GetSlab()
	s.Retire()
	assert.Equal(t, back+1, slabsBack.Load())
	var none Slab
	assert.False(t, none.Valid())
	none.Retire()
	assert.Equal(t, back+1, slabsBack.Load())
}

// A leaked reference keeps the slab out of the pool for good.
func TestSlabLeakNeverBack(t *testing.T) {
	noGC(t)
	back := slabsBack.Load()
	s, _ := GetSlab()
	tok := s.Ref()
	s.Leak()
	s.Retire()
	require.True(t, ReleaseToken(tok))
	assert.Equal(t, back, slabsBack.Load())
}

// A recycled slab is handed out with a fresh credit: counting starts over.
func TestSlabRecycledCountsAfresh(t *testing.T) {
	noGC(t)
	for range 20 { // the race detector's pool drops some of what it is given
		s, data := GetSlab()
		p := unsafe.SliceData(data)
		tok := s.Ref()
		s.Retire()
		require.True(t, ReleaseToken(tok))
		s2, data2 := GetSlab()
		back := slabsBack.Load()
		tok2 := s2.Ref()
		require.True(t, ReleaseToken(tok2))
		assert.Equal(t, back, slabsBack.Load(), "the reader's credit holds it")
		s2.Retire()
		assert.Equal(t, back+1, slabsBack.Load())
		if unsafe.SliceData(data2) == p {
			return
		}
	}
	t.Fatal("the pool never handed a slab back out")
}

// The data never overlaps the header: writing every byte of it leaves
// the tokens valid.
func TestSlabDataApartFromHeader(t *testing.T) {
	noGC(t)
	s, data := GetSlab()
	tok := s.Ref()
	for i := range data {
		data[i] = 0xFF
	}
	back := slabsBack.Load()
	s.Retire()
	require.True(t, ReleaseToken(tok))
	assert.Equal(t, back+1, slabsBack.Load())
}

// Only Ref's tokens are taken for tokens: an application's slices,
// whatever their shape, are left alone.
func TestReleaseTokenRejectsOtherSlices(t *testing.T) {
	buf := make([]byte, 64)
	for name, b := range map[string][]byte{
		"nil":        nil,
		"empty":      {},
		"short":      []byte("x"),
		"zeroed":     buf[:0:slabHeader],
		"unaligned":  buf[1:1:17],
		"longer cap": buf[:0:32],
	} {
		assert.False(t, ReleaseToken(b), name)
	}
	assert.Equal(t, make([]byte, 64), buf, "nothing written")
}

// Tokens released from many goroutines at once give the slab back
// exactly once.
func TestSlabConcurrentRelease(t *testing.T) {
	noGC(t)
	const n = 64
	s, _ := GetSlab()
	toks := make([][]byte, n)
	for i := range toks {
		toks[i] = s.Ref()
	}
	back := slabsBack.Load()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, tok := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ReleaseToken(tok)
		}()
	}
	close(start)
	s.Retire()
	wg.Wait()
	assert.Equal(t, back+1, slabsBack.Load())
}
