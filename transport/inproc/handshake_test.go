package inproc_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// dialAccept returns two ends that have not shaken hands.
func dialAccept(t *testing.T) (client, server transport.Conn) {
	t.Helper()
	ctx := testCtx(t)
	tr := inproc.New(inproc.NewNamespace())
	l, err := tr.Listen(ep("hs"))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	client, err = tr.Dial(ctx, ep("hs"))
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	server, err = l.Accept(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { server.Close() })
	return client, server
}

type hsResult struct {
	info transport.PeerInfo
	err  error
}

func handshakeAsync(t *testing.T, c transport.Conn, cfg *transport.Config) <-chan hsResult {
	ch := make(chan hsResult, 1)
	ctx := testCtx(t)
	go func() {
		info, err := c.Handshake(ctx, cfg)
		ch <- hsResult{info, err}
	}()
	return ch
}

func TestHandshakeIncompatibleFailsBothSides(t *testing.T) {
	c, s := dialAccept(t)
	cr := handshakeAsync(t, c, &transport.Config{SocketType: "PUSH", PeerTypes: []string{"PULL"}})
	sr := handshakeAsync(t, s, &transport.Config{SocketType: "PUB", PeerTypes: []string{"SUB", "XSUB"}})
	assert.ErrorIs(t, (<-cr).err, transport.ErrIncompatible)
	assert.ErrorIs(t, (<-sr).err, transport.ErrIncompatible)
	assert.ErrorIs(t, c.WriteMsg(transport.NewMsg([]byte("x"))), transport.ErrClosed, "a failed handshake closes the conn")
}

func TestHandshakePeerInfo(t *testing.T) {
	c, s := dialAccept(t)
	id := []byte("dealer-1")
	props := map[string][]byte{"X-Color": []byte("blue")}
	cr := handshakeAsync(t, c, &transport.Config{SocketType: "DEALER", AnnounceIdentity: true, Identity: id, Properties: props})
	sr := handshakeAsync(t, s, &transport.Config{SocketType: "ROUTER", AnnounceIdentity: true})
	client, server := <-cr, <-sr
	require.NoError(t, client.err)
	require.NoError(t, server.err)

	// What the server learned is its own copy.
	id[0] = 'X'
	props["X-Color"][0] = 'X'
	info := server.info
	assert.Equal(t, "DEALER", info.SocketType)
	assert.Equal(t, "dealer-1", string(info.Identity))
	assert.Equal(t, 31, info.Version)
	assert.Equal(t, "inproc://hs", info.RemoteAddr)
	for name, want := range map[string]string{"x-color": "blue", "socket-type": "DEALER", "IDENTITY": "dealer-1"} {
		v, ok := info.Property(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, string(v), name)
	}

	// ROUTER with no identity announces an empty one, as on the wire.
	assert.Nil(t, client.info.Identity)
	v, ok := client.info.Property("Identity")
	assert.True(t, ok)
	assert.Empty(t, v)
}

func TestHandshakePushAnnouncesNoIdentity(t *testing.T) {
	c, s := dialAccept(t)
	cr := handshakeAsync(t, c, &transport.Config{SocketType: "PUSH", Identity: []byte("ignored")})
	sr := handshakeAsync(t, s, &transport.Config{SocketType: "PULL"})
	require.NoError(t, (<-cr).err)
	server := <-sr
	require.NoError(t, server.err)
	assert.Nil(t, server.info.Identity)
	_, ok := server.info.Property("Identity")
	assert.False(t, ok)
}

func TestHandshakeTimeout(t *testing.T) {
	c, _ := dialAccept(t)
	_, err := c.Handshake(testCtx(t), &transport.Config{SocketType: "PAIR", HandshakeTimeout: time.Millisecond})
	assert.ErrorIs(t, err, transport.ErrHandshakeTimeout)
}

func TestHandshakeTwice(t *testing.T) {
	c, s := dialAccept(t)
	sr := handshakeAsync(t, s, &transport.Config{SocketType: "PAIR"})
	_, err := c.Handshake(testCtx(t), &transport.Config{SocketType: "PAIR"})
	require.NoError(t, err)
	require.NoError(t, (<-sr).err)
	_, err = c.Handshake(testCtx(t), &transport.Config{SocketType: "PAIR"})
	assert.Error(t, err)
}

func TestHandshakeNilConfigIsIncompatible(t *testing.T) {
	c, s := dialAccept(t)
	sr := handshakeAsync(t, s, &transport.Config{SocketType: "PAIR", PeerTypes: []string{"PAIR"}})
	_, err := c.Handshake(testCtx(t), nil)
	assert.ErrorIs(t, err, transport.ErrIncompatible)
	assert.ErrorIs(t, (<-sr).err, transport.ErrIncompatible)
}

// A peer may shake hands, write and close before we shake hands: we still
// get its announcement and its messages.
func TestHandshakeAfterPeerWroteAndClosed(t *testing.T) {
	c, s := dialAccept(t)
	sr := handshakeAsync(t, s, &transport.Config{SocketType: "PUSH"})
	cr := handshakeAsync(t, c, &transport.Config{SocketType: "PULL"})
	require.NoError(t, (<-sr).err)
	require.NoError(t, (<-cr).err)

	c2, s2 := dialAccept(t)
	// The server side finishes first only if the client has announced;
	// so announce from the client in the background, and close the
	// server right after it has written.
	cr2 := handshakeAsync(t, c2, &transport.Config{SocketType: "PULL"})
	_, err := s2.Handshake(testCtx(t), &transport.Config{SocketType: "PUSH"})
	require.NoError(t, err)
	require.NoError(t, s2.WriteMsg(transport.NewMsg([]byte("before close"))))
	require.NoError(t, s2.Close())
	require.NoError(t, (<-cr2).err)
	m, err := c2.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "before close", string(m.Frames[0]))
	_, err = c2.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrClosed)
}

// A side whose peer gave up its handshake fails too, instead of taking
// the announcement left behind for a working connection.
func TestHandshakeAfterPeerGaveUp(t *testing.T) {
	c, s := dialAccept(t)
	_, err := c.Handshake(testCtx(t), &transport.Config{SocketType: "PAIR", HandshakeTimeout: time.Millisecond})
	require.ErrorIs(t, err, transport.ErrHandshakeTimeout)
	_, err = s.Handshake(testCtx(t), &transport.Config{SocketType: "PAIR"})
	assert.ErrorIs(t, err, transport.ErrClosed)
}
