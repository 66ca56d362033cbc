package socket_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patTransports lists endpoint makers for the pattern tests: inproc and
// tcp on loopback.
func patTransports(t *testing.T) map[string]func() string {
	return map[string]func() string{
		"inproc": func() string { return inprocEndpoint(t) },
		"tcp":    func() string { return "tcp://127.0.0.1:" + freePort(t) },
	}
}

// patLink binds a and connects b to ep (or the other way round) and
// returns once b's connection is established.
func patLink(t *testing.T, ctx context.Context, binder, connecter *socket.Socket, ep string) {
	t.Helper()
	ev, stop := connecter.Monitor()
	defer stop()
	require.NoError(t, binder.Bind(ep))
	require.NoError(t, connecter.Connect(binder.LastEndpoint()))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
}

// patAwaitSubscribed publishes probe messages on pub until sub receives
// one: the only sign a plain PUB gives that a subscription has arrived.
// The probe topic must be covered by sub's subscriptions. Probes that
// arrive later are discarded by patDrain.
func patAwaitSubscribed(t *testing.T, ctx context.Context, pub, sub *socket.Socket, probe string) {
	t.Helper()
	for {
		require.NoError(t, pub.Send(ctx, msgOf(probe)))
		rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		m, err := sub.Recv(rctx)
		cancel()
		if err == nil {
			require.Equal(t, probe, string(m.Frames[0]))
			return
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		// Past the test's deadline Recv fails at once: stop, not spin.
		require.NoError(t, ctx.Err(), "no %s probe arrived", probe)
	}
}

// patRecvSkipping receives the next message whose first frame is not
// skip (leftover probes).
func patRecvSkipping(t *testing.T, ctx context.Context, s *socket.Socket, skip string) socket.Msg {
	t.Helper()
	for {
		m, err := s.Recv(ctx)
		require.NoError(t, err)
		if !bytes.Equal(m.Frames[0], []byte(skip)) {
			return m
		}
	}
}

func TestPubSubFiltering(t *testing.T) {
	for name, mk := range patTransports(t) {
		for _, pubBinds := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/pubBinds=%v", name, pubBinds), func(t *testing.T) {
				ctx := testCtx(t)
				pub := newSocket(t, socket.Pub)
				sub := newSocket(t, socket.Sub)
				require.NoError(t, sub.Subscribe([]byte("news.")))
				require.NoError(t, sub.Subscribe([]byte("probe")))
				if pubBinds {
					patLink(t, ctx, pub, sub, mk())
				} else {
					patLink(t, ctx, sub, pub, mk())
				}
				patAwaitSubscribed(t, ctx, pub, sub, "probe")
				for _, topic := range []string{"sport.1", "news.1", "new", "news.2"} {
					require.NoError(t, pub.Send(ctx, socket.NewMsg([]byte(topic), []byte("body"))))
				}
				m := patRecvSkipping(t, ctx, sub, "probe")
				assert.Equal(t, []string{"news.1", "body"}, patStrings(m))
				m = patRecvSkipping(t, ctx, sub, "probe")
				assert.Equal(t, "news.2", string(m.Frames[0]))
				assert.Positive(t, pub.Stats().Dropped[socket.DropNoPeer], "unmatched messages are counted")

				// Unsubscribe: the publisher stops sending news.
				require.NoError(t, sub.Unsubscribe([]byte("news.")))
				require.NoError(t, sub.Unsubscribe([]byte("probe")))
				// A probe only the new subscription matches proves the
				// cancellations sent before it were applied.
				require.NoError(t, sub.Subscribe([]byte("zz")))
				patAwaitSubscribed(t, ctx, pub, sub, "zz")
				require.NoError(t, pub.Send(ctx, msgOf("news.3")))
				require.NoError(t, pub.Send(ctx, msgOf("probe")))
				require.NoError(t, pub.Send(ctx, msgOf("zz-end")))
				m = patRecvSkipping(t, ctx, sub, "zz")
				assert.Equal(t, "zz-end", string(m.Frames[0]), "news.3 and probe were not sent")
			})
		}
	}
}

// patStrings renders a message's frames as strings.
func patStrings(m socket.Msg) []string {
	out := make([]string, len(m.Frames))
	for i, f := range m.Frames {
		out[i] = string(f)
	}
	return out
}

