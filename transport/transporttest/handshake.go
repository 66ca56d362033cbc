package transporttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// testHandshake: both sides learn the other's socket type, identity and
// properties, with case-insensitive property names.
func testHandshake(e *env) {
	ccfg := &transport.Config{
		SocketType:       "DEALER",
		AnnounceIdentity: true,
		Identity:         []byte("client-1"),
		Properties:       map[string][]byte{"X-Client": []byte("from client")},
	}
	scfg := &transport.Config{
		SocketType:       "ROUTER",
		AnnounceIdentity: true,
		Identity:         []byte("server-1"),
		Properties:       map[string][]byte{"X-Server": []byte("from server")},
	}
	_, _, cp, sp := e.connect(ccfg, scfg)

	t := e.t
	assert.Equal(t, "ROUTER", cp.SocketType, "client's view of the server")
	assert.Equal(t, []byte("server-1"), cp.Identity)
	assert.Equal(t, 31, cp.Version)
	assertProperty(e, cp, "x-server", "from server")
	assertProperty(e, cp, "X-SERVER", "from server")
	assertProperty(e, cp, "socket-type", "ROUTER")
	_, ok := cp.Property("X-Client")
	assert.False(t, ok, "the client's own property came back from the server")

	assert.Equal(t, "DEALER", sp.SocketType, "server's view of the client")
	assert.Equal(t, []byte("client-1"), sp.Identity)
	assert.Equal(t, 31, sp.Version)
	assertProperty(e, sp, "x-client", "from client")
	assertProperty(e, sp, "Socket-Type", "DEALER")
	_, ok = sp.Property("x-missing")
	assert.False(t, ok)
}

func assertProperty(e *env, p transport.PeerInfo, name, want string) {
	e.t.Helper()
	v, ok := p.Property(name)
	if assert.True(e.t, ok, "property %q missing from %v", name, p.Properties) {
		assert.Equal(e.t, want, string(v), "property %q", name)
	}
}

// testHandshakeNoIdentity: sockets that do not announce an identity (PUSH
// and PULL) show none, even with a routing id configured.
func testHandshakeNoIdentity(e *env) {
	_, _, cp, sp := e.connect(&transport.Config{SocketType: "PUSH", Identity: []byte("kept")}, &transport.Config{SocketType: "PULL"})
	assert.Equal(e.t, "PULL", cp.SocketType)
	assert.Empty(e.t, cp.Identity)
	assert.Equal(e.t, "PUSH", sp.SocketType)
	assert.Empty(e.t, sp.Identity)
}

// testHandshakeEmptyIdentity: a DEALER without a routing id announces an
// empty one: the property is there, the identity empty.
func testHandshakeEmptyIdentity(e *env) {
	_, _, _, sp := e.connect(&transport.Config{SocketType: "DEALER", AnnounceIdentity: true}, &transport.Config{SocketType: "ROUTER"})
	assert.Equal(e.t, "DEALER", sp.SocketType)
	assert.Empty(e.t, sp.Identity)
	v, ok := sp.Property("Identity")
	assert.True(e.t, ok, "the Identity property is announced")
	assert.Empty(e.t, v)
}

// testHandshakeLargeMetadata: the longest identity and many, larger
// properties cross intact.
func testHandshakeLargeMetadata(e *env) {
	id := randomBytes(3, 255)
	id[0] = 'i' // a leading zero byte is reserved
	props := map[string][]byte{"X-Big": randomBytes(4, 4096), "X-Empty": {}}
	for i := range 16 {
		props[fmt.Sprintf("X-Prop-%02d", i)] = []byte(fmt.Sprint("value ", i))
	}
	_, _, _, sp := e.connect(
		&transport.Config{SocketType: "REQ", AnnounceIdentity: true, Identity: id, Properties: props},
		&transport.Config{SocketType: "REP"})
	assert.Equal(e.t, id, sp.Identity)
	for name, want := range props {
		got, ok := sp.Property(name)
		if assert.True(e.t, ok, "property %q missing", name) {
			assert.True(e.t, bytes.Equal(want, got), "property %q: %d bytes, want %d", name, len(got), len(want))
		}
	}
}

