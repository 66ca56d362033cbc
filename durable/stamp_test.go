package durable

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// AppendMsgAsyncStamped hands the caller the offset and time the record
// receives before it is encoded: a header frame stamped with them is stored
// so, the time equals Record.Time and OffsetAt finds the record by it.
func TestAppendMsgAsyncStamped(t *testing.T) {
	clock := fakeClock(time.Unix(1_700_000_000, 0), time.Millisecond)
	l := openT(t, t.TempDir(), WithClock(clock))
	defer func() { require.NoError(t, l.Close()) }()
	ctx := context.Background()
	const n = 50
	for i := range n {
		hdr := make([]byte, 16)
		calls := 0
		off, err := l.AppendMsgAsyncStamped(ctx, [][]byte{hdr, []byte("body")}, func(o uint64, ts int64) {
			calls++
			binary.BigEndian.PutUint64(hdr, o)
			binary.BigEndian.PutUint64(hdr[8:], uint64(ts))
		})
		require.NoError(t, err)
		require.Equal(t, 1, calls)
		require.EqualValues(t, i, off)
		require.EqualValues(t, off, binary.BigEndian.Uint64(hdr))
	}
	require.NoError(t, l.WaitDurable(ctx, n-1))
	r := l.NewReader(0)
	defer r.Close()
	for i := range n {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		frames, err := rec.Frames()
		require.NoError(t, err)
		require.Len(t, frames, 2)
		assert.EqualValues(t, i, binary.BigEndian.Uint64(frames[0]))
		ts := int64(binary.BigEndian.Uint64(frames[0][8:]))
		assert.Equal(t, rec.Time.UnixNano(), ts, "the stamped time is the record's time")
		at, err := l.OffsetAt(time.Unix(0, ts))
		require.NoError(t, err)
		assert.EqualValues(t, i, at)
	}

	// Nothing queued, nothing stamped.
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := l.AppendMsgAsyncStamped(done, [][]byte{{1}}, func(uint64, int64) { t.Error("stamped a record that was not queued") })
	require.ErrorIs(t, err, context.Canceled)
}