func TestSubResubscribesAfterPublisherRestart(t *testing.T) {
	ctx := testCtx(t)
	ep := "tcp://127.0.0.1:" + freePort(t)
	sub := newSocket(t, socket.Sub, socket.WithReconnectInterval(10*time.Millisecond))
	require.NoError(t, sub.Subscribe([]byte("t")))
	ev, stop := sub.Monitor()
	defer stop()
	require.NoError(t, sub.Connect(ep))
	for round := 0; round < 2; round++ {
		pub, err := socket.New(socket.Pub)
		require.NoError(t, err)
		require.NoError(t, pub.Bind(ep))
		waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
		patAwaitSubscribed(t, ctx, pub, sub, "t-probe")
		require.NoError(t, pub.Send(ctx, msgOf(fmt.Sprintf("t.round%d", round))))
		m := patRecvSkipping(t, ctx, sub, "t-probe")
		assert.Equal(t, fmt.Sprintf("t.round%d", round), string(m.Frames[0]))
		require.NoError(t, pub.Close())
		waitEvent(t, ctx, ev, socket.EventDisconnected)
	}
}

func TestXPubSeesSubscriptions(t *testing.T) {
	for name, mk := range patTransports(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			xpub := newSocket(t, socket.XPub, socket.WithXPubWelcome([]byte("welcome")))
			sub1 := newSocket(t, socket.Sub)
			sub2 := newSocket(t, socket.Sub)
			ep := mk()
			require.NoError(t, xpub.Bind(ep))
			require.NoError(t, sub1.Subscribe([]byte("w")))
			require.NoError(t, sub1.Connect(xpub.LastEndpoint()))
			patExpectSub(t, ctx, xpub, "\x01w")
			m, err := sub1.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, "welcome", string(m.Frames[0]), "welcome message, matched by the SUB's subscription")

			require.NoError(t, sub2.Connect(xpub.LastEndpoint()))
			require.NoError(t, sub2.Subscribe([]byte("w")))   // not the first: not passed on
			require.NoError(t, sub2.Subscribe([]byte("zzz"))) // a new topic: passed on
			patExpectSub(t, ctx, xpub, "\x01zzz")
			require.NoError(t, sub1.Unsubscribe([]byte("w"))) // sub2 still holds it
			require.NoError(t, sub2.Close())                  // last holder of w and zzz leaves
			got := []string{patRecvString(t, ctx, xpub), patRecvString(t, ctx, xpub)}
			assert.ElementsMatch(t, []string{"\x00w", "\x00zzz"}, got)
		})
	}
}

func patRecvString(t *testing.T, ctx context.Context, s *socket.Socket) string {
	t.Helper()
	m, err := s.Recv(ctx)
	require.NoError(t, err)
	require.Len(t, m.Frames, 1)
	return string(m.Frames[0])
}

func patExpectSub(t *testing.T, ctx context.Context, xpub *socket.Socket, want string) {
	t.Helper()
	assert.Equal(t, want, patRecvString(t, ctx, xpub))
}

func TestReqRepStrictAlternation(t *testing.T) {
	for name, mk := range patTransports(t) {
		for _, repBinds := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/repBinds=%v", name, repBinds), func(t *testing.T) {
				ctx := testCtx(t)
				req := newSocket(t, socket.Req)
				rep := newSocket(t, socket.Rep)
				if repBinds {
					patLink(t, ctx, rep, req, mk())
				} else {
					patLink(t, ctx, req, rep, mk())
				}
				_, err := req.Recv(ctx)
				require.ErrorIs(t, err, socket.ErrState)
				require.ErrorIs(t, rep.Send(ctx, msgOf("x")), socket.ErrState)
				for i := 0; i < 50; i++ {
					body := fmt.Sprintf("q%d", i)
					require.NoError(t, req.Send(ctx, socket.NewMsg([]byte(body), []byte("part"))))
					require.ErrorIs(t, req.Send(ctx, msgOf("again")), socket.ErrState)
					m, err := rep.Recv(ctx)
					require.NoError(t, err)
					require.Equal(t, []string{body, "part"}, patStrings(m))
					require.NoError(t, rep.Send(ctx, msgOf("r"+body)))
					m, err = req.Recv(ctx)
					require.NoError(t, err)
					require.Equal(t, []string{"r" + body}, patStrings(m))
				}
			})
		}
	}
}

