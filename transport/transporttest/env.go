package transporttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// env is one subtest's world: the transport under test, the endpoint the
// factory gave, and a context that ends after Timeout.
type env struct {
	t   *testing.T
	tr  transport.Transport
	ep  transport.Endpoint
	ctx context.Context

	mu      sync.Mutex
	closers []interface{ Close() error } // closed by the watchdog on timeout
	wg      sync.WaitGroup               // goroutines started by the subtest
}

// closeGrace is how long calls may take to return once the watchdog has
// closed their Conns.
const closeGrace = 5 * time.Second

func newEnv(t *testing.T, f Factory) *env {
	tr, endpoint := f(t)
	require.NotNil(t, tr, "factory returned a nil transport")
	ep, err := transport.ParseEndpoint(endpoint)
	require.NoError(t, err, "factory endpoint")
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	e := &env{t: t, tr: tr, ep: ep, ctx: ctx}

	watchdogDone := make(chan struct{})
	go e.watchdog(watchdogDone)
	// Registered first, so it runs last: after every Close the subtest
	// registered, wait for the goroutines it started, within bounds.
	t.Cleanup(func() {
		finished := make(chan struct{})
		go func() { e.wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-ctx.Done():
			// Out of time: the watchdog closes everything, which must
			// unblock every call within a grace period.
			<-watchdogDone
			grace := time.NewTimer(closeGrace)
			defer grace.Stop()
			select {
			case <-finished:
			case <-grace.C:
				t.Errorf("transporttest: calls still blocked %v after their Conns and Listeners were closed", closeGrace)
			}
		}
		cancel()
		<-watchdogDone
	})
	return e
}

// watchdog closes every registered connection and listener when the
// subtest runs out of time, so calls without a context (ReadMsg, WriteMsg)
// return and the subtest fails instead of hanging.
func (e *env) watchdog(done chan<- struct{}) {
	defer close(done)
	<-e.ctx.Done()
	if !errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
		return
	}
	e.t.Errorf("transporttest: timed out after %v; closing connections", Timeout)
	e.mu.Lock()
	closers := e.closers
	e.mu.Unlock()
	for _, c := range closers {
		c.Close()
	}
}

// track closes c at the end of the subtest and on timeout.
func (e *env) track(c interface{ Close() error }) {
	e.mu.Lock()
	e.closers = append(e.closers, c)
	e.mu.Unlock()
	e.t.Cleanup(func() { c.Close() })
}

// goFn runs fn on its own goroutine; the subtest waits for it at the end.
func (e *env) goFn(fn func()) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn()
	}()
}

// await receives from ch, failing the subtest when the context ends first.
func await[T any](e *env, ch <-chan T, what string) T {
	e.t.Helper()
	select {
	case v := <-ch:
		return v
	case <-e.ctx.Done():
		e.t.Fatalf("transporttest: timed out waiting for %s", what)
		panic("unreachable")
	}
}

// shortCtx is a context for calls expected to fail or give up soon.
func (e *env) shortCtx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(e.ctx, d)
	e.t.Cleanup(cancel)
	return ctx
}

// listen binds the factory endpoint.
func (e *env) listen() transport.Listener {
	e.t.Helper()
	l, err := e.tr.Listen(e.ep)
	require.NoError(e.t, err, "Listen(%s)", e.ep)
	e.track(l)
	return l
}

// parse parses an endpoint a Listener reported.
func (e *env) parse(s string) transport.Endpoint {
	e.t.Helper()
	ep, err := transport.ParseEndpoint(s)
	require.NoError(e.t, err, "Listener.Endpoint() = %q", s)
	return ep
}

type result[T any] struct {
	v   T
	err error
}

