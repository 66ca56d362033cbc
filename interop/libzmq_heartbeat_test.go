package interop

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// Heartbeat settings for these tests. The timeout is fifteen intervals
// long: a PONG must come back within it, and on a loaded 2-core CI
// machine running -race binaries a process (the libzmq peer or brook's
// reader) was seen stalled for ~800 ms, which a 400 ms timeout turned
// into a dropped connection. A peer that never answers is still dropped
// well within the idle span, so the tests keep their meaning.
const (
	hbInterval = 100 * time.Millisecond
	hbTimeout  = 1500 * time.Millisecond
	// hbIdle is how long the connection is left idle: two timeouts, so
	// a peer that ignored PINGs would have been dropped by then.
	hbIdle = 2 * hbTimeout
)

// isDisconnect matches what a dropped connection shows on the monitor.
func isDisconnect(e socket.Event) bool {
	return e.Type == socket.EventDisconnected || e.Type == socket.EventHandshakeFailed
}

// assertOneConnection checks that s saw exactly one handshake, i.e. the
// connection was never dropped and re-established.
func assertOneConnection(t *testing.T, s *socket.Socket, events *eventLog) {
	t.Helper()
	assert.Len(t, events.ofType(socket.EventHandshakeSucceeded), 1, "events: %s", events)
	st := s.Stats()
	if assert.Len(t, st.Peers, 1) {
		assert.EqualValues(t, 1, st.Peers[0].Connections)
		assert.True(t, st.Peers[0].Connected)
	}
}

// ms formats d in milliseconds for a libzmq option.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// TestLibzmqHeartbeatKeepsIdleBrookPeer: a libzmq peer that sends PINGs
// every hbInterval, drops peers that do not answer within hbTimeout, and
// announces hbTimeout as its TTL keeps an idle brook peer (no heartbeats of its
// own) connected for several timeouts: brook answers every PING with a
// PONG and reads the TTL right (deciseconds), so neither side drops the
// connection, and a message still flows afterwards.
func TestLibzmqHeartbeatKeepsIdleBrookPeer(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	pull := newBrook(t, socket.Pull)
	events := watchEvents(t, pull)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	push := startLibzmq(t, "PUSH",
		"HEARTBEAT_IVL="+ms(hbInterval), "HEARTBEAT_TIMEOUT="+ms(hbTimeout), "HEARTBEAT_TTL="+ms(hbTimeout))
	push.connect(pull.LastEndpoint())
	push.send([]byte("before"))
	assert.Equal(t, [][]byte{[]byte("before")}, requireRecv(ctx, t, pull))

	events.quietFor(t, hbIdle, "disconnection of the idle peer", isDisconnect)

	push.send([]byte("after"))
	assert.Equal(t, [][]byte{[]byte("after")}, requireRecv(ctx, t, pull))
	assertOneConnection(t, pull, events)
}

// TestBrookHeartbeatAgainstLibzmq: brook sends PINGs every hbInterval
// and drops a peer silent for hbTimeout after one; a libzmq peer with no
// heartbeat options answers PINGs with PONGs, so the idle connection
// survives several timeouts. brook also announces hbTimeout as its TTL,
// which libzmq honours: brook's PINGs must keep arriving for it to stay.
func TestBrookHeartbeatAgainstLibzmq(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	pull := startLibzmq(t, "PULL")
	ep := pull.bind("tcp://127.0.0.1:*")
	push := newBrook(t, socket.Push, socket.WithHeartbeat(hbInterval, hbTimeout, hbTimeout))
	events := watchEvents(t, push)
	require.NoError(t, push.Connect(ep))
	requireSend(ctx, t, push, []byte("before"))
	assert.Equal(t, [][]byte{[]byte("before")}, pull.recv())

	events.quietFor(t, hbIdle, "disconnection of the idle peer", isDisconnect)

	requireSend(ctx, t, push, []byte("after"))
	assert.Equal(t, [][]byte{[]byte("after")}, pull.recv())
	assertOneConnection(t, push, events)
}
