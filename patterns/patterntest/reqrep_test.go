package patterntest_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReqStates walks REQ's state machine: idle -> awaiting -> idle, with
// the calls allowed and refused in each state.
func TestReqStates(t *testing.T) {
	type step struct {
		do      string // "send", "recv", "reply:<pipe>:<frames>"
		wantErr error
		want    []string // recv: body frames
	}
	tests := []struct {
		name      string
		cfg       patterns.Config
		steps     []step
		unexpects int
	}{
		{name: "strict alternation", steps: []step{
			{do: "recv", wantErr: patterns.ErrState},
			{do: "send"},
			{do: "send", wantErr: patterns.ErrState},
			{do: "reply:1:|ok"},
			{do: "recv", want: []string{"ok"}},
			{do: "recv", wantErr: patterns.ErrState},
			{do: "send"},
		}},
		{name: "cancelled recv keeps the request outstanding", steps: []step{
			{do: "send"},
			{do: "recv", wantErr: context.Canceled},
			{do: "send", wantErr: patterns.ErrState},
			{do: "reply:1:|late"},
			{do: "recv", want: []string{"late"}},
		}},
		{name: "replies only from the peer asked, one per request", steps: []step{
			{do: "send"}, // to pipe 1
			{do: "reply:2:|wrong peer"},
			{do: "reply:1:|ok"},
			{do: "reply:1:|second"},
			{do: "recv", want: []string{"ok"}},
			{do: "reply:1:|unasked"},
		}, unexpects: 3},
		{name: "malformed replies", steps: []step{
			{do: "send"},
			{do: "reply:1:no-delimiter"},
			{do: "reply:1:"}, // delimiter only, no body
			{do: "reply:1:|multi|part"},
			{do: "recv", want: []string{"multi", "part"}},
		}, unexpects: 2},
		{name: "relaxed: new request abandons the old", cfg: patterns.Config{ReqRelaxed: true}, steps: []step{
			{do: "send"}, // to pipe 1
			{do: "send"}, // to pipe 2
			{do: "reply:1:|stale"},
			{do: "reply:2:|fresh"},
			{do: "send"}, // to pipe 1: the unread reply is discarded
			{do: "recv", wantErr: context.Canceled},
			{do: "reply:1:|third"},
			{do: "recv", want: []string{"third"}},
		}, unexpects: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, drops := newPattern(t, "REQ", tc.cfg)
			pipes := []*patterntest.Pipe{patterntest.NewPipe(1, "REP", nil), patterntest.NewPipe(2, "REP", nil)}
			for _, p := range pipes {
				patterntest.Connect(req, p)
			}
			n := 0
			for _, st := range tc.steps {
				var err error
				switch {
				case st.do == "send":
					n++
					err = send(req, ctxT(t), patterntest.Msg("request"))
					if st.wantErr == nil {
						got := pipes[(n-1)%2].TakeData()
						require.Len(t, got, 1, "round-robin")
						assert.Equal(t, []string{"", "request"}, patterntest.Strings(got[0]))
					} else {
						n--
					}
				case st.do == "recv":
					ctx := ctxT(t)
					if st.wantErr == context.Canceled {
						ctx = expired()
					}
					var m patterns.Msg
					m, err = recv(req, ctx)
					if st.wantErr == nil {
						assert.Equal(t, st.want, patterntest.Strings(m))
					}
				default:
					id := st.do[6] - '1'
					frames := splitFrames(st.do[8:])
					err = inbound(req, ctxT(t), pipes[id], patterntest.Msg(frames...))
				}
				if st.wantErr != nil {
					assert.ErrorIs(t, err, st.wantErr, "step %s", st.do)
				} else {
					assert.NoError(t, err, "step %s", st.do)
				}
			}
			assert.Equal(t, tc.unexpects, drops.Count(patterns.DropUnexpected))
		})
	}
}

// splitFrames splits "a|b" into frames ("" is one empty frame).
func splitFrames(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestReqCorrelate(t *testing.T) {
	req, drops := newPattern(t, "REQ", patterns.Config{ReqCorrelate: true, ReqRelaxed: true})
	p := patterntest.NewPipe(1, "ROUTER", nil)
	patterntest.Connect(req, p)
	require.NoError(t, send(req, ctxT(t), patterntest.Msg("one")))
	first := p.TakeData()[0]
	require.Len(t, first.Frames, 3)
	require.Len(t, first.Frames[0], 4, "request id frame")
	assert.Empty(t, first.Frames[1])
	require.NoError(t, send(req, ctxT(t), patterntest.Msg("two")))
	second := p.TakeData()[0]
	assert.Equal(t, binary.BigEndian.Uint32(first.Frames[0])+1, binary.BigEndian.Uint32(second.Frames[0]))

	// The late reply to "one" comes from the same peer: the id tells.
	require.NoError(t, inbound(req, ctxT(t), p, patterns.Msg{Frames: [][]byte{first.Frames[0], {}, []byte("reply one")}}))
	require.NoError(t, inbound(req, ctxT(t), p, patterns.Msg{Frames: [][]byte{{}, []byte("no id")}}))
	require.NoError(t, inbound(req, ctxT(t), p, patterns.Msg{Frames: [][]byte{second.Frames[0], {}, []byte("reply two")}}))
	m, err := recv(req, ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"reply two"}, patterntest.Strings(m))
	assert.Equal(t, 2, drops.Count(patterns.DropUnexpected))
}

