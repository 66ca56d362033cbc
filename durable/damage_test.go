package durable

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"github.com/brookmq/brook/durable/internal/record"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// image is a closed journal in a memFS, as files.
type image struct {
	files map[string][]byte
	// pos[i] is the byte position of record i in the single segment;
	// pos[n] is the end.
	pos []int64
}

const imgDir = "/j"

func segPath(base uint64) string { return filepath.Join(imgDir, segName(base)) }

// buildImage appends n records (payloadFor) to a fresh single-segment journal.
func buildImage(t *testing.T, n int, opts ...Option) image {
	t.Helper()
	mfs := newMemFS()
	l := openT(t, imgDir, append([]Option{WithFS(mfs), WithIndexInterval(256)}, opts...)...)
	appendN(t, l, 0, n)
	require.NoError(t, l.Close())
	img := image{files: mfs.files(), pos: []int64{segHdrSize}}
	for i := range n {
		img.pos = append(img.pos, img.pos[i]+int64(record.Size(len(payloadFor(i)))))
	}
	return img
}

// fs returns a memFS holding the image with edit applied to a copy of the
// segment with base 0.
func (img image) fs(edit func(seg []byte) []byte) *memFS {
	mfs := newMemFS()
	for p, b := range img.files {
		if p == segPath(0) && edit != nil {
			b = edit(append([]byte(nil), b...))
		}
		mfs.writeFile(p, b)
	}
	return mfs
}

func (img image) without(name string) image {
	files := map[string][]byte{}
	for p, b := range img.files {
		if filepath.Base(p) != name {
			files[p] = b
		}
	}
	return image{files: files, pos: img.pos}
}

// wholeBefore returns how many records end at or before byte cut.
func (img image) wholeBefore(cut int64) int {
	n := 0
	for n+1 < len(img.pos) && img.pos[n+1] <= cut {
		n++
	}
	return n
}

// Test 3 of doc.go's failure tests: after a crash (no clean-shutdown
// marker), truncate the last segment at every byte of its last records (so
// every partial header and payload), zero- or garbage-fill the last
// sectors: Open succeeds and the last whole record survives. After a clean
// shutdown the same damage contradicts the marker: ErrCorrupt (issue 11
// item 1), a read-only Open stops before it, RepairTruncate cuts it.
func TestTornTailTruncation(t *testing.T) {
	const n = 40
	img := buildImage(t, n)
	crashed := img.without(cleanName)
	for cut := img.pos[n-2]; cut < img.pos[n]; cut++ {
		mfs := crashed.fs(func(b []byte) []byte { return b[:cut] })
		l, err := Open(imgDir, WithFS(mfs))
		require.NoError(t, err, "cut at %d", cut)
		whole := img.wholeBefore(cut)
		checkPrefix(t, l, whole)
		// Torn bytes are counted up to the last non-zero one.
		dataEnd := max(int64(len(bytes.TrimRight(img.files[segPath(0)][:cut], "\x00"))), img.pos[whole])
		assert.Equal(t, dataEnd-img.pos[whole], l.Recovery().TornBytes)
		appendN(t, l, whole, 1)
		require.NoError(t, l.Close())
		// The repaired journal reopens cleanly with the new record.
		l = openT(t, imgDir, WithFS(mfs))
		checkPrefix(t, l, whole+1)
		require.NoError(t, l.Close())
	}
	// The record boundary, then a spread of cuts through the last record.
	for cut := img.pos[n-1]; cut < img.pos[n]; cut += 13 {
		cleanDamage(t, img.fs(func(b []byte) []byte { return b[:cut] }), img.wholeBefore(cut))
	}
}

