package quic

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func TestMessagesBothWays(t *testing.T) {
	st, ct := testTransports(t)
	l := listen(t, st)
	cli, srv := dialPair(t, ct, l, &transport.Config{SocketType: "DEALER", Identity: []byte("d1")}, &transport.Config{SocketType: "ROUTER"})
	for i := range 100 {
		require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("hello"), []byte{byte(i)})))
	}
	require.NoError(t, cli.Flush())
	for i := range 100 {
		m, err := srv.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, [][]byte{[]byte("hello"), {byte(i)}}, m.Frames)
	}
	require.NoError(t, srv.WriteMsg(transport.NewMsg([]byte("back"))))
	require.NoError(t, srv.Flush())
	m, err := cli.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "back", string(m.Frames[0]))
}

// TestGracefulClose: messages flushed before Close all arrive (more than
// the flow-control window, so Close has to wait for the reader), the
// reader then sees the end of the stream, and the connection ends with
// code 0.
func TestGracefulClose(t *testing.T) {
	cli, srv := pair(t)
	const n = 2000
	payload := make([]byte, 1000)
	closed := make(chan error, 1)
	go func() {
		for range n {
			if err := cli.WriteMsg(transport.NewMsg(payload)); err != nil {
				closed <- err
				return
			}
		}
		if err := cli.Flush(); err != nil {
			closed <- err
			return
		}
		closed <- cli.Close()
	}()
	for i := range n {
		_, err := srv.ReadMsg()
		require.NoError(t, err, "message %d", i)
	}
	_, err := srv.ReadMsg()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, srv.Close())
	require.NoError(t, <-closed)
	var ce *CloseError
	require.ErrorAs(t, connError(cliCause(cli)), &ce)
	assert.Equal(t, CodeCompleted, ce.Code)
}

func TestUseBeforeHandshake(t *testing.T) {
	st, ct := testTransports(t)
	l := listen(t, st)
	c, err := ct.Dial(testCtx(t), ep(t, l.Endpoint()))
	require.NoError(t, err)
	_, err = c.ReadMsg()
	assert.Error(t, err)
	assert.Error(t, c.WriteMsg(transport.NewMsg([]byte("x"))))
	assert.Error(t, c.Flush())
	assert.Error(t, c.WriteSubscription([]byte("x"), true))
	require.NoError(t, c.Close())
	_, err = c.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = c.Handshake(testCtx(t), &transport.Config{SocketType: "PUSH"})
	assert.Error(t, err)
	assert.True(t, strings.HasPrefix(c.LocalAddr(), "quic://"), c.LocalAddr())
	assert.Equal(t, l.Endpoint(), c.RemoteAddr())
}
