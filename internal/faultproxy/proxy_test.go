package faultproxy_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/internal/faultproxy"
)

// Bytes go through unchanged both ways, and every one is counted.
func TestForwardsBothWays(t *testing.T) {
	p := startProxy(t, echoTarget(t))
	c := dial(t, p.Addr())
	echoes(t, c, pattern(1<<20))

	// The echo can reach the client a moment before the proxy counts it.
	whole := faultproxy.Flow{Read: 1 << 20, Forwarded: 1 << 20}
	s, err := p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool {
		return s.ToTarget == whole && s.ToClient == whole
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), s.Accepted)
	assert.Equal(t, 1, s.Active)

	// The client's close reaches the echo server, whose close comes back:
	// the connection ends on both sides.
	require.NoError(t, c.Close())
	s, err = p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return s.Active == 0 })
	require.NoError(t, err)
	assert.Equal(t, int64(0), s.Resets)
}

// End of stream passes through as a half-close, after the bytes before it.
func TestHalfClosePassesThrough(t *testing.T) {
	tg := newTarget(t)
	p := startProxy(t, tg.addr())
	client, server := through(t, p, tg)

	_, err := client.Write([]byte("question"))
	require.NoError(t, err)
	require.NoError(t, client.CloseWrite())
	got, err := readToEnd(t, server)
	require.NoError(t, err, "the target sees a clean end of stream")
	assert.Equal(t, "question", string(got))

	_, err = server.Write([]byte("answer"))
	require.NoError(t, err, "the other direction still flows")
	require.NoError(t, server.Close())
	got, err = readToEnd(t, client)
	require.NoError(t, err)
	assert.Equal(t, "answer", string(got))
}

// A reset from either end resets the other end too.
func TestResetPassesThrough(t *testing.T) {
	for _, from := range []string{"target", "client"} {
		t.Run("from "+from, func(t *testing.T) {
			tg := newTarget(t)
			p := startProxy(t, tg.addr())
			client, server := through(t, p, tg)
			resetter, other := server, client
			if from == "client" {
				resetter, other = client, server
			}
			require.NoError(t, resetter.SetLinger(0))
			require.NoError(t, resetter.Close())
			_, err := readToEnd(t, other)
			assert.ErrorIs(t, err, syscall.ECONNRESET)
		})
	}
}

// direction is one way bytes go, with which end sends.
type direction struct {
	name string
	d    faultproxy.Direction
	// ends returns the sending and the receiving end of the direction.
	ends func(client, server *net.TCPConn) (sender, receiver *net.TCPConn)
	flow func(faultproxy.Stats) faultproxy.Flow
}

// oneWay connects a client through a new proxy to a new target and
// returns the proxy, the target and the sending and receiving ends of dir.
func oneWay(t *testing.T, dir direction) (p *faultproxy.Proxy, tg *target, sender, receiver *net.TCPConn) {
	t.Helper()
	tg = newTarget(t)
	p = startProxy(t, tg.addr())
	client, server := through(t, p, tg)
	sender, receiver = dir.ends(client, server)
	return p, tg, sender, receiver
}

// directions are the two ways bytes go.
var directions = []direction{
	{"to target", faultproxy.ToTarget,
		func(c, s *net.TCPConn) (*net.TCPConn, *net.TCPConn) { return c, s },
		func(s faultproxy.Stats) faultproxy.Flow { return s.ToTarget }},
	{"to client", faultproxy.ToClient,
		func(c, s *net.TCPConn) (*net.TCPConn, *net.TCPConn) { return s, c },
		func(s faultproxy.Stats) faultproxy.Flow { return s.ToClient }},
}

