package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

// patProbeWait is how long one probe waits for its echo before the next
// is sent, while a subscription travels to a publisher.
const patProbeWait = 20 * time.Millisecond

// patAwaitBrookToLibzmq publishes probe on a brook publisher until the
// libzmq subscriber receives one (the subscription has arrived).
func patAwaitBrookToLibzmq(ctx context.Context, t *testing.T, pub *socket.Socket, sub *patZ, probe string) {
	t.Helper()
	for {
		requireSend(ctx, t, pub, []byte(probe))
		if m, ok := sub.tryRecv(patProbeWait); ok {
			require.Equal(t, probe, string(m[0]))
			return
		}
		require.NoError(t, ctx.Err())
	}
}

// patAwaitLibzmqToBrook is the same for a libzmq publisher and a brook
// subscriber.
func patAwaitLibzmqToBrook(ctx context.Context, t *testing.T, pub *patZ, sub *socket.Socket, probe string) {
	t.Helper()
	for {
		pub.sendStrings(probe)
		rctx, cancel := context.WithTimeout(ctx, patProbeWait)
		m, err := sub.Recv(rctx)
		cancel()
		if err == nil {
			require.Equal(t, probe, string(m.Frames[0]))
			return
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		// Recv fails at once when the test's own deadline has passed:
		// stop probing then instead of spinning until the suite times out.
		require.NoError(t, ctx.Err(), "no %s probe arrived", probe)
	}
}

// patLibzmqSkipping receives on z, skipping messages whose first frame is
// skip (probes still in flight).
func patLibzmqSkipping(t *testing.T, z *patZ, skip string) []string {
	t.Helper()
	for {
		m := z.recvStrings()
		if m[0] != skip {
			return m
		}
	}
}

// patBrookSkipping is the same for a brook socket.
func patBrookSkipping(ctx context.Context, t *testing.T, s *socket.Socket, skip string) []string {
	t.Helper()
	for {
		m := patStrings(requireRecv(ctx, t, s))
		if m[0] != skip {
			return m
		}
	}
}

// TestLibzmqBrookPubToSub: brook PUB -> libzmq SUB, each side binding in
// turn: filtering, unsubscribe, and resubscription by libzmq after the
// brook publisher restarts on the same port.
func TestLibzmqBrookPubToSub(t *testing.T) {
	for _, brookBinds := range []bool{true, false} {
		t.Run(fmt.Sprintf("brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			py := patLibzmq(t)
			sub := py.socket("SUB", map[string]any{"RECONNECT_IVL": 20})
			sub.subscribe("news.")
			sub.subscribe("p1")
			pub := newBrook(t, socket.Pub)
			var ep string
			if brookBinds {
				require.NoError(t, pub.Bind("tcp://127.0.0.1:0"))
				ep = pub.LastEndpoint()
				sub.connect(ep)
			} else {
				require.NoError(t, pub.Connect(sub.bind("tcp://127.0.0.1:*")))
			}
			patAwaitBrookToLibzmq(ctx, t, pub, sub, "p1")
			for _, topic := range []string{"sport.1", "news.1", "new", "news.2"} {
				requireSend(ctx, t, pub, []byte(topic), []byte("body"))
			}
			assert.Equal(t, []string{"news.1", "body"}, patLibzmqSkipping(t, sub, "p1"))
			assert.Equal(t, []string{"news.2", "body"}, patLibzmqSkipping(t, sub, "p1"))

			sub.unsubscribe("news.")
			sub.subscribe("p2") // arrives after the cancellation
			patAwaitBrookToLibzmq(ctx, t, pub, sub, "p2")
			requireSend(ctx, t, pub, []byte("news.3"))
			requireSend(ctx, t, pub, []byte("p2-end"))
			assert.Equal(t, []string{"p2-end"}, patLibzmqSkipping(t, sub, "p2"), "news.3 filtered at the publisher")

			if !brookBinds {
				return
			}
			// The publisher restarts on the same port: libzmq resubscribes.
			require.NoError(t, pub.Close())
			pub2 := newBrook(t, socket.Pub)
			require.NoError(t, pub2.Bind(ep))
			patAwaitBrookToLibzmq(ctx, t, pub2, sub, "p1")
			requireSend(ctx, t, pub2, []byte("news.4"))
			requireSend(ctx, t, pub2, []byte("p2-after"))
			assert.Equal(t, []string{"p2-after"}, patLibzmqSkipping(t, sub, "p1"))
		})
	}
}

// TestLibzmqPubToBrookSub: libzmq PUB -> brook SUB, each side binding in
// turn, with the libzmq publisher restarting on the same port (brook
// resubscribes) when it binds.
func TestLibzmqPubToBrookSub(t *testing.T) {
	for _, brookBinds := range []bool{true, false} {
		t.Run(fmt.Sprintf("brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			py := patLibzmq(t)
			pub := py.socket("PUB", nil)
			sub := newBrook(t, socket.Sub, socket.WithReconnectInterval(20*time.Millisecond))
			require.NoError(t, sub.Subscribe([]byte("news.")))
			require.NoError(t, sub.Subscribe([]byte("p1")))
			var ep string
			if brookBinds {
				require.NoError(t, sub.Bind("tcp://127.0.0.1:0"))
				pub.connect(sub.LastEndpoint())
			} else {
				ep = pub.bind("tcp://127.0.0.1:*")
				require.NoError(t, sub.Connect(ep))
			}
			patAwaitLibzmqToBrook(ctx, t, pub, sub, "p1")
			for _, topic := range []string{"sport.1", "news.1", "new", "news.2"} {
				pub.sendStrings(topic, "body")
			}
			assert.Equal(t, []string{"news.1", "body"}, patBrookSkipping(ctx, t, sub, "p1"))
			assert.Equal(t, []string{"news.2", "body"}, patBrookSkipping(ctx, t, sub, "p1"))
			assert.Zero(t, sub.Stats().Dropped[socket.DropUnexpected], "libzmq filtered at the publisher")

			require.NoError(t, sub.Unsubscribe([]byte("news.")))
			require.NoError(t, sub.Subscribe([]byte("p2")))
			patAwaitLibzmqToBrook(ctx, t, pub, sub, "p2")
			pub.sendStrings("news.3")
			pub.sendStrings("p2-end")
			assert.Equal(t, []string{"p2-end"}, patBrookSkipping(ctx, t, sub, "p2"))

			if brookBinds {
				return
			}
			pub.close()
			pub2 := py.socket("PUB", nil)
			require.Equal(t, ep, pub2.rebind(ep))
			patAwaitLibzmqToBrook(ctx, t, pub2, sub, "p1")
			pub2.sendStrings("news.4")
			pub2.sendStrings("p2-after")
			assert.Equal(t, []string{"p2-after"}, patBrookSkipping(ctx, t, sub, "p1"))
		})
	}
}

// TestLibzmqThroughBrookXPubXSubProxy: libzmq publishers (a PUB, and an
// XPUB that shows the subscriptions it receives) -> brook XSUB | Proxy |
// brook XPUB -> libzmq SUBs. One publisher connects to the proxy, the
// other is connected to by it.
func TestLibzmqThroughBrookXPubXSubProxy(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	py := patLibzmq(t)
	front := newBrook(t, socket.XSub)
	back := newBrook(t, socket.XPub)
	require.NoError(t, front.Bind("tcp://127.0.0.1:0"))
	require.NoError(t, back.Bind("tcp://127.0.0.1:0"))
	proxy, err := socket.NewSteerableProxy(front, back, nil)
	require.NoError(t, err)
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- proxy.Run(pctx) }()
	defer func() {
		stop()
		assert.ErrorIs(t, <-done, context.Canceled)
	}()

	pub := py.socket("PUB", nil)
	pub.connect(front.LastEndpoint())
	xpub := py.socket("XPUB", nil)
	require.NoError(t, front.Connect(xpub.bind("tcp://127.0.0.1:*")))
	sub1 := py.socket("SUB", nil)
	sub2 := py.socket("SUB", nil)
	sub1.connect(back.LastEndpoint())
	sub2.connect(back.LastEndpoint())

	sub1.subscribe("a")
	assert.Equal(t, []string{"\x01a"}, xpub.recvStrings(), "subscription forwarded upstream")
	sub2.subscribe("a")
	sub2.subscribe("b")
	assert.Equal(t, []string{"\x01b"}, xpub.recvStrings(), "a was already forwarded")

	// The plain PUB got the subscriptions too (b after a, on one
	// connection): probe b until it delivers.
	for {
		pub.sendStrings("b-probe")
		if m, ok := sub2.tryRecv(patProbeWait); ok {
			require.Equal(t, []string{"b-probe"}, patStrings(m))
			break
		}
		require.NoError(t, ctx.Err(), "no b-probe arrived")
	}
	pub.sendStrings("b1", "from pub")
	xpub.sendStrings("a1", "from xpub")
	assert.Equal(t, []string{"a1", "from xpub"}, sub1.recvStrings(), "sub1 got no b")
	// The two publishers' messages reach sub2 in either order.
	got := [][]string{patLibzmqSkipping(t, sub2, "b-probe"), patLibzmqSkipping(t, sub2, "b-probe")}
	assert.ElementsMatch(t, [][]string{{"b1", "from pub"}, {"a1", "from xpub"}}, got)

	sub1.unsubscribe("a") // sub2 still holds a
	sub2.unsubscribe("b")
	assert.Equal(t, []string{"\x00b"}, xpub.recvStrings())
	sub2.close()
	assert.Equal(t, []string{"\x00a"}, xpub.recvStrings(), "the last holder left")
	st := proxy.Stats()
	assert.Positive(t, st.FrontToBack.Messages)
	assert.Positive(t, st.BackToFront.Messages)
}

