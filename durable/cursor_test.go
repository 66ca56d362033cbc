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
		{[]uint64{10, 20, 30, 40}, 6, []AckRange{{10, 11}, {20, 21}, {30, 31}}},
		{[]uint64{3}, 6, []AckRange{{10, 11}, {20, 21}, {30, 31}}},
	}
	for i, s := range steps {
		for _, off := range s.ack {
			require.NoError(t, c.Ack(off))
		}
		assert.Equal(t, s.floor, c.Offset(), "step %d", i)
		assert.Equal(t, s.ranges, c.Ranges(), "step %d", i)
	}
	assert.True(t, c.Acked(20))
	assert.False(t, c.Acked(21))
	assert.False(t, c.Acked(40), "range beyond the bound was forgotten")
	assert.ErrorIs(t, c.Ack(100), ErrOutOfRange)
	require.NoError(t, c.AckRange(6, 10))
	assert.Equal(t, uint64(11), c.Offset())

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
	mfs.writeFile(filepath.Join(imgDir, cursorDir, "c"), encodeCursor(1000, nil))
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
