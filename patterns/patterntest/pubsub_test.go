package patterntest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPubMatching(t *testing.T) {
	type step struct {
		pipe int    // 1 or 2: which subscriber sends a subscription message
		msg  string // "+topic" / "-topic"; or "pub:<first frame>" to publish
		want [2][]string
	}
	tests := []struct {
		name      string
		steps     []step
		noPeer    int
		unexpects int
	}{
		{name: "prefix", steps: []step{
			{1, "+ab", [2][]string{}},
			{0, "pub:abc", [2][]string{{"abc|body"}, {}}},
			{0, "pub:a", [2][]string{{}, {}}},
		}, noPeer: 1},
		{name: "empty topic matches all", steps: []step{
			{2, "+", [2][]string{}},
			{0, "pub:x", [2][]string{{}, {"x|body"}}},
			{0, "pub:", [2][]string{{}, {"|body"}}},
		}},
		{name: "one copy per subscriber with overlapping prefixes", steps: []step{
			{1, "+a", [2][]string{}},
			{1, "+ab", [2][]string{}},
			{1, "+", [2][]string{}},
			{2, "+abc", [2][]string{}},
			{0, "pub:abcd", [2][]string{{"abcd|body"}, {"abcd|body"}}},
		}},
		{name: "one prefix held by both", steps: []step{
			{1, "+t", [2][]string{}},
			{2, "+t", [2][]string{}},
			{0, "pub:t1", [2][]string{{"t1|body"}, {"t1|body"}}},
			{2, "-t", [2][]string{}},
			{0, "pub:t2", [2][]string{{"t2|body"}, {}}},
		}},
		{name: "set per subscriber: one cancel undoes two subscribes", steps: []step{
			{1, "+t", [2][]string{}},
			{1, "+t", [2][]string{}},
			{1, "-t", [2][]string{}},
			{0, "pub:t1", [2][]string{{}, {}}},
		}, noPeer: 1},
		{name: "cancel of another's topic changes nothing", steps: []step{
			{1, "+t", [2][]string{}},
			{2, "-t", [2][]string{}},
			{0, "pub:t", [2][]string{{"t|body"}, {}}},
		}},
		{name: "non-subscription inbound is dropped", steps: []step{
			{1, "data", [2][]string{}},
		}, unexpects: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub, drops := newPattern(t, "PUB", patterns.Config{})
			pipes := [2]*patterntest.Pipe{patterntest.NewPipe(1, "SUB", nil), patterntest.NewPipe(2, "SUB", nil)}
			for _, p := range pipes {
				patterntest.Connect(pub, p)
			}
			for _, st := range tc.steps {
				switch {
				case st.msg[0] == '+':
					require.NoError(t, inbound(pub, ctxT(t), pipes[st.pipe-1], sub(st.msg[1:])))
				case st.msg[0] == '-':
					require.NoError(t, inbound(pub, ctxT(t), pipes[st.pipe-1], unsub(st.msg[1:])))
				case strings.HasPrefix(st.msg, "pub:"):
					require.NoError(t, send(pub, expired(), patterntest.Msg(st.msg[4:], "body")), "PUB never blocks")
				default:
					require.NoError(t, inbound(pub, ctxT(t), pipes[st.pipe-1], patterntest.Msg(st.msg)))
				}
				for i, p := range pipes {
					assert.Equal(t, append([]string{}, st.want[i]...), items(p.Take()), "step %q pipe %d", st.msg, i+1)
				}
			}
			assert.Equal(t, tc.noPeer, drops.Count(patterns.DropNoPeer))
			assert.Equal(t, tc.unexpects, drops.Count(patterns.DropUnexpected))
			_, err := recv(pub, expired())
			assert.ErrorIs(t, err, patterns.ErrNotSupported)
		})
	}
}

func TestPubHWMDropsPerSubscriber(t *testing.T) {
	pub, drops := newPattern(t, "PUB", patterns.Config{})
	slow, fast := patterntest.NewPipe(1, "SUB", nil), patterntest.NewPipe(2, "SUB", nil)
	slow.SetHWM(2)
	for _, p := range []*patterntest.Pipe{slow, fast} {
		patterntest.Connect(pub, p)
		require.NoError(t, inbound(pub, ctxT(t), p, sub("")))
	}
	for i := 0; i < 5; i++ {
		require.NoError(t, send(pub, expired(), patterntest.Msg("m")))
	}
	assert.Equal(t, 2, slow.Queued())
	assert.Equal(t, 5, fast.Queued())
	assert.Equal(t, 3, drops.Count(patterns.DropHWM))
	for _, d := range drops.All() {
		assert.Equal(t, uint64(1), d.Pipe, "drops name the slow subscriber")
	}
}

