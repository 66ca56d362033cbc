package zmtp

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// pipeConns returns two unshaken Conns over net.Pipe, closed on cleanup.
func pipeConns(t *testing.T, opts Options) (*Conn, *Conn) {
	t.Helper()
	a, b := net.Pipe()
	ca := NewConn(a, "pipe-a", "pipe-b", opts)
	cb := NewConn(b, "pipe-b", "pipe-a", opts)
	t.Cleanup(func() {
		_ = ca.Close()
		_ = cb.Close()
	})
	return ca, cb
}

// tcpConns returns two unshaken Conns over a loopback TCP connection.
func tcpConns(t testing.TB, opts Options) (*Conn, *Conn) {
	t.Helper()
	a, b := tcpPair(t)
	ca := NewConn(a, a.LocalAddr().String(), a.RemoteAddr().String(), opts)
	cb := NewConn(b, b.LocalAddr().String(), b.RemoteAddr().String(), opts)
	t.Cleanup(func() {
		_ = ca.Close()
		_ = cb.Close()
	})
	return ca, cb
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r := <-ch
	require.NoError(t, r.err)
	t.Cleanup(func() {
		_ = a.Close()
		_ = r.c.Close()
	})
	return a, r.c
}

type hsResult struct {
	info transport.PeerInfo
	err  error
}

// handshakeBoth runs both handshakes concurrently and returns their results.
func handshakeBoth(t testing.TB, a, b *Conn, cfgA, cfgB *transport.Config) (hsResult, hsResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := make(chan hsResult, 1)
	go func() {
		info, err := b.Handshake(ctx, cfgB)
		ch <- hsResult{info, err}
	}()
	info, err := a.Handshake(ctx, cfgA)
	return hsResult{info, err}, <-ch
}

// mustHandshake shakes hands as PAIR/PAIR (or given configs) and requires success.
func mustHandshake(t testing.TB, a, b *Conn, cfgA, cfgB *transport.Config) {
	t.Helper()
	if cfgA == nil {
		cfgA = &transport.Config{SocketType: "PAIR"}
	}
	if cfgB == nil {
		cfgB = &transport.Config{SocketType: "PAIR"}
	}
	ra, rb := handshakeBoth(t, a, b, cfgA, cfgB)
	require.NoError(t, ra.err)
	require.NoError(t, rb.err)
}
