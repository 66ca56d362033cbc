package socket_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// Close lingers until the peer has read everything, not merely until it
// was written to the kernel: the PUSH half-closes and waits for the peer
// to hang up. So once Close returns, every message already sits in the
// PULL socket, and Recv returns them even with a context that has ended.
func TestLingerWaitsForThePeerToRead(t *testing.T) {
	for _, scheme := range []string{"tcp", "ipc", "inproc"} {
		t.Run(scheme, func(t *testing.T) {
			ctx := testCtx(t)
			const n = 5000
			// Room for one more than is sent: a PULL whose queue is full
			// reads no further, so it never reads the PUSH's half-close
			// nor hangs up, and Close returned only when its linger ran
			// out (20 s each, with every message delivered all the same),
			// which did not test the wait for the peer at all.
			pull := newSocket(t, socket.Pull, socket.WithRecvHWM(n+1))
			require.NoError(t, pull.Bind(endpointFor(t, scheme)))
			push := newSocket(t, socket.Push, socket.WithLinger(20*time.Second), socket.WithSendHWM(n))
			ev, stop := push.Monitor()
			defer stop()
			require.NoError(t, push.Connect(pull.LastEndpoint()))
			waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
			for i := range n {
				require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
			}
			require.NoError(t, push.Close())
			assert.Empty(t, push.Stats().Dropped)

			done, cancel := context.WithCancel(ctx)
			cancel()
			for i := range n {
				m, err := pull.Recv(done)
				require.NoError(t, err, "message %d was not in the PULL when Close returned", i)
				require.Equal(t, strconv.Itoa(i), string(m.Frames[0]))
			}
		})
	}
}

// A peer that stops reading cannot hold Close beyond the linger time; what
// could not be delivered is counted as dropped.
func TestLingerEndsWhenThePeerDoesNotRead(t *testing.T) {
	ctx := testCtx(t)
	pull := newSocket(t, socket.Pull, socket.WithRecvHWM(1))
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	push := newSocket(t, socket.Push, socket.WithLinger(200*time.Millisecond), socket.WithSendHWM(100))
	ev, stop := push.Monitor()
	defer stop()
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	big := make([]byte, 1<<20) // 64 MiB in all: more than any socket buffer holds
	for range 64 {
		sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := push.Send(sctx, socket.NewMsg(big))
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- push.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("Close did not return after its linger time")
	}
	st := push.Stats()
	assert.Positive(t, st.Dropped[socket.DropPeerGone], "the messages the PULL never read are counted")
}

// A PUB with no subscriber drops every message, and counts each one, but
// reports them in a few aggregated events rather than one per Send.
func TestDropEventsAreAggregated(t *testing.T) {
	ctx := testCtx(t)
	pub, err := socket.New(socket.Pub)
	require.NoError(t, err)
	ev, stop := pub.Monitor()
	defer stop()
	const n = 20000
	for i := range n {
		require.NoError(t, pub.Send(ctx, msgOf(fmt.Sprint(i))))
	}
	require.NoError(t, pub.Close())
	events, total := 0, 0
	for e := range ev {
		if e.Type == socket.EventDropped {
			events++
			total += e.Count
			assert.Equal(t, socket.DropNoPeer, e.Reason)
		}
	}
	assert.Equal(t, n, total, "every drop is in an event's count")
	assert.Less(t, events, n/10, "drops are aggregated")
	assert.EqualValues(t, n, pub.Stats().Dropped[socket.DropNoPeer])
}

// Options that only some socket types take are refused on the others, as
// libzmq's zmq_setsockopt refuses them with EINVAL.
func TestTypeSpecificOptionsRefusedElsewhere(t *testing.T) {
	for _, tc := range []struct {
		opt   socket.Option
		right socket.Type
		wrong []socket.Type
	}{
		{socket.WithXPubVerbose(true), socket.XPub, []socket.Type{socket.Pub, socket.Sub, socket.Push}},
		{socket.WithXPubVerboser(true), socket.XPub, []socket.Type{socket.Pub}},
		{socket.WithXPubManual(true), socket.XPub, []socket.Type{socket.XSub}},
		{socket.WithXPubWelcome([]byte("hi")), socket.XPub, []socket.Type{socket.Router}},
		{socket.WithReqRelaxed(true), socket.Req, []socket.Type{socket.Rep, socket.Dealer}},
		{socket.WithReqCorrelate(true), socket.Req, []socket.Type{socket.Rep}},
		{socket.WithRouterMandatory(true), socket.Router, []socket.Type{socket.Dealer, socket.Push}},
		{socket.WithRouterHandover(true), socket.Router, []socket.Type{socket.Rep}},
	} {
		s, err := socket.New(tc.right, tc.opt)
		require.NoError(t, err, "%s takes it", tc.right)
		require.NoError(t, s.Close())
		for _, w := range tc.wrong {
			_, err := socket.New(w, tc.opt)
			assert.ErrorIs(t, err, socket.ErrBadOption, "%s must refuse it", w)
		}
	}
}
