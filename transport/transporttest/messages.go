package transporttest

import (
	"fmt"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// testEndpointResolved: Listener.Endpoint reports a dialable endpoint of
// the same scheme, with a wildcard port resolved.
func testEndpointResolved(e *env) {
	l := e.listen()
	got := e.parse(l.Endpoint())
	assert.Equal(e.t, e.ep.Scheme, got.Scheme)
	if _, port, err := transport.SplitHostPort(got.Address); err == nil {
		assert.NotZero(e.t, port, "Endpoint() %q did not resolve the port", l.Endpoint())
	}
	c, s := e.dialAccept(l)
	ci, si := e.handshakes(c, &transport.Config{SocketType: "PAIR"}, s, &transport.Config{SocketType: "PAIR"})
	require.NoError(e.t, ci.err)
	require.NoError(e.t, si.err)
	e.transfer(c, s, []transport.Msg{msg("over the resolved endpoint")})
}

// testManyConns: one Listener serves several connections, each carrying
// its own messages.
func testManyConns(e *env) {
	l := e.listen()
	const n = 4
	var clients, servers [n]transport.Conn
	for i := range n {
		clients[i], servers[i] = e.dialAccept(l)
	}
	for i := range n {
		ci, si := e.handshakes(clients[i], &transport.Config{SocketType: "PUSH"}, servers[i], &transport.Config{SocketType: "PULL"})
		require.NoError(e.t, ci.err)
		require.NoError(e.t, si.err)
	}
	for i := range n {
		want := msg(fmt.Sprintf("conn %d", i))
		got := e.transfer(clients[i], servers[i], []transport.Msg{want.Clone()})
		assert.True(e.t, sameMsg(want, got[0]), "conn %d got %s", i, describe(got[0]))
	}
}

// testPingPong: Flush makes a message go out without further writes.
func testPingPong(e *env) {
	c, s := e.pair()
	for i := range 50 {
		for _, dir := range [][2]transport.Conn{{c, s}, {s, c}} {
			want := msg(fmt.Sprint("ping ", i))
			require.NoError(e.t, dir[0].WriteMsg(want.Clone()))
			require.NoError(e.t, dir[0].Flush())
			got, err := e.readMsg(dir[1], "the flushed message")
			require.NoError(e.t, err)
			require.True(e.t, sameMsg(want, got), "round %d: got %s", i, describe(got))
		}
	}
}

// testOrdering: 10,000 messages arrive in order, in both directions.
func testOrdering(e *env) {
	c, s := e.pair()
	const n = 10000
	for _, dir := range []struct {
		name     string
		from, to transport.Conn
	}{{"client to server", c, s}, {"server to client", s, c}} {
		msgs := make([]transport.Msg, n)
		for i := range msgs {
			msgs[i] = seqMsg(uint64(i))
		}
		got := e.transfer(dir.from, dir.to, msgs)
		for i, m := range got {
			seq, err := seqOf(m)
			require.NoError(e.t, err, "%s: message %d", dir.name, i)
			require.Equal(e.t, uint64(i), seq, "%s: out of order", dir.name)
		}
	}
}

// testMultipart: messages of 1 to 5 frames arrive whole, never split or
// merged.
func testMultipart(e *env) {
	c, s := e.pair()
	var msgs []transport.Msg
	for i := range 500 {
		frames := make([]string, 1+i%5)
		for j := range frames {
			frames[j] = fmt.Sprintf("msg %d frame %d", i, j)
		}
		msgs = append(msgs, msg(frames...))
	}
	want := cloneAll(msgs)
	got := e.transfer(c, s, msgs)
	for i := range want {
		require.True(e.t, sameMsg(want[i], got[i]), "message %d: want %s, got %s", i, describe(want[i]), describe(got[i]))
	}
}

// testEmptyFrames: empty frames, alone or among others, survive.
func testEmptyFrames(e *env) {
	c, s := e.pair()
	msgs := []transport.Msg{
		msg(""),
		msg("", ""),
		msg("a", "", "b"),
		msg("", "x"),
		msg("x", ""),
		msg("", "", "", "", ""),
		{Frames: [][]byte{nil, {}, nil}},
		msg("after the empty ones"),
	}
	want := cloneAll(msgs)
	got := e.transfer(c, s, msgs)
	for i := range want {
		assert.True(e.t, sameMsg(want[i], got[i]), "message %d: want %s, got %s", i, describe(want[i]), describe(got[i]))
	}
}

// frameSizes straddle the short/long frame boundary and the 16-bit one.
var frameSizes = []int{0, 1, 255, 256, 65535, 65536, 1 << 20}

// testFrameSizes: frames of every size arrive byte-identical, alone and
// together in one multipart message.
func testFrameSizes(e *env) {
	c, s := e.pair()
	var msgs []transport.Msg
	all := transport.Msg{}
	for i, n := range frameSizes {
		msgs = append(msgs, transport.Msg{Frames: [][]byte{randomBytes(uint64(i), n)}})
		all.Frames = append(all.Frames, randomBytes(uint64(100+i), n))
	}
	msgs = append(msgs, all)
	want := cloneAll(msgs)
	got := e.transfer(c, s, msgs)
	for i := range want {
		assert.True(e.t, sameMsg(want[i], got[i]), "message %d: want %s, got %s", i, describe(want[i]), describe(got[i]))
	}
	// And back, so both directions handle the long form.
	back := cloneAll(want)
	got = e.transfer(s, c, back)
	for i := range want {
		assert.True(e.t, sameMsg(want[i], got[i]), "reply %d: want %s, got %s", i, describe(want[i]), describe(got[i]))
	}
}

// testSubscription: WriteSubscription arrives as a ZMTP 3.0 subscription
// message.
func testSubscription(e *env) {
	c, s, _, _ := e.connect(&transport.Config{SocketType: "SUB"}, &transport.Config{SocketType: "XPUB"})
	subs := []struct {
		topic     string
		subscribe bool
	}{{"weather", true}, {"", true}, {"weather", false}, {"\x00\x01binary", true}}
	for _, sub := range subs {
		require.NoError(e.t, c.WriteSubscription([]byte(sub.topic), sub.subscribe))
	}
	require.NoError(e.t, c.Flush())
	for i, sub := range subs {
		m, err := e.readMsg(s, "subscription")
		require.NoError(e.t, err)
		topic, subscribe, ok := transport.ParseSubscription(m)
		require.True(e.t, ok, "subscription %d arrived as %s", i, describe(m))
		assert.Equal(e.t, sub.topic, string(topic), "subscription %d", i)
		assert.Equal(e.t, sub.subscribe, subscribe, "subscription %d", i)
	}
}