// cleanDamage checks a journal whose clean-shutdown marker no longer
// matches: Open fails with ErrCorrupt naming CLEAN and changes nothing, a
// read-only Open sees the first whole records and reports the damage, and
// RepairTruncate keeps them.
func cleanDamage(t *testing.T, mfs *memFS, whole int) {
	t.Helper()
	before := mfs.files()
	_, err := Open(imgDir, WithFS(mfs))
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, cleanName, ce.File)
	assert.Equal(t, before, mfs.files(), "a refused Open changed the directory")
	ro, err := Open(imgDir, WithFS(mfs), ReadOnly())
	require.NoError(t, err)
	assert.ErrorIs(t, ro.Recovery().Ignored, ErrCorrupt)
	assert.Equal(t, uint64(whole), ro.End())
	require.NoError(t, ro.Close())
	l, err := Open(imgDir, WithFS(mfs), WithRepair(RepairTruncate))
	require.NoError(t, err)
	assert.ErrorIs(t, l.Recovery().Repaired, ErrCorrupt)
	assert.True(t, l.Recovery().NewEpoch)
	checkPrefix(t, l, whole)
	require.NoError(t, l.Close())
	l = openT(t, imgDir, WithFS(mfs))
	checkPrefix(t, l, whole)
	require.NoError(t, l.Close())
}

// Issue 11 item 1: the promise of a clean shutdown is kept. One flipped bit
// in the last record, the last segment cut at a record boundary, the last
// or the oldest segment deleted, a damaged marker: each is ErrCorrupt, not a
// quietly shorter journal.
func TestCleanShutdownPromise(t *testing.T) {
	build := func(t *testing.T) (*memFS, []SegmentInfo) {
		mfs := newMemFS()
		l := openT(t, imgDir, WithFS(mfs), WithSegmentSize(4096), WithIndexInterval(256))
		appendN(t, l, 0, 200)
		segs := l.Stats().Segments
		require.Greater(t, len(segs), 3)
		require.NoError(t, l.Close())
		return mfs, segs
	}
	edit := func(mfs *memFS, path string, f func([]byte) []byte) {
		mfs.writeFile(path, f(bytes.Clone(mfs.files()[path])))
	}
	t.Run("bit-flip-in-last-record", func(t *testing.T) {
		mfs, segs := build(t)
		last := segs[len(segs)-1]
		edit(mfs, segPath(last.Base), func(b []byte) []byte { b[len(b)-9] ^= 0x10; return b })
		cleanDamage(t, mfs, 199)
	})
	t.Run("cut-at-record-boundary", func(t *testing.T) {
		mfs, segs := build(t)
		last := segs[len(segs)-1]
		cut := int64(0)
		for i := last.Base; i < 197; i++ {
			cut += int64(record.Size(len(payloadFor(int(i)))))
		}
		edit(mfs, segPath(last.Base), func(b []byte) []byte { return b[:segHdrSize+cut] })
		cleanDamage(t, mfs, 197)
	})
	t.Run("last-segment-deleted", func(t *testing.T) {
		mfs, segs := build(t)
		last := segs[len(segs)-1]
		require.NoError(t, mfs.Remove(segPath(last.Base)))
		require.NoError(t, mfs.Remove(filepath.Join(imgDir, idxName(last.Base))))
		cleanDamage(t, mfs, int(last.Base))
	})
	t.Run("oldest-segment-deleted", func(t *testing.T) {
		mfs, segs := build(t)
		require.NoError(t, mfs.Remove(segPath(segs[0].Base)))
		_, err := Open(imgDir, WithFS(mfs))
		var ce *CorruptError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, cleanName, ce.File)
	})
	t.Run("marker-damaged", func(t *testing.T) {
		mfs, _ := build(t)
		edit(mfs, filepath.Join(imgDir, cleanName), func(b []byte) []byte { b[20] ^= 1; return b })
		_, err := Open(imgDir, WithFS(mfs))
		var ce *CorruptError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, cleanName, ce.File)
		l := openT(t, imgDir, WithFS(mfs), WithRepair(RepairTruncate))
		checkPrefix(t, l, 200)
		assert.ErrorIs(t, l.Recovery().Repaired, ErrCorrupt)
		require.NoError(t, l.Close())
	})
}

