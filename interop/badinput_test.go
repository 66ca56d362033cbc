package interop

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

// goodFlow is a well-behaved brook PUSH feeding the PULL under test, so a
// test can check that the PULL keeps serving it while a bad peer does its
// worst.
type goodFlow struct {
	t    *testing.T
	ctx  context.Context
	push *socket.Socket
	pull *socket.Socket
	seq  int
}

// exchange sends n numbered messages from the good peer and checks that
// the PULL delivers each, in order.
func (g *goodFlow) exchange(n int, when string) {
	g.t.Helper()
	for range n {
		want := []byte(strconv.Itoa(g.seq))
		requireSend(g.ctx, g.t, g.push, want)
		got := requireRecv(g.ctx, g.t, g.pull)
		if len(got) != 1 || !bytes.Equal(got[0], want) {
			g.t.Fatalf("%s: good peer's message #%d arrived as %q", when, g.seq, got)
		}
		g.seq++
	}
}

// badPeerCase is one way of misbehaving towards a bound brook PULL.
type badPeerCase struct {
	name string
	// opts configure the PULL.
	opts []socket.Option
	// misbehave is what the raw peer does once brook accepted it.
	misbehave func(p *rawPeer)
	// event and err are what brook's monitor must report for the raw
	// peer's connection: the event type, and an error matching err.
	event socket.EventType
	err   error
	// seen checks what the raw peer received before brook closed it.
	seen func(p *rawPeer)
}

func badPeerCases() []badPeerCase {
	closed := func(p *rawPeer) { p.awaitClosed() }
	return []badPeerCase{
		{
			name: "frame-of-2^62-bytes",
			misbehave: func(p *rawPeer) {
				p.handshake("PUSH")
				p.write(zmtpLongHeader(0, 1<<62))
			},
			event: socket.EventDisconnected, err: transport.ErrTooLarge, seen: closed,
		},
		{
			name: "multipart-over-max-msg-size",
			opts: []socket.Option{socket.WithMaxMsgSize(1000)},
			misbehave: func(p *rawPeer) {
				p.handshake("PUSH")
				// Each frame is under the limit; the message is not.
				p.write(zmtpFrame(flagMore, make([]byte, 600)), zmtpFrame(0, make([]byte, 600)))
			},
			event: socket.EventDisconnected, err: transport.ErrTooLarge, seen: closed,
		},
		{
			name: "wrong-socket-type",
			misbehave: func(p *rawPeer) {
				p.write(zmtpGreeting(3, 1, "NULL"), zmtpReady("Socket-Type", "PUB"))
			},
			event: socket.EventHandshakeFailed, err: transport.ErrIncompatible,
			seen: func(p *rawPeer) {
				p.readGreeting()
				p.awaitCommand("ERROR")
				p.awaitClosed()
			},
		},
		{
			name: "garbage-instead-of-greeting",
			misbehave: func(p *rawPeer) {
				p.write([]byte("GET / HTTP/1.1\r\nHost: brook\r\n\r\n"))
			},
			event: socket.EventHandshakeFailed, err: transport.ErrProtocol, seen: closed,
		},
		{
			name: "other-security-mechanism",
			misbehave: func(p *rawPeer) {
				p.write(zmtpGreeting(3, 1, "PLAIN"))
			},
			event: socket.EventHandshakeFailed, err: transport.ErrProtocol, seen: closed,
		},
		{
			name: "stall-inside-greeting",
			opts: []socket.Option{socket.WithHandshakeTimeout(300 * time.Millisecond)},
			misbehave: func(p *rawPeer) {
				p.write(zmtpGreeting(3, 1, "NULL")[:10])
			},
			event: socket.EventHandshakeFailed, err: transport.ErrHandshakeTimeout, seen: closed,
		},
		{
			name: "stall-before-ready",
			opts: []socket.Option{socket.WithHandshakeTimeout(300 * time.Millisecond)},
			misbehave: func(p *rawPeer) {
				p.write(zmtpGreeting(3, 1, "NULL"))
			},
			event: socket.EventHandshakeFailed, err: transport.ErrHandshakeTimeout, seen: closed,
		},
		{
			name: "reserved-frame-flags",
			misbehave: func(p *rawPeer) {
				p.handshake("PUSH")
				p.write([]byte{0x08, 1, 'x'})
			},
			event: socket.EventDisconnected, err: transport.ErrProtocol, seen: closed,
		},
		{
			name: "silent-under-heartbeat",
			// The good brook peer shares the PULL, so its PONGs must
			// beat the timeout too: hbTimeout, which load cannot exhaust.
			opts: []socket.Option{socket.WithHeartbeat(hbInterval, hbTimeout, 0)},
			misbehave: func(p *rawPeer) {
				p.handshake("PUSH") // then never a word, not even a PONG
			},
			event: socket.EventDisconnected, err: transport.ErrPeerTimeout,
			seen: func(p *rawPeer) {
				p.awaitCommand("PING")
				p.awaitClosed()
			},
		},
	}
}

