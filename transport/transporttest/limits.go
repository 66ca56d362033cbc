package transporttest

import (
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// testMaxMsgSize: a message at the limit passes; one above it breaks the
// receiving Conn with ErrTooLarge.
func testMaxMsgSize(e *env) {
	const limit = 1024
	c, s, _, _ := e.connect(&transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL", MaxMsgSize: limit})
	at := transport.Msg{Frames: [][]byte{randomBytes(1, limit)}}
	want := at.Clone()
	got := e.transfer(c, s, []transport.Msg{at})
	e.requireSame(want, got[0], "the message at the limit")

	require.NoError(e.t, c.WriteMsg(transport.Msg{Frames: [][]byte{randomBytes(2, limit+1)}}))
	require.NoError(e.t, c.Flush())
	m, err := e.readMsg(s, "ReadMsg of an oversized message")
	require.Error(e.t, err, "an oversized message was delivered: %s", describe(m))
	assert.ErrorIs(e.t, err, transport.ErrTooLarge)

	// The connection stays broken: what follows the oversized message
	// must not be read as if the stream were still in step.
	_ = c.WriteMsg(msg("after the oversized one"))
	_ = c.Flush()
	m, err = e.readMsg(s, "ReadMsg after ErrTooLarge")
	assert.Error(e.t, err, "read %s from a connection broken by an oversized message", describe(m))
}

// testMaxMsgSizeMultipart: the limit is on the whole message, not each
// frame.
func testMaxMsgSizeMultipart(e *env) {
	const limit = 1024
	c, s, _, _ := e.connect(&transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL", MaxMsgSize: limit})
	require.NoError(e.t, c.WriteMsg(transport.Msg{Frames: [][]byte{randomBytes(1, 600), randomBytes(2, 600)}}))
	require.NoError(e.t, c.Flush())
	m, err := e.readMsg(s, "ReadMsg of an oversized multipart message")
	require.Error(e.t, err, "a multipart message over the limit was delivered: %s", describe(m))
	assert.ErrorIs(e.t, err, transport.ErrTooLarge)
}