func TestReqCancelledRecvKeepsRequest(t *testing.T) {
	ctx := testCtx(t)
	req := newSocket(t, socket.Req, socket.WithReqCorrelate(true))
	rep := newSocket(t, socket.Rep)
	patLink(t, ctx, rep, req, inprocEndpoint(t))
	require.NoError(t, req.Send(ctx, msgOf("q")))
	short, cancel := context.WithCancel(ctx)
	cancel()
	_, err := req.Recv(short)
	require.ErrorIs(t, err, context.Canceled)
	m, err := rep.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"q"}, patStrings(m))
	require.NoError(t, rep.Send(ctx, msgOf("a")))
	m, err = req.Recv(ctx)
	require.NoError(t, err, "the reply still arrives after a cancelled Recv")
	assert.Equal(t, []string{"a"}, patStrings(m))
}

func TestReqRelaxedAfterPeerLoss(t *testing.T) {
	ctx := testCtx(t)
	req := newSocket(t, socket.Req, socket.WithReqRelaxed(true), socket.WithReqCorrelate(true))
	rep1 := newSocket(t, socket.Rep)
	ev, stop := req.Monitor()
	defer stop()
	ep1 := inprocEndpoint(t)
	require.NoError(t, rep1.Bind(ep1))
	require.NoError(t, req.Connect(ep1))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	require.NoError(t, req.Send(ctx, msgOf("lost")))
	_, err := rep1.Recv(ctx)
	require.NoError(t, err)
	require.NoError(t, rep1.Close()) // dies without replying
	waitEvent(t, ctx, ev, socket.EventDisconnected)
	require.NoError(t, req.Disconnect(ep1))

	rep2 := newSocket(t, socket.Rep)
	patLink(t, ctx, rep2, req, inprocEndpoint(t))
	require.NoError(t, req.Send(ctx, msgOf("retry")), "relaxed: a new request is allowed")
	m, err := rep2.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"retry"}, patStrings(m))
	require.NoError(t, rep2.Send(ctx, msgOf("ok")))
	m, err = req.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"ok"}, patStrings(m))
}

func TestRouterAddressesDealersByIdentity(t *testing.T) {
	for name, mk := range patTransports(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			router := newSocket(t, socket.Router, socket.WithRouterMandatory(true))
			ev, stop := router.Monitor()
			defer stop()
			require.NoError(t, router.Bind(mk()))
			names := []string{"alpha", "beta", "gamma"}
			dealers := map[string]*socket.Socket{}
			for _, n := range names {
				d := newSocket(t, socket.Dealer, socket.WithRoutingID([]byte(n)))
				require.NoError(t, d.Connect(router.LastEndpoint()))
				waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
				dealers[n] = d
			}
			anon := newSocket(t, socket.Dealer)
			require.NoError(t, anon.Connect(router.LastEndpoint()))
			waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)

			for _, n := range names {
				require.NoError(t, router.Send(ctx, socket.NewMsg([]byte(n), []byte("for "+n))))
			}
			for _, n := range names {
				m, err := dealers[n].Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, []string{"for " + n}, patStrings(m))
			}
			require.NoError(t, anon.Send(ctx, msgOf("who am I")))
			m, err := router.Recv(ctx)
			require.NoError(t, err)
			require.Len(t, m.Frames, 2)
			require.Len(t, m.Frames[0], 5, "generated id")
			require.NoError(t, router.Send(ctx, socket.NewMsg(m.Frames[0], []byte("you are you"))))
			m, err = anon.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{"you are you"}, patStrings(m))

			err = router.Send(ctx, socket.NewMsg([]byte("nobody"), []byte("x")))
			assert.ErrorIs(t, err, socket.ErrHostUnreachable)
		})
	}
}