// TestLibzmqReqRep: brook REQ -> libzmq REP and libzmq REQ -> brook REP,
// each side binding in turn, plus brook's correlate mode against a libzmq
// REP (the id travels in the envelope libzmq echoes).
func TestLibzmqReqRep(t *testing.T) {
	for _, brookBinds := range []bool{true, false} {
		t.Run(fmt.Sprintf("brookReq/brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			py := patLibzmq(t)
			for _, opts := range [][]socket.Option{nil, {socket.WithReqCorrelate(true), socket.WithReqRelaxed(true)}} {
				rep := py.socket("REP", nil)
				req := newBrook(t, socket.Req, opts...)
				if brookBinds {
					require.NoError(t, req.Bind("tcp://127.0.0.1:0"))
					rep.connect(req.LastEndpoint())
				} else {
					require.NoError(t, req.Connect(rep.bind("tcp://127.0.0.1:*")))
				}
				rep.serve()
				for i := 0; i < 20; i++ {
					q := strconv.Itoa(i)
					requireSend(ctx, t, req, []byte(q), []byte("more"))
					assert.Equal(t, []string{"re:" + q, "more"}, patStrings(requireRecv(ctx, t, req)))
				}
			}
		})
		t.Run(fmt.Sprintf("libzmqReq/brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			py := patLibzmq(t)
			rep := newBrook(t, socket.Rep)
			req := py.socket("REQ", map[string]any{"REQ_CORRELATE": 1, "REQ_RELAXED": 1})
			if brookBinds {
				require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
				req.connect(rep.LastEndpoint())
			} else {
				require.NoError(t, rep.Connect(req.bind("tcp://127.0.0.1:*")))
			}
			for i := 0; i < 20; i++ {
				q := strconv.Itoa(i)
				req.sendStrings(q)
				assert.Equal(t, []string{q}, patStrings(requireRecv(ctx, t, rep)))
				requireSend(ctx, t, rep, []byte("a"+q))
				assert.Equal(t, []string{"a" + q}, req.recvStrings())
			}
		})
	}
}

