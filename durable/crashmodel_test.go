package durable

import (
	"bytes"
	"context"
	"github.com/brookmq/brook/durable/internal/record"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The crash model itself: whatever it does to unsynced bytes, every synced
// byte survives, and over many seeds it produces prefixes, holes (zeros
// inside the unsynced region with later new bytes present) and sizes between
// the synced and the current one.
func TestCrashModelKeepsSyncedBytes(t *testing.T) {
	synced := bytes.Repeat([]byte{0xAA}, 3*crashPage+100)
	cur := append(bytes.Clone(synced), bytes.Repeat([]byte{0xBB}, 5*crashPage)...)
	n := &memNode{data: cur, synced: synced}
	sawHole, sawShort, sawFull := false, false, false
	for seed := range uint64(200) {
		out := crashContent(n, rand.New(rand.NewPCG(seed, 1)))
		require.GreaterOrEqual(t, len(out), len(synced))
		require.LessOrEqual(t, len(out), len(cur))
		require.Equal(t, synced, out[:len(synced)], "seed %d lost synced bytes", seed)
		sawShort = sawShort || len(out) < len(cur)
		sawFull = sawFull || len(out) == len(cur)
		if z := bytes.IndexByte(out[len(synced):], 0); z >= 0 && bytes.IndexByte(out[len(synced)+z:], 0xBB) >= 0 {
			sawHole = true
		}
	}
	assert.True(t, sawHole, "no hole with later data in 200 crashes")
	assert.True(t, sawShort)
	assert.True(t, sawFull)
}

// holeImage appends synced records [0, 40) and then, in None mode, records
// [40, 120) that are written but never synced, and returns the crash image
// of its files (nothing fsynced lost yet) and the byte position of each
// record in the single segment.
func holeImage(t *testing.T) (map[string][]byte, []int64) {
	t.Helper()
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSync(None), WithPreallocate(false))
	appendN(t, l, 0, 40)
	require.NoError(t, l.Sync())
	appendN(t, l, 40, 80)
	ctx := context.Background()
	require.NoError(t, l.WaitVisible(ctx, 119))
	files := mfs.files()
	require.NoError(t, l.Close())
	pos := []int64{segHdrSize}
	for i := range 120 {
		pos = append(pos, pos[i]+int64(record.Size(len(payloadFor(i)))))
	}
	return files, pos
}

// Test 2 of doc.go's failure tests: a power loss that wrote an unsynced
// batch's pages out of order leaves a zeroed page inside the unsynced tail
// with valid records after it. That is a torn tail (cut at the hole), not
// corruption, because no record after the hole claims the hole was synced.
func TestHoleInUnsyncedTailIsTorn(t *testing.T) {
	files, pos := holeImage(t)
	seg := files[segPath(0)]
	// Zero the page holding record 60's header.
	page := pos[60] - pos[60]%crashPage
	hole := bytes.Clone(seg)
	clear(hole[page : page+crashPage])
	require.Greater(t, int64(len(hole)), page+crashPage, "valid records must follow the hole")
	first := 0
	for pos[first+1] <= page {
		first++
	}
	mfs := imageFS(files, segPath(0), hole)
	l, err := Open(imgDir, WithFS(mfs))
	require.NoError(t, err)
	checkPrefix(t, l, first)
	assert.Positive(t, l.Recovery().TornBytes)
	require.NoError(t, l.Close())
}

// The same hole inside the synced region is corruption: the records after
// it claim (through their lag) that it was synced.
func TestHoleInSyncedRegionIsCorrupt(t *testing.T) {
	files, pos := holeImage(t)
	seg := bytes.Clone(files[segPath(0)])
	seg[pos[20]+4] ^= 0xFF // record 20's CRC
	_, err := Open(imgDir, WithFS(imageFS(files, segPath(0), seg)))
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(20), ce.Offset)
}

// imageFS returns a memFS holding files, with the file at path replaced.
func imageFS(files map[string][]byte, path string, content []byte) *memFS {
	mfs := newMemFS()
	for p, b := range files {
		if p == path {
			b = content
		}
		mfs.writeFile(p, b)
	}
	return mfs
}

// Issue 11 item 7: the journal directory itself, cursors/ and lost/ are made
// durable (their parent fsynced after creating them): after a power loss
// right after Open, an append, a cursor commit and a recovery cut, all of it
// is still there.
func TestDirectoriesAreDurable(t *testing.T) {
	mfs := newMemFS()
	dir := "/data/journals/j"
	l := openT(t, dir, WithFS(mfs))
	appendN(t, l, 0, 10)
	c, err := l.Cursor("c")
	require.NoError(t, err)
	require.NoError(t, c.AckRange(0, 4))
	require.NoError(t, c.Commit())
	crashed := mfs.crash(rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, l.Close())

	l, err = Open(dir, WithFS(crashed))
	require.NoError(t, err, "the journal directory vanished")
	checkPrefix(t, l, 10)
	c, err = l.Cursor("c")
	require.NoError(t, err)
	assert.Equal(t, uint64(4), c.Offset())
	require.NoError(t, l.Close())

	// A torn tail cut by recovery is kept under lost/, which must survive.
	seg := filepath.Join(dir, segName(0))
	b := crashed.files()[seg]
	crashed.writeFile(seg, append(bytes.Clone(b), 1, 2, 3, 4, 5, 6, 7, 8, 9))
	require.NoError(t, crashed.Remove(filepath.Join(dir, cleanName)))
	l, err = Open(dir, WithFS(crashed))
	require.NoError(t, err)
	lost := l.Recovery().LostFiles
	require.Len(t, lost, 1)
	again := crashed.crash(rand.New(rand.NewPCG(3, 4)))
	require.NoError(t, l.Close())
	assert.Contains(t, again.files(), filepath.Join(dir, lost[0]), "lost/ or its file vanished")
}
