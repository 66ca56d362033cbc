package durable

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a Kafka user does with a Reader: start below retention (a clear
// out-of-range error naming the oldest offset, the Reader stays put until
// Seek), at the end (only new records), and by time.
func TestReaderPositions(t *testing.T) {
	clock := fakeClock(time.Unix(1_700_000_000, 0), time.Second)
	l := openT(t, t.TempDir(), WithSegmentSize(4096), WithRetainBytes(12<<10), WithClock(clock))
	defer func() { require.NoError(t, l.Close()) }()
	appendN(t, l, 0, 300)
	first := l.First()
	require.Positive(t, first)
	ctx := context.Background()

	r := l.NewReader(0)
	_, err := r.Next(ctx)
	require.ErrorIs(t, err, ErrOutOfRange)
	assert.Contains(t, err.Error(), "oldest retained record "+strconv.FormatUint(first, 10))
	assert.Equal(t, uint64(0), r.Offset(), "the Reader does not move on its own")
	r.Seek(l.First())
	rec, err := r.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, rec.Offset)
	assert.Equal(t, payloadFor(int(first)), rec.Data)
	require.NoError(t, r.Close())
	_, err = r.Next(ctx)
	assert.ErrorIs(t, err, ErrClosed, "Next after Reader.Close")
	require.NoError(t, r.Close(), "Close is idempotent")

	// Tail: a Reader at End sees only what is appended afterwards.
	tail := l.NewReader(l.End())
	defer tail.Close()
	got := make(chan Record, 1)
	go func() {
		rec, err := tail.Next(ctx)
		assert.NoError(t, err)
		got <- rec
	}()
	appendN(t, l, 300, 1)
	rec = <-got
	assert.Equal(t, uint64(300), rec.Offset)

	// By time: the clock steps a second per record.
	recs := readAll(t, l, first)
	mid := recs[len(recs)/2]
	at, err := l.OffsetAt(mid.Time)
	require.NoError(t, err)
	assert.Equal(t, mid.Offset, at)
	at, err = l.OffsetAt(time.Unix(0, 0))
	require.NoError(t, err)
	assert.Equal(t, first, at, "a time before everything retained gives First")
	at, err = l.OffsetAt(recs[len(recs)-1].Time.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, l.End(), at, "a time after everything gives End")
}

// An Append whose ctx ends while it waits for its fsync returns the offset it
// was given with ctx.Err(); the record is not withdrawn and becomes durable
// and readable at that offset.
func TestAppendCancelledWhileSyncing(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs))
	defer func() { require.NoError(t, l.Close()) }()
	appendN(t, l, 0, 1)
	entered, release := holdSegmentSyncs(mfs)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		off uint64
		err error
	}
	res := make(chan result, 1)
	go func() {
		off, err := l.Append(ctx, []byte("cancelled but kept"))
		res <- result{off, err}
	}()
	<-entered // the writer is inside the fdatasync of the record
	cancel()
	r := <-res
	close(release)
	require.ErrorIs(t, r.err, context.Canceled)
	assert.Equal(t, uint64(1), r.off)
	require.NoError(t, l.Sync())
	recs := readAll(t, l, 1)
	require.Len(t, recs, 1)
	assert.Equal(t, []byte("cancelled but kept"), recs[0].Data)

	// A ctx that has already ended queues nothing.
	off, err := l.Append(ctx, []byte("never"))
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, off)
	require.NoError(t, l.Sync())
	assert.Equal(t, uint64(2), l.End())
}

// Every operation on a closed Log, and on a deleted cursor, returns ErrClosed.
func TestClosedEverywhere(t *testing.T) {
	l := openT(t, t.TempDir())
	appendN(t, l, 0, 3)
	c, err := l.Cursor("c")
	require.NoError(t, err)
	gone, err := l.Cursor("gone")
	require.NoError(t, err)
	require.NoError(t, l.DeleteCursor("gone"))
	assert.ErrorIs(t, gone.Ack(0), ErrClosed)
	assert.ErrorIs(t, gone.Seek(1), ErrClosed)
	assert.ErrorIs(t, gone.Commit(), ErrClosed)
	require.NoError(t, l.Close())

	ctx := context.Background()
	_, err = l.Append(ctx, []byte("x"))
	assert.ErrorIs(t, err, ErrClosed)
	_, err = l.AppendMsg(ctx, [][]byte{[]byte("x")})
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, l.Sync(), ErrClosed)
	assert.ErrorIs(t, l.EnforceRetention(), ErrClosed)
	_, err = l.Cursor("c")
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, c.Ack(0), ErrClosed)
	assert.ErrorIs(t, c.Seek(0), ErrClosed)
	assert.ErrorIs(t, c.Commit(), ErrClosed)
	_, err = l.OffsetAt(time.Now())
	assert.ErrorIs(t, err, ErrClosed)
	_, err = l.Verify(ctx)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = l.NewReader(0).Next(ctx)
	assert.ErrorIs(t, err, ErrClosed)
}
