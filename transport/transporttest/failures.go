package transporttest

import (
	"time"

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

// testBindTwice: binding a bound endpoint fails with ErrAddrInUse.
func testBindTwice(e *env) {
	l := e.listen()
	again, err := e.tr.Listen(e.parse(l.Endpoint()))
	if again != nil {
		e.track(again)
	}
	require.Error(e.t, err, "second Listen(%s) succeeded", l.Endpoint())
	assert.ErrorIs(e.t, err, transport.ErrAddrInUse)
	// The first Listener still works.
	c, s := e.dialAccept(l)
	ci, si := e.handshakes(c, &transport.Config{SocketType: "PAIR"}, s, &transport.Config{SocketType: "PAIR"})
	require.NoError(e.t, ci.err)
	require.NoError(e.t, si.err)
}

// testRebindAfterClose: closing a Listener frees its endpoint.
func testRebindAfterClose(e *env) {
	l := e.listen()
	ep := e.parse(l.Endpoint())
	require.NoError(e.t, l.Close())
	l2, err := e.tr.Listen(ep)
	require.NoError(e.t, err, "Listen(%s) after Close", ep)
	e.track(l2)
	c, s := e.dialAccept(l2)
	ci, si := e.handshakes(c, &transport.Config{SocketType: "PAIR"}, s, &transport.Config{SocketType: "PAIR"})
	require.NoError(e.t, ci.err)
	require.NoError(e.t, si.err)
}

// testDialUnbound: dialling an endpoint nobody listens on fails cleanly
// (at once, or when ctx ends) instead of hanging or returning a Conn.
func testDialUnbound(e *env) {
	l := e.listen()
	ep := e.parse(l.Endpoint())
	require.NoError(e.t, l.Close())
	dialFails(e, ep)
}

// testDialBadAddress: dialling malformed addresses fails cleanly.
func testDialBadAddress(e *env) {
	for _, addr := range []string{"", "\x00", "no such address:::"} {
		dialFails(e, transport.Endpoint{Scheme: e.ep.Scheme, Address: addr})
	}
}

func dialFails(e *env, ep transport.Endpoint) {
	e.t.Helper()
	type res = result[transport.Conn]
	done := make(chan res, 1)
	ctx := e.shortCtx(200 * time.Millisecond) // transports that wait for a binder give up then
	e.goFn(func() {
		c, err := e.tr.Dial(ctx, ep)
		done <- res{c, err}
	})
	r := await(e, done, "Dial("+ep.String()+")")
	if r.err == nil && r.v != nil {
		e.track(r.v)
	}
	assert.Error(e.t, r.err, "Dial(%q) succeeded", ep.String())
	assert.Nil(e.t, r.v, "Dial(%q) returned a Conn with its error", ep.String())
}
