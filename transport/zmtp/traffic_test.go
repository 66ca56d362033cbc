package zmtp

import (
	"bytes"
	"encoding/binary"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// shaken returns a Conn under test that completed a handshake as
// cfg.SocketType (PULL when cfg is nil) with a raw PUSH peer announcing
// ZMTP 3.minor.
func shaken(t *testing.T, minor byte, cfg *transport.Config, opts Options) (*Conn, *rawPeer) {
	t.Helper()
	if cfg == nil {
		cfg = &transport.Config{SocketType: "PULL"}
	}
	peerType := "PUSH"
	switch cfg.SocketType {
	case "PUB", "XPUB":
		peerType = "SUB"
	case "SUB", "XSUB":
		peerType = "PUB"
	case "PUSH":
		peerType = "PULL"
	}
	c, p := newRawPeer(t, opts)
	res := handshakeAsync(c, cfg)
	p.handshake(minor, peerType)
	require.NoError(t, (<-res).err)
	return c, p
}

func readAsync(c *Conn) <-chan hsMsg {
	ch := make(chan hsMsg, 1)
	go func() {
		m, err := c.ReadMsg()
		ch <- hsMsg{m, err}
	}()
	return ch
}

type hsMsg struct {
	m   transport.Msg
	err error
}

func TestLongFormAndEmptyFrames(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	p.send(
		rawLongFrame(flagMore, []byte("hello")),
		rawLongFrame(flagMore, nil),
		rawFrame(0, nil),
		rawLongFrame(0, bytes.Repeat([]byte("z"), 300)),
	)
	m, err := c.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("hello"), {}, {}}, m.Frames)
	m, err = c.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, [][]byte{bytes.Repeat([]byte("z"), 300)}, m.Frames)
}

func TestWireForm(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PUSH"}, Options{})
	big := bytes.Repeat([]byte("b"), 256)
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("a"), nil, big)))
	require.NoError(t, c.WriteMsg(transport.Msg{}))
	require.NoError(t, c.Flush())
	want := append(append([]byte{flagMore, 1, 'a', flagMore, 0, flagLong}, binary.BigEndian.AppendUint64(nil, 256)...), big...)
	want = append(want, 0, 0)
	assert.Equal(t, want, p.readN(len(want)))
}

func TestFrameSizeLimits(t *testing.T) {
	const limit = 1 << 20
	t.Run("single frame", func(t *testing.T) {
		c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", MaxMsgSize: limit}, Options{})
		p.send(rawFrame(0, make([]byte, limit)), rawFrame(0, make([]byte, limit+1)))
		m, err := c.ReadMsg()
		require.NoError(t, err)
		assert.Len(t, m.Frames[0], limit)
		_, err = c.ReadMsg()
		assert.ErrorIs(t, err, transport.ErrTooLarge)
	})
	t.Run("multipart total", func(t *testing.T) {
		c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", MaxMsgSize: 1000}, Options{})
		p.send(rawFrame(flagMore, make([]byte, 600)), rawFrame(0, make([]byte, 600)))
		_, err := c.ReadMsg()
		assert.ErrorIs(t, err, transport.ErrTooLarge)
		_, err = c.ReadMsg()
		assert.ErrorIs(t, err, transport.ErrTooLarge, "the failure is sticky")
	})
}

// allocatedDuring returns how many bytes the process allocated while fn ran.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestHugeFrameAnnouncement(t *testing.T) {
	huge := binary.BigEndian.AppendUint64([]byte{flagLong}, 1<<62)
	t.Run("with limit", func(t *testing.T) {
		c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20}, Options{})
		p.send(huge)
		var err error
		n := allocatedDuring(func() { _, err = c.ReadMsg() })
		assert.ErrorIs(t, err, transport.ErrTooLarge)
		assert.Less(t, n, uint64(1<<20), "allocated %d bytes for a frame that was only announced", n)
	})
	t.Run("without limit", func(t *testing.T) {
		c, p := shaken(t, 1, nil, Options{})
		p.send(huge, make([]byte, 1000))
		require.NoError(t, p.c.Close())
		var err error
		n := allocatedDuring(func() { _, err = c.ReadMsg() })
		assert.Error(t, err)
		assert.Less(t, n, uint64(4*growStart), "allocated %d bytes for 1000 bytes received", n)
	})
	t.Run("beyond int64", func(t *testing.T) {
		c, p := shaken(t, 1, nil, Options{})
		p.send(binary.BigEndian.AppendUint64([]byte{flagLong}, 1<<63))
		_, err := c.ReadMsg()
		assert.ErrorIs(t, err, transport.ErrTooLarge)
	})
}

func TestBadFlags(t *testing.T) {
	for _, flags := range []byte{0x08, 0x10, 0x80, 0xFF, flagCommand | flagMore, flagCommand | flagMore | flagLong} {
		c, p := shaken(t, 1, nil, Options{})
		p.send([]byte{flags, 0})
		_, err := c.ReadMsg()
		assert.ErrorIs(t, err, transport.ErrProtocol, "flags 0x%02x", flags)
	}
}

