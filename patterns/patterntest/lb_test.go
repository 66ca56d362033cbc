package patterntest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
	"github.com/brookmq/brook/transport"
)

// A load-balancing socket with a lone peer sends to it without taking
// its turn lock; as peers come and go it must still send only to the
// peers it has, round-robin once there are two, wait for one when it
// has none or its only one is full, and fail once closed.
func TestLoadBalancerLonePeer(t *testing.T) {
	for _, typ := range []string{"PUSH", "DEALER", "PAIR"} {
		t.Run(typ, func(t *testing.T) {
			pat, _ := newPattern(t, typ, patterns.Config{})
			a := patterntest.NewPipe(1, "PULL", nil)
			patterntest.Connect(pat, a)
			for range 3 {
				require.NoError(t, send(pat, ctxT(t), patterntest.Msg("m")))
			}
			assert.Equal(t, 3, a.Queued())

			if typ != "PAIR" {
				b := patterntest.NewPipe(2, "PULL", nil)
				patterntest.Connect(pat, b)
				for range 4 {
					require.NoError(t, send(pat, ctxT(t), patterntest.Msg("m")))
				}
				assert.Equal(t, 5, a.Queued(), "two peers: round-robin")
				assert.Equal(t, 2, b.Queued(), "two peers: round-robin")
				patterntest.Leave(pat, a)
				require.NoError(t, send(pat, ctxT(t), patterntest.Msg("m")))
				assert.Equal(t, 5, a.Queued(), "a peer that left gets nothing")
				assert.Equal(t, 3, b.Queued())
				a = b
			}

			// The lone peer full: Send waits, and goes through once told
			// the peer is writable.
			a.SetHWM(a.Queued())
			assert.ErrorIs(t, send(pat, expired(), patterntest.Msg("m")), context.Canceled, "lone peer full: blocks")
			refused := a.Refused()
			done := make(chan error, 1)
			go func() { done <- send(pat, ctxT(t), patterntest.Msg("late")) }()
			require.NoError(t, a.WaitRefused(ctxT(t), refused+1))
			a.SetHWM(0)
			writable(pat, a)
			require.NoError(t, <-done)
			data := a.TakeData()
			require.NotEmpty(t, data)
			assert.Equal(t, []string{"late"}, patterntest.Strings(data[len(data)-1]))

			patterntest.Leave(pat, a)
			assert.ErrorIs(t, send(pat, expired(), patterntest.Msg("m")), context.Canceled, "no peer: blocks")
			assert.Zero(t, a.Queued(), "a peer that left gets nothing")

			c := patterntest.NewPipe(3, "PULL", nil)
			patterntest.Connect(pat, c)
			require.NoError(t, send(pat, ctxT(t), patterntest.Msg("m")))
			assert.Equal(t, 1, c.Queued())
			pat.Close()
			assert.ErrorIs(t, send(pat, ctxT(t), patterntest.Msg("m")), transport.ErrClosed, "closed: fails")
			assert.Equal(t, 1, c.Queued(), "closed: nothing more queued")
		})
	}
}
