package transporttest

import (
	"fmt"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// testEndpointResolved: Listener.Endpoint reports a dialable endpoint of
// the same scheme, with a wildcard port resolved.
func testEndpointResolved(e *env) {
	l := e.listen()
	got := e.parse(l.Endpoint())
	assert.Equal(e.t, e.ep.Scheme, got.Scheme)
	if _, port, err := transport.SplitHostPort(got.Address); err == nil {
		assert.NotZero(e.t, port, "Endpoint() %q did not resolve the port", l.Endpoint())
	}
	c, s := e.dialAccept(l)
	ci, si := e.handshakes(c, &transport.Config{SocketType: "PAIR"}, s, &transport.Config{SocketType: "PAIR"})
	require.NoError(e.t, ci.err)
	require.NoError(e.t, si.err)
	e.transfer(c, s, []transport.Msg{msg("over the resolved endpoint")})
	for name, addr := range map[string]string{
		"client LocalAddr": c.LocalAddr(), "client RemoteAddr": c.RemoteAddr(),
		"server LocalAddr": s.LocalAddr(), "server RemoteAddr": s.RemoteAddr(),
		"client's PeerInfo.RemoteAddr": ci.v.RemoteAddr, "server's PeerInfo.RemoteAddr": si.v.RemoteAddr,
	} {
		assert.NotEmpty(e.t, addr, name)
	}
}

// testManyConns: one Listener serves several connections dialled before
// any is accepted; each carries its own messages.
func testManyConns(e *env) {
	l := e.listen()
	le := e.parse(l.Endpoint())
	const n = 4
	clients := make([]transport.Conn, n)
	for i := range clients {
		c, err := e.tr.Dial(e.ctx, le)
		require.NoError(e.t, err, "Dial %d", i)
		e.track(c)
		clients[i] = c
	}
	servers := make([]transport.Conn, n)
	for i := range servers {
		s, err := l.Accept(e.ctx)
		require.NoError(e.t, err, "Accept %d", i)
		e.track(s)
		servers[i] = s
	}
	// Accept order need not be dial order: pair them up by identity.
	type hs struct {
		conn transport.Conn
		peer result[transport.PeerInfo]
	}
	shaken := make(chan hs, n)
	for _, s := range servers {
		e.goFn(func() {
			info, err := s.Handshake(e.ctx, &transport.Config{SocketType: "ROUTER"})
			shaken <- hs{s, result[transport.PeerInfo]{info, err}}
		})
	}
	clientErrs := make(chan error, n)
	for i, c := range clients {
		e.goFn(func() {
			_, err := c.Handshake(e.ctx, &transport.Config{SocketType: "DEALER", AnnounceIdentity: true, Identity: fmt.Appendf(nil, "client-%d", i)})
			clientErrs <- err
		})
	}
	byID := map[string]transport.Conn{}
	for range n {
		require.NoError(e.t, await(e, clientErrs, "client Handshake"))
		h := await(e, shaken, "server Handshake")
		require.NoError(e.t, h.peer.err)
		byID[string(h.peer.v.Identity)] = h.conn
	}
	require.Len(e.t, byID, n, "identities seen: %v", byID)
	for i, c := range clients {
		s := byID[fmt.Sprintf("client-%d", i)]
		require.NotNil(e.t, s, "no server conn for client %d", i)
		want := msg(fmt.Sprintf("conn %d", i))
		got := e.transfer(c, s, []transport.Msg{want.Clone()})
		e.assertSame(want, got[0], "conn %d", i)
	}
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

// testListenerCloseKeepsConns: closing a Listener leaves the connections
// it accepted working.
func testListenerCloseKeepsConns(e *env) {
	l := e.listen()
	c, s := e.dialAccept(l)
	ci, si := e.handshakes(c, &transport.Config{SocketType: "PAIR"}, s, &transport.Config{SocketType: "PAIR"})
	require.NoError(e.t, ci.err)
	require.NoError(e.t, si.err)
	require.NoError(e.t, l.Close())
	want := msg("still", "here")
	got := e.transfer(c, s, []transport.Msg{want.Clone()})
	e.requireSame(want, got[0], "client to server after Listener.Close")
	got = e.transfer(s, c, []transport.Msg{want.Clone()})
	e.requireSame(want, got[0], "server to client after Listener.Close")
}

// testListenerCloseFailsPendingDial: a connection dialled but never
// accepted fails its handshake when the Listener closes, rather than
// hanging until a timeout.
func testListenerCloseFailsPendingDial(e *env) {
	l := e.listen()
	c, err := e.tr.Dial(e.ctx, e.parse(l.Endpoint()))
	require.NoError(e.t, err)
	e.track(c)
	require.NoError(e.t, l.Close())
	done := make(chan error, 1)
	e.goFn(func() {
		_, err := c.Handshake(e.ctx, &transport.Config{SocketType: "PAIR"})
		done <- err
	})
	assert.Error(e.t, await(e, done, "Handshake of a connection its Listener dropped"))
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