func TestTailSectorsFilled(t *testing.T) {
	const n = 60
	img := buildImage(t, n)
	size := img.pos[n]
	for _, sector := range []int64{512, 4096} {
		for _, fill := range []struct {
			name string
			b    func(i int64) byte
		}{{"zero", func(int64) byte { return 0 }}, {"garbage", func(i int64) byte { return byte(i*131 + 17) }}} {
			from := max(size-sector, segHdrSize)
			damage := func(b []byte) []byte {
				for i := from; i < size; i++ {
					b[i] = fill.b(i)
				}
				return b
			}
			whole := img.wholeBefore(from)
			mfs := img.without(cleanName).fs(damage)
			l, err := Open(imgDir, WithFS(mfs))
			require.NoError(t, err, "%s fill of %d", fill.name, sector)
			checkPrefix(t, l, whole)
			// Zeros at the end are unwritten space, not torn bytes.
			seg := damage(bytes.Clone(img.files[segPath(0)]))
			dataEnd := max(int64(len(bytes.TrimRight(seg, "\x00"))), img.pos[whole])
			assert.Equal(t, dataEnd-img.pos[whole], l.Recovery().TornBytes)
			require.NoError(t, l.Close())
			cleanDamage(t, img.fs(damage), whole)
		}
	}
}

// Test 4 of doc.go's failure tests: bit flips in the tail record after a
// crash are a torn tail (after a clean shutdown, corruption); a flip
// anywhere in an earlier record (length, CRC, flags, lag, offset,
// timestamp, payload) is ErrCorrupt carrying the offset.
func TestBitFlips(t *testing.T) {
	const n = 30
	img := buildImage(t, n)
	t.Run("tail", func(t *testing.T) {
		for p := img.pos[n-1]; p < img.pos[n]; p++ {
			flip := func(b []byte) []byte { b[p] ^= 1 << (p % 8); return b }
			l, err := Open(imgDir, WithFS(img.without(cleanName).fs(flip)))
			require.NoError(t, err, "flip at %d", p)
			checkPrefix(t, l, n-1)
			require.NoError(t, l.Close())
			if p%7 == 0 {
				cleanDamage(t, img.fs(flip), n-1)
			}
		}
	})
	t.Run("mid-log", func(t *testing.T) {
		const victim = 10
		start := img.pos[victim]
		check := func(err error, p int64) {
			t.Helper()
			var ce *CorruptError
			require.ErrorAs(t, err, &ce, "flip at byte %d of record %d", p-start, victim)
			assert.ErrorIs(t, err, ErrCorrupt)
			assert.Equal(t, uint64(victim), ce.Offset)
			assert.Equal(t, start, ce.Pos)
			assert.Equal(t, uint64(0), ce.Segment)
		}
		for p := start; p < start+record.HeaderSize+16; p++ {
			flip := func(b []byte) []byte { b[p] ^= 1 << (p % 8); return b }
			// After a crash the whole last segment is verified on Open.
			_, err := Open(imgDir, WithFS(img.without(cleanName).fs(flip)))
			check(err, p)
			// After a clean shutdown Open verifies only the records after the
			// last index entry; the damage is reported by readers and Verify.
			l, err := Open(imgDir, WithFS(img.fs(flip)))
			require.NoError(t, err)
			_, err = l.Verify(context.Background())
			check(err, p)
			r := l.NewReader(0)
			for {
				if _, err = r.Next(context.Background()); err != nil {
					break
				}
			}
			check(err, p)
			require.NoError(t, r.Close())
			require.NoError(t, l.Close())
		}
	})
	t.Run("huge-length", func(t *testing.T) {
		mfs := img.without(cleanName).fs(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[img.pos[10]:], 0xFFFFFFFF)
			return b
		})
		_, err := Open(imgDir, WithFS(mfs))
		var ce *CorruptError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, uint64(10), ce.Offset)
		// A length inside the format's bound but past the end of the file is
		// found without allocating a buffer for it (neither by the scan nor
		// by the search for valid records after the damage).
		mfs = img.without(cleanName).fs(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[img.pos[10]:], record.MaxLen-8)
			return b
		})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = Open(imgDir, WithFS(mfs))
		runtime.ReadMemStats(&after)
		require.ErrorAs(t, err, &ce)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "a damaged length was allocated")
	})
	t.Run("repair-after-clean-shutdown", func(t *testing.T) {
		// A repair policy verifies every record even when the clean marker
		// would let Open check only the records after the last index entry.
		flip := func(b []byte) []byte { b[img.pos[5]+40] ^= 1; return b }
		l, err := Open(imgDir, WithFS(img.fs(flip)), WithRepair(RepairTruncate))
		require.NoError(t, err)
		assert.False(t, l.Recovery().Clean)
		assert.ErrorIs(t, l.Recovery().Repaired, ErrCorrupt)
		checkPrefix(t, l, 5)
		require.NoError(t, l.Close())
		l, err = Open(imgDir, WithFS(img.fs(flip)), WithRepair(RepairSkip))
		require.NoError(t, err)
		assert.Equal(t, []GapError{{5, 6}}, l.Recovery().Gaps)
		_, err = l.Verify(context.Background())
		require.NoError(t, err)
		require.NoError(t, l.Close())
	})
	t.Run("repair-truncate", func(t *testing.T) {
		mfs := img.without(cleanName).fs(func(b []byte) []byte { b[img.pos[10]+40] ^= 4; return b })
		l, err := Open(imgDir, WithFS(mfs), WithRepair(RepairTruncate))
		require.NoError(t, err)
		assert.ErrorIs(t, l.Recovery().Repaired, ErrCorrupt)
		assert.NotEmpty(t, l.Recovery().LostFiles)
		checkPrefix(t, l, 10)
		appendN(t, l, 10, 5)
		require.NoError(t, l.Close())
		l = openT(t, imgDir, WithFS(mfs))
		checkPrefix(t, l, 15)
		require.NoError(t, l.Close())
	})
}

