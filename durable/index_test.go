package durable

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// multiSegment builds a closed journal of n records over several segments in
// a memFS, with a fake clock stepping one second per record.
func multiSegment(t *testing.T, n int) (*memFS, []Option) {
	t.Helper()
	mfs := newMemFS()
	clock := fakeClock(time.Unix(1_700_000_000, 0), time.Second)
	opts := []Option{WithFS(mfs), WithSegmentSize(4096), WithIndexInterval(512), WithClock(clock)}
	l := openT(t, imgDir, opts...)
	appendN(t, l, 0, n)
	require.NoError(t, l.Close())
	return mfs, opts
}

// fakeClock returns a clock that starts at t0 and advances by step per call.
func fakeClock(t0 time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := t0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

// Test 5 of doc.go's failure tests: damaged or missing index files are rebuilt and reads
// stay correct, including reads positioned by a lying index.
func TestDamagedIndexFiles(t *testing.T) {
	const n = 200
	mfs, opts := multiSegment(t, n)
	files := mfs.files()
	var idxs []string
	for p := range files {
		if filepath.Ext(p) == idxSuffix {
			idxs = append(idxs, p)
		}
	}
	require.Greater(t, len(idxs), 3)

	cases := map[string]func(p string, b []byte){
		"missing": func(p string, _ []byte) { require.NoError(t, mfs.Remove(p)) },
		"flipped": func(p string, b []byte) { b[len(b)-3] ^= 0x10; mfs.writeFile(p, b) },
		"short":   func(p string, b []byte) { mfs.writeFile(p, b[:20]) },
		"lying": func(p string, b []byte) {
			// A well-formed index whose positions point at the wrong records.
			f, err := decodeIdx(b, parseIdxBase(t, p), segSize(t, mfs, p))
			require.NoError(t, err)
			for i := range f.entries {
				if i > 0 {
					f.entries[i].off++
				}
			}
			mfs.writeFile(p, encodeIdx(f))
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			for p, b := range files {
				mfs.writeFile(p, b)
			}
			for _, p := range idxs {
				damage(p, append([]byte(nil), files[p]...))
			}
			l := openT(t, imgDir, opts...)
			defer func() { require.NoError(t, l.Close()) }()
			if name != "lying" {
				assert.NotEmpty(t, l.Recovery().RebuiltIndexes)
			}
			checkPrefix(t, l, n)
			// Random access goes through the index.
			for _, off := range []uint64{1, 17, 63, 100, 150, 199} {
				r := l.NewReader(off)
				rec, err := r.Next(context.Background())
				require.NoError(t, err)
				require.Equal(t, off, rec.Offset)
				require.Equal(t, payloadFor(int(off)), rec.Data)
				require.NoError(t, r.Close())
			}
			// So does time lookup.
			recs := readAll(t, l, 0)
			for _, i := range []int{0, 5, 77, 120, 199} {
				at, err := l.OffsetAt(recs[i].Time)
				require.NoError(t, err)
				assert.Equal(t, uint64(i), at)
				at, err = l.OffsetAt(recs[i].Time.Add(-time.Millisecond))
				require.NoError(t, err)
				assert.Equal(t, uint64(i), at)
			}
			at, err := l.OffsetAt(recs[n-1].Time.Add(time.Millisecond))
			require.NoError(t, err)
			assert.Equal(t, uint64(n), at)
		})
	}
}

func parseIdxBase(t *testing.T, p string) uint64 {
	b, ok := parseBase(filepath.Base(p), idxSuffix)
	require.True(t, ok)
	return b
}

func segSize(t *testing.T, mfs *memFS, idxPath string) int64 {
	b := mfs.files()[idxPath[:len(idxPath)-len(idxSuffix)]+segSuffix]
	require.NotNil(t, b)
	return int64(len(b))
}

// Test 5 of doc.go's failure tests, cursors: a damaged current file falls back to the
// previous copy; with both damaged the cursor restarts at the oldest record
// (redelivery, never loss).
func TestDamagedCursorFiles(t *testing.T) {
	mfs := newMemFS()
	opts := []Option{WithFS(mfs), WithCursorPersistInterval(time.Hour)}
	l := openT(t, imgDir, opts...)
	appendN(t, l, 0, 20)
	c, err := l.Cursor("c")
	require.NoError(t, err)
	require.NoError(t, c.AckRange(0, 5))
	require.NoError(t, c.Commit())
	require.NoError(t, c.AckRange(5, 10))
	require.NoError(t, c.Commit())
	require.NoError(t, l.Close())
	cur := filepath.Join(imgDir, cursorDir, "c")
	files := mfs.files()
	require.Contains(t, files, cur+prevSuffix)

	reopen := func() uint64 {
		l := openT(t, imgDir, opts...)
		defer func() { require.NoError(t, l.Close()) }()
		c, err := l.Cursor("c")
		require.NoError(t, err)
		checkPrefix(t, l, 20)
		return c.Offset()
	}
	mfs.writeFile(cur, files[cur])
	assert.Equal(t, uint64(10), reopen())

	bad := append([]byte(nil), files[cur]...)
	binary.LittleEndian.PutUint64(bad[16:], 7)
	mfs.writeFile(cur, bad)
	mfs.writeFile(cur+prevSuffix, files[cur+prevSuffix])
	assert.Equal(t, uint64(5), reopen(), "falls back to the previous copy")

	require.NoError(t, mfs.Remove(cur))
	mfs.writeFile(cur+prevSuffix, files[cur+prevSuffix])
	assert.Equal(t, uint64(5), reopen(), "missing current: previous copy")

	mfs.writeFile(cur, []byte("garbage"))
	mfs.writeFile(cur+prevSuffix, []byte("garbage too"))
	assert.Equal(t, uint64(0), reopen(), "both damaged: oldest record")
}
