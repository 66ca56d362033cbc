package faultproxy_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/internal/faultproxy"
)

// target is a TCP server for the proxy to forward to: each connection it
// accepts is handed to the test on conns.
type target struct {
	ln    net.Listener
	conns chan *net.TCPConn
	wg    sync.WaitGroup
}

func newTarget(t *testing.T) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tg := &target{ln: ln, conns: make(chan *net.TCPConn, 16)}
	tg.wg.Add(1)
	go func() {
		defer tg.wg.Done()
		defer close(tg.conns)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tg.conns <- c.(*net.TCPConn)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		tg.wg.Wait()
		for c := range tg.conns {
			_ = c.Close()
		}
	})
	return tg
}

func (tg *target) addr() string { return tg.ln.Addr().String() }

// accept returns the next connection the target accepted.
func (tg *target) accept(t *testing.T) *net.TCPConn {
	t.Helper()
	select {
	case c := <-tg.conns:
		t.Cleanup(func() { _ = c.Close() })
		return c
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the target accepted no connection")
		return nil
	}
}

// echoTarget starts an echo server (example_test.go's echoServer) for
// the test.
func echoTarget(t *testing.T) string {
	t.Helper()
	addr, stop := echoServer()
	t.Cleanup(stop)
	return addr
}

// startProxy starts a proxy to addr, closed when the test ends.
func startProxy(t *testing.T, addr string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(addr)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

// dial connects to addr.
func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

// through connects a client through p and returns it with the target's
// side of the connection.
func through(t *testing.T, p *faultproxy.Proxy, tg *target) (client, server *net.TCPConn) {
	t.Helper()
	client = dial(t, p.Addr())
	return client, tg.accept(t)
}

// testCtx bounds a test's waits.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pattern returns n bytes that differ from one offset to the next.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// readN reads exactly n bytes from c.
func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	require.NoError(t, err)
	return b
}

// readToEnd reads c until its stream ends or fails.
func readToEnd(t *testing.T, c net.Conn) ([]byte, error) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	return io.ReadAll(c)
}