// TestLibzmqRequestChain mixes brook and libzmq along REQ -> ROUTER ->
// DEALER -> REP: libzmq clients and workers around a brook proxy, and
// brook clients and workers around a libzmq proxy.
func TestLibzmqRequestChain(t *testing.T) {
	t.Run("brook-proxy", func(t *testing.T) {
		t.Parallel()
		ctx := deadline(t)
		py := patLibzmq(t)
		front := newBrook(t, socket.Router)
		back := newBrook(t, socket.Dealer)
		require.NoError(t, front.Bind("tcp://127.0.0.1:0"))
		require.NoError(t, back.Bind("tcp://127.0.0.1:0"))
		pctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- socket.Proxy(pctx, front, back, nil) }()
		defer func() {
			stop()
			assert.ErrorIs(t, <-done, context.Canceled)
		}()
		for i := 0; i < 2; i++ {
			rep := py.socket("REP", nil)
			rep.connect(back.LastEndpoint())
			rep.serve()
		}
		var reqs []*patZ
		for i := 0; i < 3; i++ {
			req := py.socket("REQ", nil)
			req.connect(front.LastEndpoint())
			reqs = append(reqs, req)
		}
		for round := 0; round < 5; round++ {
			for i, req := range reqs {
				req.sendStrings(fmt.Sprintf("c%d-%d", i, round))
			}
			for i, req := range reqs {
				assert.Equal(t, []string{fmt.Sprintf("re:c%d-%d", i, round)}, req.recvStrings())
			}
		}
	})
	t.Run("libzmq-proxy", func(t *testing.T) {
		t.Parallel()
		ctx := deadline(t)
		py := patLibzmq(t)
		front := py.socket("ROUTER", nil)
		back := py.socket("DEALER", nil)
		frontEP := front.bind("tcp://127.0.0.1:*")
		backEP := back.bind("tcp://127.0.0.1:*")
		py.proxy(front, back)
		for i := 0; i < 2; i++ {
			rep := newBrook(t, socket.Rep)
			require.NoError(t, rep.Connect(backEP))
			go func() {
				for {
					m, err := rep.Recv(ctx)
					if err != nil {
						return
					}
					m.Frames[0] = append([]byte("re:"), m.Frames[0]...)
					if rep.Send(ctx, m) != nil {
						return
					}
				}
			}()
		}
		for i := 0; i < 3; i++ {
			req := newBrook(t, socket.Req, socket.WithReqCorrelate(true))
			require.NoError(t, req.Connect(frontEP))
			for round := 0; round < 5; round++ {
				q := fmt.Sprintf("c%d-%d", i, round)
				requireSend(ctx, t, req, []byte(q))
				assert.Equal(t, []string{"re:" + q}, patStrings(requireRecv(ctx, t, req)))
			}
		}
	})
}