func TestMalformedCommands(t *testing.T) {
	for name, frame := range map[string][]byte{
		"empty":           rawFrame(flagCommand, nil),
		"zero name":       rawFrame(flagCommand, []byte{0}),
		"name overflow":   rawFrame(flagCommand, []byte{9, 'P', 'I'}),
		"short ping":      appendCommand(nil, cmdPing, []byte{1}),
		"sub mid-message": append(rawFrame(flagMore, []byte("a")), appendCommand(nil, cmdSubscribe, []byte("t"))...),
	} {
		t.Run(name, func(t *testing.T) {
			c, p := shaken(t, 1, nil, Options{})
			p.send(frame)
			_, err := c.ReadMsg()
			assert.ErrorIs(t, err, transport.ErrProtocol)
		})
	}
}

func TestPeerErrorCommand(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	p.send(appendCommand(nil, cmdError, errorData("shutting down")))
	_, err := c.ReadMsg()
	var pe *transport.PeerError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "shutting down", pe.Reason)
	assert.Error(t, c.WriteMsg(transport.NewMsg([]byte("x"))), "the connection is closed")
}

func TestUnknownCommandsAreIgnored(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	p.send(
		appendCommand(nil, "X-FUTURE", []byte("whatever")),
		appendCommand(nil, cmdPong, []byte("ctx")),
		appendCommand(nil, cmdReady),
		rawFrame(0, []byte("after")),
	)
	m, err := c.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("after")}, m.Frames)
}

func TestPingIsAnsweredWithPong(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	reads := readAsync(c)
	p.send(appendCommand(nil, cmdPing, []byte{0, 0}, []byte("context-123")))
	name, data := p.readCommand()
	assert.Equal(t, cmdPong, name)
	assert.Equal(t, []byte("context-123"), data)
	// A PING in the middle of a multipart message is answered too, and the
	// message arrives whole.
	p.send(rawFrame(flagMore, []byte("a")), appendCommand(nil, cmdPing, []byte{0, 0}, []byte("mid")), rawFrame(0, []byte("b")))
	name, data = p.readCommand()
	assert.Equal(t, cmdPong, name)
	assert.Equal(t, []byte("mid"), data)
	r := <-reads
	require.NoError(t, r.err)
	assert.Equal(t, [][]byte{[]byte("a"), []byte("b")}, r.m.Frames)
}

func TestPingIsAnsweredWithoutHeartbeats(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", HeartbeatInterval: time.Hour}, Options{NoHeartbeat: true})
	_ = readAsync(c)
	p.send(appendCommand(nil, cmdPing, []byte{0, 0}))
	name, data := p.readCommand()
	assert.Equal(t, cmdPong, name)
	assert.Empty(t, data)
}

func TestHeartbeatSendsPings(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{
		SocketType:        "PULL",
		HeartbeatInterval: 10 * time.Millisecond,
		HeartbeatTimeout:  10 * time.Second,
		HeartbeatTTL:      1500 * time.Millisecond,
	}, Options{})
	_ = readAsync(c)
	for range 3 {
		name, data := p.readCommand()
		require.Equal(t, cmdPing, name)
		assert.Equal(t, []byte{0, 15}, data, "TTL in deciseconds, no context")
		p.send(appendCommand(nil, cmdPong))
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{
		SocketType:        "PULL",
		HeartbeatInterval: 10 * time.Millisecond,
		HeartbeatTimeout:  30 * time.Millisecond,
	}, Options{})
	reads := readAsync(c)
	name, _ := p.readCommand()
	require.Equal(t, cmdPing, name)
	// The peer never answers.
	r := <-reads
	assert.ErrorIs(t, r.err, transport.ErrPeerTimeout)
	assert.ErrorIs(t, c.WriteMsg(transport.NewMsg([]byte("x"))), transport.ErrPeerTimeout)
}

func TestPeerTTL(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	reads := readAsync(c)
	// TTL 0.1 s, then silence (after reading our PONG).
	p.send(appendCommand(nil, cmdPing, []byte{0, 1}))
	name, _ := p.readCommand()
	require.Equal(t, cmdPong, name)
	r := <-reads
	assert.ErrorIs(t, r.err, transport.ErrPeerTimeout)
}

func TestNoHeartbeatSendsNoPing(t *testing.T) {
	t.Run("option", func(t *testing.T) {
		c, p := shaken(t, 1, &transport.Config{SocketType: "PUSH", HeartbeatInterval: time.Millisecond}, Options{NoHeartbeat: true})
		checkNoPing(t, c, p)
	})
	t.Run("3.0 peer", func(t *testing.T) {
		c, p := shaken(t, 0, &transport.Config{SocketType: "PUSH", HeartbeatInterval: time.Millisecond}, Options{})
		checkNoPing(t, c, p)
	})
}

// checkNoPing sends two messages with many heartbeat intervals between
// them and checks nothing else was sent.
func checkNoPing(t *testing.T, c *Conn, p *rawPeer) {
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("first"))))
	require.NoError(t, c.Flush())
	time.Sleep(20 * time.Millisecond) // heartbeats would be due many times over
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("second"))))
	require.NoError(t, c.Flush())
	_, f1 := p.readFrame()
	_, f2 := p.readFrame()
	assert.Equal(t, "first", string(f1))
	assert.Equal(t, "second", string(f2), "no PING in between")
}