// Damage inside a sealed segment is not seen by Open (sealed segments were
// fsynced when sealed) but by every Reader and by Verify, and RepairTruncate
// cuts there once Verify has found it.
func TestSealedSegmentCorruption(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSegmentSize(4096))
	appendN(t, l, 0, 100)
	require.NoError(t, l.Close())
	seg := mfs.files()[segPath(0)]
	victimPos := int64(segHdrSize)
	for i := range 5 {
		victimPos += int64(record.Size(len(payloadFor(i))))
	}
	seg[victimPos+record.HeaderSize] ^= 0x80
	mfs.writeFile(segPath(0), seg)

	l = openT(t, imgDir, WithFS(mfs))
	r := l.NewReader(0)
	for i := range 5 {
		rec, err := r.Next(context.Background())
		require.NoError(t, err)
		require.Equal(t, uint64(i), rec.Offset)
	}
	_, err := r.Next(context.Background())
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(5), ce.Offset)
	assert.Equal(t, victimPos, ce.Pos)
	require.NoError(t, r.Close())
	// Readers of later segments are unaffected.
	second := l.Stats().Segments[1].Base
	recs := readAll(t, l, second)
	require.Len(t, recs, 100-int(second))
	_, err = l.Verify(context.Background())
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(5), ce.Offset)
	require.NoError(t, l.Close())

	// Without its index the sealed segment is scanned on Open and the damage
	// reported; RepairTruncate cuts the journal there.
	require.NoError(t, mfs.Remove(filepath.Join(imgDir, idxName(0))))
	_, err = Open(imgDir, WithFS(mfs))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(5), ce.Offset)
	l = openT(t, imgDir, WithFS(mfs), WithRepair(RepairTruncate))
	checkPrefix(t, l, 5)
	assert.True(t, errors.Is(l.Recovery().Repaired, ErrCorrupt))
	require.NoError(t, l.Close())
}

// A damaged header on a later segment is corruption; RepairTruncate cuts the
// journal there and a read-only Open stops before it.
func TestDamagedSegmentHeader(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSegmentSize(4096))
	appendN(t, l, 0, 100)
	segs := l.Stats().Segments
	require.Greater(t, len(segs), 3)
	require.NoError(t, l.Close())
	victim := segs[2].Base
	b := mfs.files()[segPath(victim)]
	b[20] ^= 1
	mfs.writeFile(segPath(victim), b)

	_, err := Open(imgDir, WithFS(mfs))
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, victim, ce.Segment)

	ro := openT(t, imgDir, WithFS(mfs), ReadOnly())
	assert.ErrorIs(t, ro.Recovery().Ignored, ErrCorrupt)
	assert.Equal(t, victim, ro.End())
	require.NoError(t, ro.Close())

	l = openT(t, imgDir, WithFS(mfs), WithRepair(RepairTruncate))
	checkPrefix(t, l, int(victim))
	appendN(t, l, int(victim), 3)
	require.NoError(t, l.Close())
	l = openT(t, imgDir, WithFS(mfs))
	checkPrefix(t, l, int(victim)+3)
	require.NoError(t, l.Close())
}
