package socket_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patRunProxy runs p in the background and returns a function that stops
// it and checks it stopped because it was told to; the test's end stops
// it too. Counters are final once it has stopped.
func patRunProxy(t *testing.T, p *socket.SteerableProxy) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			assert.ErrorIs(t, <-done, context.Canceled)
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestProxyRequestChain runs REQ -> ROUTER | proxy | DEALER -> REP with
// several clients and several workers, over each transport.
func TestProxyRequestChain(t *testing.T) {
	for name, mk := range patTransports(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			front := newSocket(t, socket.Router)
			back := newSocket(t, socket.Dealer)
			capture := newSocket(t, socket.Push)
			tap := newSocket(t, socket.Pull, socket.WithRecvHWM(0))
			require.NoError(t, front.Bind(mk()))
			require.NoError(t, back.Bind(mk()))
			require.NoError(t, tap.Bind(inprocEndpoint(t)))
			require.NoError(t, capture.Connect(tap.LastEndpoint()))
			proxy, err := socket.NewSteerableProxy(front, back, capture)
			require.NoError(t, err)
			stop := patRunProxy(t, proxy)

			const workers, clients, requests = 2, 3, 20
			for w := 0; w < workers; w++ {
				rep := newSocket(t, socket.Rep)
				require.NoError(t, rep.Connect(back.LastEndpoint()))
				go func() {
					for {
						m, err := rep.Recv(ctx)
						if err != nil {
							return
						}
						if rep.Send(ctx, socket.NewMsg(append([]byte("re:"), m.Frames[0]...))) != nil {
							return
						}
					}
				}()
			}
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				req := newSocket(t, socket.Req)
				require.NoError(t, req.Connect(front.LastEndpoint()))
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < requests; i++ {
						q := fmt.Sprintf("c%d-%d", c, i)
						if !assert.NoError(t, req.Send(ctx, msgOf(q))) {
							return
						}
						m, err := req.Recv(ctx)
						if !assert.NoError(t, err) {
							return
						}
						assert.Equal(t, "re:"+q, string(m.Frames[0]))
					}
				}()
			}
			wg.Wait()
			stop()
			st := proxy.Stats()
			assert.EqualValues(t, clients*requests, st.FrontToBack.Messages)
			assert.EqualValues(t, clients*requests, st.BackToFront.Messages)
			assert.EqualValues(t, 2*clients*requests, st.Captured)
			for i := 0; i < 2*clients*requests; i++ {
				_, err := tap.Recv(ctx)
				require.NoError(t, err)
			}
		})
	}
}

// TestProxyXSubXPub forwards publications down and subscriptions up:
// upstream XPUB <- XSUB | proxy | XPUB <- SUB.
func TestProxyXSubXPub(t *testing.T) {
	for name, mk := range patTransports(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			upstream := newSocket(t, socket.XPub)
			front := newSocket(t, socket.XSub)
			back := newSocket(t, socket.XPub)
			require.NoError(t, upstream.Bind(mk()))
			require.NoError(t, back.Bind(mk()))
			require.NoError(t, front.Connect(upstream.LastEndpoint()))
			proxy, err := socket.NewSteerableProxy(front, back, nil)
			require.NoError(t, err)
			stop := patRunProxy(t, proxy)

			sub1 := newSocket(t, socket.Sub)
			sub2 := newSocket(t, socket.Sub)
			require.NoError(t, sub1.Connect(back.LastEndpoint()))
			require.NoError(t, sub2.Connect(back.LastEndpoint()))
			require.NoError(t, sub1.Subscribe([]byte("a")))
			patExpectSub(t, ctx, upstream, "\x01a")
			require.NoError(t, sub2.Subscribe([]byte("b")))
			patExpectSub(t, ctx, upstream, "\x01b")

			for _, topic := range []string{"a1", "c1", "b1"} {
				require.NoError(t, upstream.Send(ctx, msgOf(topic)))
			}
			m, err := sub1.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, "a1", string(m.Frames[0]))
			m, err = sub2.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, "b1", string(m.Frames[0]))

			require.NoError(t, sub1.Unsubscribe([]byte("a")))
			patExpectSub(t, ctx, upstream, "\x00a")
			stop()
			assert.EqualValues(t, 3, proxy.Stats().BackToFront.Messages, "subscriptions travel back to front")
		})
	}
}

func TestProxyPauseResume(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push)
	front := newSocket(t, socket.Pull)
	back := newSocket(t, socket.Push)
	pull := newSocket(t, socket.Pull)
	patLink(t, ctx, front, push, inprocEndpoint(t))
	patLink(t, ctx, pull, back, inprocEndpoint(t))
	proxy, err := socket.NewSteerableProxy(front, back, nil)
	require.NoError(t, err)
	proxy.Pause()
	assert.True(t, proxy.Stats().Paused)
	stop := patRunProxy(t, proxy)
	require.NoError(t, push.Send(ctx, msgOf("held")))
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = pull.Recv(short)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "nothing moves while paused")
	proxy.Resume()
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "held", string(m.Frames[0]))
	stop()
	st := proxy.Stats()
	assert.False(t, st.Paused)
	assert.EqualValues(t, 1, st.FrontToBack.Messages)
	assert.EqualValues(t, 4, st.FrontToBack.Bytes)
	assert.Zero(t, st.BackToFront.Messages, "PUSH cannot receive: one direction only")
}