// A stalled direction forwards nothing and keeps the connection: the
// sender's writes block once the kernel's buffers are full, and Pass
// delivers everything that was held, in order.
func TestStall(t *testing.T) {
	for _, dir := range directions {
		t.Run(dir.name, func(t *testing.T) {
			p, _, sender, receiver := oneWay(t, dir)
			p.Stall(dir.d)

			// No stall would let 64 MiB through in this time: the kernel
			// buffers on both sides of the proxy hold a few MiB at most.
			data := pattern(64 << 20)
			require.NoError(t, sender.SetWriteDeadline(time.Now().Add(time.Second)))
			n, err := sender.Write(data)
			require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the sender's write blocks")
			require.Positive(t, n)
			require.Less(t, n, len(data))
			f := dir.flow(p.Stats())
			assert.Zero(t, f.Forwarded, "nothing forwarded while stalled")
			assert.LessOrEqual(t, f.Read, int64(128<<10), "the proxy holds at most 128 KiB")

			p.Pass(dir.d)
			got := readN(t, receiver, n)
			assert.True(t, bytes.Equal(data[:n], got), "held bytes delivered in order")
			require.NoError(t, sender.SetWriteDeadline(time.Time{}))
			_, err = sender.Write([]byte("after"))
			require.NoError(t, err)
			assert.Equal(t, "after", string(readN(t, receiver, 5)), "the connection was kept")
			assert.Equal(t, int64(1), p.Stats().Accepted)
		})
	}
}

// A black hole reads and discards: the sender's writes succeed, nothing
// arrives, and Pass forwards again from the next byte.
func TestBlackHole(t *testing.T) {
	for _, dir := range directions {
		t.Run(dir.name, func(t *testing.T) {
			p, _, sender, receiver := oneWay(t, dir)
			p.BlackHole(dir.d)

			const lost = 300 << 10
			_, err := sender.Write(pattern(lost))
			require.NoError(t, err)
			_, err = p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return dir.flow(s).Discarded == lost })
			require.NoError(t, err)

			p.Pass(dir.d)
			_, err = sender.Write([]byte("after"))
			require.NoError(t, err)
			assert.Equal(t, "after", string(readN(t, receiver, 5)), "only what was sent after Pass arrives")
			want := faultproxy.Flow{Read: lost + 5, Forwarded: 5, Discarded: lost}
			_, err = p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return dir.flow(s) == want })
			require.NoError(t, err, "counted: %+v", dir.flow(p.Stats()))
		})
	}
}

// A cut lets exactly n bytes through, then the receiver gets the end of
// the stream and the sender a reset; it fires once.
func TestCutAfter(t *testing.T) {
	for _, dir := range directions {
		for _, n := range []int64{0, 1, 37, 20000} {
			t.Run(dir.name+"/"+strconv.FormatInt(n, 10), func(t *testing.T) {
				p, tg, sender, receiver := oneWay(t, dir)
				cut := p.CutAfter(dir.d, n)

				data := pattern(50000)
				_, err := sender.Write(data)
				require.NoError(t, err)
				got, err := readToEnd(t, receiver)
				require.NoError(t, err, "the receiver sees a clean end of stream")
				assert.True(t, bytes.Equal(data[:n], got), "got %d bytes, want the first %d", len(got), n)
				<-cut
				_, err = readToEnd(t, sender)
				assert.ErrorIs(t, err, syscall.ECONNRESET, "the sender is reset")
				s := p.Stats()
				assert.Equal(t, int64(1), s.Cuts)
				assert.Equal(t, n, dir.flow(s).Forwarded)

				// Fired once: the next connection is whole.
				sender, receiver = dir.ends(through(t, p, tg))
				_, err = sender.Write(data)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(data, readN(t, receiver, len(data))))
			})
		}
	}
}

// A cut on Both counts the bytes of the two directions together.
func TestCutAfterBothDirections(t *testing.T) {
	tg := newTarget(t)
	p := startProxy(t, tg.addr())
	client, server := through(t, p, tg)
	p.CutAfter(faultproxy.Both, 10)
	_, err := client.Write([]byte("123456"))
	require.NoError(t, err)
	assert.Equal(t, "123456", string(readN(t, server, 6)))
	_, err = server.Write([]byte("abcdefghij"))
	require.NoError(t, err)
	got, err := readToEnd(t, client)
	require.NoError(t, err)
	assert.Equal(t, "abcd", string(got), "4 more bytes made 10")
	_, err = readToEnd(t, server)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
}

