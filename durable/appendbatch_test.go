package durable

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// batchMsgs returns n two-frame messages, the i-th naming from+i.
func batchMsgs(from, n int, size int) [][][]byte {
	msgs := make([][][]byte, n)
	for i := range msgs {
		body := make([]byte, size)
		copy(body, fmt.Sprintf("m%d", from+i))
		msgs[i] = [][]byte{[]byte(fmt.Sprintf("t%d", from+i)), body}
	}
	return msgs
}

// checkMsgs verifies that [from, from+len(msgs)) of l holds msgs, with
// the times stamp saw.
func checkMsgs(t *testing.T, l *Log, from uint64, msgs [][][]byte, times []int64) {
	t.Helper()
	r := l.NewReader(from)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, want := range msgs {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, from+uint64(i), rec.Offset)
		got, err := rec.Frames()
		require.NoError(t, err)
		require.Equal(t, want, got, "record %d", rec.Offset)
		if times != nil {
			require.Equal(t, times[i], rec.Time.UnixNano(), "record %d", rec.Offset)
		}
	}
}

func TestAppendMsgsAsync(t *testing.T) {
	for _, mode := range []SyncMode{Group, Always, None, Interval(MinInterval)} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			l := openT(t, t.TempDir(), WithSync(mode), WithSegmentSize(64<<10))
			defer l.Close()
			_, err := l.AppendMsgAsync(ctx, [][]byte{[]byte("before")})
			require.NoError(t, err)

			// Enough for several segment rolls inside one batch.
			msgs := batchMsgs(1, 2000, 100)
			var offs []uint64
			var times []int64
			n, err := l.AppendMsgsAsync(ctx, msgs, func(i int, off uint64, ts int64) {
				require.Equal(t, len(offs), i)
				offs = append(offs, off)
				times = append(times, ts)
			})
			require.NoError(t, err)
			require.Equal(t, len(msgs), n)
			require.Len(t, offs, n)
			for i, off := range offs {
				require.Equal(t, uint64(1+i), off, "one appender: consecutive offsets")
				if i > 0 {
					require.GreaterOrEqual(t, times[i], times[i-1], "time never goes back")
				}
			}
			require.NoError(t, l.Sync())
			require.NoError(t, l.WaitDurable(ctx, offs[n-1]))
			checkMsgs(t, l, 1, msgs, times)
			assert.Greater(t, len(l.Stats().Segments), 2, "the batch rolled segments")

			// A nil stamp is allowed.
			n, err = l.AppendMsgsAsync(ctx, batchMsgs(2001, 3, 10), nil)
			require.NoError(t, err)
			require.Equal(t, 3, n)
			require.NoError(t, l.Sync())
			require.Equal(t, uint64(2004), l.End())
		})
	}
}

// An error at msgs[k] queues exactly msgs[:k], which stay.
func TestAppendMsgsAsyncPartial(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := openT(t, dir, WithMaxRecordSize(1000))
	msgs := batchMsgs(0, 10, 100)
	msgs[6] = [][]byte{make([]byte, 2000)}
	stamped := 0
	n, err := l.AppendMsgsAsync(ctx, msgs, func(int, uint64, int64) { stamped++ })
	require.ErrorIs(t, err, ErrTooLarge)
	require.Equal(t, 6, n)
	require.Equal(t, 6, stamped, "stamp runs for the queued records only")
	require.NoError(t, l.WaitDurable(ctx, 5))
	require.Equal(t, uint64(6), l.End())

	// Nothing queued from a batch whose first message is refused, nor
	// with an ended ctx.
	n, err = l.AppendMsgsAsync(ctx, msgs[6:], nil)
	require.ErrorIs(t, err, ErrTooLarge)
	require.Zero(t, n)
	done, cancel := context.WithCancel(ctx)
	cancel()
	n, err = l.AppendMsgsAsync(done, msgs[:3], nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
	require.NoError(t, l.Close())

	n, err = l.AppendMsgsAsync(ctx, msgs[:3], nil)
	require.ErrorIs(t, err, ErrClosed)
	require.Zero(t, n)

	// Reopened: the prefix, whole.
	l = openT(t, dir)
	defer l.Close()
	require.Equal(t, uint64(6), l.End())
	checkMsgs(t, l, 0, msgs[:6], nil)
}

// A batch larger than the pending queue waits for room, in pieces, and
// ctx ending during such a wait leaves exactly the queued prefix.
func TestAppendMsgsAsyncRoom(t *testing.T) {
	ctx := context.Background()
	l := openT(t, t.TempDir(), WithMaxPendingBytes(4<<10))
	defer l.Close()
	msgs := batchMsgs(0, 500, 200) // about 25 times the queue
	n, err := l.AppendMsgsAsync(ctx, msgs, nil)
	require.NoError(t, err)
	require.Equal(t, len(msgs), n)
	require.NoError(t, l.WaitDurable(ctx, uint64(n-1)))
	checkMsgs(t, l, 0, msgs, nil)

	// The ctx ends as the batch waits for room (the 30th message cancels
	// it from the stamp, the lock held; the wait comes within a few
	// records).
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	more := batchMsgs(500, 500, 200)
	stamped := 0
	n, err = l.AppendMsgsAsync(cctx, more, func(i int, _ uint64, _ int64) {
		stamped++
		if i == 30 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, stamped, n)
	require.Greater(t, n, 30)
	require.Less(t, n, len(more))
	require.NoError(t, l.WaitDurable(ctx, uint64(500+n-1)))
	require.Equal(t, uint64(500+n), l.End())
	checkMsgs(t, l, 500, more[:n], nil)
}

func TestAppendMsgsAsyncReadOnly(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir)
	defer l.Close()
	ro := openT(t, dir, ReadOnly())
	defer ro.Close()
	n, err := ro.AppendMsgsAsync(context.Background(), batchMsgs(0, 2, 1), nil)
	require.ErrorIs(t, err, ErrReadOnly)
	require.Zero(t, n)
}