func TestSubscriptionsInbound(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PUB"}, Options{})
	p.send(
		appendCommand(nil, cmdSubscribe, []byte("news")),
		appendCommand(nil, cmdCancel, []byte("news")),
		appendCommand(nil, cmdSubscribe),
		rawFrame(0, []byte("\x01legacy")),
		appendCommand(nil, cmdSubscribe, bytes.Repeat([]byte("t"), 5000)),
	)
	want := []struct {
		topic string
		sub   bool
	}{{"news", true}, {"news", false}, {"", true}, {"legacy", true}, {string(bytes.Repeat([]byte("t"), 5000)), true}}
	for _, w := range want {
		m, err := c.ReadMsg()
		require.NoError(t, err)
		topic, sub, ok := transport.ParseSubscription(m)
		require.True(t, ok)
		assert.Equal(t, w.topic, string(topic))
		assert.Equal(t, w.sub, sub)
	}
}

func TestSubscriptionsOutbound(t *testing.T) {
	t.Run("3.1 peer gets commands", func(t *testing.T) {
		c, p := shaken(t, 1, &transport.Config{SocketType: "SUB"}, Options{})
		require.NoError(t, c.WriteSubscription([]byte("abc"), true))
		require.NoError(t, c.WriteSubscription(nil, false))
		require.NoError(t, c.Flush())
		name, data := p.readCommand()
		assert.Equal(t, cmdSubscribe, name)
		assert.Equal(t, []byte("abc"), data)
		name, data = p.readCommand()
		assert.Equal(t, cmdCancel, name)
		assert.Empty(t, data)
	})
	t.Run("3.0 peer gets messages", func(t *testing.T) {
		c, p := shaken(t, 0, &transport.Config{SocketType: "SUB"}, Options{})
		require.NoError(t, c.WriteSubscription([]byte("abc"), true))
		require.NoError(t, c.WriteSubscription([]byte("abc"), false))
		require.NoError(t, c.Flush())
		flags, body := p.readFrame()
		assert.Equal(t, byte(0), flags)
		assert.Equal(t, []byte("\x01abc"), body)
		flags, body = p.readFrame()
		assert.Equal(t, byte(0), flags)
		assert.Equal(t, []byte("\x00abc"), body)
	})
	t.Run("large topic", func(t *testing.T) {
		c, p := shaken(t, 1, &transport.Config{SocketType: "SUB"}, Options{WriteBufferSize: 4096})
		topic := bytes.Repeat([]byte("q"), 10000)
		require.NoError(t, c.WriteSubscription(topic, true))
		require.NoError(t, c.Flush())
		name, data := p.readCommand()
		assert.Equal(t, cmdSubscribe, name)
		assert.Equal(t, topic, data)
	})
}

func TestCloseUnblocks(t *testing.T) {
	a, b := pipeConns(t, Options{})
	mustHandshake(t, a, b, nil, nil)
	reads := readAsync(a)
	writes := make(chan error, 1)
	go func() {
		// net.Pipe is unbuffered and b never reads: this write blocks.
		err := a.WriteMsg(transport.NewMsg(make([]byte, 1<<20)))
		writes <- err
	}()
	require.NoError(t, a.Close())
	r := <-reads
	assert.ErrorIs(t, r.err, transport.ErrClosed)
	assert.ErrorIs(t, r.err, net.ErrClosed)
	assert.ErrorIs(t, <-writes, transport.ErrClosed)
	assert.ErrorIs(t, a.Flush(), transport.ErrClosed)
	assert.ErrorIs(t, a.WriteSubscription(nil, true), transport.ErrClosed)
	_, err := a.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrClosed)
	require.NoError(t, a.Close(), "Close twice")
	_, err = b.ReadMsg()
	assert.Error(t, err, "the peer sees the connection end")
}

func TestPeerCloseEndsRead(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	p.send(rawFrame(flagMore, []byte("half")))
	require.NoError(t, p.c.Close())
	_, err := c.ReadMsg()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "raw")
}

func TestSmallBuffers(t *testing.T) {
	a, b := tcpConns(t, Options{ReadBufferSize: 1, WriteBufferSize: 1})
	mustHandshake(t, a, b, nil, nil)
	var msgs []transport.Msg
	for i := range 200 {
		msgs = append(msgs, transport.NewMsg(bytes.Repeat([]byte{byte(i)}, i*37), []byte{byte(i)}))
	}
	done := sendAsync(a, msgs...)
	for i, want := range msgs {
		got, err := b.ReadMsg()
		require.NoError(t, err)
		require.Equal(t, want.Frames, normalise(got.Frames), "message %d", i)
	}
	require.NoError(t, <-done)
}

// normalise turns empty frames into nil-free empty slices for comparison.
func normalise(frames [][]byte) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		if len(f) == 0 {
			out[i] = []byte{}
			continue
		}
		out[i] = f
	}
	return out
}