// The budget of a cut is shared by all connections: the one that carries
// its last byte is cut, the others go on.
func TestCutAfterCountsAllConnections(t *testing.T) {
	tg := newTarget(t)
	p := startProxy(t, tg.addr())
	c1, s1 := through(t, p, tg)
	c2, s2 := through(t, p, tg)
	p.CutAfter(faultproxy.ToTarget, 30)
	_, err := c1.Write(pattern(20))
	require.NoError(t, err)
	readN(t, s1, 20)
	_, err = c2.Write(pattern(20))
	require.NoError(t, err)
	got, err := readToEnd(t, s2)
	require.NoError(t, err)
	assert.Len(t, got, 10)
	_, err = c1.Write([]byte("still"))
	require.NoError(t, err)
	assert.Equal(t, "still", string(readN(t, s1, 5)))
}

// ResetAll resets every connection on both sides at once.
func TestResetAll(t *testing.T) {
	tg := newTarget(t)
	p := startProxy(t, tg.addr())
	var clients, servers []*net.TCPConn
	for range 3 {
		c, s := through(t, p, tg)
		clients = append(clients, c)
		servers = append(servers, s)
	}
	_, err := p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return s.Active == 3 })
	require.NoError(t, err)
	assert.Equal(t, 3, p.ResetAll())
	for i := range clients {
		_, err := readToEnd(t, clients[i])
		assert.ErrorIs(t, err, syscall.ECONNRESET, "client %d", i)
		_, err = readToEnd(t, servers[i])
		assert.ErrorIs(t, err, syscall.ECONNRESET, "target side %d", i)
	}
	s, err := p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return s.Active == 0 })
	require.NoError(t, err)
	assert.Equal(t, int64(3), s.Resets)
	assert.Zero(t, p.ResetAll(), "nothing left to reset")

	c, srv := through(t, p, tg)
	_, err = c.Write([]byte("new"))
	require.NoError(t, err)
	assert.Equal(t, "new", string(readN(t, srv, 3)), "new connections are accepted")
}

// A refusing proxy fails new connections and leaves open ones alone.
func TestRefusing(t *testing.T) {
	p := startProxy(t, echoTarget(t))
	open := dial(t, p.Addr())
	// Accepted by the proxy, not just by the kernel: a connection still
	// in the backlog when the proxy stops listening is reset.
	_, err := p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return s.Active == 1 })
	require.NoError(t, err)
	require.NoError(t, p.SetRefusing(true))
	require.NoError(t, p.SetRefusing(true), "refusing twice is refusing")

	err = connectAndRead(p.Addr())
	require.Error(t, err)
	if runtime.GOOS == "linux" {
		assert.ErrorIs(t, err, syscall.ECONNREFUSED, "the dial itself is refused")
	}
	_, err = open.Write([]byte("ping"))
	require.NoError(t, err)
	assert.Equal(t, "ping", string(readN(t, open, 4)), "open connections are not touched")

	require.NoError(t, p.SetRefusing(false))
	c := dial(t, p.Addr())
	_, err = c.Write([]byte("pong"))
	require.NoError(t, err)
	assert.Equal(t, "pong", string(readN(t, c, 4)))
}

// connectAndRead dials addr and reads one byte: the error is the dial's,
// or the read's when the connection is accepted and then reset.
func connectAndRead(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	return err
}

// When the target cannot be reached, the client's connection is reset.
func TestTargetUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gone := ln.Addr().String()
	require.NoError(t, ln.Close())
	p := startProxy(t, gone)
	// The reset may come before the client's connect has returned.
	assert.ErrorIs(t, connectAndRead(p.Addr()), syscall.ECONNRESET)
	s, err := p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return s.DialFailures == 1 })
	require.NoError(t, err)
	assert.Equal(t, int64(1), s.Accepted)
	assert.Zero(t, s.Active)
}