func TestRouterDropsUnknownCounted(t *testing.T) {
	ctx := testCtx(t)
	router := newSocket(t, socket.Router)
	ev, stop := router.Monitor()
	defer stop()
	require.NoError(t, router.Send(ctx, socket.NewMsg([]byte("nobody"), []byte("x"))))
	e := waitEvent(t, ctx, ev, socket.EventDropped)
	assert.Equal(t, socket.DropNoPeer, e.Reason)
	assert.EqualValues(t, 1, router.Stats().Dropped[socket.DropNoPeer])
}

func TestRouterRefusesDuplicateIdentity(t *testing.T) {
	ctx := testCtx(t)
	router := newSocket(t, socket.Router)
	ev, stop := router.Monitor()
	defer stop()
	require.NoError(t, router.Bind(inprocEndpoint(t)))
	d1 := newSocket(t, socket.Dealer, socket.WithRoutingID([]byte("same")))
	require.NoError(t, d1.Connect(router.LastEndpoint()))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	d2 := newSocket(t, socket.Dealer, socket.WithRoutingID([]byte("same")))
	require.NoError(t, d2.Connect(router.LastEndpoint()))
	e := waitEvent(t, ctx, ev, socket.EventRejected)
	assert.Equal(t, []byte("same"), e.Peer.Identity)
	require.NoError(t, router.Send(ctx, socket.NewMsg([]byte("same"), []byte("x"))))
	m, err := d1.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"x"}, patStrings(m))
}

func TestDealerFairShareToRouters(t *testing.T) {
	for name, mk := range patTransports(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			dealer := newSocket(t, socket.Dealer)
			var routers []*socket.Socket
			for i := 0; i < 3; i++ {
				r := newSocket(t, socket.Router)
				patLink(t, ctx, r, dealer, mk())
				routers = append(routers, r)
			}
			const n = 300
			for i := 0; i < n; i++ {
				require.NoError(t, dealer.Send(ctx, msgOf(fmt.Sprint(i))))
			}
			for _, r := range routers {
				for i := 0; i < n/3; i++ {
					_, err := r.Recv(ctx)
					require.NoError(t, err)
				}
				short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				_, err := r.Recv(short)
				cancel()
				require.ErrorIs(t, err, context.DeadlineExceeded, "exactly a third each, not a broadcast")
			}
		})
	}
}

func TestIncompatiblePatternsRejected(t *testing.T) {
	pairs := [][2]socket.Type{{socket.Pub, socket.Pull}, {socket.Req, socket.Req}, {socket.Sub, socket.Dealer}, {socket.XPub, socket.Rep}}
	for _, pair := range pairs {
		t.Run(pair[0].String()+"-"+pair[1].String(), func(t *testing.T) {
			ctx := testCtx(t)
			a := newSocket(t, pair[0])
			b := newSocket(t, pair[1])
			ev, stop := a.Monitor()
			defer stop()
			require.NoError(t, b.Bind("tcp://127.0.0.1:0"))
			require.NoError(t, a.Connect(b.LastEndpoint()))
			e := waitEvent(t, ctx, ev, socket.EventHandshakeFailed)
			assert.ErrorIs(t, e.Err, transport.ErrIncompatible)
		})
	}
}

