package durable

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCursorAckRanges(t *testing.T) {
	l := openT(t, t.TempDir(), WithMaxAckRanges(3), WithCursorPersistInterval(time.Hour))
	defer l.Close()
	appendN(t, l, 0, 100)
	c, err := l.Cursor("consumer-1")
	require.NoError(t, err)
	same, err := l.Cursor("consumer-1")
	require.NoError(t, err)
	assert.Same(t, c, same)

	steps := []struct {
		ack    []uint64
		floor  uint64
		ranges []AckRange
	}{
		{[]uint64{2}, 0, []AckRange{{2, 3}}},
		{[]uint64{3, 5}, 0, []AckRange{{2, 4}, {5, 6}}},
		{[]uint64{0}, 1, []AckRange{{2, 4}, {5, 6}}},
		{[]uint64{1}, 4, []AckRange{{5, 6}}},
		{[]uint64{4}, 6, []AckRange{}},
		{[]uint64{10, 20, 30}, 6, []AckRange{{10, 11}, {20, 21}, {30, 31}}},
		{[]uint64{3}, 6, []AckRange{{10, 11}, {20, 21}, {30, 31}}},
		// Joining or extending ranges, or reaching the floor, always fits.
		{[]uint64{11, 19, 6}, 7, []AckRange{{10, 12}, {19, 21}, {30, 31}}},
	}
	for i, s := range steps {
		for _, off := range s.ack {
			require.NoError(t, c.Ack(off))
		}
		assert.Equal(t, s.floor, c.Offset(), "step %d", i)
		assert.Equal(t, s.ranges, c.Ranges(), "step %d", i)
	}
	// Issue 11 item 6: a fourth separate range is refused, never dropped
	// silently, and nothing already acknowledged is forgotten.
	require.ErrorIs(t, c.Ack(40), ErrRangesFull)
	require.ErrorIs(t, c.AckRange(15, 17), ErrRangesFull)
	assert.False(t, c.Acked(40))
	assert.Equal(t, []AckRange{{10, 12}, {19, 21}, {30, 31}}, c.Ranges())
	assert.True(t, c.Acked(20))
	assert.False(t, c.Acked(21))
	assert.ErrorIs(t, c.Ack(100), ErrOutOfRange)
	require.NoError(t, c.AckRange(7, 10))
	assert.Equal(t, uint64(12), c.Offset())
	require.NoError(t, c.Ack(40), "room again once the floor took a range")

	_, err = l.Cursor("../x")
	assert.ErrorIs(t, err, ErrInvalidName)
	_, err = l.Cursor("")
	assert.ErrorIs(t, err, ErrInvalidName)
}

func TestCursorPersistence(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, WithCursorPersistInterval(time.Hour))
	appendN(t, l, 0, 50)
	c, err := l.Cursor("c")
	require.NoError(t, err)
	require.NoError(t, c.AckRange(0, 10))
	require.NoError(t, c.Ack(12))
	require.NoError(t, l.Close(), "Close commits dirty cursors")

	l = openT(t, dir)
	c, err = l.Cursor("c")
	require.NoError(t, err)
	assert.Equal(t, uint64(10), c.Offset())
	assert.Equal(t, []AckRange{{12, 13}}, c.Ranges())
	require.NoError(t, c.Seek(30))
	require.NoError(t, c.Commit())
	assert.Equal(t, []string{"c"}, l.Cursors())
	require.NoError(t, l.DeleteCursor("c"))
	assert.Empty(t, l.Cursors())
	require.NoError(t, l.Close())
	l = openT(t, dir)
	assert.Empty(t, l.Cursors())
	require.NoError(t, l.Close())
}

// A cursor never points past the durable end: in None mode Commit syncs the
// journal first, and a cursor file claiming more than exists is clamped.
func TestCursorNeverPastDurableEnd(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSync(None), WithCursorPersistInterval(time.Hour))
	appendN(t, l, 0, 10)
	require.NoError(t, l.Sync())
	c, err := l.Cursor("c")
	require.NoError(t, err)
	appendN(t, l, 10, 10)
	require.Eventually(t, func() bool { return l.End() == 20 }, 5*time.Second, time.Millisecond)
	require.NoError(t, c.AckRange(0, 20))
	require.NoError(t, c.Commit())
	assert.Equal(t, uint64(20), l.DurableEnd())
	require.NoError(t, l.Close())

	// Forge a cursor that claims offset 1000.
	mfs.writeFile(filepath.Join(imgDir, cursorDir, "c"), encodeAckFile(ackFile{gen: 99, acks: ackSet{floor: 1000}}))
	l = openT(t, imgDir, WithFS(mfs))
	defer l.Close()
	assert.Equal(t, []string{"c"}, l.Recovery().ClampedCursors)
	c, err = l.Cursor("c")
	require.NoError(t, err)
	assert.Equal(t, uint64(20), c.Offset())
	off, err := l.Append(context.Background(), []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, uint64(20), off)
}

