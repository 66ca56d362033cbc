package zmtp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// Reads are timed (readSince, lastData) only while something watches the
// peer's silence: not with heartbeats off and no TTL from the peer, from
// the first PING with a TTL on, and always with our heartbeats on.
func TestReadsTimedOnlyWhenWatched(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PULL"}, Options{})
	require.False(t, c.timedReads())
	before := c.lastData.Load()
	reads := readAsync(c)
	p.send(rawFrame(0, []byte("m")))
	require.NoError(t, (<-reads).err)
	assert.Equal(t, before, c.lastData.Load(), "an untimed read stamps nothing")
	assert.Zero(t, c.readSince.Load())

	// A PING with a TTL of 10 s: its silence is watched from now on.
	reads = readAsync(c)
	p.send(appendCommand(nil, cmdPing, []byte{0, 100}, []byte("c")))
	name, _ := p.readCommand()
	require.Equal(t, cmdPong, name)
	require.True(t, c.timedReads(), "the peer announced a TTL")
	require.Eventually(t, func() bool { return c.readSince.Load() != 0 }, 10*time.Second, time.Millisecond,
		"the read after the PING waits on the stream, timed")
	p.send(rawFrame(0, []byte("n")))
	require.NoError(t, (<-reads).err)
	assert.Greater(t, c.lastData.Load(), before, "a timed read stamps the data's arrival")

	on, onPeer := shaken(t, 1, &transport.Config{SocketType: "PULL", HeartbeatInterval: time.Hour}, Options{})
	require.True(t, on.timedReads(), "heartbeats on")
	before = on.lastData.Load()
	reads = readAsync(on)
	onPeer.send(rawFrame(0, []byte("m")))
	require.NoError(t, (<-reads).err)
	assert.Greater(t, on.lastData.Load(), before)
}