func TestPubForgetsSubscriptionsOnDisconnect(t *testing.T) {
	pub, drops := newPattern(t, "PUB", patterns.Config{})
	p := patterntest.NewPipe(1, "SUB", nil)
	patterntest.Connect(pub, p)
	require.NoError(t, inbound(pub, ctxT(t), p, sub("a")))
	disconnected(pub, p)
	require.NoError(t, send(pub, expired(), patterntest.Msg("a")))
	assert.Empty(t, p.Take(), "nothing for a subscriber that must resubscribe")
	assert.Equal(t, 1, drops.Count(patterns.DropNoPeer))
	connected(pub, p)
	require.NoError(t, inbound(pub, ctxT(t), p, sub("a")))
	require.NoError(t, send(pub, expired(), patterntest.Msg("a")))
	assert.Equal(t, []string{"a"}, items(p.Take()))
	patterntest.Leave(pub, p)
	require.NoError(t, send(pub, expired(), patterntest.Msg("a")))
	assert.Equal(t, 2, drops.Count(patterns.DropNoPeer))
}

func TestSubResendsOnReconnect(t *testing.T) {
	s, _ := newPattern(t, "SUB", patterns.Config{})
	subs := s.(subscriber)
	p := patterntest.NewPipe(1, "PUB", nil)
	s.Attach(p) // a connecting pipe, attached before its first connection
	require.NoError(t, subs.Subscribe([]byte("a")))
	require.NoError(t, subs.Subscribe([]byte("a")))
	require.NoError(t, subs.Subscribe([]byte("b")))
	connected(s, p)
	assert.Equal(t, []string{"+a", "+b"}, items(p.Take()), "the queued commands are replaced by the set, each topic once")

	require.NoError(t, subs.Unsubscribe([]byte("a")))
	assert.Empty(t, items(p.Take()), "a is still subscribed once")
	require.NoError(t, subs.Unsubscribe([]byte("a")))
	assert.Equal(t, []string{"-a"}, items(p.Take()))
	require.NoError(t, subs.Unsubscribe([]byte("never")))
	assert.Empty(t, items(p.Take()))

	// The connection drops with commands unsent; the next one gets the set.
	require.NoError(t, subs.Subscribe([]byte("c")))
	disconnected(s, p)
	connected(s, p)
	assert.Equal(t, []string{"+b", "+c"}, items(p.Take()))

	err := send(s, expired(), patterntest.Msg("x"))
	assert.ErrorIs(t, err, patterns.ErrNotSupported)
}

func TestSubFiltersLocally(t *testing.T) {
	s, drops := newPattern(t, "SUB", patterns.Config{})
	p := patterntest.NewPipe(1, "PUB", nil)
	patterntest.Connect(s, p)
	require.NoError(t, s.(subscriber).Subscribe([]byte("news")))
	require.NoError(t, inbound(s, ctxT(t), p, patterntest.Msg("sport", "x")))
	require.NoError(t, inbound(s, ctxT(t), p, patterntest.Msg("news.eu", "y")))
	m, err := recv(s, ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"news.eu", "y"}, patterntest.Strings(m))
	assert.Equal(t, 1, drops.Count(patterns.DropUnexpected))
	_, err = recv(s, expired())
	assert.ErrorIs(t, err, context.Canceled)
}

