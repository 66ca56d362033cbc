package socket_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

// A REP writes its replies from the sending goroutine, but never waits
// for the network there: serving a peer (a raw ZMTP REQ) that sends
// request after request and reads no reply until the end, it keeps going
// while the replies fill the kernel's buffers (the writer goroutine takes
// them over), and every reply arrives afterwards, in order.
func TestRepNeverBlocksOnAPeerThatDoesNotRead(t *testing.T) {
	ctx := testCtx(t)
	rep := newSocket(t, socket.Rep, socket.WithSendHWM(0))
	require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
	c, err := tcp.New().Dial(ctx, mustParse(t, rep.LastEndpoint()))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Handshake(ctx, &transport.Config{SocketType: "REQ"})
	require.NoError(t, err)
	const n, size = 1500, 15 << 10 // 22 MB of replies, more than the kernel holds
	for i := range n {
		b := make([]byte, 4)
		binary.BigEndian.PutUint32(b, uint32(i))
		require.NoError(t, c.WriteMsg(transport.NewMsg(nil, b)))
	}
	require.NoError(t, c.Flush())
	for range n {
		m, err := rep.Recv(ctx)
		require.NoError(t, err)
		require.NoError(t, rep.Send(ctx, socket.NewMsg(bytes.Repeat(m.Frames[0], size/4))))
	}
	// Everything was served while the peer read nothing.
	for i := range n {
		m, err := c.ReadMsg()
		require.NoError(t, err)
		require.Len(t, m.Frames, 2)
		require.Empty(t, m.Frames[0], "the envelope's delimiter")
		require.Len(t, m.Frames[1], size)
		assert.Equal(t, uint32(i), binary.BigEndian.Uint32(m.Frames[1]), "reply %d", i)
	}
}
