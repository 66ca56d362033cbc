package tcp

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func mustEndpoint(t *testing.T, s string) transport.Endpoint {
	t.Helper()
	ep, err := transport.ParseEndpoint(s)
	require.NoError(t, err)
	return ep
}

func listen(t *testing.T, tr *Transport, s string) transport.Listener {
	t.Helper()
	ln, err := tr.Listen(mustEndpoint(t, s))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// connect dials ep, accepts on ln and shakes hands on both ends.
func connect(t *testing.T, tr *Transport, ln transport.Listener, dialTo string) (transport.Conn, transport.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type res struct {
		c   transport.Conn
		err error
	}
	acc := make(chan res, 1)
	go func() {
		c, err := ln.Accept(ctx)
		if err == nil {
			_, err = c.Handshake(ctx, &transport.Config{SocketType: "PULL"})
		}
		acc <- res{c, err}
	}()
	d, err := tr.Dial(ctx, mustEndpoint(t, dialTo))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	info, err := d.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	require.NoError(t, err)
	assert.Equal(t, "PULL", info.SocketType)
	r := <-acc
	require.NoError(t, r.err)
	t.Cleanup(func() { _ = r.c.Close() })
	return d, r.c
}

func TestBindAndConnect(t *testing.T) {
	tests := []struct{ name, bind, dialHost string }{
		{"wildcard", "tcp://*:0", "127.0.0.1"},
		{"ipv4", "tcp://127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "tcp://[::1]:0", "[::1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New()
			ln, err := tr.Listen(mustEndpoint(t, tt.bind))
			if tt.name == "ipv6" && err != nil {
				t.Skipf("no IPv6 loopback here: %v", err)
			}
			require.NoError(t, err)
			t.Cleanup(func() { _ = ln.Close() })
			_, port, err := transport.SplitHostPort(strings.TrimPrefix(ln.Endpoint(), "tcp://"))
			require.NoError(t, err)
			require.NotZero(t, port, ln.Endpoint())
			d, a := connect(t, tr, ln, "tcp://"+tt.dialHost+":"+portOf(t, ln))
			require.NoError(t, d.WriteMsg(transport.NewMsg([]byte("hello"), nil)))
			require.NoError(t, d.Flush())
			m, err := a.ReadMsg()
			require.NoError(t, err)
			assert.Equal(t, [][]byte{[]byte("hello"), {}}, m.Frames)
			assert.True(t, strings.HasPrefix(d.RemoteAddr(), "tcp://"), d.RemoteAddr())
		})
	}
}

func portOf(t *testing.T, ln transport.Listener) string {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(ln.Endpoint(), "tcp://"))
	require.NoError(t, err)
	return p
}

func TestWildcardEndpointIsReported(t *testing.T) {
	ln := listen(t, New(), "tcp://*:0")
	assert.True(t, strings.HasPrefix(ln.Endpoint(), "tcp://0.0.0.0:"), ln.Endpoint())
}

func TestAddressInUse(t *testing.T) {
	tr := New()
	ln := listen(t, tr, "tcp://127.0.0.1:0")
	_, err := tr.Listen(mustEndpoint(t, ln.Endpoint()))
	require.ErrorIs(t, err, transport.ErrAddrInUse)
}

func TestBadEndpoints(t *testing.T) {
	tr := New()
	ctx := context.Background()
	_, err := tr.Dial(ctx, transport.Endpoint{Scheme: "tcp", Address: "*:5555"})
	assert.ErrorIs(t, err, transport.ErrBadEndpoint)
	_, err = tr.Dial(ctx, transport.Endpoint{Scheme: "tcp", Address: "127.0.0.1:0"})
	assert.ErrorIs(t, err, transport.ErrBadEndpoint)
	_, err = tr.Dial(ctx, transport.Endpoint{Scheme: "tcp", Address: "127.0.0.1"})
	assert.ErrorIs(t, err, transport.ErrBadEndpoint)
	_, err = tr.Listen(transport.Endpoint{Scheme: "ipc", Address: "127.0.0.1:1"})
	assert.ErrorIs(t, err, transport.ErrBadEndpoint)
	_, err = tr.Dial(ctx, transport.Endpoint{Scheme: "tcp", Address: "no-such-host.invalid:5555"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-host.invalid")
}

func TestDialRefused(t *testing.T) {
	tr := New()
	ln := listen(t, tr, "tcp://127.0.0.1:0")
	ep := ln.Endpoint()
	require.NoError(t, ln.Close())
	_, err := tr.Dial(context.Background(), mustEndpoint(t, ep))
	require.Error(t, err)
	assert.Contains(t, err.Error(), ep)
}

func TestDialHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New().Dial(ctx, mustEndpoint(t, "tcp://127.0.0.1:9"))
	require.ErrorIs(t, err, context.Canceled)
}

func TestAcceptHonoursContext(t *testing.T) {
	ln := listen(t, New(), "tcp://127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := ln.Accept(ctx)
		errc <- err
	}()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	// The listener still works afterwards.
	d, a := connect(t, New(), ln, ln.Endpoint())
	require.NotNil(t, d)
	require.NotNil(t, a)
}

func TestCloseUnblocksAccept(t *testing.T) {
	ln := listen(t, New(), "tcp://127.0.0.1:0")
	errc := make(chan error, 1)
	go func() {
		_, err := ln.Accept(context.Background())
		errc <- err
	}()
	require.NoError(t, ln.Close())
	err := <-errc
	require.ErrorIs(t, err, transport.ErrClosed)
	require.ErrorIs(t, err, net.ErrClosed)
	require.NoError(t, ln.Close())
}

func TestSchemes(t *testing.T) {
	assert.Equal(t, []string{"tcp"}, New().Schemes())
	assert.Equal(t, []string{"zstd+tcp"}, NewWithOptions("zstd+tcp", nil).Schemes())
}