// TestLibzmqRouterAddressesDealers: a brook ROUTER sends to libzmq
// DEALERs by the identities they announce, and sees those identities on
// what they send; the ROUTER binds, then connects to binding DEALERs.
func TestLibzmqRouterAddressesDealers(t *testing.T) {
	for _, brookBinds := range []bool{true, false} {
		t.Run(fmt.Sprintf("brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			py := patLibzmq(t)
			router := newBrook(t, socket.Router, socket.WithRouterMandatory(true))
			events := watchEvents(t, router)
			if brookBinds {
				require.NoError(t, router.Bind("tcp://127.0.0.1:0"))
			}
			names := []string{"alpha", "beta", "gamma"}
			dealers := map[string]*patZ{}
			for _, n := range names {
				d := py.socket("DEALER", map[string]any{"ROUTING_ID": patHexOpt([]byte(n))})
				if brookBinds {
					d.connect(router.LastEndpoint())
				} else {
					require.NoError(t, router.Connect(d.bind("tcp://127.0.0.1:*")))
				}
				dealers[n] = d
			}
			for _, n := range names {
				events.waitFor(ctx, t, "handshake with "+n, func(e socket.Event) bool {
					return e.Type == socket.EventHandshakeSucceeded && string(e.Peer.Identity) == n
				})
			}
			for _, n := range names {
				requireSend(ctx, t, router, []byte(n), []byte("for "+n))
			}
			for _, n := range names {
				assert.Equal(t, []string{"for " + n}, dealers[n].recvStrings())
				dealers[n].sendStrings("from " + n)
			}
			got := map[string]string{}
			for range names {
				m := patStrings(requireRecv(ctx, t, router))
				require.Len(t, m, 2)
				got[m[0]] = m[1]
			}
			assert.Equal(t, map[string]string{"alpha": "from alpha", "beta": "from beta", "gamma": "from gamma"}, got)
			assert.ErrorIs(t, router.Send(ctx, socket.NewMsg([]byte("delta"), []byte("x"))), socket.ErrHostUnreachable)
		})
	}
}

