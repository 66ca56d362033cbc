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

// A peer that completes its handshake and then never reads again cannot
// answer PINGs: with heartbeats on, the socket drops it with
// ErrPeerTimeout (a monitor event says so) and keeps serving others.
func TestHeartbeatDropsSilentPeer(t *testing.T) {
	ctx := testCtx(t)
	pull := newSocket(t, socket.Pull, socket.WithHeartbeat(20*time.Millisecond, 100*time.Millisecond, 0))
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
	idle, cancel := context.WithTimeout(ctx, 300*time.Millisecond) // several timeouts long
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