func TestPubDropsAtHWMCounted(t *testing.T) {
	ctx := testCtx(t)
	xpub := newSocket(t, socket.XPub, socket.WithSendHWM(10))
	sub := newSocket(t, socket.Sub, socket.WithRecvHWM(10))
	require.NoError(t, sub.Subscribe(nil))
	require.NoError(t, xpub.Bind(inprocEndpoint(t)))
	require.NoError(t, sub.Connect(xpub.LastEndpoint()))
	patExpectSub(t, ctx, xpub, "\x01")
	const n = 5000
	for i := 0; i < n; i++ {
		require.NoError(t, xpub.Send(ctx, msgOf("m")), "PUB never blocks")
	}
	// PUB drops synchronously in Send, so the count is final: exactly the
	// other messages must arrive, and nothing more.
	dropped := xpub.Stats().Dropped[socket.DropHWM]
	assert.Positive(t, dropped)
	for i := uint64(0); i < n-dropped; i++ {
		_, err := sub.Recv(ctx)
		require.NoError(t, err, "after %d of %d", i, n-dropped)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := sub.Recv(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "every message is delivered or counted, once")
}

// TestConcurrentSubscribeAndReconnect subscribes while the publisher
// restarts: the new publisher must get every subscription exactly once
// (verbose mode would show a duplicate).
func TestConcurrentSubscribeAndReconnect(t *testing.T) {
	ctx := testCtx(t)
	ep := "tcp://127.0.0.1:" + freePort(t)
	xpub1 := newSocket(t, socket.XPub)
	require.NoError(t, xpub1.Bind(ep))
	sub := newSocket(t, socket.Sub, socket.WithReconnectInterval(5*time.Millisecond))
	require.NoError(t, sub.Connect(ep))
	const topics = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < topics; i++ {
			assert.NoError(t, sub.Subscribe([]byte(fmt.Sprintf("t%03d", i))))
		}
	}()
	for i := 0; i < 20; i++ { // let some arrive at the first publisher
		require.Equal(t, byte(1), patRecvString(t, ctx, xpub1)[0])
	}
	require.NoError(t, xpub1.Close())
	xpub2 := newSocket(t, socket.XPub, socket.WithXPubVerbose(true))
	require.NoError(t, xpub2.Bind(ep))
	wg.Wait()
	require.NoError(t, sub.Subscribe([]byte("zz-end")))
	seen := map[string]int{}
	for {
		s := patRecvString(t, ctx, xpub2)
		require.Equal(t, byte(1), s[0])
		if s[1:] == "zz-end" {
			break
		}
		seen[s[1:]]++
	}
	assert.Len(t, seen, topics, "every subscription arrives at the new publisher")
	for topic, n := range seen {
		assert.Equal(t, 1, n, "topic %s sent once", topic)
	}
}

func TestXPubManualSocket(t *testing.T) {
	ctx := testCtx(t)
	xpub := newSocket(t, socket.XPub, socket.WithXPubManual(true))
	require.ErrorIs(t, xpub.Subscribe([]byte("a")), socket.ErrState, "no subscription received yet")
	require.NoError(t, xpub.Bind(inprocEndpoint(t)))
	sub := newSocket(t, socket.Sub)
	require.NoError(t, sub.Subscribe([]byte("a")))
	require.NoError(t, sub.Connect(xpub.LastEndpoint()))
	patExpectSub(t, ctx, xpub, "\x01a")
	require.NoError(t, xpub.Send(ctx, msgOf("a0")))
	assert.EqualValues(t, 1, xpub.Stats().Dropped[socket.DropNoPeer], "not applied until the application says so")
	require.NoError(t, xpub.Subscribe([]byte("a")))
	require.NoError(t, xpub.Send(ctx, msgOf("a1")))
	m, err := sub.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a1", string(m.Frames[0]))
	require.NoError(t, xpub.Unsubscribe([]byte("a")))
	require.NoError(t, xpub.Send(ctx, msgOf("a2")))
	assert.EqualValues(t, 2, xpub.Stats().Dropped[socket.DropNoPeer])

	pub := newSocket(t, socket.Pub)
	assert.ErrorIs(t, pub.Subscribe([]byte("a")), socket.ErrNotSupported)
}

func TestRouterHandover(t *testing.T) {
	ctx := testCtx(t)
	router := newSocket(t, socket.Router, socket.WithRouterHandover(true))
	ev, stop := router.Monitor()
	defer stop()
	require.NoError(t, router.Bind(inprocEndpoint(t)))
	// The first holder would reconnect and take the id back (the newest
	// connection wins, as in libzmq); keep it away for the test.
	d1 := newSocket(t, socket.Dealer, socket.WithRoutingID([]byte("same")), socket.WithReconnectInterval(time.Hour))
	require.NoError(t, d1.Connect(router.LastEndpoint()))
	first := waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	d2 := newSocket(t, socket.Dealer, socket.WithRoutingID([]byte("same")))
	require.NoError(t, d2.Connect(router.LastEndpoint()))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	// The previous holder's connection is ended.
	gone := waitEvent(t, ctx, ev, socket.EventDisconnected)
	assert.Equal(t, first.PeerID, gone.PeerID)
	require.NoError(t, router.Send(ctx, socket.NewMsg([]byte("same"), []byte("to the newcomer"))))
	m, err := d2.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"to the newcomer"}, patStrings(m))
}
