package transporttest

import (
	"bytes"
	"fmt"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

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
			e.requireSame(want, got, "round %d", i)
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
		e.requireSame(want[i], got[i], "message %d", i)
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
		e.assertSame(want[i], got[i], "message %d", i)
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
		e.assertSame(want[i], got[i], "message %d", i)
	}
	// And back, so both directions handle the long form.
	back := cloneAll(want)
	got = e.transfer(s, c, back)
	for i := range want {
		e.assertSame(want[i], got[i], "reply %d", i)
	}
}

// testManyFrames: a message of many frames arrives whole.
func testManyFrames(e *env) {
	c, s := e.pair()
	var msgs []transport.Msg
	for _, n := range []int{300, 5000} {
		m := transport.Msg{Frames: make([][]byte, n)}
		for i := range m.Frames {
			if i%3 != 0 {
				m.Frames[i] = fmt.Appendf(nil, "%d/%d", i, n)
			}
		}
		msgs = append(msgs, m)
	}
	want := cloneAll(msgs)
	got := e.transfer(c, s, msgs)
	for i := range want {
		e.assertSame(want[i], got[i], "message %d", i)
	}
}

// testReceivedFramesAreOwned: the reader owns what ReadMsg returns; writing
// into a frame or appending to it disturbs no other message.
func testReceivedFramesAreOwned(e *env) {
	c, s := e.pair()
	var msgs []transport.Msg
	for i := range 200 {
		msgs = append(msgs, msg(fmt.Sprint("m", i), "second", ""))
	}
	want := cloneAll(msgs)
	read := e.readN(s, len(msgs))
	require.NoError(e.t, await(e, e.writeAll(c, msgs), "writer"))
	r := await(e, read, "reader")
	require.NoError(e.t, r.err)
	// Append past the end of every frame: if a frame's capacity reaches
	// into bytes of another message (a shared read buffer or slab), the
	// append overwrites them, and the check below sees it.
	scribble := bytes.Repeat([]byte{0xEE}, 64)
	for _, m := range r.v {
		for _, f := range m.Frames {
			_ = append(f, scribble...)
		}
	}
	for i := range want {
		e.requireSame(want[i], r.v[i], "message %d after appending to the others", i)
	}
	for i := range r.v {
		for _, f := range r.v[i].Frames {
			for k := range f {
				f[k] = 0xDD
			}
		}
	}
	more := []transport.Msg{msg("after the scribbling", "intact")}
	got := e.transfer(c, s, cloneAll(more))
	e.requireSame(more[0], got[0], "a message read after the others were overwritten")
}

// testSubscription: WriteSubscription arrives as a ZMTP 3.0 subscription
// message, whatever the topic's length, and each arrives intact even when
// read before the others are checked.
func testSubscription(e *env) {
	c, s, _, _ := e.connect(&transport.Config{SocketType: "SUB"}, &transport.Config{SocketType: "XPUB"})
	subs := []struct {
		topic     string
		subscribe bool
	}{
		{"weather", true},
		{"", true},
		{"weather", false},
		{"\x00\x01binary", true},
		{string(randomBytes(5, 300)), true}, // a long-form frame or command
		{string(randomBytes(6, 70000)), false},
	}
	for _, sub := range subs {
		require.NoError(e.t, c.WriteSubscription([]byte(sub.topic), sub.subscribe))
	}
	require.NoError(e.t, c.Flush())
	r := await(e, e.readN(s, len(subs)), "subscriptions")
	require.NoError(e.t, r.err, "after %d subscriptions", len(r.v))
	for i, sub := range subs {
		topic, subscribe, ok := transport.ParseSubscription(r.v[i])
		require.True(e.t, ok, "subscription %d arrived as %s", i, describe(r.v[i]))
		assert.True(e.t, sub.topic == string(topic), "subscription %d: topic of %d bytes, want %d", i, len(topic), len(sub.topic))
		assert.Equal(e.t, sub.subscribe, subscribe, "subscription %d", i)
	}
}