// dialAccept dials l's endpoint and accepts the connection; neither end
// has shaken hands.
func (e *env) dialAccept(l transport.Listener) (client, server transport.Conn) {
	e.t.Helper()
	accepted := make(chan result[transport.Conn], 1)
	e.goFn(func() {
		c, err := l.Accept(e.ctx)
		accepted <- result[transport.Conn]{c, err}
	})
	client, err := e.tr.Dial(e.ctx, e.parse(l.Endpoint()))
	require.NoError(e.t, err, "Dial(%s)", l.Endpoint())
	require.NotNil(e.t, client, "Dial returned a nil Conn without error")
	e.track(client)
	r := await(e, accepted, "Accept")
	require.NoError(e.t, r.err, "Accept")
	require.NotNil(e.t, r.v, "Accept returned a nil Conn without error")
	e.track(r.v)
	return client, r.v
}

// handshakes runs both handshakes at once, as two sockets would.
func (e *env) handshakes(client transport.Conn, ccfg *transport.Config, server transport.Conn, scfg *transport.Config) (ci, si result[transport.PeerInfo]) {
	e.t.Helper()
	sres := make(chan result[transport.PeerInfo], 1)
	e.goFn(func() {
		info, err := server.Handshake(e.ctx, scfg)
		sres <- result[transport.PeerInfo]{info, err}
	})
	info, err := client.Handshake(e.ctx, ccfg)
	ci = result[transport.PeerInfo]{info, err}
	si = await(e, sres, "server Handshake")
	return ci, si
}

// connect binds, dials, accepts and shakes hands with the given configs,
// requiring success. clientPeer is what the client learned about the
// server, serverPeer the reverse.
func (e *env) connect(ccfg, scfg *transport.Config) (client, server transport.Conn, clientPeer, serverPeer transport.PeerInfo) {
	e.t.Helper()
	client, server = e.dialAccept(e.listen())
	ci, si := e.handshakes(client, ccfg, server, scfg)
	require.NoError(e.t, ci.err, "client Handshake")
	require.NoError(e.t, si.err, "server Handshake")
	return client, server, ci.v, si.v
}

// pair connects two PAIR sockets.
func (e *env) pair() (client, server transport.Conn) {
	e.t.Helper()
	client, server, _, _ = e.connect(&transport.Config{SocketType: "PAIR"}, &transport.Config{SocketType: "PAIR"})
	return client, server
}

// writeAll writes msgs and flushes on its own goroutine; the returned
// channel yields the first error (or nil).
func (e *env) writeAll(c transport.Conn, msgs []transport.Msg) <-chan error {
	done := make(chan error, 1)
	e.goFn(func() {
		for _, m := range msgs {
			if err := c.WriteMsg(m); err != nil {
				done <- err
				return
			}
		}
		done <- c.Flush()
	})
	return done
}

// readMsg reads one message on its own goroutine, so a transport that
// blocks fails the subtest at the deadline rather than hanging it.
func (e *env) readMsg(c transport.Conn, what string) (transport.Msg, error) {
	e.t.Helper()
	ch := make(chan result[transport.Msg], 1)
	e.goFn(func() {
		m, err := c.ReadMsg()
		ch <- result[transport.Msg]{m, err}
	})
	r := await(e, ch, what)
	return r.v, r.err
}

// readN reads n messages on its own goroutine; the channel yields them, or
// what was read before the first error together with that error.
func (e *env) readN(c transport.Conn, n int) <-chan result[[]transport.Msg] {
	done := make(chan result[[]transport.Msg], 1)
	e.goFn(func() {
		msgs := make([]transport.Msg, 0, n)
		for range n {
			m, err := c.ReadMsg()
			if err != nil {
				done <- result[[]transport.Msg]{msgs, err}
				return
			}
			msgs = append(msgs, m)
		}
		done <- result[[]transport.Msg]{msgs, nil}
	})
	return done
}

// transfer writes msgs on from and reads as many on to, requiring both to
// succeed, and returns what arrived.
func (e *env) transfer(from, to transport.Conn, msgs []transport.Msg) []transport.Msg {
	e.t.Helper()
	read := e.readN(to, len(msgs))
	wrote := e.writeAll(from, msgs)
	require.NoError(e.t, await(e, wrote, "writer"), "WriteMsg/Flush")
	r := await(e, read, "reader")
	require.NoError(e.t, r.err, "ReadMsg after %d of %d messages", len(r.v), len(msgs))
	return r.v
}
