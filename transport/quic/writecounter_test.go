package quic

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// TestWrittenCountsWhatQUICTook: Written counts a write once its bytes
// are handed to the QUIC stream, not while they sit in the engine's
// buffer, and keeps its count after the connection ends, for the socket's
// writer to tell the messages that went from those to send again.
func TestWrittenCountsWhatQUICTook(t *testing.T) {
	c, peer := dialUnshaken(t)
	assert.Zero(t, c.Written(), "before the handshake")
	closeBoth(c, peer)

	cli, srv := pair(t)
	var wc transport.WriteCounter = cli
	for i := range 3 {
		require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte{byte(i)})))
	}
	assert.Zero(t, wc.Written(), "buffered, not handed to QUIC yet")
	require.NoError(t, cli.Flush())
	assert.Equal(t, uint64(3), wc.Written())
	for i := range 3 {
		m, err := srv.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, m.Frames[0])
	}
	require.NoError(t, cli.Close())
	assert.Equal(t, uint64(3), wc.Written(), "after Close")
}

// dialUnshaken dials a listener and returns the client's connection and
// the accepted one, both before the ZMTP handshake, for tests of what a
// connection reports before it.
func dialUnshaken(t *testing.T) (*Conn, transport.Conn) {
	t.Helper()
	st, ct := testTransports(t)
	l := listen(t, st)
	ctx := testCtx(t)
	unshaken := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		assert.NoError(t, err)
		unshaken <- c
	}()
	c, err := ct.Dial(ctx, ep(t, l.Endpoint()))
	require.NoError(t, err)
	return c.(*Conn), <-unshaken
}