func TestProxyFailedSendsCounted(t *testing.T) {
	ctx := testCtx(t)
	dealer := newSocket(t, socket.Dealer)
	front := newSocket(t, socket.Dealer)
	back := newSocket(t, socket.Router, socket.WithRouterMandatory(true))
	patLink(t, ctx, front, dealer, inprocEndpoint(t))
	proxy, err := socket.NewSteerableProxy(front, back, nil)
	require.NoError(t, err)
	patRunProxy(t, proxy)
	// The ROUTER knows no peer "y": each message fails, the proxy goes on.
	// One pump forwards in order, so once "2" arrives both have failed.
	require.NoError(t, dealer.Send(ctx, socket.NewMsg([]byte("y"), []byte("1"))))
	require.NoError(t, dealer.Send(ctx, socket.NewMsg([]byte("only-id"))))
	ev, stop := back.Monitor()
	defer stop()
	require.NoError(t, back.Bind(inprocEndpoint(t)))
	d := newSocket(t, socket.Dealer, socket.WithRoutingID([]byte("x")))
	require.NoError(t, d.Connect(back.LastEndpoint()))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	require.NoError(t, dealer.Send(ctx, socket.NewMsg([]byte("x"), []byte("2"))))
	m, err := d.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "2", string(m.Frames[0]))
	assert.EqualValues(t, 2, proxy.Stats().FrontToBack.Failed)
}

func TestNewSteerableProxyValidates(t *testing.T) {
	push := newSocket(t, socket.Push)
	pull := newSocket(t, socket.Pull)
	sub := newSocket(t, socket.Sub)
	pub := newSocket(t, socket.Pub)
	_, err := socket.NewSteerableProxy(sub, pull, nil)
	assert.ErrorIs(t, err, socket.ErrNotSupported, "SUB and PULL cannot send")
	_, err = socket.NewSteerableProxy(push, pub, nil)
	assert.ErrorIs(t, err, socket.ErrNotSupported, "PUSH and PUB cannot receive")
	_, err = socket.NewSteerableProxy(pull, push, sub)
	assert.ErrorIs(t, err, socket.ErrNotSupported, "SUB cannot capture")
	_, err = socket.NewSteerableProxy(pull, pull, nil)
	assert.ErrorIs(t, err, socket.ErrBadOption)
	_, err = socket.NewSteerableProxy(nil, pub, nil)
	assert.ErrorIs(t, err, socket.ErrBadOption)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, socket.Proxy(ctx, sub, pub, nil), context.Canceled)
}

func TestProxyStopsWhenSocketCloses(t *testing.T) {
	front := newSocket(t, socket.Pull)
	back := newSocket(t, socket.Push)
	done := make(chan error, 1)
	go func() { done <- socket.Proxy(context.Background(), front, back, nil) }()
	require.NoError(t, front.Close())
	assert.ErrorIs(t, <-done, socket.ErrClosed)
}

func TestProxyRunsOnceAtATime(t *testing.T) {
	pull := newSocket(t, socket.Pull)
	push := newSocket(t, socket.Push)
	proxy, err := socket.NewSteerableProxy(pull, push, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { errs <- proxy.Run(ctx) }()
	}
	first := <-errs // only the refused one can return before cancel
	assert.ErrorIs(t, first, socket.ErrState)
	cancel()
	assert.ErrorIs(t, <-errs, context.Canceled)
}

// A request broker: clients (REQ) talk to a ROUTER, workers (REP) to a
// DEALER, and Proxy moves requests and replies between the two.
func ExampleProxy() {
	front, _ := socket.New(socket.Router)
	back, _ := socket.New(socket.Dealer)
	worker, _ := socket.New(socket.Rep)
	client, _ := socket.New(socket.Req)
	defer func() {
		for _, s := range []*socket.Socket{client, worker, front, back} {
			s.Close()
		}
	}()
	front.Bind("inproc://example-proxy-front")
	back.Bind("inproc://example-proxy-back")
	worker.Connect("inproc://example-proxy-back")
	client.Connect("inproc://example-proxy-front")

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- socket.Proxy(ctx, front, back, nil) }()
	go func() {
		req, err := worker.Recv(ctx)
		if err == nil {
			worker.Send(ctx, socket.NewMsg(append([]byte("hello, "), req.Frames[0]...)))
		}
	}()

	client.Send(ctx, socket.NewMsg([]byte("world")))
	reply, _ := client.Recv(ctx)
	fmt.Println(string(reply.Frames[0]))
	stop()
	fmt.Println(<-done)
	// Output:
	// hello, world
	// context canceled
}
