package socket

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlainRecordTime: the feeder's fast path reads the time of a record
// with the common header as parseHeader does, and leaves every other
// record (delayed, another version, a damaged header, too few frames) to
// parseHeaderChecked.
func TestPlainRecordTime(t *testing.T) {
	now := time.Unix(1700000000, 123456789).UnixNano()
	msg := NewMsg([]byte("topic payload"))

	plain := recordFrames(msg, now, time.Time{})
	ts, ok := plainRecordTime(plain)
	require.True(t, ok)
	jr, err := parseHeaderChecked(7, plain)
	require.NoError(t, err)
	assert.Equal(t, jr.time, ts)
	assert.Equal(t, now, ts)

	slab := &recordSlab{}
	fromSlab := recordFramesFrom(slab, msg, now, time.Time{})
	ts, ok = plainRecordTime(fromSlab)
	require.True(t, ok)
	assert.Equal(t, now, ts)

	delayed := recordFrames(msg, now, time.Unix(0, now).Add(time.Second))
	_, ok = plainRecordTime(delayed)
	assert.False(t, ok, "a delayed record takes the full parse")
	jr, err = parseHeaderChecked(7, delayed)
	require.NoError(t, err, "and the full parse takes it")
	assert.Equal(t, now, jr.time)

	other := append([]byte(nil), plain[0]...)
	other[0] = (recVersion + 1) << 4
	_, ok = plainRecordTime([][]byte{other, plain[1]})
	assert.False(t, ok, "another version")
	_, err = parseHeaderChecked(7, [][]byte{other, plain[1]})
	assert.ErrorIs(t, err, errRecord)

	_, ok = plainRecordTime([][]byte{plain[0][:recHeaderLen-1], plain[1]})
	assert.False(t, ok, "a short header")
	_, ok = plainRecordTime(plain[:1])
	assert.False(t, ok, "no message frame")
	_, err = parseHeaderChecked(7, plain[:1])
	assert.ErrorIs(t, err, errRecord)
	_, ok = plainRecordTime(nil)
	assert.False(t, ok)
}