func TestXSubSendsUpstream(t *testing.T) {
	x, drops := newPattern(t, "XSUB", patterns.Config{})
	require.NoError(t, send(x, expired(), patterntest.Msg("plain")))
	assert.Equal(t, 1, drops.Count(patterns.DropNoPeer), "no publisher at all")
	a, b := patterntest.NewPipe(1, "PUB", nil), patterntest.NewPipe(2, "XPUB", nil)
	patterntest.Connect(x, a)
	patterntest.Connect(x, b)
	b.SetHWM(1)
	require.NoError(t, send(x, expired(), sub("t")))
	require.NoError(t, send(x, expired(), sub("t")))
	require.NoError(t, send(x, expired(), unsub("t")))
	require.NoError(t, send(x, expired(), patterntest.Msg("plain", "2")))
	require.NoError(t, send(x, expired(), patterntest.Msg("plain")))
	require.NoError(t, x.(subscriber).Subscribe([]byte("u")))
	assert.Equal(t, []string{"+t", "+t", "plain|2", "plain", "+u"}, items(a.Take()))
	assert.Equal(t, []string{"+t", "+t", "plain|2", "+u"}, items(b.Take()))
	assert.Equal(t, 1, drops.Count(patterns.DropHWM))

	// Local filtering uses what was sent upstream; a reconnect resends it.
	require.NoError(t, inbound(x, ctxT(t), a, patterntest.Msg("t1")))
	require.NoError(t, inbound(x, ctxT(t), a, patterntest.Msg("v")))
	m, err := recv(x, ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"t1"}, patterntest.Strings(m))
	assert.Equal(t, 1, drops.Count(patterns.DropUnexpected))
	disconnected(x, a)
	connected(x, a)
	assert.Equal(t, []string{"+t", "+u"}, items(a.Take()))
}

