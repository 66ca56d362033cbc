package socket_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seqMsg(i uint64) socket.Msg {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, i)
	return socket.NewMsg(b)
}

func seqOf(t *testing.T, m socket.Msg) uint64 {
	require.Len(t, m.Frames, 1)
	require.Len(t, m.Frames[0], 8)
	return binary.BigEndian.Uint64(m.Frames[0])
}

// A receiver goes away mid-stream and a new one binds the same endpoint:
// the stream resumes on the new one, in order, and what the first one had
// received but not handed to its application is counted as dropped there.
func TestReconnectResumesStream(t *testing.T) {
	for _, tc := range allTransports(t) {
		if tc.name == "inproc" {
			continue // an inproc receiver's queue is the sender's: nothing to lose
		}
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			var ep string
			switch tc.name {
			case "ipc":
				ep = tc.ep(t)
			case "quic":
				ep = "quic://127.0.0.1:" + freeUDPPort(t)
			default:
				ep = tc.name + "://127.0.0.1:" + freePort(t)
			}
			push := newSocket(t, socket.Push, append(tc.opts(t), socket.WithReconnectInterval(10*time.Millisecond), socket.WithLinger(0))...)
			ev, stop := push.Monitor()
			defer stop()
			require.NoError(t, push.Connect(ep))

			opts1 := tc.opts(t)
			pull1, err := socket.New(socket.Pull, append(opts1, socket.WithLinger(0))...)
			require.NoError(t, err)
			require.NoError(t, pull1.Bind(ep))

			sendCtx, stopSending := context.WithCancel(ctx)
			sent := make(chan uint64, 1)
			go func() {
				var i uint64
				for ; ; i++ {
					if err := push.Send(sendCtx, seqMsg(i)); err != nil {
						break
					}
				}
				sent <- i
			}()

			var next uint64
			for ; next < 500; next++ {
				m, err := pull1.Recv(ctx)
				require.NoError(t, err)
				require.Equal(t, next, seqOf(t, m), "first receiver: out of order")
			}
			require.NoError(t, pull1.Close())
			tc.release(opts1)
			st := pull1.Stats()
			waitEvent(t, ctx, ev, socket.EventDisconnected)

			pull2 := newSocket(t, socket.Pull, tc.opts(t)...)
			require.NoError(t, pull2.Bind(ep))
			m, err := pull2.Recv(ctx)
			require.NoError(t, err)
			first := seqOf(t, m)
			require.GreaterOrEqual(t, first, next, "the new receiver got an old message")
			// Anything between what pull1's application took and what
			// pull2 got first was lost with pull1: what pull1 had queued is
			// counted there, the rest was in the kernel's buffers when it
			// went away (ZeroMQ's at-most-once; a journal gives more).
			assert.LessOrEqual(t, st.Dropped[socket.DropUnread], first-next)
			for want := first + 1; want < first+2000; want++ {
				m, err := pull2.Recv(ctx)
				require.NoError(t, err)
				if want != seqOf(t, m) {
					for {
						select {
						case e := <-ev:
							t.Log(e)
							continue
						default:
						}
						break
					}
					t.Log("pull2", pull2.Stats())
					t.Log("push", push.Stats())
					t.Log("first", first, "next", next)
				}
				require.Equal(t, want, seqOf(t, m), "second receiver: gap or reordering")
			}
			stopSending()
			total := <-sent
			assert.Greater(t, total, first+2000)
			assert.Empty(t, push.Stats().Dropped, "the sender dropped nothing it had accepted")
		})
	}
}

func TestCloseCountsUnread(t *testing.T) {
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	pull, err := socket.New(socket.Pull)
	require.NoError(t, err)
	require.NoError(t, pull.Bind(ep))
	push := newSocket(t, socket.Push)
	require.NoError(t, push.Connect(ep))
	for i := 0; i < 10; i++ {
		require.NoError(t, push.Send(ctx, seqMsg(uint64(i))))
	}
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 0, seqOf(t, m))
	// Wait until the other nine are in pull's queue.
	for pull.Stats().Peers[0].Received < 10 {
		select {
		case <-ctx.Done():
			t.Fatal("messages never arrived")
		case <-time.After(time.Millisecond):
		}
	}
	require.NoError(t, pull.Close())
	assert.EqualValues(t, 9, pull.Stats().Dropped[socket.DropUnread])
}