// Issue 11 item 4: goroutines asking for the same new cursor at once all get
// the one *Cursor, and nothing fails (it failed 48 runs in 50 before).
func TestCursorConcurrentCreate(t *testing.T) {
	for run := range 30 {
		l := openT(t, t.TempDir())
		appendN(t, l, 0, 3)
		got := make(chan *Cursor, 8)
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				c, err := l.Cursor("same")
				errs <- err
				got <- c
			}()
		}
		var first *Cursor
		for range 8 {
			require.NoError(t, <-errs, "run %d", run)
			c := <-got
			if first == nil {
				first = c
			}
			require.Same(t, first, c)
		}
		require.NoError(t, first.Ack(0))
		require.NoError(t, first.Commit())
		require.NoError(t, l.Close())
	}
}

// Concurrent Commits of one cursor share rewrites and never race on the
// temporary file.
func TestCursorConcurrentCommit(t *testing.T) {
	l := openT(t, t.TempDir(), WithCursorPersistInterval(0))
	appendN(t, l, 0, 200)
	c, err := l.Cursor("c")
	require.NoError(t, err)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for off := uint64(g); off < 200 && err == nil; off += 8 {
				if err = c.Ack(off); err == nil {
					err = c.Commit()
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, uint64(200), c.Offset())
	require.NoError(t, l.Close())
	l = openT(t, l.Dir())
	c, err = l.Cursor("c")
	require.NoError(t, err)
	assert.Equal(t, uint64(200), c.Offset())
	require.NoError(t, l.Close())
}

// Issue 11 item 5: a crash between the two renames of a cursor rewrite
// leaves the new, fsynced copy as <name>.tmp and the old one as
// <name>.prev; Open loads the newer one (and makes it the current file),
// as it does when a rewrite's temporary file outlived a crash before its
// first rename.
func TestCursorCrashBetweenRenames(t *testing.T) {
	mfs := newMemFS()
	opts := []Option{WithFS(mfs), WithCursorPersistInterval(time.Hour)}
	l := openT(t, imgDir, opts...)
	appendN(t, l, 0, 20)
	c, err := l.Cursor("c")
	require.NoError(t, err)
	require.NoError(t, c.AckRange(0, 3))
	require.NoError(t, c.Commit())
	require.NoError(t, c.AckRange(3, 8))
	require.NoError(t, c.Commit())
	require.NoError(t, l.Close())
	cur := filepath.Join(imgDir, cursorDir, "c")
	files := mfs.files()

	reopen := func(t *testing.T) uint64 {
		l := openT(t, imgDir, opts...)
		defer func() { require.NoError(t, l.Close()) }()
		assert.Equal(t, []string{"c"}, l.Recovery().CursorFallbacks)
		c, err := l.Cursor("c")
		require.NoError(t, err)
		after := mfs.files()
		assert.NotContains(t, after, cur+tmpSuffix, "the temporary file outlived Open")
		back, err := decodeAckFile(after[cur])
		require.NoError(t, err, "the loaded copy was made the current file")
		assert.Equal(t, c.Offset(), back.acks.floor)
		return c.Offset()
	}
	t.Run("between-renames", func(t *testing.T) {
		for p, b := range files {
			mfs.writeFile(p, b)
		}
		require.NoError(t, mfs.Rename(cur, cur+tmpSuffix))
		assert.Equal(t, uint64(8), reopen(t), "fell back to the older copy")
	})
	t.Run("before-first-rename", func(t *testing.T) {
		for p, b := range files {
			mfs.writeFile(p, b)
		}
		newer, err := decodeAckFile(files[cur])
		require.NoError(t, err)
		newer.gen++
		newer.acks = ackSet{floor: 11}
		mfs.writeFile(cur+tmpSuffix, encodeAckFile(newer))
		assert.Equal(t, uint64(11), reopen(t))
	})
	t.Run("torn-temporary-file", func(t *testing.T) {
		for p, b := range files {
			mfs.writeFile(p, b)
		}
		mfs.writeFile(cur+tmpSuffix, files[cur][:20])
		l := openT(t, imgDir, opts...)
		defer func() { require.NoError(t, l.Close()) }()
		assert.Empty(t, l.Recovery().CursorFallbacks)
		c, err := l.Cursor("c")
		require.NoError(t, err)
		assert.Equal(t, uint64(8), c.Offset())
	})
}