// TestBadPeer: a raw peer misbehaves towards a bound brook PULL while a
// good brook PUSH feeds it. Each misbehaviour must end with the raw
// peer's connection dropped, a monitor event naming the cause
// (errors.Is), and the good peer served before, during and after.
func TestBadPeer(t *testing.T) {
	for _, c := range badPeerCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			pull := newBrook(t, socket.Pull, c.opts...)
			events := watchEvents(t, pull)
			require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
			push := newBrook(t, socket.Push)
			require.NoError(t, push.Connect(pull.LastEndpoint()))
			good := &goodFlow{t: t, ctx: ctx, push: push, pull: pull}
			good.exchange(10, "before")

			bad := dialRaw(t, pull.LastEndpoint())
			fromBad := func(e socket.Event) bool { return strings.HasSuffix(e.Remote, bad.local()) }
			events.waitFor(ctx, t, "accepted event for the raw peer", func(e socket.Event) bool {
				return e.Type == socket.EventAccepted && fromBad(e)
			})
			c.misbehave(bad)
			good.exchange(10, "during")

			e := events.waitFor(ctx, t, c.event.String()+" for the raw peer", func(e socket.Event) bool {
				return e.Type == c.event && fromBad(e)
			})
			require.ErrorIs(t, e.Err, c.err, "event: %s", e)
			t.Logf("brook reported: %s", e)
			c.seen(bad)
			good.exchange(10, "after")

			for _, e := range events.all() {
				if e.Type == socket.EventDisconnected || e.Type == socket.EventHandshakeFailed {
					assert.True(t, fromBad(e), "the good peer was dropped: %s", e)
				}
			}
			assert.Empty(t, pull.Stats().Dropped)
		})
	}
}

// serveGarbage accepts connections on a loopback listener and answers
// each with bytes that are not a ZMTP greeting, until the test ends.
func serveGarbage(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return "tcp://" + ln.Addr().String()
}

// TestBadServer: a brook PUSH connects to a server speaking another
// protocol and to a good brook PULL. Each attempt on the bad server
// fails its handshake with an error matching transport.ErrProtocol and
// is retried, while messages keep flowing to the good peer (with
// WithImmediate, only connected peers take messages).
func TestBadServer(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	pull := newBrook(t, socket.Pull)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	push := newBrook(t, socket.Push, socket.WithImmediate(true), socket.WithReconnectInterval(20*time.Millisecond))
	events := watchEvents(t, push)
	badEP := serveGarbage(t)
	require.NoError(t, push.Connect(badEP))
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	good := &goodFlow{t: t, ctx: ctx, push: push, pull: pull}

	failures := 0
	for failures < 3 {
		e := events.waitFor(ctx, t, "handshake failure on the bad server", func(e socket.Event) bool {
			return e.Type == socket.EventHandshakeFailed && e.Endpoint == badEP
		})
		require.ErrorIs(t, e.Err, transport.ErrProtocol, "event: %s", e)
		failures = len(events.ofType(socket.EventHandshakeFailed))
		good.exchange(10, "while the bad server is retried")
	}
	for _, e := range events.ofType(socket.EventHandshakeFailed) {
		assert.Equal(t, badEP, e.Endpoint)
	}
	assert.Empty(t, push.Stats().Dropped)
}
