package quic

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// certs returns a fresh self-signed server config and the client config
// trusting it.
func certs(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	server, client, err := SelfSigned()
	require.NoError(t, err)
	return server, client
}

// testTransports returns a listening transport and a dialing one sharing
// one self-signed certificate, closed at the end of the test.
func testTransports(t testing.TB, opts ...Option) (srv, cli *Transport) {
	t.Helper()
	s, c := certs(t)
	srv, cli = New(s, opts...), New(c, opts...)
	t.Cleanup(func() {
		_ = cli.Close()
		_ = srv.Close()
	})
	return srv, cli
}

func ep(t testing.TB, s string) transport.Endpoint {
	t.Helper()
	e, err := transport.ParseEndpoint(s)
	require.NoError(t, err)
	return e
}

func listen(t testing.TB, tr *Transport) transport.Listener {
	t.Helper()
	l, err := tr.Listen(ep(t, "quic://127.0.0.1:0"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pair returns a handshaken connector (PUSH) and listener side (PULL).
func pair(t testing.TB, opts ...Option) (cli, srv *Conn) {
	t.Helper()
	st, ct := testTransports(t, opts...)
	l := listen(t, st)
	return dialPair(t, ct, l, &transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL"})
}

func dialPair(t testing.TB, ct *Transport, l transport.Listener, ccfg, scfg *transport.Config) (cli, srv *Conn) {
	t.Helper()
	ctx := testCtx(t)
	type res struct {
		c   transport.Conn
		err error
	}
	accepted := make(chan res, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err == nil {
			_, err = c.Handshake(ctx, scfg)
		}
		accepted <- res{c, err}
	}()
	c, err := ct.Dial(ctx, ep(t, l.Endpoint()))
	require.NoError(t, err)
	_, err = c.Handshake(ctx, ccfg)
	r := <-accepted
	require.NoError(t, err)
	require.NoError(t, r.err)
	t.Cleanup(func() { closeBoth(c, r.c) })
	return c.(*Conn), r.c.(*Conn)
}

// closeBoth closes two ends at once, as two sockets closing would: each
// Close waits for the other side to finish.
func closeBoth(a, b transport.Conn) {
	done := make(chan struct{})
	go func() {
		_ = a.Close()
		close(done)
	}()
	_ = b.Close()
	<-done
}

// cliCause is why c's QUIC connection ended.
func cliCause(c *Conn) error {
	<-c.qc.Context().Done()
	return context.Cause(c.qc.Context())
}
