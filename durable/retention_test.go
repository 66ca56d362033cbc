package durable

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetentionBytes(t *testing.T) {
	l := openT(t, t.TempDir(), WithSegmentSize(4096), WithRetainBytes(16<<10))
	defer l.Close()
	appendN(t, l, 0, 500)
	st := l.Stats()
	assert.LessOrEqual(t, st.Bytes, int64(16<<10)+4096)
	first := l.First()
	require.Positive(t, first)
	_, err := l.NewReader(0).Next(context.Background())
	assert.ErrorIs(t, err, ErrOutOfRange)
	recs := readAll(t, l, first)
	require.Len(t, recs, 500-int(first))
	assert.Equal(t, payloadFor(499), recs[len(recs)-1].Data)
}

func TestRetentionAge(t *testing.T) {
	var now time.Time
	clock := func() time.Time { return now }
	now = time.Unix(1_700_000_000, 0)
	dir := t.TempDir()
	opts := []Option{WithSegmentSize(4096), WithRetainAge(time.Hour), WithClock(clock)}
	l := openT(t, dir, opts...)
	appendN(t, l, 0, 100)
	segs := len(l.Stats().Segments)
	require.Greater(t, segs, 2)
	require.NoError(t, l.EnforceRetention())
	assert.Equal(t, uint64(0), l.First(), "nothing is old yet")
	now = now.Add(2 * time.Hour)
	appendN(t, l, 100, 1)
	require.NoError(t, l.EnforceRetention())
	st := l.Stats()
	// Every sealed segment was older than an hour; the active one stays.
	assert.Len(t, st.Segments, 1)
	require.NoError(t, l.Close())
	l = openT(t, dir, opts...)
	defer l.Close()
	assert.Equal(t, st.First, l.First())
	checkPrefix(t, l, 101)
}

// Retention by consumption follows the slowest cursor's persisted floor.
func TestRetentionConsumed(t *testing.T) {
	l := openT(t, t.TempDir(), WithSegmentSize(4096), WithRetainConsumed(), WithCursorPersistInterval(time.Hour))
	defer l.Close()
	appendN(t, l, 0, 200)
	require.NoError(t, l.EnforceRetention())
	assert.Equal(t, uint64(0), l.First(), "no cursor: nothing is consumed")
	fast, err := l.Cursor("fast")
	require.NoError(t, err)
	slow, err := l.Cursor("slow")
	require.NoError(t, err)
	require.NoError(t, fast.AckRange(0, 200))
	require.NoError(t, fast.Commit())
	require.NoError(t, l.EnforceRetention())
	assert.Equal(t, uint64(0), l.First(), "the slow cursor holds everything")
	require.NoError(t, slow.AckRange(0, 120))
	require.NoError(t, l.EnforceRetention())
	assert.Equal(t, uint64(0), l.First(), "acknowledged but not persisted")
	require.NoError(t, slow.Commit())
	require.NoError(t, l.EnforceRetention())
	first := l.First()
	assert.Positive(t, first)
	assert.LessOrEqual(t, first, uint64(120))
	require.NoError(t, l.DeleteCursor("slow"))
	require.NoError(t, l.EnforceRetention())
	assert.Equal(t, l.Stats().Segments[0].Base, l.First())
	assert.Len(t, l.Stats().Segments, 1)
}

func TestSegmentAgeRoll(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	l := openT(t, t.TempDir(), WithSegmentAge(time.Minute), WithRetainAge(time.Hour), WithClock(clock))
	defer l.Close()
	appendN(t, l, 0, 5)
	require.Len(t, l.Stats().Segments, 1)
	now = now.Add(2 * time.Minute)
	appendN(t, l, 5, 5)
	segs := l.Stats().Segments
	require.Len(t, segs, 2)
	assert.Equal(t, uint64(5), segs[1].Base)
	now = now.Add(2 * time.Hour)
	appendN(t, l, 10, 1)
	// The second segment rolled too and both old ones fell to age retention.
	segs = l.Stats().Segments
	require.Len(t, segs, 1)
	assert.Equal(t, uint64(10), segs[0].Base)
	checkPrefix(t, l, 11)
}