// TestLibzmqFairShare: one brook PUSH (DEALER) to three libzmq PULLs
// (ROUTERs) gives each exactly a third, brook binding or connecting.
func TestLibzmqFairShare(t *testing.T) {
	for _, kind := range [][2]string{{"PUSH", "PULL"}, {"DEALER", "ROUTER"}} {
		for _, brookBinds := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s-%s/brookBinds=%v", kind[0], kind[1], brookBinds), func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				py := patLibzmq(t)
				typ := socket.Push
				if kind[0] == "DEALER" {
					typ = socket.Dealer
				}
				b := newBrook(t, typ)
				events := watchEvents(t, b)
				if brookBinds {
					require.NoError(t, b.Bind("tcp://127.0.0.1:0"))
				}
				var peers []*patZ
				for i := 0; i < 3; i++ {
					z := py.socket(kind[1], nil)
					if brookBinds {
						z.connect(b.LastEndpoint())
					} else {
						require.NoError(t, b.Connect(z.bind("tcp://127.0.0.1:*")))
					}
					peers = append(peers, z)
				}
				for i := 1; i <= 3; i++ {
					events.waitFor(ctx, t, fmt.Sprintf("%d handshakes", i), func(socket.Event) bool {
						return len(events.ofType(socket.EventHandshakeSucceeded)) >= i
					})
				}
				const n = 30
				for i := 0; i < n; i++ {
					requireSend(ctx, t, b, []byte(strconv.Itoa(i)))
				}
				seen := map[int]bool{}
				for k, z := range peers {
					prev := -1
					for i := 0; i < n/3; i++ {
						m := z.recv()
						v, err := strconv.Atoi(string(m[len(m)-1]))
						require.NoError(t, err)
						if prev >= 0 {
							assert.Equal(t, prev+len(peers), v, "peer %d: round-robin takes turns", k)
						}
						prev = v
						seen[v] = true
					}
					_, more := z.tryRecv(50 * time.Millisecond)
					assert.False(t, more, "peer %d got more than its share", k)
				}
				assert.Len(t, seen, n, "every message went to exactly one peer")
			})
		}
	}
}

// TestLibzmqIncompatiblePatterns: pairs ZMTP forbids never connect, and
// brook reports each attempt as a failed handshake. libzmq 4.3.4 reads
// brook's READY (which brook sends right after its greeting) before it
// sends its own, and on a forbidden socket type closes the connection
// without an ERROR command or a READY, in both bind/connect directions:
// brook's event then says the peer closed the connection during the
// handshake (brook-to-brook, the event carries ErrIncompatible; see the
// socket package's tests).
func TestLibzmqIncompatiblePatterns(t *testing.T) {
	for _, pair := range []struct {
		brook  socket.Type
		libzmq string
	}{{socket.Pub, "PULL"}, {socket.Req, "DEALER"}, {socket.Sub, "PUSH"}, {socket.Router, "PUB"}} {
		for _, brookBinds := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s-%s/brookBinds=%v", pair.brook, pair.libzmq, brookBinds), func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				py := patLibzmq(t)
				z := py.socket(pair.libzmq, nil)
				b := newBrook(t, pair.brook)
				events := watchEvents(t, b)
				if brookBinds {
					require.NoError(t, b.Bind("tcp://127.0.0.1:0"))
					z.connect(b.LastEndpoint())
				} else {
					require.NoError(t, b.Connect(z.bind("tcp://127.0.0.1:*")))
				}
				e := events.waitType(ctx, t, socket.EventHandshakeFailed)
				if !errors.Is(e.Err, transport.ErrIncompatible) {
					assert.ErrorIs(t, e.Err, io.EOF, "closed by libzmq during the handshake")
				}
				assert.Empty(t, events.ofType(socket.EventHandshakeSucceeded))
			})
		}
	}
}
