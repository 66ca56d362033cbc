package durable

import (
	"bytes"
	"context"
	"os"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// residentFraction is the share of path's pages in [from, to) that the
// page cache holds (mincore on a read-only mapping). The tests allow up to
// half: eviction is advice, and the kernel keeps pages whose buffers its
// file system journal still holds (1.0 when nothing is evicted).
func residentFraction(t *testing.T, path string, from, to int64) float64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	page := int64(os.Getpagesize())
	from &^= page - 1
	require.Greater(t, to, from)
	m, err := unix.Mmap(int(f.Fd()), from, int(to-from), unix.PROT_READ, unix.MAP_SHARED)
	require.NoError(t, err)
	defer unix.Munmap(m)
	vec := make([]byte, (int64(len(m))+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0])))
	require.Zero(t, errno)
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return float64(n) / float64(len(vec))
}

// appendBig appends n records of size bytes (record i filled with byte i)
// asynchronously, then one more synchronously so that all are fsynced.
func appendBig(t *testing.T, l *Log, n, size int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		_, err := l.AppendAsync(ctx, bytes.Repeat([]byte{byte(i)}, size))
		require.NoError(t, err)
	}
	_, err := l.Append(ctx, bytes.Repeat([]byte{byte(n)}, size))
	require.NoError(t, err)
}

// checkBig reads back what appendBig appended.
func checkBig(t *testing.T, l *Log, n, size int) {
	t.Helper()
	recs := readAll(t, l, 0)
	require.Len(t, recs, n+1)
	for i, rec := range recs {
		if !bytes.Equal(rec.Data, bytes.Repeat([]byte{byte(i)}, size)) {
			require.Equal(t, bytes.Repeat([]byte{byte(i)}, size), rec.Data, "record %d", i)
		}
	}
}

// activeDropped returns the active segment's path, how far from its start
// its pages were dropped, and how much of it is written.
func activeDropped(l *Log) (path string, uncached, written int64) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	seg := l.activeWriteSeg()
	return seg.path, seg.uncached, seg.written
}

// keep16 is the cache kept behind the writer in the eviction tests.
const keep16 = 16 << 20

// TestWriterDropsSyncedPages: in Group mode the writer evicts the active
// segment's synced pages older than its newest keep16 bytes from the
// page cache, and the records stay readable (from the disk).
func TestWriterDropsSyncedPages(t *testing.T) {
	const size, n = 4 << 10, (keep16 + 12<<20) / (4 << 10)
	l := openT(t, t.TempDir(), WithCacheKeep(keep16))
	defer l.Close()
	appendBig(t, l, n, size)

	path, uncached, written := activeDropped(l)
	require.GreaterOrEqual(t, uncached, written-keep16-keep16/4, "synced pages older than keep16 dropped")
	require.LessOrEqual(t, uncached, written-keep16)
	require.Less(t, residentFraction(t, path, 0, uncached), 0.5)

	checkBig(t, l, n, size)
}

// TestIntervalSyncDropsSyncedPages: in Interval mode the timer's fdatasync
// evicts the synced pages older than keep16 as well.
func TestIntervalSyncDropsSyncedPages(t *testing.T) {
	const size, n = 4 << 10, (keep16 + 12<<20) / (4 << 10)
	l := openT(t, t.TempDir(), WithSync(Interval(MinInterval)), WithCacheKeep(keep16))
	defer l.Close()
	appendBig(t, l, n, size)
	require.NoError(t, l.Sync())

	path, uncached, written := activeDropped(l)
	require.GreaterOrEqual(t, uncached, written-keep16-keep16/4, "synced pages older than keep16 dropped")
	require.Less(t, residentFraction(t, path, 0, uncached), 0.5)

	checkBig(t, l, n, size)
}

// TestRollDropsSealedSegmentPages: a sealed segment's pages are evicted
// when the next one is created, and its records stay readable.
func TestRollDropsSealedSegmentPages(t *testing.T) {
	const size, n = 4 << 10, (12 << 20) / (4 << 10)
	l := openT(t, t.TempDir(), WithSegmentSize(4<<20), WithCacheKeep(keep16))
	defer l.Close()
	appendBig(t, l, n, size)

	l.mu.Lock()
	segs := append([]*segment(nil), l.segs...)
	l.mu.Unlock()
	require.Greater(t, len(segs), 2)
	for _, s := range segs[:len(segs)-1] {
		l.writeMu.Lock()
		path, uncached, written := s.path, s.uncached, s.written
		l.writeMu.Unlock()
		require.Equal(t, written&^(4<<10-1), uncached, "sealed segment %s dropped", path)
		require.Less(t, residentFraction(t, path, 0, uncached), 0.5, "sealed segment %s", path)
	}

	checkBig(t, l, n, size)
}

// TestCacheKeep: by default and with WithCacheKeep(-1) the writer never evicts, at a roll or after a
// sync, and a smaller keep evicts closer to the end.
func TestCacheKeep(t *testing.T) {
	const size, n = 4 << 10, (12 << 20) / (4 << 10)
	for name, opts := range map[string][]Option{
		"default": {WithSegmentSize(4 << 20)},
		"never":   {WithSegmentSize(4 << 20), WithCacheKeep(-1)},
	} {
		t.Run(name, func(t *testing.T) {
			l := openT(t, t.TempDir(), opts...)
			defer l.Close()
			appendBig(t, l, n, size)
			l.writeMu.Lock()
			require.Greater(t, len(l.segs), 2)
			for _, s := range l.segs {
				require.Zero(t, s.uncached)
			}
			l.writeMu.Unlock()
			checkBig(t, l, n, size)
		})
	}
	t.Run("1MiB", func(t *testing.T) {
		l := openT(t, t.TempDir(), WithCacheKeep(1<<20))
		defer l.Close()
		appendBig(t, l, n, size)
		path, uncached, written := activeDropped(l)
		require.GreaterOrEqual(t, uncached, written-(1<<20)-(1<<18))
		require.Less(t, residentFraction(t, path, 0, uncached), 0.5)
		checkBig(t, l, n, size)
	})
}