func TestXPubPassesSubscriptions(t *testing.T) {
	tests := []struct {
		name string
		cfg  patterns.Config
		want []string
	}{
		{"default: first subscribe, last cancel", patterns.Config{}, []string{"+a", "-a"}},
		{"verbose: every subscribe", patterns.Config{XPubVerbose: true}, []string{"+a", "+a", "+a", "-a"}},
		{"verboser: every subscribe and cancel", patterns.Config{XPubVerboser: true}, []string{"+a", "+a", "+a", "-a", "-a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, _ := newPattern(t, "XPUB", tc.cfg)
			p1, p2 := patterntest.NewPipe(1, "SUB", nil), patterntest.NewPipe(2, "SUB", nil)
			patterntest.Connect(x, p1)
			patterntest.Connect(x, p2)
			ctx := ctxT(t)
			require.NoError(t, inbound(x, ctx, p1, sub("a")))
			require.NoError(t, inbound(x, ctx, p2, sub("a")))
			require.NoError(t, inbound(x, ctx, p1, sub("a"))) // p1 already holds it
			require.NoError(t, inbound(x, ctx, p1, unsub("a")))
			require.NoError(t, inbound(x, ctx, p1, unsub("a"))) // p1 no longer holds it
			require.NoError(t, inbound(x, ctx, p2, unsub("a")))
			var got []string
			for {
				m, err := recv(x, expired())
				if err != nil {
					break
				}
				f := m.Frames[0]
				got = append(got, map[byte]string{0: "-", 1: "+"}[f[0]]+string(f[1:]))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestXPubDepartureAndUpstreamData(t *testing.T) {
	x, _ := newPattern(t, "XPUB", patterns.Config{XPubWelcome: []byte("hello")})
	p1, p2 := patterntest.NewPipe(1, "XSUB", nil), patterntest.NewPipe(2, "SUB", nil)
	patterntest.Connect(x, p1)
	patterntest.Connect(x, p2)
	assert.Equal(t, []string{"hello"}, items(p1.Take()), "welcome message")
	p2.Take()
	ctx := ctxT(t)
	require.NoError(t, inbound(x, ctx, p1, sub("a")))
	require.NoError(t, inbound(x, ctx, p1, sub("b")))
	require.NoError(t, inbound(x, ctx, p2, sub("b")))
	require.NoError(t, inbound(x, ctx, p1, patterntest.Msg("upstream", "data")))
	patterntest.Leave(x, p1)
	var got [][]string
	for {
		m, err := recv(x, expired())
		if err != nil {
			break
		}
		got = append(got, patterntest.Strings(m))
	}
	assert.Equal(t, [][]string{{"\x01a"}, {"\x01b"}, {"upstream", "data"}, {"\x00a"}}, got,
		"b is still held by p2, so only a is cancelled")
	require.NoError(t, send(x, expired(), patterntest.Msg("b")))
	assert.Equal(t, []string{"b"}, items(p2.Take()))
	assert.ErrorIs(t, x.(subscriber).Subscribe([]byte("z")), patterns.ErrNotSupported, "Subscribe needs manual mode")
}

func TestXPubManual(t *testing.T) {
	x, drops := newPattern(t, "XPUB", patterns.Config{XPubManual: true})
	subs := x.(subscriber)
	assert.ErrorIs(t, subs.Subscribe([]byte("a")), patterns.ErrState, "no subscription received yet")
	p1, p2 := patterntest.NewPipe(1, "SUB", nil), patterntest.NewPipe(2, "SUB", nil)
	patterntest.Connect(x, p1)
	patterntest.Connect(x, p2)
	ctx := ctxT(t)
	require.NoError(t, inbound(x, ctx, p1, sub("a")))
	require.NoError(t, inbound(x, ctx, p2, sub("a")))
	require.NoError(t, inbound(x, ctx, p2, sub("a")))

	m, err := recv(x, ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"\x01a"}, patterntest.Strings(m))
	require.NoError(t, subs.Subscribe([]byte("A.translated"))) // applies to p1
	require.NoError(t, send(x, expired(), patterntest.Msg("a")))
	assert.Equal(t, 1, drops.Count(patterns.DropNoPeer), "nothing applied automatically")
	require.NoError(t, send(x, expired(), patterntest.Msg("A.translated!")))
	assert.Equal(t, []string{"A.translated!"}, items(p1.Take()))
	assert.Empty(t, p2.Take())

	for i := 0; i < 2; i++ { // every subscription message is passed on
		m, err = recv(x, ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"\x01a"}, patterntest.Strings(m))
	}
	require.NoError(t, subs.Subscribe([]byte("a"))) // applies to p2
	require.NoError(t, send(x, expired(), patterntest.Msg("a")))
	assert.Empty(t, p1.Take())
	assert.Equal(t, []string{"a"}, items(p2.Take()))
	require.NoError(t, subs.Unsubscribe([]byte("a")))
	require.NoError(t, send(x, expired(), patterntest.Msg("a")))
	assert.Empty(t, p2.Take())

	// p2 leaves: the application hears of each subscription it asked for.
	patterntest.Leave(x, p2)
	for i := 0; i < 2; i++ {
		m, err = recv(x, ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"\x00a"}, patterntest.Strings(m))
	}
	require.NoError(t, subs.Subscribe([]byte("late")), "the last subscriber has gone: nothing to apply")
}

// A SUB takes a tagged batch as it takes tagged messages one by one: the
// matching ones queued with their tags, in order, without waiting for
// room; the others dropped with theirs.
func TestSubInboundTagged(t *testing.T) {
	for _, typ := range []string{"SUB", "XSUB"} {
		t.Run(typ, func(t *testing.T) {
			ctx := context.Background()
			pat, drops := newPattern(t, typ, patterns.Config{RecvHWM: 1})
			p := patterntest.NewPipe(1, "PUB", nil)
			pat.Attach(p)
			connected(pat, p)
			if typ == "SUB" {
				require.NoError(t, pat.(patterns.Subscriber).Subscribe([]byte("a")))
			} else {
				require.NoError(t, send(pat, ctx, patterns.Msg{Frames: [][]byte{[]byte("\x01a")}}))
			}
			in, ok := pat.(patterns.TaggedBatchInbound)
			require.True(t, ok)
			msgs := []patterns.Msg{
				{Frames: [][]byte{[]byte("a1")}}, {Frames: [][]byte{[]byte("b1")}},
				{Frames: [][]byte{[]byte("a2")}}, {Frames: [][]byte{[]byte("a3")}},
			}
			require.NoError(t, in.InboundTagged(p, msgs, []patterns.Tag{11, 12, 13, 0}))
			r := pat.(patterns.Receiver)
			for _, want := range []struct {
				body string
				tag  patterns.Tag
			}{{"a1", 11}, {"a2", 13}, {"a3", 0}} {
				got, err := r.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, want.body, string(got.Msg.Frames[0]))
				assert.Equal(t, want.tag, got.Tag)
			}
			all := drops.All()
			require.Len(t, all, 1)
			assert.Equal(t, "b1", string(all[0].Msg.Frames[0]))
			assert.Equal(t, patterns.Tag(12), all[0].Tag)
			assert.Equal(t, patterns.DropUnexpected, all[0].Reason)
		})
	}
}
