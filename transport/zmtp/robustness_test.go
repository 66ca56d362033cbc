package zmtp

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// oneByteConn hands the Conn under test at most one byte per Read, the
// worst a trickling peer can do to the reader.
type oneByteConn struct {
	net.Conn
}

func (c oneByteConn) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return c.Conn.Read(p)
}

// trafficAfterReady is a handshake (3.1, PUSH) followed at once by
// messages exercising every path of the reader: short and long frames, a
// multipart message interleaved with a PING, a body larger than the
// handshake read buffer and one larger than half the full read buffer.
func trafficAfterReady() (wire []byte, want [][][]byte) {
	mid := bytes.Repeat([]byte("m"), 3000)
	big := bytes.Repeat([]byte("B"), 40<<10)
	wire = append(rawGreeting(3, 1, "NULL"), rawReady("PUSH", "X-Big", string(bytes.Repeat([]byte("x"), 700)))...)
	wire = append(wire, rawFrame(0, []byte("one"))...)
	wire = append(wire, rawFrame(flagMore, []byte("a"))...)
	wire = append(wire, appendCommand(nil, cmdPing, []byte{0, 0}, []byte("ctx"))...)
	wire = append(wire, rawLongFrame(flagMore, nil)...)
	wire = append(wire, rawFrame(0, mid)...)
	wire = append(wire, rawFrame(0, big)...)
	want = [][][]byte{{[]byte("one")}, {[]byte("a"), {}, mid}, {big}}
	return wire, want
}

func readAll(t *testing.T, c *Conn, n int) [][][]byte {
	t.Helper()
	var got [][][]byte
	for range n {
		m, err := c.ReadMsg()
		require.NoError(t, err)
		got = append(got, m.Frames)
	}
	return got
}

// A peer may send its greeting, READY and first messages in one write (the
// reader then holds messages in its handshake buffer) or one byte at a
// time; both must give the same messages.
func TestTrafficRightAfterReady(t *testing.T) {
	wire, want := trafficAfterReady()
	for _, trickle := range []bool{false, true} {
		name := "one write"
		if trickle {
			name = "one byte per read"
		}
		t.Run(name, func(t *testing.T) {
			a, b := tcpPair(t)
			var rw net.Conn = a
			if trickle {
				rw = oneByteConn{a}
			}
			c := NewConn(rw, "local", "raw", Options{})
			t.Cleanup(func() { _ = c.Close() })
			p := &rawPeer{t: t, c: b}
			p.r = bufio.NewReader(b)
			res := handshakeAsync(c, &transport.Config{SocketType: "PULL"})
			p.send(wire)
			r := <-res
			require.NoError(t, r.err)
			big, ok := r.info.Property("x-big")
			require.True(t, ok)
			assert.Len(t, big, 700)
			got := readAll(t, c, len(want))
			assert.Equal(t, normaliseAll(want), normaliseAll(got))
			require.NoError(t, c.Flush())
			p.readN(greetingSize)
			name, _ := p.readCommand()
			require.Equal(t, cmdReady, name)
			name, data := p.readCommand()
			require.Equal(t, cmdPong, name)
			assert.Equal(t, []byte("ctx"), data)
		})
	}
}