func TestReqBlocksWithoutPeerAndWaitsForReply(t *testing.T) {
	req, _ := newPattern(t, "REQ", patterns.Config{})
	assert.ErrorIs(t, send(req, expired(), patterntest.Msg("x")), context.Canceled, "no peer: Send blocks")
	p := patterntest.NewPipe(1, "REP", nil)
	patterntest.Connect(req, p)
	require.NoError(t, send(req, ctxT(t), patterntest.Msg("x")), "a failed Send left the REQ idle")
	got := make(chan patterns.Msg, 1)
	go func() {
		m, err := recv(req, context.Background())
		if err == nil {
			got <- m
		}
		close(got)
	}()
	// The peer the REQ asked disconnects and comes back: REQ still waits,
	// and a reply from the same pipe is accepted.
	disconnected(req, p)
	connected(req, p)
	require.NoError(t, inbound(req, ctxT(t), p, patterntest.Msg("", "ok")))
	assert.Equal(t, []string{"ok"}, patterntest.Strings(<-got))

	require.NoError(t, send(req, ctxT(t), patterntest.Msg("y")))
	errc := make(chan error, 1)
	go func() {
		_, err := recv(req, context.Background())
		errc <- err
	}()
	req.Close()
	assert.ErrorIs(t, <-errc, transportErrClosed())
}

func TestRepEnvelopes(t *testing.T) {
	tests := []struct {
		name    string
		request []string
		body    []string
		reply   []string
	}{
		{"from REQ", []string{"", "hello"}, []string{"hello"}, []string{"", "world"}},
		{"through routers", []string{"id2", "id1", "", "a", "b"}, []string{"a", "b"}, []string{"id2", "id1", "", "world"}},
		{"correlated", []string{"id", "\x00\x00\x00\x07", "", "q"}, []string{"q"}, []string{"id", "\x00\x00\x00\x07", "", "world"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, drops := newPattern(t, "REP", patterns.Config{})
			p := patterntest.NewPipe(1, "DEALER", nil)
			patterntest.Connect(rep, p)
			require.NoError(t, inbound(rep, ctxT(t), p, patterntest.Msg(tc.request...)))
			m, err := recv(rep, ctxT(t))
			require.NoError(t, err)
			assert.Equal(t, tc.body, patterntest.Strings(m))
			require.NoError(t, send(rep, ctxT(t), patterntest.Msg("world")))
			got := p.TakeData()
			require.Len(t, got, 1)
			assert.Equal(t, tc.reply, patterntest.Strings(got[0]))
			assert.Empty(t, drops.All())
		})
	}
}

func TestRepStates(t *testing.T) {
	rep, drops := newPattern(t, "REP", patterns.Config{})
	a, b := patterntest.NewPipe(1, "REQ", nil), patterntest.NewPipe(2, "REQ", nil)
	patterntest.Connect(rep, a)
	patterntest.Connect(rep, b)
	assert.ErrorIs(t, send(rep, ctxT(t), patterntest.Msg("x")), patterns.ErrState, "no request to answer")
	_, err := recv(rep, expired())
	assert.ErrorIs(t, err, context.Canceled)

	ctx := ctxT(t)
	require.NoError(t, inbound(rep, ctx, a, patterntest.Msg("no delimiter")))
	require.NoError(t, inbound(rep, ctx, a, patterntest.Msg("x", "")))
	require.NoError(t, inbound(rep, ctx, a, patterntest.Msg("", "from a")))
	require.NoError(t, inbound(rep, ctx, b, patterntest.Msg("", "from b")))
	m, err := recv(rep, ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"from a"}, patterntest.Strings(m))
	assert.Equal(t, 2, drops.Count(patterns.DropUnexpected), "malformed requests")
	_, err = recv(rep, ctx)
	assert.ErrorIs(t, err, patterns.ErrState, "a reply is owed")
	require.NoError(t, send(rep, ctx, patterntest.Msg("to a")))
	assert.Equal(t, [][]string{{"", "to a"}}, datas(a))

	m, err = recv(rep, ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"from b"}, patterntest.Strings(m))
	patterntest.Leave(rep, b)
	require.NoError(t, send(rep, ctx, patterntest.Msg("to b")), "a reply to a departed peer is dropped")
	assert.Equal(t, 1, drops.Count(patterns.DropPeerGone))

	a.SetHWM(1)
	for i := 0; i < 2; i++ {
		require.NoError(t, inbound(rep, ctx, a, patterntest.Msg("", "q")))
		_, err = recv(rep, ctx)
		require.NoError(t, err)
		require.NoError(t, send(rep, ctx, patterntest.Msg("r")))
	}
	assert.Equal(t, 1, drops.Count(patterns.DropHWM), "REP never blocks on a full peer")
}

func datas(p *patterntest.Pipe) [][]string {
	var out [][]string
	for _, m := range p.TakeData() {
		out = append(out, patterntest.Strings(m))
	}
	return out
}
