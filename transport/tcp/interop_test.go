package tcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/internal/pyzmq"
	"github.com/brookmq/brook/transport"
)

// interopMsgs is what both directions of the PUSH/PULL interop tests send:
// multipart, empty and long frames, around the short/long size boundary.
func interopMsgs() []transport.Msg {
	return []transport.Msg{
		transport.NewMsg([]byte("hello")),
		transport.NewMsg([]byte("multi"), []byte("part"), []byte("message")),
		transport.NewMsg([]byte{}),
		transport.NewMsg([]byte{}, []byte("after empty"), []byte{}),
		transport.NewMsg(bytes.Repeat([]byte{0xAB}, 255)),
		transport.NewMsg(bytes.Repeat([]byte{0xCD}, 256)),
		transport.NewMsg(bytes.Repeat([]byte("L"), 1<<20), []byte("tail")),
	}
}

// pyMsgs is interopMsgs as a Python expression.
const pyMsgs = `[[b"hello"], [b"multi", b"part", b"message"], [b""], [b"", b"after empty", b""],
 [b"\xab"*255], [b"\xcd"*256], [b"L"*(1<<20), b"tail"]]`

func dialShake(t *testing.T, endpoint, socketType string, cfg transport.Config) (transport.Conn, transport.PeerInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := New().Dial(ctx, mustEndpoint(t, endpoint))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	cfg.SocketType = socketType
	info, err := c.Handshake(ctx, &cfg)
	require.NoError(t, err)
	return c, info
}

func acceptShake(t *testing.T, ln transport.Listener, socketType string, cfg transport.Config) (transport.Conn, transport.PeerInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ln.Accept(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	cfg.SocketType = socketType
	info, err := c.Handshake(ctx, &cfg)
	require.NoError(t, err)
	return c, info
}

func TestInteropLibzmqPushToConn(t *testing.T) {
	version := pyzmq.Require(t)
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.PUSH)
port = s.bind_to_random_port("tcp://127.0.0.1")
emit(port)
for m in `+pyMsgs+`:
    s.send_multipart(m)
sys.stdin.read()
s.close(linger=0)
`)
	var port int
	_, err := fmt.Sscanf(py.Line(0), "[%d]", &port)
	require.NoError(t, err)
	c, info := dialShake(t, fmt.Sprintf("tcp://127.0.0.1:%d", port), "PULL", transport.Config{})
	assert.Equal(t, "PUSH", info.SocketType)
	assert.Equal(t, 31, info.Version, "libzmq %s announces ZMTP 3.1", version)
	assert.Nil(t, info.Identity, "libzmq PUSH announces no identity")
	for i, want := range interopMsgs() {
		got, err := c.ReadMsg()
		require.NoError(t, err, "message %d", i)
		assert.Equal(t, want.Frames, emptyNotNil(got.Frames), "message %d", i)
	}
	py.CloseInput()
	py.Wait(0)
}

func TestInteropConnPushToLibzmq(t *testing.T) {
	pyzmq.Require(t)
	ln := listen(t, New(), "tcp://127.0.0.1:0")
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.PULL)
s.connect(sys.argv[1])
for i in range(int(sys.argv[2])):
    emit(*hexed(s.recv_multipart()))
s.close(linger=0)
`, ln.Endpoint(), fmt.Sprint(len(interopMsgs())))
	c, info := acceptShake(t, ln, "PUSH", transport.Config{})
	assert.Equal(t, "PULL", info.SocketType)
	for _, m := range interopMsgs() {
		require.NoError(t, c.WriteMsg(m))
	}
	require.NoError(t, c.Flush())
	for i, want := range interopMsgs() {
		got, err := pyzmq.DecodeFrames(py.Line(0))
		require.NoError(t, err)
		assert.Equal(t, want.Frames, got, "message %d", i)
	}
	py.Wait(0)
}

// TestInteropHeartbeats: libzmq with ZMQ_HEARTBEAT_IVL pings an idle
// brook connection for several of its timeouts; the connection survives
// (brook answers PONG), and brook's own PINGs get PONGs from libzmq, so
// brook's heartbeat timeout never fires either. The timeouts (400 ms, over
// 2.5 of them idle) leave room for a loaded machine's scheduling delays,
// which a 100 ms timeout did not; pings still go every 20 ms.
func TestInteropHeartbeats(t *testing.T) {
	pyzmq.Require(t)
	ln := listen(t, New(), "tcp://127.0.0.1:0")
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.PAIR)
s.setsockopt(zmq.HEARTBEAT_IVL, 20)
s.setsockopt(zmq.HEARTBEAT_TIMEOUT, 400)
s.setsockopt(zmq.HEARTBEAT_TTL, 1000)
mon = s.get_monitor_socket(zmq.EVENT_DISCONNECTED)
s.connect(sys.argv[1])
time.sleep(1.0)
disconnects = 0
while mon.poll(0):
    mon.recv_multipart()
    disconnects += 1