// normaliseAll applies normalise to every message.
func normaliseAll(msgs [][][]byte) [][][]byte {
	out := make([][][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = normalise(m)
	}
	return out
}

// Connections that never complete their handshake (a flood of half-open
// peers) must not each hold the 128 KiB of full buffers.
func TestUnshakenConnIsSmall(t *testing.T) {
	const n = 200
	conns := make([]*Conn, 0, n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		conns = append(conns, NewConn(&streamRW{}, "l", "r", Options{}))
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d bytes per unshaken Conn", per)
	assert.Less(t, per, uint64(4<<10), "bytes allocated per unshaken Conn")
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
}

// Duplicate READY properties whose names differ only in case are one
// property: the last one wins, whatever the map order.
func TestMetadataDuplicateNames(t *testing.T) {
	data := appendMetadata(nil, []property{
		{"Socket-Type", []byte("PUB")},
		{"x-a", []byte("1")},
		{"SOCKET-TYPE", []byte("PUSH")},
		{"X-A", nil},
	})
	for range 20 { // map iteration order varies between runs
		props, err := parseMetadata(data)
		require.NoError(t, err)
		assert.Len(t, props, 2)
		st, ok := lookup(props, propSocketType)
		require.True(t, ok)
		assert.Equal(t, "PUSH", string(st))
		v, ok := lookup(props, "x-a")
		require.True(t, ok)
		assert.Empty(t, v, "a zero-length value is kept as present")
	}
}

// The mechanism field must be exactly "NULL" padded with zeros, as libzmq
// compares all 20 bytes.
func TestMechanismMustMatchExactly(t *testing.T) {
	g := rawGreeting(3, 1, "NULL")
	g[mechanismOffset+10] = 'X'
	c, p := newRawPeer(t, Options{})
	res := handshakeAsync(c, &transport.Config{SocketType: "PULL"})
	p.send(g, rawReady("PUSH"))
	r := <-res
	require.Error(t, r.err)
	assert.ErrorIs(t, r.err, ErrMechanismMismatch)
}

// A READY is bounded whatever the message size limit: an unauthenticated
// peer cannot make us read and index hundreds of megabytes of properties.
func TestHandshakeCommandIsBounded(t *testing.T) {
	for _, limit := range []int64{0, 256 << 20} {
		c, p := newRawPeer(t, Options{})
		res := handshakeAsync(c, &transport.Config{SocketType: "PULL", MaxMsgSize: limit})
		hdr := appendFrameHeader(nil, flagCommand, maxHandshakeCommand+1)
		p.send(rawGreeting(3, 1, "NULL"), hdr) // the body never comes
		r := <-res
		require.Error(t, r.err)
		assert.ErrorIs(t, r.err, transport.ErrTooLarge)
	}
	c, _ := newRawPeer(t, Options{})
	_, err := c.Handshake(context.Background(), &transport.Config{
		SocketType: "PULL",
		Properties: map[string][]byte{"X-Huge": make([]byte, maxHandshakeCommand)},
	})
	require.Error(t, err, "our own READY must fit what a peer accepts")
}

// A PONG sent while the writer is idle goes out on its own, ahead of the
// buffer: messages the writer buffered stay there until it flushes them,
// so the writer always knows what has left (it requeues the rest on
// failure).
func TestPongDoesNotFlushTheWritersBuffer(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PUSH"}, Options{})
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("held"))))
	reads := readAsync(c)
	p.send(appendCommand(nil, cmdPing, []byte{0, 0}, []byte("c")))
	flags, body := p.readFrame()
	require.NotZero(t, flags&flagCommand, "the PONG comes first, alone")
	name, data, err := parseCommand(body)
	require.NoError(t, err)
	assert.Equal(t, cmdPong, name)
	assert.Equal(t, []byte("c"), data)
	require.NoError(t, c.Flush())
	flags, body = p.readFrame()
	assert.Zero(t, flags&flagCommand)
	assert.Equal(t, "held", string(body))
	require.NoError(t, c.Close())
	<-reads
}

// A peer announcing the largest READY and sending little of it makes the
// handshake hold memory in proportion to what arrived, not to what was
// announced.
func TestAnnouncedReadyIsNotAllocatedUpfront(t *testing.T) {
	stream := append(rawGreeting(3, 1, "NULL"), appendFrameHeader(nil, flagCommand, maxHandshakeCommand)...)
	stream = append(stream, 5, 'R', 'E', 'A', 'D', 'Y')
	stream = append(stream, make([]byte, 1000)...) // then the stream ends
	c := streamConn(stream, Options{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := c.Handshake(context.Background(), &transport.Config{SocketType: "PULL"})
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "bytes allocated for a READY announced at %d bytes", maxHandshakeCommand)
}

// The Identity property is sent exactly when the socket says so (the
// socket type table decides: REQ, DEALER and ROUTER, as libzmq 4.3), empty
// when there is no routing id, and never otherwise whatever routing id was
// given.
func TestIdentityOnlyWhenAnnounced(t *testing.T) {
	for _, tc := range []struct {
		announce bool
		id, want []byte
	}{
		{true, []byte("id"), []byte("id")},
		{true, nil, []byte{}},
		{false, []byte("id"), nil},
	} {
		props, err := readyProperties(&transport.Config{SocketType: "X", AnnounceIdentity: tc.announce, Identity: tc.id})
		require.NoError(t, err)
		var got []byte
		for _, p := range props {
			if p.name == propIdentity {
				got = p.value
			}
		}
		assert.Equal(t, tc.want, got, "announce %v, id %q", tc.announce, tc.id)
	}
}