// testHandshakeBeforeAccept: the dialler may start its handshake before
// the listening side has even accepted the connection.
func testHandshakeBeforeAccept(e *env) {
	l := e.listen()
	c, err := e.tr.Dial(e.ctx, e.parse(l.Endpoint()))
	require.NoError(e.t, err)
	e.track(c)
	cres := make(chan result[transport.PeerInfo], 1)
	e.goFn(func() {
		info, err := c.Handshake(e.ctx, &transport.Config{SocketType: "DEALER"})
		cres <- result[transport.PeerInfo]{info, err}
	})
	s, err := l.Accept(e.ctx)
	require.NoError(e.t, err)
	e.track(s)
	_, err = s.Handshake(e.ctx, &transport.Config{SocketType: "ROUTER"})
	require.NoError(e.t, err)
	r := await(e, cres, "client Handshake")
	require.NoError(e.t, r.err)
	assert.Equal(e.t, "ROUTER", r.v.SocketType)
	e.transfer(c, s, []transport.Msg{msg("after an early handshake")})
}

// incompatiblePeers says which peers each socket type of the incompatible
// subtests accepts (the socket fills Config.PeerTypes from its type).
var incompatiblePeers = map[string][]string{
	"PUSH": {"PULL"}, "PULL": {"PUSH"}, "PUB": {"SUB", "XSUB"}, "REQ": {"REP", "ROUTER"},
}

// incompatible: socket types that cannot talk are refused at handshake,
// and no message crosses the connection.
func incompatible(client, server string) func(*env) {
	return func(e *env) {
		c, s := e.dialAccept(e.listen())
		ci, si := e.handshakes(c, &transport.Config{SocketType: client, PeerTypes: incompatiblePeers[client]},
			s, &transport.Config{SocketType: server, PeerTypes: incompatiblePeers[server]})
		t := e.t
		assert.True(t, errors.Is(ci.err, transport.ErrIncompatible) || errors.Is(si.err, transport.ErrIncompatible),
			"%s to %s: want ErrIncompatible on at least one side; client: %v, server: %v", client, server, ci.err, si.err)

		// Whoever failed drops the connection, as a socket does. A side
		// that thought it succeeded must then see the connection end,
		// never a message.
		if ci.err != nil {
			c.Close()
		}
		if si.err != nil {
			s.Close()
		}
		for _, side := range []struct {
			name string
			conn transport.Conn
			err  error
		}{{"client", c, ci.err}, {"server", s, si.err}} {
			if side.err != nil {
				continue
			}
			// Writing is allowed to succeed locally; reading must fail.
			_ = side.conn.WriteMsg(msg("must not arrive"))
			_ = side.conn.Flush()
			m, err := e.readMsg(side.conn, side.name+" ReadMsg after a refused handshake")
			assert.Error(t, err, "%s received %s over a refused connection", side.name, describe(m))
		}
	}
}

// testHandshakeTimeout: a peer that never shakes hands trips
// Config.HandshakeTimeout. (A transport that ignores it runs into the
// subtest's context instead, whose error does not match.)
func testHandshakeTimeout(e *env) {
	c, _ := e.dialAccept(e.listen()) // the server never calls Handshake
	_, err := c.Handshake(e.ctx, &transport.Config{SocketType: "PAIR", HandshakeTimeout: 100 * time.Millisecond})
	require.Error(e.t, err)
	assert.ErrorIs(e.t, err, transport.ErrHandshakeTimeout)
}

// testHandshakeHonoursContext: cancelling ctx ends a handshake the peer
// never answers, with ctx's error.
func testHandshakeHonoursContext(e *env) {
	c, _ := e.dialAccept(e.listen())
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	started := make(chan struct{})
	e.goFn(func() {
		close(started)
		_, err := c.Handshake(ctx, &transport.Config{SocketType: "PAIR"})
		done <- err
	})
	await(e, started, "handshake goroutine")
	cancel()
	err := await(e, done, "Handshake to return after cancel")
	require.Error(e.t, err)
	assert.ErrorIs(e.t, err, context.Canceled)
}
