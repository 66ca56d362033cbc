package inproc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

func TestSchemes(t *testing.T) {
	assert.Equal(t, []string{"inproc"}, inproc.New(inproc.NewNamespace()).Schemes())
}

func TestConnectBeforeBind(t *testing.T) {
	ctx := testCtx(t)
	tr := inproc.New(inproc.NewNamespace())
	dialed := dialAsync(ctx, tr, "late")

	l, err := tr.Listen(ep("late"))
	require.NoError(t, err)
	defer l.Close()
	r := <-dialed
	require.NoError(t, r.err)
	defer r.conn.Close()
	server, err := l.Accept(ctx)
	require.NoError(t, err)
	defer server.Close()

	require.NoError(t, r.conn.WriteMsg(transport.NewMsg([]byte("hello"))))
	m, err := server.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "hello", string(m.Frames[0]))
}

func TestDialWithDoneContextIsNonBlocking(t *testing.T) {
	tr := inproc.New(inproc.NewNamespace())
	done, cancel := context.WithCancel(context.Background())
	cancel()

	c, err := tr.Dial(done, ep("nobody"))
	assert.Nil(t, c)
	assert.ErrorIs(t, err, transport.ErrNoEndpoint)
	assert.ErrorIs(t, err, context.Canceled)

	// Bound: the same call succeeds, since it need not wait.
	l, err := tr.Listen(ep("nobody"))
	require.NoError(t, err)
	defer l.Close()
	c, err = tr.Dial(done, ep("nobody"))
	require.NoError(t, err)
	c.Close()
}

func TestDialGivesUpWithContext(t *testing.T) {
	tr := inproc.New(inproc.NewNamespace())
	ctx, cancel := context.WithCancel(testCtx(t))
	dialed := dialAsync(ctx, tr, "never")
	cancel()
	r := <-dialed
	assert.Nil(t, r.conn)
	assert.ErrorIs(t, r.err, transport.ErrNoEndpoint)
	assert.ErrorIs(t, r.err, context.Canceled)
}

func TestBindTwiceAndRebind(t *testing.T) {
	tr := inproc.New(inproc.NewNamespace())
	l, err := tr.Listen(ep("x"))
	require.NoError(t, err)
	l2, err := tr.Listen(ep("x"))
	assert.Nil(t, l2)
	assert.ErrorIs(t, err, transport.ErrAddrInUse)

	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "second Close")
	l3, err := tr.Listen(ep("x"))
	require.NoError(t, err, "Close frees the name")
	// Closing the old listener again must not unbind the new one.
	require.NoError(t, l.Close())
	_, err = tr.Listen(ep("x"))
	assert.ErrorIs(t, err, transport.ErrAddrInUse)
	l3.Close()
}

func TestDialWaitsForNextBinder(t *testing.T) {
	ctx := testCtx(t)
	tr := inproc.New(inproc.NewNamespace())
	l1, err := tr.Listen(ep("svc"))
	require.NoError(t, err)
	require.NoError(t, l1.Close())

	dialed := dialAsync(ctx, tr, "svc")
	l2, err := tr.Listen(ep("svc"))
	require.NoError(t, err)
	defer l2.Close()
	r := <-dialed
	require.NoError(t, r.err)
	defer r.conn.Close()
	server, err := l2.Accept(ctx)
	require.NoError(t, err, "the dial reached the new binder")
	server.Close()
}

func TestListenerCloseDropsUnacceptedConns(t *testing.T) {
	ctx := testCtx(t)
	tr := inproc.New(inproc.NewNamespace())
	l, err := tr.Listen(ep("svc"))
	require.NoError(t, err)
	c, err := tr.Dial(ctx, ep("svc"))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, l.Close())

	_, err = c.Handshake(ctx, &transport.Config{SocketType: "PAIR"})
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = l.Accept(ctx)
	assert.ErrorIs(t, err, transport.ErrClosed)
}

func TestAcceptFIFO(t *testing.T) {
	ctx := testCtx(t)
	tr := inproc.New(inproc.NewNamespace())
	l, err := tr.Listen(ep("svc"))
	require.NoError(t, err)
	defer l.Close()
	var clients []transport.Conn
	for range 3 {
		c, err := tr.Dial(ctx, ep("svc"))
		require.NoError(t, err)
		defer c.Close()
		clients = append(clients, c)
	}
	for i, c := range clients {
		s, err := l.Accept(ctx)
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, c.WriteMsg(transport.NewMsg([]byte{byte(i)})))
		m, err := s.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, m.Frames[0], "accepted in dial order")
	}
}

func TestNamespacesAreSeparate(t *testing.T) {
	a, b := inproc.New(inproc.NewNamespace()), inproc.New(inproc.NewNamespace())
	l, err := a.Listen(ep("shared-name"))
	require.NoError(t, err)
	defer l.Close()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.Dial(done, ep("shared-name"))
	assert.ErrorIs(t, err, transport.ErrNoEndpoint)
	lb, err := b.Listen(ep("shared-name"))
	require.NoError(t, err, "the same name binds in another namespace")
	lb.Close()
}

func TestDefaultNamespaceIsShared(t *testing.T) {
	require.Same(t, inproc.Default(), inproc.Default())
	a, b := inproc.New(nil), inproc.New(inproc.Default())
	l, err := a.Listen(ep("TestDefaultNamespaceIsShared"))
	require.NoError(t, err)
	defer l.Close()
	assert.True(t, inproc.Default().Bound("TestDefaultNamespaceIsShared"))
	c, err := b.Dial(testCtx(t), ep("TestDefaultNamespaceIsShared"))
	require.NoError(t, err)
	c.Close()
	require.NoError(t, l.Close())
	assert.False(t, inproc.Default().Bound("TestDefaultNamespaceIsShared"))
}

func TestBadEndpoints(t *testing.T) {
	tr := inproc.New(inproc.NewNamespace())
	ctx := testCtx(t)
	for _, tc := range []struct {
		name string
		ep   transport.Endpoint
		want error
	}{
		{"other scheme", transport.Endpoint{Scheme: "tcp", Address: "127.0.0.1:1"}, transport.ErrUnknownScheme},
		{"empty name", transport.Endpoint{Scheme: "inproc"}, transport.ErrBadEndpoint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tr.Dial(ctx, tc.ep)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, tc.want)
			l, err := tr.Listen(tc.ep)
			assert.Nil(t, l)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestSchemeIsCaseInsensitive(t *testing.T) {
	tr := inproc.New(inproc.NewNamespace())
	l, err := tr.Listen(transport.Endpoint{Scheme: "INPROC", Address: "n"})
	require.NoError(t, err)
	assert.Equal(t, "inproc://n", l.Endpoint())
	l.Close()
}
