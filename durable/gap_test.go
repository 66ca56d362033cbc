package durable

import (
	"context"
	"github.com/brookmq/brook/durable/internal/record"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readWithGaps reads [from, End) and returns the payload index of each record
// (by offset) and the gaps reported.
func readWithGaps(t *testing.T, l *Log, from uint64) (map[uint64]bool, []GapError) {
	t.Helper()
	r := l.NewReader(from)
	defer r.Close()
	got := map[uint64]bool{}
	var gaps []GapError
	for r.Offset() < l.End() {
		rec, err := r.Next(context.Background())
		if err != nil {
			var g *GapError
			require.ErrorAs(t, err, &g)
			require.ErrorIs(t, err, ErrGap)
			gaps = append(gaps, *g)
			continue
		}
		require.Equal(t, payloadFor(int(rec.Offset)), rec.Data)
		got[rec.Offset] = true
	}
	return got, gaps
}

func TestRepairSkipMidLog(t *testing.T) {
	const n = 30
	img := buildImage(t, n)
	mfs := img.without(cleanName).fs(func(b []byte) []byte {
		b[img.pos[10]+40] ^= 1 // payload of record 10
		b[img.pos[20]] ^= 2    // length of record 20
		b[img.pos[21]+5] ^= 4  // CRC of record 21
		return b
	})
	_, err := Open(imgDir, WithFS(mfs))
	require.ErrorIs(t, err, ErrCorrupt)

	l := openT(t, imgDir, WithFS(mfs), WithRepair(RepairSkip))
	assert.Equal(t, []GapError{{10, 11}, {20, 22}}, l.Recovery().Gaps)
	assert.Len(t, l.Recovery().LostFiles, 2)
	require.Equal(t, uint64(n), l.End())
	got, gaps := readWithGaps(t, l, 0)
	assert.Equal(t, []GapError{{10, 11}, {20, 22}}, gaps)
	assert.Len(t, got, n-3)
	assert.False(t, got[10] || got[20] || got[21])

	// Readers starting inside a gap get the rest of it.
	_, gaps = readWithGaps(t, l, 21)
	assert.Equal(t, []GapError{{21, 22}}, gaps)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(n-3), rep.Records)
	assert.Equal(t, uint64(3), rep.Gaps)
	appendN(t, l, n, 2)
	require.NoError(t, l.Close())

	// The repaired journal opens without a repair policy.
	l = openT(t, imgDir, WithFS(mfs))
	got, gaps = readWithGaps(t, l, 0)
	assert.Equal(t, []GapError{{10, 11}, {20, 22}}, gaps)
	assert.Len(t, got, n-1)
	require.NoError(t, l.Close())
}

func TestRepairSkipSealedSegments(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSegmentSize(4096))
	appendN(t, l, 0, 100)
	segs := l.Stats().Segments
	require.Greater(t, len(segs), 3)
	require.NoError(t, l.Close())
	// Flip a payload bit in the first segment's third record (its index is
	// intact, so only a repair policy's full verification sees it) and cut
	// the second segment short by a record and a half.
	first := mfs.files()[segPath(0)]
	pos := int64(segHdrSize)
	for i := range 2 {
		pos += int64(record.Size(len(payloadFor(i))))
	}
	first[pos+record.HeaderSize+1] ^= 1
	mfs.writeFile(segPath(0), first)
	second := mfs.files()[segPath(segs[1].Base)]
	last := segs[2].Base - 1
	cut := int64(len(second)) - int64(record.Size(len(payloadFor(int(last))))) - 20
	mfs.writeFile(segPath(segs[1].Base), second[:cut])

	l = openT(t, imgDir, WithFS(mfs), WithRepair(RepairSkip))
	want := []GapError{{2, 3}, {last - 1, last + 1}}
	assert.Equal(t, want, l.Recovery().Gaps)
	got, gaps := readWithGaps(t, l, 0)
	assert.Equal(t, want, gaps)
	assert.Len(t, got, 100-3)
	at, err := l.OffsetAt(readAll(t, l, last+1)[0].Time)
	require.NoError(t, err)
	assert.Equal(t, last+1, at)
	require.NoError(t, l.Close())
	l = openT(t, imgDir, WithFS(mfs))
	_, err = l.Verify(context.Background())
	require.NoError(t, err)
	require.NoError(t, l.Close())
}
