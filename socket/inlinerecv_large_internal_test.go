package socket

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// largeBody is a 64 KiB body that says which message it is all along.
func largeBody(i int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "%08d", i), 8<<10)
}

// A PULL's Recv reads a stream of 64 KiB messages inline too: the reader
// hands its role over after a batch of them as after small ones, and the
// application keeps it to the end (before, each message crossed from the
// reader goroutine, and the first Recv inline gave the role back on a
// full read buffer).
func TestInlineRecvPullLargeStream(t *testing.T) {
	pull, push := rxPull(t)
	ctx := rxCtx(t)
	const n = 300
	errc := rxSendAll(ctx, push, n, largeBody)
	for i := range n {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Len(t, m.Frames, 1)
		require.True(t, bytes.Equal(largeBody(i), m.Frames[0]), "message %d", i)
		m.Release()
	}
	require.NoError(t, <-errc)
	held, busy := rxState(pull)
	assert.True(t, held, "the application keeps the role")
	assert.False(t, busy)
	assert.Empty(t, pull.Stats().Dropped)
	pull.rx.mu.Lock()
	reads := pull.rx.reads
	pull.rx.mu.Unlock()
	assert.NotZero(t, reads, "Recv read inline")
}

// rawPush connects a PUSH written by hand to endpoint (tcp) and plays a
// NULL handshake, to send a message in pieces.
func rawPush(t *testing.T, endpoint string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(endpoint, "tcp://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	rawGreet(t, c, "PUSH")
	theirs := make([]byte, 2)
	_, err = io.ReadFull(c, theirs)
	require.NoError(t, err)
	_, err = io.ReadFull(c, make([]byte, theirs[1])) // their READY
	require.NoError(t, err)
	require.NoError(t, c.SetDeadline(time.Time{}))
	return c
}

// rawLong is the wire form of a single-frame message in the long form.
func rawLong(body []byte) []byte {
	return append(binary.BigEndian.AppendUint64([]byte{0x02}, uint64(len(body))), body...)
}

// rxPullRaw returns a PULL bound over tcp and a raw PUSH connected to it,
// after one small message (so the PULL's reader has handed its role
// over).
func rxPullRaw(t *testing.T, pull *Socket) net.Conn {
	t.Helper()
	ctx := rxCtx(t)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	c := rawPush(t, pull.LastEndpoint())
	_, err := c.Write([]byte{0x00, 0x05, 'h', 'e', 'l', 'l', 'o'})
	require.NoError(t, err)
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "hello", string(m.Frames[0]))
	rxHandedOver(t, pull, 1)
	return c
}

// cutMidBody has a Recv read inline until it has taken half the body of
// a 64 KiB message the peer sent half of, then ends that Recv's ctx: the
// part stays with the connection, and the role with the application.
// It returns the whole message's body.
func cutMidBody(t *testing.T, pull *Socket, c net.Conn) []byte {
	t.Helper()
	body := largeBody(7)
	wire := rawLong(body)
	_, err := c.Write(wire[:len(wire)/2])
	require.NoError(t, err)
	// Each try reads inline until its ctx ends; the half is taken once
	// the connection holds a message read in part (ReadPending, looked at
	// under the lock while no Recv reads).
	for start := time.Now(); !cutOnce(t, pull); {
		require.Less(t, time.Since(start), 10*time.Second, "Recv takes the half that arrived")
	}
	_, err = c.Write(wire[len(wire)/2:])
	require.NoError(t, err)
	return body
}

// cutOnce runs a Recv that reads inline until its ctx ends, and reports
// whether the connection then holds bytes read and not yet parsed.
func cutOnce(t *testing.T, pull *Socket) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(rxCtx(t))
	res := rxRecv(t, ctx, pull)
	cancel()
	r := <-res
	require.ErrorIs(t, r.err, context.Canceled)
	pull.rx.mu.Lock()
	defer pull.rx.mu.Unlock()
	require.NotNil(t, pull.rx.holder, "a Recv whose ctx ends keeps the role")
	return pull.rx.r.ReadPending()
}

// A message whose body a Recv read in part when its ctx ended comes whole
// to the next Recv, which goes on reading it inline.
func TestInlineRecvPullLargeCutThenInline(t *testing.T) {
	pull := rxSocket(t, Pull)
	c := rxPullRaw(t, pull)
	body := cutMidBody(t, pull, c)
	m, err := pull.Recv(rxCtx(t))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(body, m.Frames[0]), "the message comes whole")
	held, _ := rxState(pull)
	assert.True(t, held)
}

// A message whose body a Recv read in part is finished by the reader
// goroutine when it takes its role back (no Recv for a period), and
// queued whole.
func TestInlineRecvPullLargeCutThenReclaimed(t *testing.T) {
	pull := rxLiveSocket(t, Pull, WithLinger(0))
	c := rxPullRaw(t, pull)
	body := cutMidBody(t, pull, c)
	require.Eventually(t, func() bool { held, _ := rxState(pull); return !held }, 10*time.Second, time.Millisecond,
		"the reader goroutine takes its role back")
	require.Eventually(t, func() bool { return pull.pat.(queueReader).Unread() == 1 }, 10*time.Second, time.Millisecond,
		"the reader goroutine queues the message")
	m, err := pull.Recv(rxCtx(t))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(body, m.Frames[0]), "the message comes whole")
}

// A message whose body a Recv read in part is finished by the reader
// goroutine when another pipe comes (the role goes back, so that both
// pipes are read by their reader goroutines).
func TestInlineRecvPullLargeCutThenOtherPipe(t *testing.T) {
	pull := rxSocket(t, Pull)
	c := rxPullRaw(t, pull)
	body := cutMidBody(t, pull, c)
	ctx := rxCtx(t)
	other := rxSocket(t, Push)
	require.NoError(t, other.Connect(pull.LastEndpoint()))
	require.NoError(t, other.Send(ctx, NewMsg([]byte("other"))))
	got := map[string]bool{}
	for range 2 {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		if bytes.Equal(body, m.Frames[0]) {
			got["large"] = true
		} else {
			got[string(m.Frames[0])] = true
		}
	}
	assert.Equal(t, map[string]bool{"large": true, "other": true}, got)
}

// A PULL closed while a Recv reads a body in part returns ErrClosed.
func TestInlineRecvPullLargeCutThenClose(t *testing.T) {
	pull := rxSocket(t, Pull)
	c := rxPullRaw(t, pull)
	body := largeBody(1)
	wire := rawLong(body)
	_, err := c.Write(wire[:len(wire)/2])
	require.NoError(t, err)
	res := rxRecv(t, rxCtx(t), pull)
	require.NoError(t, pull.Close())
	r := <-res
	require.ErrorIs(t, r.err, ErrClosed)
}
