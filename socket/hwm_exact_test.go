package socket_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The HWM is exact: a sender whose peer does not read has its Send
// accept exactly SNDHWM + RCVHWM messages before it blocks (PUSH) or
// drops (PUB), as WithSendHWM documents. On inproc nothing else holds
// messages; on tcp the kernel's socket buffers hold more, so there each
// pipe is checked on its own.

// refusals is how many Sends must time out before the pipeline counts as
// full: one that times out while the receiving side is still taking the
// last messages in only makes the loop try again.
const refusals = 5

// acceptedUntilFull sends numbered messages of size bytes until Send has
// timed out refusals times, and returns how many it accepted.
func acceptedUntilFull(t *testing.T, s *socket.Socket, size int) int {
	t.Helper()
	n, refused := 0, 0
	for refused < refusals {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := s.Send(ctx, socket.NewMsg(make([]byte, size)))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			refused++
			continue
		}
		require.NoError(t, err, "send %d", n)
		n++
	}
	return n
}

// A PUSH over inproc to a PULL that does not read accepts SNDHWM +
// RCVHWM messages, not one more: the inproc connection's own queue and
// the reader's batch are inside the HWMs.
func TestHWMExactPushInproc(t *testing.T) {
	for _, c := range []struct{ snd, rcv int }{{1, 1}, {3, 5}, {10, 10}, {100, 100}, {70, 1}} {
		t.Run(fmt.Sprintf("snd%d-rcv%d", c.snd, c.rcv), func(t *testing.T) {
			pull := newSocket(t, socket.Pull, socket.WithRecvHWM(c.rcv))
			require.NoError(t, pull.Bind(inprocEndpoint(t)))
			push := newSocket(t, socket.Push, socket.WithSendHWM(c.snd), socket.WithLinger(0))
			require.NoError(t, push.Connect(pull.LastEndpoint()))
			assert.Equal(t, c.snd+c.rcv, acceptedUntilFull(t, push, 8))

			// Each message the application takes makes room for exactly one.
			ctx := testCtx(t)
			_, err := pull.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, acceptedUntilFull(t, push, 8))
		})
	}
}

// An XPUB (a PUB that shows the subscriptions it gets, so the test knows
// when the subscriber is there) over inproc to a SUB that does not read
// keeps SNDHWM + RCVHWM messages and drops the rest, never holding more
// at any moment.
func TestHWMExactPubInproc(t *testing.T) {
	for _, n := range []int{1, 10, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := testCtx(t)
			pub := newSocket(t, socket.XPub, socket.WithSendHWM(n), socket.WithLinger(0))
			require.NoError(t, pub.Bind(inprocEndpoint(t)))
			sub := newSocket(t, socket.Sub, socket.WithRecvHWM(n))
			require.NoError(t, sub.Subscribe(nil))
			require.NoError(t, sub.Connect(pub.LastEndpoint()))
			_, err := pub.Recv(ctx) // the subscription
			require.NoError(t, err)

			kept := func(sent int) int { return sent - int(pub.Stats().Dropped[socket.DropHWM]) }
			sent := 0
			for kept(sent) < 2*n {
				require.NoError(t, ctx.Err(), "the pipeline never took %d messages", 2*n)
				require.NoError(t, pub.Send(ctx, msgOf("m")))
				sent++
				require.LessOrEqual(t, kept(sent), 2*n, "after %d sends", sent)
			}
			for range 3 * queueSlack {
				require.NoError(t, pub.Send(ctx, msgOf("m")))
				sent++
			}
			assert.Equal(t, 2*n, kept(sent), "full: every later message is dropped")
		})
	}
}

// queueSlack is more than the inproc connection's queue held beyond the
// HWM before the HWM covered it.
const queueSlack = 64

// Over tcp the kernel's buffers hold what neither side counts, but each
// pipe still holds at most its HWM: the PUSH's queue (messages accepted
// and not yet flushed to the kernel) at most SNDHWM, the PULL's at most
// RCVHWM messages read and not taken by the application, and every
// accepted message is in one of them or in between.
func TestHWMExactPushTCP(t *testing.T) {
	const snd, rcv, size = 10, 20, 64 << 10
	pull := newSocket(t, socket.Pull, socket.WithRecvHWM(rcv))
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	push := newSocket(t, socket.Push, socket.WithSendHWM(snd), socket.WithLinger(0))
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	accepted := acceptedUntilFull(t, push, size)

	ps := push.Stats().Peers
	require.Len(t, ps, 1)
	assert.Equal(t, snd, ps[0].Queued, "the PUSH's pipe is full, not over")
	assert.EqualValues(t, accepted, uint64(ps[0].Queued)+ps[0].Sent, "every accepted message is queued or flushed")
	pl := pull.Stats().Peers
	require.Len(t, pl, 1)
	assert.EqualValues(t, rcv, pl[0].Received, "the PULL read its HWM off the connection and no more")
	assert.GreaterOrEqual(t, accepted, snd+rcv)
}

// A socket that reads its connections one message at a time (ROUTER, REP,
// XPUB) waits for room before it reads the next message, so it never
// holds one read and waiting: a peer that sends without pause to one whose
// application reads nothing has exactly RCVHWM messages read off its
// connection, and exactly one more once the application takes one.