s.send(b"still here")
emit(disconnects)
sys.stdin.read()
s.disable_monitor()
mon.close(linger=0)
s.close(linger=0)
`, ln.Endpoint())
	c, _ := acceptShake(t, ln, "PAIR", transport.Config{
		HeartbeatInterval: 20 * time.Millisecond,
		HeartbeatTimeout:  400 * time.Millisecond,
	})
	m, err := c.ReadMsg() // idle until libzmq speaks, answering its PINGs
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("still here")}, m.Frames)
	assert.Equal(t, "[0]", py.Line(0), "libzmq saw no disconnect")
	py.CloseInput()
	py.Wait(0)
}

// TestInteropSubscribeToLibzmqXPub: brook SUB subscribes (a SUBSCRIBE
// command to a 3.1 peer); libzmq's XPUB sees it in its usual 0x01+topic
// form and its filtering sends only matching messages.
func TestInteropSubscribeToLibzmqXPub(t *testing.T) {
	pyzmq.Require(t)
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.XPUB)
port = s.bind_to_random_port("tcp://127.0.0.1")
emit(port)
emit(*hexed([s.recv()]))
for i in range(3):
    s.send_multipart([b"other", b"%d" % i])
    s.send_multipart([b"news", b"%d" % i])
emit(*hexed([s.recv()]))
sys.stdin.read()
s.close(linger=0)
`)
	var port int
	_, err := fmt.Sscanf(py.Line(0), "[%d]", &port)
	require.NoError(t, err)
	c, _ := dialShake(t, fmt.Sprintf("tcp://127.0.0.1:%d", port), "SUB", transport.Config{})
	require.NoError(t, c.WriteSubscription([]byte("news"), true))
	require.NoError(t, c.Flush())
	sub, err := pyzmq.DecodeFrames(py.Line(0))
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("\x01news")}, sub)
	for i := range 3 {
		m, err := c.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, [][]byte{[]byte("news"), []byte(fmt.Sprint(i))}, m.Frames)
	}
	require.NoError(t, c.WriteSubscription([]byte("news"), false))
	require.NoError(t, c.Flush())
	cancel, err := pyzmq.DecodeFrames(py.Line(0))
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("\x00news")}, cancel)
	py.CloseInput()
	py.Wait(0)
}

// TestInteropLibzmqSubToConn: libzmq's SUB subscribes to a brook PUB; the
// subscription arrives from ReadMsg in 0x01+topic form, whatever libzmq
// used on the wire, and filtered sends reach it.
func TestInteropLibzmqSubToConn(t *testing.T) {
	pyzmq.Require(t)
	ln := listen(t, New(), "tcp://127.0.0.1:0")
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.SUB)
s.setsockopt(zmq.SUBSCRIBE, b"a")
s.connect(sys.argv[1])
emit(*hexed(s.recv_multipart()))
s.close(linger=0)
`, ln.Endpoint())
	c, info := acceptShake(t, ln, "PUB", transport.Config{})
	assert.Equal(t, "SUB", info.SocketType)
	m, err := c.ReadMsg()
	require.NoError(t, err)
	topic, subscribe, ok := transport.ParseSubscription(m)
	require.True(t, ok, "got %q", m.Frames)
	assert.True(t, subscribe)
	assert.Equal(t, "a", string(topic))
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("abc"), []byte("payload"))))
	require.NoError(t, c.Flush())
	got, err := pyzmq.DecodeFrames(py.Line(0))
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("abc"), []byte("payload")}, got)
	py.Wait(0)
}

// TestInteropIncompatibleLibzmq: a libzmq PUB connecting to a brook PULL
// fails its handshake: either brook sees the PUB and refuses it, or libzmq,
// having read brook's READY first, hangs up before sending its own.
func TestInteropIncompatibleLibzmq(t *testing.T) {
	pyzmq.Require(t)
	ln := listen(t, New(), "tcp://127.0.0.1:0")
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.PUB)
s.connect(sys.argv[1])
sys.stdin.read()
s.close(linger=0)
`, ln.Endpoint())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ln.Accept(ctx)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Handshake(ctx, &transport.Config{SocketType: "PULL"})
	require.Error(t, err)
	if !errors.Is(err, io.EOF) {
		require.ErrorIs(t, err, transport.ErrIncompatible)
		assert.True(t, strings.Contains(err.Error(), "PUB"), err.Error())
	}
	py.CloseInput()
	py.Wait(0)
}

// emptyNotNil turns nil frames into empty ones, for comparison with
// literals.
func emptyNotNil(frames [][]byte) [][]byte {
	for i, f := range frames {
		if f == nil {
			frames[i] = []byte{}
		}
	}
	return frames
}
