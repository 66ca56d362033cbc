package durable

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendReadReopen(t *testing.T) {
	for _, mode := range []SyncMode{Group, Always, None, Interval(time.Millisecond)} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			l := openT(t, dir, WithSync(mode), WithSegmentSize(8<<10))
			appendN(t, l, 0, 300)
			require.NoError(t, l.Sync())
			checkPrefix(t, l, 300)
			require.Greater(t, len(l.Stats().Segments), 3)
			require.NoError(t, l.Close())

			l = openT(t, dir, WithSync(mode), WithSegmentSize(8<<10))
			assert.True(t, l.Recovery().Clean)
			checkPrefix(t, l, 300)
			appendN(t, l, 300, 50)
			require.NoError(t, l.Sync())
			checkPrefix(t, l, 350)
			require.NoError(t, l.Close())
		})
	}
}

func TestAppendMsgFrames(t *testing.T) {
	l := openT(t, t.TempDir())
	defer l.Close()
	frames := [][]byte{[]byte("id"), {}, []byte("hello world")}
	off, err := l.AppendMsg(context.Background(), frames)
	require.NoError(t, err)
	recs := readAll(t, l, off)
	require.Len(t, recs, 1)
	assert.True(t, recs[0].Multipart())
	got, err := recs[0].Frames()
	require.NoError(t, err)
	assert.Equal(t, frames, got)
}

func TestClosedAndReadOnlyErrors(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir)
	appendN(t, l, 0, 3)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	_, err := l.Append(context.Background(), []byte("x"))
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, l.Sync(), ErrClosed)
	_, err = l.NewReader(0).Next(context.Background())
	assert.ErrorIs(t, err, ErrClosed)

	ro := openT(t, dir, ReadOnly())
	defer ro.Close()
	_, err = ro.Append(context.Background(), []byte("x"))
	assert.ErrorIs(t, err, ErrReadOnly)
	checkPrefix(t, ro, 3)
}
