package socket

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A full pipe's writer tells the refused sender the pipe is writable once
// it has drained to its wake level, not at the first flushed message (a
// sender of large messages was woken, and put to sleep again, once per
// message); the room itself is there at once for TrySend, and a release
// outside the writer's flushes (a peer's credit) still wakes at once.
func TestPipeWakesRefusedSenderAtWakeLevel(t *testing.T) {
	const hwm = 100
	s, err := New(Push, WithSendHWM(hwm))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	p := newPipe(s, 1, "tcp://x", true)
	fill := func() {
		for p.TrySend(seqMsg(0)) {
		}
		require.True(t, p.full, "refused at the HWM")
	}
	fill()
	level := p.wakeLevel()
	require.Equal(t, hwm-hwm/4, level)
	assert.False(t, p.releaseFlushed(1), "one message out: no wake yet")
	assert.True(t, p.TrySend(seqMsg(1)), "but its room is taken at once")
	fill()
	assert.False(t, p.releaseFlushed(hwm-level-1), "still above the wake level")
	assert.True(t, p.releaseFlushed(1), "woken at the wake level")
	assert.False(t, p.releaseFlushed(1), "once")

	fill()
	assert.True(t, p.release(1), "any other release wakes at the first room")
}

// A small HWM, or a journaled socket's pipe, wakes at the first room.
func TestPipeWakeLevelSmallHWM(t *testing.T) {
	s, err := New(Push, WithSendHWM(4))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	p := newPipe(s, 1, "tcp://x", true)
	assert.Equal(t, 3, p.wakeLevel())
	p.direct = false
	p.hwm = 1000
	assert.Equal(t, 999, p.wakeLevel())
}