// received is how many messages s read off its peers' connections.
func received(s *socket.Socket) uint64 {
	var n uint64
	for _, p := range s.Stats().Peers {
		n += p.Received
	}
	return n
}

// readsExactly checks that s has read want messages off its only peer's
// connection and reads no more. There is no event for a reader that waits
// for room, so "no more" is checked over a while: a reader that read one
// more would do so within microseconds of the want-th.
func readsExactly(t *testing.T, s *socket.Socket, want uint64) {
	t.Helper()
	require.Eventually(t, func() bool { return received(s) >= want }, 10*time.Second, time.Millisecond,
		"the reader never read %d messages", want)
	assert.Never(t, func() bool { return received(s) > want }, 300*time.Millisecond, 5*time.Millisecond,
		"read more than the receive HWM allows")
	assert.Equal(t, want, received(s))
}

// hwmEndpoints are the transports the one-at-a-time tests run over: tcp
// (zmtp's reader) and inproc.
func hwmEndpoints(t *testing.T) map[string]string {
	return map[string]string{"tcp": "tcp://127.0.0.1:0", "inproc": inprocEndpoint(t)}
}

// A ROUTER and a REP fed by a DEALER that sends without waiting read no
// more than their RCVHWM, and the first message they return is the
// first sent (a ROUTER's with the peer's routing id before it, a REP's
// without its envelope).
func TestHWMExactRouterRep(t *testing.T) {
	const hwm, extra = 5, 20
	for _, typ := range []socket.Type{socket.Router, socket.Rep} {
		for name, ep := range hwmEndpoints(t) {
			t.Run(fmt.Sprintf("%s/%s", typ, name), func(t *testing.T) {
				ctx := testCtx(t)
				s := newSocket(t, typ, socket.WithRecvHWM(hwm))
				require.NoError(t, s.Bind(ep))
				dealer := newSocket(t, socket.Dealer, socket.WithSendHWM(1000), socket.WithLinger(0))
				require.NoError(t, dealer.Connect(s.LastEndpoint()))
				for i := range hwm + extra {
					// A REP's request needs the empty delimiter; a ROUTER takes it as one more frame.
					require.NoError(t, dealer.Send(ctx, socket.NewMsg(nil, []byte(fmt.Sprint(i)))))
				}
				readsExactly(t, s, hwm)

				m, err := s.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "0", string(m.Frames[len(m.Frames)-1]), "the first message")
				if typ == socket.Router {
					assert.NotEmpty(t, m.Frames[0], "the peer's routing id first")
				}
				readsExactly(t, s, hwm+1)
			})
		}
	}
}

func TestHWMExactXPub(t *testing.T) {
	const hwm, extra = 5, 20
	for name, ep := range hwmEndpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			xpub := newSocket(t, socket.XPub, socket.WithRecvHWM(hwm), socket.WithLinger(0))
			require.NoError(t, xpub.Bind(ep))
			xsub := newSocket(t, socket.XSub, socket.WithSendHWM(1000), socket.WithLinger(0))
			require.NoError(t, xsub.Subscribe([]byte("x")))
			require.NoError(t, xsub.Connect(xpub.LastEndpoint()))
			_, err := xpub.Recv(ctx) // the subscription: the peer is there
			require.NoError(t, err)
			// Messages an XSUB sends upstream, each for the application.
			for i := range hwm + extra {
				require.NoError(t, xsub.Send(ctx, msgOf(fmt.Sprint(i))))
			}
			readsExactly(t, xpub, 1+hwm)

			m, err := xpub.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, "0", string(m.Frames[0]))
			readsExactly(t, xpub, 1+hwm+1)
		})
	}
}

// An XPUB whose application does not read stops reading a subscriber once
// RCVHWM of its messages wait, subscriptions included: the later ones come
// into force once the application takes one. Its Sends never wait for that.
func TestHWMExactXPubSubscriptionsWait(t *testing.T) {
	ctx := testCtx(t)
	xpub := newSocket(t, socket.XPub, socket.WithRecvHWM(1), socket.WithLinger(0))
	require.NoError(t, xpub.Bind("tcp://127.0.0.1:0"))
	sub := newSocket(t, socket.Sub, socket.WithLinger(0))
	require.NoError(t, sub.Subscribe([]byte("a")))
	require.NoError(t, sub.Subscribe([]byte("b")))
	require.NoError(t, sub.Connect(xpub.LastEndpoint()))
	readsExactly(t, xpub, 1)

	for range 100 {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		require.NoError(t, xpub.Send(sctx, msgOf("a")), "a publisher does not wait for its application to read")
		cancel()
	}

	subs := map[string]bool{}
	m, err := xpub.Recv(ctx)
	require.NoError(t, err)
	subs[string(m.Frames[0])] = true
	readsExactly(t, xpub, 2)
	m, err = xpub.Recv(ctx)
	require.NoError(t, err)
	subs[string(m.Frames[0])] = true
	assert.Equal(t, map[string]bool{"\x01a": true, "\x01b": true}, subs)

	// Both subscriptions are in force: a message on b reaches the SUB.
	require.NoError(t, xpub.Send(ctx, msgOf("b")))
	for {
		m, err := sub.Recv(ctx)
		require.NoError(t, err)
		if string(m.Frames[0]) == "b" {
			break
		}
		require.Equal(t, "a", string(m.Frames[0]))
	}
}
