package patterntest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
	"github.com/stretchr/testify/require"
)

// splitInput cuts fuzz input into frames at 0xFF bytes.
func splitInput(data []byte) [][]byte {
	return bytes.Split(data, []byte{0xFF})
}

// FuzzRepEnvelope feeds arbitrary requests to a REP: a request is either
// dropped as malformed, or its body is returned and the reply goes back
// with exactly the request's envelope in front.
func FuzzRepEnvelope(f *testing.F) {
	f.Add([]byte("\xffhello"))
	f.Add([]byte("id1\xffid2\xff\xffa\xffb"))
	f.Add([]byte("no delimiter"))
	f.Add([]byte("x\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &patterntest.Drops{}
		rep, err := patterns.New(patterns.Rep, patterns.Config{OnDrop: d.OnDrop, RecvHWM: 4})
		require.NoError(t, err)
		defer rep.Close()
		p := patterntest.NewPipe(1, "DEALER", nil)
		patterntest.Connect(rep, p)
		frames := splitInput(data)
		require.NoError(t, inbound(rep, context.Background(), p, patterns.Msg{Frames: frames}))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		body, err := recv(rep, ctx)
		delim := -1
		for i, f := range frames {
			if len(f) == 0 {
				delim = i
				break
			}
		}
		if delim < 0 || delim == len(frames)-1 {
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, 1, d.Count(patterns.DropUnexpected))
			return
		}
		require.NoError(t, err)
		require.Equal(t, frames[delim+1:], body.Frames)
		require.NoError(t, send(rep, context.Background(), patterntest.Msg("reply")))
		out := p.TakeData()
		require.Len(t, out, 1)
		require.Equal(t, append(append([][]byte{}, frames[:delim+1]...), []byte("reply")), out[0].Frames)
	})
}

// FuzzReqReply feeds an arbitrary inbound message to a REQ awaiting a
// reply (correlated or not): it is accepted only in the exact reply
// shape, and otherwise counted as dropped.
func FuzzReqReply(f *testing.F) {
	f.Add([]byte("\xffok"), false)
	f.Add([]byte("\x00\x00\x00\x01\xff\xffok"), true)
	f.Add([]byte("garbage"), true)
	f.Fuzz(func(t *testing.T, data []byte, correlate bool) {
		d := &patterntest.Drops{}
		req, err := patterns.New(patterns.Req, patterns.Config{OnDrop: d.OnDrop, ReqCorrelate: correlate})
		require.NoError(t, err)
		defer req.Close()
		p := patterntest.NewPipe(1, "REP", nil)
		patterntest.Connect(req, p)
		require.NoError(t, send(req, context.Background(), patterntest.Msg("q")))
		sent := p.TakeData()[0]
		frames := splitInput(data)
		require.NoError(t, inbound(req, context.Background(), p, patterns.Msg{Frames: frames}))
		want := 1
		if correlate {
			want = 2
		}
		wellFormed := len(frames) > want && len(frames[want-1]) == 0 &&
			(!correlate || bytes.Equal(frames[0], sent.Frames[0]))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		m, err := recv(req, ctx)
		if !wellFormed {
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, 1, d.Count(patterns.DropUnexpected))
			return
		}
		require.NoError(t, err)
		require.Equal(t, frames[want:], m.Frames)
	})
}
