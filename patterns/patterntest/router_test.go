package patterntest_test

import (
	"context"
	"testing"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
	"github.com/brookmq/brook/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// admit runs the socket's admission and attach sequence for p.
func admit(pat patterns.Pattern, p patterns.Pipe) bool {
	if a, ok := pat.(patterns.Admitter); ok && !a.Accepts(p) {
		return false
	}
	patterntest.Connect(pat, p)
	return true
}

func recvFrames(t *testing.T, pat patterns.Pattern) []string {
	t.Helper()
	m, err := recv(pat, ctxT(t))
	require.NoError(t, err)
	return patterntest.Strings(m)
}

func TestRouterIdentities(t *testing.T) {
	r, drops := newPattern(t, "ROUTER", patterns.Config{})
	assert.True(t, patterns.Router.AttachOnHandshake(), "routing needs the identity")
	named := patterntest.NewPipe(1, "DEALER", []byte("alice"))
	anon1 := patterntest.NewPipe(2, "DEALER", nil)
	anon2 := patterntest.NewPipe(3, "REQ", nil)
	for _, p := range []*patterntest.Pipe{named, anon1, anon2} {
		require.True(t, admit(r, p))
	}
	ctx := ctxT(t)
	require.NoError(t, inbound(r, ctx, named, patterntest.Msg("hi")))
	require.NoError(t, inbound(r, ctx, anon1, patterntest.Msg("a", "b")))
	require.NoError(t, inbound(r, ctx, anon2, patterntest.Msg("", "req")))
	assert.Equal(t, []string{"alice", "hi"}, recvFrames(t, r))
	m1 := recvFrames(t, r)
	m2 := recvFrames(t, r)
	require.Len(t, m1[0], 5, "generated id: 5 bytes")
	assert.Equal(t, byte(0), m1[0][0])
	require.Len(t, m2[0], 5)
	assert.NotEqual(t, m1[0], m2[0])
	assert.Equal(t, []string{"a", "b"}, m1[1:])
	assert.Equal(t, []string{"", "req"}, m2[1:])

	require.NoError(t, send(r, ctx, patterntest.Msg("alice", "x", "y")))
	require.NoError(t, send(r, ctx, patterntest.Msg(m1[0], "to anon1")))
	require.NoError(t, send(r, ctx, patterntest.Msg(m2[0], "", "rep")))
	assert.Equal(t, [][]string{{"x", "y"}}, datas(named))
	assert.Equal(t, [][]string{{"to anon1"}}, datas(anon1))
	assert.Equal(t, [][]string{{"", "rep"}}, datas(anon2))

	require.NoError(t, send(r, ctx, patterntest.Msg("bob", "x")))
	assert.Equal(t, 1, drops.Count(patterns.DropNoPeer), "unknown id dropped")
	assert.ErrorIs(t, send(r, ctx, patterntest.Msg("alice")), patterns.ErrBadMsg, "no body")

	named.SetHWM(1)
	require.NoError(t, send(r, ctx, patterntest.Msg("alice", "1")))
	require.NoError(t, send(r, expired(), patterntest.Msg("alice", "2")), "full peer: dropped, not blocked")
	assert.Equal(t, 1, drops.Count(patterns.DropHWM))

	// A connecting pipe is unroutable while disconnected, and may come
	// back with another identity.
	disconnected(r, named)
	require.NoError(t, send(r, ctx, patterntest.Msg("alice", "x")))
	assert.Equal(t, 2, drops.Count(patterns.DropNoPeer))
	named.SetPeer(transport.PeerInfo{SocketType: "DEALER", Identity: []byte("carol"), Version: 31})
	connected(r, named)
	named.Take()
	require.NoError(t, send(r, ctx, patterntest.Msg("carol", "x")))
	assert.Equal(t, [][]string{{"x"}}, datas(named))
}

func TestRouterMandatory(t *testing.T) {
	r, drops := newPattern(t, "ROUTER", patterns.Config{RouterMandatory: true})
	p := patterntest.NewPipe(1, "DEALER", []byte("w"))
	require.True(t, admit(r, p))
	ctx := ctxT(t)
	assert.ErrorIs(t, send(r, ctx, patterntest.Msg("nobody", "x")), patterns.ErrHostUnreachable)
	p.SetHWM(1)
	require.NoError(t, send(r, ctx, patterntest.Msg("w", "1")))
	assert.ErrorIs(t, send(r, expired(), patterntest.Msg("w", "2")), context.Canceled, "full peer: waits for room")

	done := make(chan error, 1)
	go func() { done <- send(r, ctx, patterntest.Msg("w", "3")) }()
	// The writer drains the queue and tells the pattern.
	require.NoError(t, p.WaitRefused(ctx, 2))
	p.Take()
	writable(r, p)
	require.NoError(t, <-done)
	assert.Equal(t, [][]string{{"3"}}, datas(p))

	p.SetHWM(1)
	require.NoError(t, send(r, ctx, patterntest.Msg("w", "4")))
	go func() { done <- send(r, ctx, patterntest.Msg("w", "5")) }()
	require.NoError(t, p.WaitRefused(ctx, 3))
	patterntest.Leave(r, p)
	assert.ErrorIs(t, <-done, patterns.ErrHostUnreachable, "the peer left while we waited")
	assert.Empty(t, drops.All(), "mandatory mode reports instead of dropping")
}

func TestRouterDuplicateIdentity(t *testing.T) {
	t.Run("refused without handover", func(t *testing.T) {
		r, _ := newPattern(t, "ROUTER", patterns.Config{})
		first := patterntest.NewPipe(1, "DEALER", []byte("dup"))
		second := patterntest.NewPipe(2, "DEALER", []byte("dup"))
		require.True(t, admit(r, first))
		assert.False(t, admit(r, second), "id in use")
		assert.True(t, r.(patterns.Admitter).Accepts(first), "a holder reconnecting keeps its id")
		require.NoError(t, send(r, ctxT(t), patterntest.Msg("dup", "x")))
		assert.Len(t, first.TakeData(), 1)
		patterntest.Leave(r, first)
		assert.True(t, admit(r, second), "free again once the holder left")
	})
	t.Run("handover", func(t *testing.T) {
		r, _ := newPattern(t, "ROUTER", patterns.Config{RouterHandover: true})
		first := patterntest.NewPipe(1, "DEALER", []byte("dup"))
		second := patterntest.NewPipe(2, "DEALER", []byte("dup"))
		require.True(t, admit(r, first))
		require.True(t, admit(r, second))
		assert.Equal(t, 1, first.Disconnects(), "the previous holder is disconnected")
		require.NoError(t, send(r, ctxT(t), patterntest.Msg("dup", "x")))
		assert.Empty(t, first.TakeData())
		assert.Len(t, second.TakeData(), 1)
		require.NoError(t, inbound(r, ctxT(t), first, patterntest.Msg("last words")))
		m := recvFrames(t, r)
		assert.Len(t, m[0], 5, "the old holder speaks under a generated id")
	})
	t.Run("racing admissions", func(t *testing.T) {
		r, _ := newPattern(t, "ROUTER", patterns.Config{})
		first := patterntest.NewPipe(1, "DEALER", []byte("dup"))
		second := patterntest.NewPipe(2, "DEALER", []byte("dup"))
		a := r.(patterns.Admitter)
		require.True(t, a.Accepts(first))
		require.True(t, a.Accepts(second))
		patterntest.Connect(r, first)
		patterntest.Connect(r, second)
		require.NoError(t, inbound(r, ctxT(t), second, patterntest.Msg("x")))
		assert.Len(t, recvFrames(t, r)[0], 5, "the later one gets a generated id")
	})
}

func TestDealer(t *testing.T) {
	d, _ := newPattern(t, "DEALER", patterns.Config{})
	pipes := []*patterntest.Pipe{patterntest.NewPipe(1, "ROUTER", nil), patterntest.NewPipe(2, "ROUTER", nil), patterntest.NewPipe(3, "REP", nil)}
	for _, p := range pipes {
		patterntest.Connect(d, p)
	}
	for i := 0; i < 30; i++ {
		require.NoError(t, send(d, ctxT(t), patterntest.Msg("m")))
	}
	for _, p := range pipes {
		assert.Equal(t, 10, p.Queued(), "round-robin, not broadcast")
	}
	pipes[0].SetHWM(10)
	pipes[1].SetHWM(10)
	require.NoError(t, send(d, ctxT(t), patterntest.Msg("m")))
	assert.Equal(t, 11, pipes[2].Queued(), "full peers are skipped")
	pipes[2].SetHWM(11)
	assert.ErrorIs(t, send(d, expired(), patterntest.Msg("m")), context.Canceled, "all full: blocks")

	ctx := ctxT(t)
	require.NoError(t, inbound(d, ctx, pipes[1], patterntest.Msg("b1")))
	require.NoError(t, inbound(d, ctx, pipes[0], patterntest.Msg("a1", "more")))
	assert.Equal(t, []string{"b1"}, recvFrames(t, d))
	assert.Equal(t, []string{"a1", "more"}, recvFrames(t, d))
}
