package zmtp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/netx"
	"github.com/brookmq/brook/transport/zmtp"
)

// byteCounter counts bytes and lets a test wait for a count: the signal
// that a reader has taken what its peers sent.
type byteCounter struct {
	mu   sync.Mutex
	n    int64
	wake chan struct{} // closed by the next add; made by a waiter
}

func (c *byteCounter) add(n int) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	c.n += int64(n)
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
	c.mu.Unlock()
}

func (c *byteCounter) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// waitFor blocks until the count reaches n or ctx ends.
func (c *byteCounter) waitFor(ctx context.Context, n int64) error {
	for {
		c.mu.Lock()
		if c.n >= n {
			c.mu.Unlock()
			return nil
		}
		if c.wake == nil {
			c.wake = make(chan struct{})
		}
		wake := c.wake
		got := c.n
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d bytes read: %w", got, n, ctx.Err())
		}
	}
}

// countingTCP serves tcp:// like the default transport, but every
// connection it accepts counts the bytes its zmtp.Conn reads, so a test
// knows when the socket's readers have taken what the peers sent. The
// connection underneath stays a *net.TCPConn (SyscallConn included), so
// the reader sees the socket the real transport gives it. It only listens.
type countingTCP struct {
	read byteCounter
}

func (t *countingTCP) Schemes() []string { return []string{"tcp"} }

func (t *countingTCP) Dial(context.Context, transport.Endpoint) (transport.Conn, error) {
	return nil, errors.New("countingTCP only listens")
}

func (t *countingTCP) Listen(ep transport.Endpoint) (transport.Listener, error) {
	ln, err := net.Listen("tcp", ep.Address)
	if err != nil {
		return nil, err
	}
	tl := ln.(*net.TCPListener)
	return &countingListener{t: t, ln: tl, endpoint: "tcp://" + tl.Addr().String()}, nil
}

type countingListener struct {
	t        *countingTCP
	ln       *net.TCPListener
	endpoint string
}

func (l *countingListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := netx.AcceptContext(ctx, l.ln, l.ln.AcceptTCP)
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			return nil, fmt.Errorf("%w: %s", transport.ErrClosed, l.endpoint)
		}
		return nil, err
	}
	cc := &countingConn{TCPConn: c, read: &l.t.read}
	return zmtp.NewConn(cc, "tcp://"+c.LocalAddr().String(), "tcp://"+c.RemoteAddr().String(), zmtp.Options{}), nil
}

func (l *countingListener) Endpoint() string { return l.endpoint }

func (l *countingListener) Close() error {
	if err := l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// countingConn is a TCP connection that counts what is read from it.
type countingConn struct {
	*net.TCPConn
	read *byteCounter
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	c.read.add(n)
	return n, err
}

// rawPush connects to addr and shakes hands as a ZMTP 3.1 PUSH peer,
// writing every byte itself: greeting, READY, then reading the brook
// socket's greeting and READY.
func rawPush(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10], greeting[11] = 0xFF, 0x7F, 3, 1
	copy(greeting[12:], "NULL")
	ready := []byte("\x05READY\x0bSocket-Type\x00\x00\x00\x04PUSH")
	_, err = c.Write(append(append(greeting, 0x04, byte(len(ready))), ready...))
	require.NoError(t, err)

	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	theirs := make([]byte, 64)
	_, err = io.ReadFull(c, theirs)
	require.NoError(t, err)
	require.Equal(t, byte(0xFF), theirs[0])
	hdr := make([]byte, 2)
	_, err = io.ReadFull(c, hdr)
	require.NoError(t, err)
	require.Equal(t, byte(0x04), hdr[0], "a short command frame: READY")
	body := make([]byte, hdr[1])
	_, err = io.ReadFull(c, body)
	require.NoError(t, err)
	require.Equal(t, "\x05READY", string(body[:6]))
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	return c
}

// waitEvents waits for n monitor events of type typ.
func waitEvents(t *testing.T, events <-chan socket.Event, typ socket.EventType, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for n > 0 {
		select {
		case e, ok := <-events:
			require.True(t, ok, "monitor closed")
			if e.Type == typ {
				n--
			}
		case <-timeout:
			require.FailNow(t, "timed out", "%d %s events missing", n, typ)
		}
	}
}

