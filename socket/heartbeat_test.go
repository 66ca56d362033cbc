package socket_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hbTimeout is how long the socket waits for anything after a PING. It
// is a second, not a few intervals: a live peer's PONG must come back
// within it, and on a loaded 2-core machine running -race binaries a
// PONG took over 100 ms (the live peer below was dropped about once in
// 200 runs at 100 ms).
const hbTimeout = time.Second

// A peer that completes its handshake and then never reads again cannot
// answer PINGs: with heartbeats on, the socket drops it with
// ErrPeerTimeout (a monitor event says so) and keeps serving others.
func TestHeartbeatDropsSilentPeer(t *testing.T) {
	ctx := testCtx(t)
	pull := newSocket(t, socket.Pull, socket.WithHeartbeat(20*time.Millisecond, hbTimeout, 0))
	ev, stop := pull.Monitor()
	defer stop()
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	addr := pull.LastEndpoint()[len("tcp://"):]

	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	silent := zmtp.NewConn(nc, nc.LocalAddr().String(), addr, zmtp.Options{NoHeartbeat: true})
	defer silent.Close()
	_, err = silent.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	require.NoError(t, err)
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)

	e := waitEvent(t, ctx, ev, socket.EventDisconnected)
	assert.ErrorIs(t, e.Err, transport.ErrPeerTimeout)

	// A live brook peer is kept: heartbeats are answered.
	push := newSocket(t, socket.Push)
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	// Two timeouts: a peer that ignored PINGs would be dropped by then.
	idle, cancel := context.WithTimeout(ctx, 2*hbTimeout)
	defer cancel()
	for {
		select {
		case e := <-ev:
			require.NotEqual(t, socket.EventDisconnected, e.Type, "live peer dropped: %v", e)
			continue
		case <-idle.Done():
		}
		break
	}
	require.NoError(t, push.Send(ctx, msgOf("still here")))
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(m.Frames[0]))
}
