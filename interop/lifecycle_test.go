package interop

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// TestCloseLingersUntilLibzmqHasAll: brook PUSH queues a burst for a
// libzmq PULL and closes at once; within its linger time, Close delivers
// the whole burst, in order, and returns once libzmq has read it all and
// hung up (brook half-closes and waits for that). (The linger is longer
// than the default 2 s only so a loaded CI machine cannot make it run
// out; it must not run out: the assertions below would still pass, so
// the test checks that no event says the linger was cut short.)
func TestCloseLingersUntilLibzmqHasAll(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	const n = 2000
	pull := startLibzmq(t, "PULL")
	ep := pull.bind("tcp://127.0.0.1:*")
	push, err := socket.New(socket.Push, socket.WithLinger(20*time.Second))
	require.NoError(t, err)
	events := watchEvents(t, push)
	require.NoError(t, push.Connect(ep))
	events.waitType(ctx, t, socket.EventHandshakeSucceeded)
	for i := range n {
		requireSend(ctx, t, push, []byte(strconv.Itoa(i)))
	}
	end := []byte("end")
	requireSend(ctx, t, push, end)
	log := filepath.Join(t.TempDir(), "received")
	pull.record(log, end, -1, 10*time.Second)
	require.NoError(t, push.Close())
	assert.Empty(t, push.Stats().Dropped, "linger delivered everything")
	e := events.waitType(ctx, t, socket.EventDisconnected)
	assert.ErrorIs(t, e.Err, io.EOF, "the connection ended because libzmq hung up, not because the linger ran out")
	pull.awaitRecorded(testTimeout)
	requireRun(t, readSeqs(t, log), 0, n, "libzmq PULL")
}

// TestCloseWithoutLingerCountsWhatItDrops: a PUSH whose peer never came
// (it queues for the endpoint, as libzmq does) closes with linger 0: the
// queued messages are dropped, and every one is counted.
func TestCloseWithoutLingerCountsWhatItDrops(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	push, err := socket.New(socket.Push, socket.WithLinger(0))
	require.NoError(t, err)
	require.NoError(t, push.Connect(freeTCPEndpoint(t)))
	for i := range 10 {
		requireSend(ctx, t, push, []byte(strconv.Itoa(i)))
	}
	require.NoError(t, push.Close())
	st := push.Stats()
	assert.EqualValues(t, 10, st.Sent)
	assert.Equal(t, map[socket.DropReason]uint64{socket.DropPeerGone: 10}, st.Dropped)
}

// TestBoundBrookOutlivesKilledConnectingPeer: brook PULL binds; a libzmq
// PUSH that connected is killed, and a new one connects. brook reports
// the dead connection, forgets its pipe, and receives from the new peer.
func TestBoundBrookOutlivesKilledConnectingPeer(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	pull := newBrook(t, socket.Pull)
	events := watchEvents(t, pull)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))

	first := startLibzmq(t, "PUSH")
	first.connect(pull.LastEndpoint())
	first.send([]byte("first"))
	assert.Equal(t, [][]byte{[]byte("first")}, requireRecv(ctx, t, pull))
	first.kill()
	e := events.waitType(ctx, t, socket.EventDisconnected)
	assert.Error(t, e.Err, "the disconnection says why")

	second := startLibzmq(t, "PUSH")
	second.connect(pull.LastEndpoint())
	second.send([]byte("second"))
	assert.Equal(t, [][]byte{[]byte("second")}, requireRecv(ctx, t, pull))

	// The recorder may lag behind the socket: wait for the events.
	events.waitCount(ctx, t, socket.EventHandshakeSucceeded, 2)
	st := pull.Stats()
	require.Len(t, st.Peers, 1, "the dead peer's pipe is gone")
	assert.True(t, st.Peers[0].Connected)
	assert.Len(t, events.ofType(socket.EventDisconnected), 1)
}

// TestBrookBindsWhereKilledLibzmqLeftItsSocketFile: a libzmq process
// bound an ipc path and was killed, leaving its socket file behind (as a
// crash does). brook binds the same path (the file is stale: nobody
// listens on it) and a new libzmq peer reaches brook there.
func TestBrookBindsWhereKilledLibzmqLeftItsSocketFile(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	ep := ipcEndpoint(t)
	crashed := startLibzmq(t, "PULL")
	crashed.bind(ep)
	crashed.kill()
	_, err := os.Stat(strings.TrimPrefix(ep, "ipc://"))
	require.NoError(t, err, "the killed process left its socket file")

	pull := newBrook(t, socket.Pull)
	require.NoError(t, pull.Bind(ep))
	push := startLibzmq(t, "PUSH")
	push.connect(ep)
	push.send([]byte("after the crash"))
	assert.Equal(t, [][]byte{[]byte("after the crash")}, requireRecv(ctx, t, pull))
}