// Issue 18: raw peers complete a real handshake with a PULL socket,
// announce a frame of the socket's maximum size (256 MiB) and trickle its
// bytes. The socket's live heap grows with what its readers have taken,
// never with what was announced: nothing for a header alone, at most
// twice the bytes received (plus one 4 KiB start per frame) as the bytes
// come. The reader used to reserve 8 MiB per header, 800 MiB for 100 peers
// that had sent 9 bytes each.
func TestHugeAnnouncementsHoldWhatArrives(t *testing.T) {
	const peers = 100
	var counting countingTCP
	pull, err := socket.New(socket.Pull, socket.WithTransport(&counting))
	require.NoError(t, err)
	defer pull.Close()
	events, stop := pull.Monitor()
	defer stop()
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	addr := pull.LastEndpoint()[len("tcp://"):]

	conns := make([]net.Conn, peers)
	for i := range conns {
		conns[i] = rawPush(t, addr)
	}
	waitEvents(t, events, socket.EventHandshakeSucceeded, peers)
	stop()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	read := counting.read.count() // every handshake byte is in
	base := zmtp.LiveHeap()
	var received int64
	// send writes n bytes to every peer in writes of at most 1 KiB, waits
	// until the socket's readers have taken them all and returns the live
	// heap's growth since the handshakes.
	send := func(chunk []byte, n int) int64 {
		for _, c := range conns {
			for left := n; left > 0; left -= min(left, len(chunk)) {
				_, err := c.Write(chunk[:min(left, len(chunk))])
				require.NoError(t, err)
			}
		}
		received += int64(peers * n)
		require.NoError(t, counting.read.waitFor(ctx, read+received))
		return zmtp.LiveHeap() - base
	}

	header := binary.BigEndian.AppendUint64([]byte{0x02}, socket.DefaultMaxMsgSize)
	grown := send(header, len(header))
	t.Logf("%d headers announcing %d bytes: live heap %+d bytes", peers, socket.DefaultMaxMsgSize, grown)
	assert.Less(t, grown, int64(512<<10), "a header alone must reserve nothing")

	filler := make([]byte, 1<<10)
	for _, n := range []int{49, 4<<10 - 49, 28 << 10, 96 << 10} {
		grown = send(filler, n)
		body := received - int64(peers*len(header))
		bound := 2*body + peers*zmtp.GrowStart + 512<<10
		t.Logf("%d body bytes received from %d peers: live heap %+d bytes (bound %d)", body, peers, grown, bound)
		assert.Less(t, grown, bound, "live heap beyond twice what arrived")
	}
	body := received - int64(peers*len(header))
	assert.Less(t, float64(grown)/float64(body), 3.0, "live heap per body byte received")
}

// Issue 16 item 1 through a socket: 256 KiB messages into a PULL with a
// receive high-water mark of 10. While the application receives and
// drops them, the receiver's live heap stays within a small multiple of
// HWM x size (the old reader peaked at 40 times it); once the application
// has dropped them the heap returns to its baseline; an application that
// keeps one message in 256 pins what it keeps.
func TestReceiveMemoryFollowsHWM(t *testing.T) {
	const size, hwm = 256 << 10, 10
	pull, err := socket.New(socket.Pull, socket.WithRecvHWM(hwm))
	require.NoError(t, err)
	defer pull.Close()
	push, err := socket.New(socket.Push, socket.WithSendHWM(hwm))
	require.NoError(t, err)
	defer push.Close()
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	require.NoError(t, push.Connect(pull.LastEndpoint()))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, push.Send(ctx, socket.NewMsg([]byte("warm-up"))))
	_, err = pull.Recv(ctx)
	require.NoError(t, err)

	// One payload for every message: Send only reads it, so the sender
	// holds 256 KiB however many messages are on their way.
	payload := make([]byte, size)
	sendN := func(n int) <-chan error {
		done := make(chan error, 1)
		go func() {
			for range n {
				if err := push.Send(ctx, socket.NewMsg(payload)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		return done
	}
	recv := func() socket.Msg {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Len(t, m.Frames, 1)
		require.Len(t, m.Frames[0], size)
		return m
	}
	base := zmtp.LiveHeap()

	const dropped = 250
	sent := sendN(dropped)
	var peak int64
	for i := range dropped {
		recv()
		if i%10 == 9 {
			peak = max(peak, zmtp.LiveHeap()-base)
		}
	}
	require.NoError(t, <-sent)
	bound := int64(4 * hwm * size)
	t.Logf("peak live heap while receiving %d messages of %d bytes at HWM %d: %+d bytes (%.1f x HWM x size)",
		dropped, size, hwm, peak, float64(peak)/float64(hwm*size))
	assert.Less(t, peak, bound, "live heap beyond 4 x HWM x size")

	grown := zmtp.LiveHeap() - base
	t.Logf("live heap once all %d were dropped: %+d bytes", dropped, grown)
	assert.Less(t, grown, int64(1<<20), "live heap after every message was dropped")

	const n, every = 512, 256
	sent = sendN(n)
	var kept []socket.Msg
	for i := range n {
		m := recv()
		if i%every == every-1 {
			kept = append(kept, m)
		}
	}
	require.NoError(t, <-sent)
	grown = zmtp.LiveHeap() - base
	t.Logf("live heap keeping %d of %d messages: %+d bytes", len(kept), n, grown)
	assert.Less(t, grown, int64(len(kept)*size+1<<20), "live heap beyond the kept messages")
	runtime.KeepAlive(kept)
	runtime.KeepAlive(payload)
}