// Latency and bandwidth leave the bytes intact (their timing is tested
// exactly with a fake clock in shaping_internal_test.go).
func TestShapedBytesArriveIntact(t *testing.T) {
	p := startProxy(t, echoTarget(t))
	p.SetLatency(faultproxy.Both, 2*time.Millisecond)
	p.SetBandwidth(faultproxy.ToTarget, 4<<20)
	echoes(t, dial(t, p.Addr()), pattern(256<<10))
}

// echoes writes data to c (connected to an echo server) while reading it
// back, and checks it comes back unchanged.
func echoes(t *testing.T, c net.Conn, data []byte) {
	t.Helper()
	sent := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		sent <- err
	}()
	got := readN(t, c, len(data))
	require.NoError(t, <-sent)
	assert.True(t, bytes.Equal(data, got), "echoed bytes differ")
}

// Heal lifts every fault at once.
func TestHeal(t *testing.T) {
	tg := newTarget(t)
	p := startProxy(t, tg.addr())
	client, server := through(t, p, tg)
	p.Stall(faultproxy.ToTarget)
	p.BlackHole(faultproxy.ToClient)
	p.SetLatency(faultproxy.Both, time.Hour)
	p.SetBandwidth(faultproxy.Both, 1)
	cut := p.CutAfter(faultproxy.Both, 0)
	require.NoError(t, p.SetRefusing(true))
	require.NoError(t, p.Heal())

	_, err := client.Write([]byte("up"))
	require.NoError(t, err)
	assert.Equal(t, "up", string(readN(t, server, 2)))
	_, err = server.Write([]byte("down"))
	require.NoError(t, err)
	assert.Equal(t, "down", string(readN(t, client, 4)))
	c2, s2 := through(t, p, tg)
	_, err = c2.Write([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "x", string(readN(t, s2, 1)))
	select {
	case <-cut:
		t.Fatal("a healed cut fired")
	default:
	}
	assert.Zero(t, p.Stats().Cuts)
}

// Close resets what is open (even stalled or delayed connections), waits
// for every goroutine (TestMain checks none is left) and makes the
// proxy's blocking calls fail with ErrClosed.
func TestClose(t *testing.T) {
	tg := newTarget(t)
	p, err := faultproxy.New(tg.addr())
	require.NoError(t, err)
	stalled, _ := through(t, p, tg)
	delayed, _ := through(t, p, tg)
	p.Stall(faultproxy.ToTarget)
	p.SetLatency(faultproxy.ToClient, time.Hour)
	_, err = stalled.Write(pattern(1000))
	require.NoError(t, err)
	_, err = p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return s.Active == 2 })
	require.NoError(t, err)

	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "Close twice")
	for _, c := range []*net.TCPConn{stalled, delayed} {
		_, err := readToEnd(t, c)
		assert.ErrorIs(t, err, syscall.ECONNRESET)
	}
	assert.ErrorIs(t, p.SetRefusing(true), faultproxy.ErrClosed)
	_, err = p.WaitStats(testCtx(t), func(s faultproxy.Stats) bool { return false })
	assert.ErrorIs(t, err, faultproxy.ErrClosed)
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.Error(t, connectAndRead(p.Addr()), "nobody listens")
}

// Invalid arguments are bugs in the test, reported at once.
func TestInvalidControls(t *testing.T) {
	p := startProxy(t, echoTarget(t))
	assert.Panics(t, func() { p.Stall(0) })
	assert.Panics(t, func() { p.Pass(faultproxy.Direction(4)) })
	assert.Panics(t, func() { p.CutAfter(faultproxy.ToTarget, -1) })
	assert.Panics(t, func() { p.SetBandwidth(faultproxy.Both, -1) })
	assert.Panics(t, func() { p.SetLatency(faultproxy.Both, -time.Second) })
	assert.Equal(t, "to-target", faultproxy.ToTarget.String())
	assert.Equal(t, "both", faultproxy.Both.String())
}

// WaitStats gives up when its context ends.
func TestWaitStatsHonoursContext(t *testing.T) {
	p := startProxy(t, echoTarget(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.WaitStats(ctx, func(s faultproxy.Stats) bool { return s.Accepted > 0 })
	assert.ErrorIs(t, err, context.Canceled)
}
