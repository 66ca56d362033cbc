package durable

import (
	"bytes"
	"context"
	"errors"
	"github.com/brookmq/brook/durable/internal/record"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test 9 of doc.go's failure tests: the record decoder never panics or allocates from an
// unchecked length, and whatever it accepts re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(record.Append(nil, record.Header{Offset: 7, Time: 1234}, []byte("hello"), nil), uint64(7))
	f.Add(record.Append(nil, record.Header{Flags: record.FlagMultipart}, nil, [][]byte{[]byte("a"), {}, []byte("bc")}), uint64(0))
	f.Add(make([]byte, record.HeaderSize), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, want uint64) {
		rec, size, err := record.Decode(b, want)
		if err != nil {
			return
		}
		require.LessOrEqual(t, size, len(b))
		require.Equal(t, want, rec.Offset)
		require.LessOrEqual(t, rec.SyncedEnd(), rec.Offset)
		if rec.Flags&record.FlagMultipart != 0 {
			// Frames decode; their lengths may use non-minimal varints, so
			// the re-encoding is compared frame by frame.
			frames, err := record.DecodeFrames(rec.Payload)
			require.NoError(t, err)
			again := record.Append(nil, rec.Header, nil, frames)
			back, _, err := record.Decode(again, want)
			require.NoError(t, err)
			require.Equal(t, rec.Header, back.Header)
			got, err := record.DecodeFrames(back.Payload)
			require.NoError(t, err)
			require.Equal(t, len(frames), len(got))
			for i := range frames {
				require.True(t, bytes.Equal(frames[i], got[i]))
			}
			return
		}
		require.Equal(t, b[:size], record.Append(nil, rec.Header, rec.Payload, nil))
	})
}

// fuzzImage is the directory image FuzzOpen mutates: META is fixed, the
// fuzzer controls two segment files, the first segment's index, a cursor
// and the clean-shutdown marker.
const fuzzSecondBase = 16

func fuzzFS(seg0, seg1, idx0, cur, clean []byte) *memFS {
	mfs := newMemFS()
	mfs.writeFile(filepath.Join(imgDir, metaName), encodeMeta(metaInfo{id: JournalID{1, 2, 3}, created: 1, epochs: []Epoch{{N: 1}}, dropped: math.MaxUint64}))
	mfs.writeFile(segPath(0), seg0)
	if len(seg1) > 0 {
		mfs.writeFile(segPath(fuzzSecondBase), seg1)
	}
	if len(idx0) > 0 {
		mfs.writeFile(filepath.Join(imgDir, idxName(0)), idx0)
	}
	if len(cur) > 0 {
		mfs.writeFile(filepath.Join(imgDir, cursorDir, "c"), cur)
	}
	if len(clean) > 0 {
		mfs.writeFile(filepath.Join(imgDir, cleanName), clean)
	}
	return mfs
}

// seedImage builds a valid image with the fixed META: 16 records in the first
// segment (and the clean marker that goes with it alone), a few in the
// second, an index and a cursor.
func seedImage(t testing.TB) (seg0, seg1, idx0, cur, clean []byte) {
	mfs := fuzzFS(encodeSegHeader(0, JournalID{1, 2, 3}, 1), nil, nil, nil, nil)
	l, err := Open(imgDir, WithFS(mfs), WithSegmentSize(1<<20), WithIndexInterval(64))
	require.NoError(t, err)
	appendN(t, l, 0, fuzzSecondBase)
	c, err := l.Cursor("c")
	require.NoError(t, err)
	require.NoError(t, c.AckRange(0, 5))
	require.NoError(t, c.Ack(9))
	require.NoError(t, c.Commit())
	require.NoError(t, l.Close())
	files := mfs.files()
	seg0 = files[segPath(0)]
	idx0 = files[filepath.Join(imgDir, idxName(0))]
	cur = files[filepath.Join(imgDir, cursorDir, "c")]
	clean = files[filepath.Join(imgDir, cleanName)]
	seg1 = encodeSegHeader(fuzzSecondBase, JournalID{1, 2, 3}, 2)
	for i := range 3 {
		seg1 = record.Append(seg1, record.Header{Offset: fuzzSecondBase + uint64(i), Lag: uint32(i), Time: 5}, payloadFor(i), nil)
	}
	return seg0, seg1, idx0, cur, clean
}

// Test 9 of doc.go's failure tests: Open over fuzzed directory images either fails with
// an error or yields a journal that reads consistently (records or
// ErrCorrupt, never a panic), verifies, and reopens to the same end.
func FuzzOpen(f *testing.F) {
	seg0, seg1, idx0, cur, clean := seedImage(f)
	f.Add(seg0, seg1, idx0, cur, []byte(nil))
	f.Add(seg0, []byte(nil), idx0, cur, clean)
	f.Add(seg0, []byte(nil), []byte(nil), []byte(nil), []byte(nil))
	f.Add(seg0[:len(seg0)-5], []byte(nil), idx0, cur, []byte(nil))
	f.Add(seg0[:len(seg0)-5], []byte(nil), idx0, cur, clean)
	f.Add(seg0, seg1[:segHdrSize+7], []byte(nil), cur, []byte(nil))
	f.Fuzz(func(t *testing.T, seg0, seg1, idx0, cur, clean []byte) {
		if len(seg0)+len(seg1)+len(idx0)+len(cur)+len(clean) > 1<<16 {
			return
		}
		for _, repair := range []RepairPolicy{RepairNone, RepairSkip} {
			fuzzOpenOnce(t, fuzzFS(seg0, seg1, idx0, cur, clean), repair)
		}
	})
}

// fuzzOpenOnce opens a fuzzed image with a repair policy and checks it. After
// a repair every record verifies.
func fuzzOpenOnce(t *testing.T, mfs *memFS, repair RepairPolicy) {
	opts := []Option{WithFS(mfs), WithIndexInterval(64), WithSegmentSize(1 << 20)}
	l, err := Open(imgDir, append(opts, WithRepair(repair))...)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	end := l.End()
	r := l.NewReader(l.First())
	for r.Offset() < end {
		if _, err := r.Next(ctx); err != nil {
			if errors.Is(err, ErrGap) {
				continue
			}
			require.True(t, repair == RepairNone && errors.Is(err, ErrCorrupt), "read error %v", err)
			break
		}
	}
	require.NoError(t, r.Close())
	if _, err := l.Verify(ctx); err != nil {
		require.True(t, repair == RepairNone && errors.Is(err, ErrCorrupt), "verify: %v", err)
	}
	for _, name := range l.Cursors() {
		c, err := l.Cursor(name)
		require.NoError(t, err)
		require.LessOrEqual(t, c.Offset(), end)
	}
	off, err := l.Append(ctx, []byte("x"))
	require.NoError(t, err)
	require.Equal(t, end, off)
	require.NoError(t, l.Close())

	l, err = Open(imgDir, opts...)
	require.NoError(t, err, "a journal that opened once must reopen")
	require.Equal(t, end+1, l.End())
	require.NoError(t, l.Close())
}
