package socket

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rxKeep is the reclaim period of the tests' sockets without
// heartbeats: longer than any test, so a role handed to the application
// stays with it between two of the test's steps. With the real period
// (inlineReclaim, 20 ms) a test goroutine descheduled for 40 ms on a
// loaded machine saw the reader take its role back, and then failed to
// see the role held (rxHeld) or a Recv read inline (rxRecv).
// TestInlineRecvReclaimed and the heartbeat tests, which need the
// reader to take its role back, use rxLiveSocket.
const rxKeep = time.Hour

// rxSocket returns a socket closed at the end of the test. A socket
// without heartbeats keeps a role handed to the application for the
// whole test (rxKeep); one with heartbeats keeps its real period, as
// its reader must take the role back to read the peer's PONGs. Its
// linger is 0 unless opts say otherwise: a peer that keeps its role
// reads nothing once the test is over, so a Close with the default
// linger would wait it out (2 s) for every socket.
func rxSocket(t *testing.T, typ Type, opts ...Option) *Socket {
	t.Helper()
	s := rxLiveSocket(t, typ, append([]Option{WithLinger(0)}, opts...)...)
	if s.rx != nil && s.rx.period == inlineReclaim {
		s.rx.period = rxKeep // no reader goroutine yet: it reads period
	}
	return s
}

// rxLiveSocket returns a socket closed at the end of the test, with the
// real reclaim period.
func rxLiveSocket(t *testing.T, typ Type, opts ...Option) *Socket {
	t.Helper()
	s, err := New(typ, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// rxPair returns a REQ connected to a REP over tcp, after a round trip
// that left both with their reading role handed over (see rxHeld; a
// socket with heartbeats may have had it taken back since). A reader
// may refuse the hand-over when it looks while the Recv that took its
// message has not yet marked it taken (a REP between taking a request
// and its state change): it then hands over after the next message, so
// rxPair makes another round trip (CI saw rxHeld time out there, once in
// 40 -race runs under load).
func rxPair(t *testing.T, reqOpts, repOpts []Option) (req, rep *Socket) {
	t.Helper()
	ctx := rxCtx(t)
	rep = rxSocket(t, Rep, repOpts...)
	require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
	req = rxSocket(t, Req, reqOpts...)
	require.NoError(t, req.Connect(rep.LastEndpoint()))
	for try := 1; ; try++ {
		before := []uint64{rxRefusals(req), rxRefusals(rep)}
		rxRoundTrip(t, ctx, req, rep, "hello")
		settled := true
		for i, s := range []*Socket{req, rep} {
			if s.rx.period != rxKeep {
				rxHandedOver(t, s, 1)
				continue
			}
			require.Eventually(t, func() bool { held, _ := rxState(s); return held || rxRefusals(s) > before[i] },
				10*time.Second, time.Millisecond, "the reader hands its role to the application, or refuses")
			if held, _ := rxState(s); !held {
				settled = false
			}
		}
		if settled {
			return req, rep
		}
		require.Less(t, try, 5, "the role is refused round trip after round trip")
	}
}

// rxRefusals is how many hand-overs s's readers refused so far.
func rxRefusals(s *Socket) uint64 {
	s.rx.mu.Lock()
	defer s.rx.mu.Unlock()
	return s.rx.refusals
}

func rxCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rxRoundTrip sends body from req, echoes it at rep and receives it back.
func rxRoundTrip(t *testing.T, ctx context.Context, req, rep *Socket, body string) {
	t.Helper()
	require.NoError(t, req.Send(ctx, NewMsg([]byte(body))))
	m, err := rep.Recv(ctx)
	require.NoError(t, err)
	require.NoError(t, rep.Send(ctx, m))
	m, err = req.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, body, string(m.Frames[0]))
}

// rxState is s's reading role: held by the application, and read by a
// Recv now.
func rxState(s *Socket) (held, busy bool) {
	s.rx.mu.Lock()
	defer s.rx.mu.Unlock()
	return s.rx.holder != nil, s.rx.busy
}

// rxHeld waits until s's reader goroutine has handed its role to the
// application (it does so just after delivering a message).
func rxHeld(t *testing.T, s *Socket) {
	t.Helper()
	require.Eventually(t, func() bool { held, _ := rxState(s); return held }, 10*time.Second, time.Millisecond,
		"the reader hands its role to the application")
}

// rxHandedOver waits until s's reader goroutines have handed their
// role to the application n times in all. Unlike rxHeld it does not
// miss a role taken back soon after (a socket with the real reclaim
// period, on a loaded machine).
func rxHandedOver(t *testing.T, s *Socket, n uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.rx.mu.Lock()
		defer s.rx.mu.Unlock()
		return s.rx.handOvers >= n
	}, 10*time.Second, time.Millisecond, "the reader hands its role to the application")
}

// rxRecv runs s.Recv(ctx) in a goroutine and waits until it reads the
// connection inline.
func rxRecv(t *testing.T, ctx context.Context, s *Socket) <-chan recvResult {
	t.Helper()
	res := make(chan recvResult, 1)
	go func() {
		m, err := s.Recv(ctx)
		res <- recvResult{m, err}
	}()
	require.Eventually(t, func() bool { _, busy := rxState(s); return busy }, 10*time.Second, time.Millisecond,
		"Recv reads the connection itself")
	return res
}

type recvResult struct {
	m   Msg
	err error
}

// Only REQ and REP without a journal, and PULL, receive inline.
func TestInlineRecvTypes(t *testing.T) {
	for _, typ := range []Type{Req, Rep, Pull} {
		assert.NotNil(t, rxSocket(t, typ).rx, typ)
	}
	assert.True(t, rxSocket(t, Pull).rx.queue)
	for _, typ := range []Type{Dealer, Router, Pair, Sub} {
		assert.Nil(t, rxSocket(t, typ).rx, typ)
	}
}

// The reading role goes to the application after a message, and each
// Recv that would wait reads the connection itself: the REQ waiting for
// its reply and the REP for its next request, while their reader
// goroutines stay parked. Both keep the role from one Recv to the next.
func TestInlineRecvHandOver(t *testing.T) {
	req, rep := rxPair(t, nil, nil)
	ctx := rxCtx(t)
	for i := range 3 {
		repRes := rxRecv(t, ctx, rep)
		require.NoError(t, req.Send(ctx, NewMsg([]byte{byte(i)})))
		r := <-repRes
		require.NoError(t, r.err)
		reqRes := rxRecv(t, ctx, req)
		require.NoError(t, rep.Send(ctx, r.m))
		r = <-reqRes
		require.NoError(t, r.err)
		assert.Equal(t, []byte{byte(i)}, r.m.Frames[0])
		for _, s := range []*Socket{req, rep} {
			held, busy := rxState(s)
			assert.True(t, held, "%s keeps the role", s.typ)
			assert.False(t, busy)
		}
	}
}

// A Recv whose ctx ends while it reads inline returns the ctx's error at
// once and keeps the role; the reply that comes later is the next Recv's.
func TestInlineRecvCancelled(t *testing.T) {
	req, rep := rxPair(t, nil, nil)
	ctx := rxCtx(t)
	require.NoError(t, req.Send(ctx, NewMsg([]byte("q"))))
	m, err := rep.Recv(ctx)
	require.NoError(t, err)

	rctx, cancel := context.WithCancel(ctx)
	res := rxRecv(t, rctx, req)
	cancel()
	r := <-res
	require.ErrorIs(t, r.err, context.Canceled)
	held, busy := rxState(req)
	assert.True(t, held, "a cancelled Recv keeps the role")
	assert.False(t, busy)

	require.NoError(t, rep.Send(ctx, m))
	got, err := req.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "q", string(got.Frames[0]))
}

// The end of a ctx is armed once while the application passes the same
// one. A ctx that ends while no Recv reads (its callback interrupts
// nothing) still stops the next Recv given it, at once; a Recv with
// another ctx reads on.
func TestInlineRecvSameCtxEnded(t *testing.T) {
	req, rep := rxPair(t, nil, nil)
	ctx := rxCtx(t)
	appCtx, cancel := context.WithCancel(ctx)
	require.NoError(t, req.Send(appCtx, NewMsg([]byte("one"))))
	go func() {
		m, err := rep.Recv(ctx)
		assert.NoError(t, err)
		assert.NoError(t, rep.Send(ctx, m))
	}()
	_, err := req.Recv(appCtx) // read inline, appCtx armed
	require.NoError(t, err)
	// Its callback runs on a goroutine of its own, with no Recv to
	// interrupt, while this one waits for the REP to read inline.
	cancel()
	repRes := rxRecv(t, ctx, rep)
	require.NoError(t, req.Send(ctx, NewMsg([]byte("two"))))
	r := <-repRes
	require.NoError(t, r.err)

	res := make(chan error, 1)
	go func() {
		_, err := req.Recv(appCtx)
		res <- err
	}()
	select {
	case err := <-res:
		require.ErrorIs(t, err, context.Canceled)
	case <-ctx.Done():
		t.Fatal("a Recv given an ended ctx waits for the reply")
	}
	require.NoError(t, rep.Send(ctx, r.m))
	m, err := req.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "two", string(m.Frames[0]))
}

// rawRep is a REP peer over tcp written by hand, to send a reply in
// pieces.
type rawRep struct {
	t *testing.T
	c net.Conn
}

// acceptRawRep accepts one connection on ln and plays a NULL handshake
// as REP.
func acceptRawRep(t *testing.T, ln net.Listener) *rawRep {
	t.Helper()
	c, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	rawGreet(t, c, "REP")
	r := &rawRep{t: t, c: c}
	flags, body := r.frame()
	require.Equal(t, byte(0x04), flags, "READY")
	require.Equal(t, "\x05READY", string(body[:6]))
	return r
}

// rxReqRawRep returns a REQ connected over tcp to a raw REP.
func rxReqRawRep(t *testing.T) (*Socket, *rawRep) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	req := rxSocket(t, Req)
	require.NoError(t, req.Connect("tcp://"+ln.Addr().String()))
	return req, acceptRawRep(t, ln)
}

// rawGreet plays the start of a NULL handshake on c as a socket of type
// typ (at most 9 letters): it writes its greeting and READY, and reads
// the peer's greeting.
func rawGreet(t *testing.T, c net.Conn, typ string) {
	t.Helper()
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10], greeting[11] = 0xFF, 0x7F, 3, 1
	copy(greeting[12:], "NULL")
	ready := append([]byte("\x05READY\x0bSocket-Type\x00\x00\x00"), byte(len(typ)))
	ready = append(ready, typ...)
	_, err := c.Write(append(append(greeting, 0x04, byte(len(ready))), ready...))
	require.NoError(t, err)
	_, err = io.ReadFull(c, make([]byte, 64))
	require.NoError(t, err)
}

// frame reads one short frame.
func (r *rawRep) frame() (flags byte, body []byte) {
	r.t.Helper()
	hdr := make([]byte, 2)
	_, err := io.ReadFull(r.c, hdr)
	require.NoError(r.t, err)
	body = make([]byte, hdr[1])
	_, err = io.ReadFull(r.c, body)
	require.NoError(r.t, err)
	return hdr[0], body
}

// request reads a request: the empty delimiter, then the body.
func (r *rawRep) request() string {
	r.t.Helper()
	flags, delim := r.frame()
	require.Equal(r.t, byte(0x01), flags)
	require.Empty(r.t, delim)
	flags, body := r.frame()
	require.Equal(r.t, byte(0x00), flags)
	return string(body)
}

// reply is the wire form of a reply with body.
func rawReply(body string) []byte {
	return append([]byte{0x01, 0x00, 0x00, byte(len(body))}, body...)
}

func (r *rawRep) send(b []byte) {
	r.t.Helper()
	_, err := r.c.Write(b)
	require.NoError(r.t, err)
}

// A Recv cancelled in the middle of a reply loses nothing: the half it
// read stays with the connection, and the next Recv gets the reply whole.
func TestInlineRecvCancelledMidMessage(t *testing.T) {
	ctx := rxCtx(t)
	req, peer := rxReqRawRep(t)

	require.NoError(t, req.Send(ctx, NewMsg([]byte("one"))))
	require.Equal(t, "one", peer.request())
	peer.send(rawReply("first"))
	m, err := req.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "first", string(m.Frames[0]))
	rxHeld(t, req)

	require.NoError(t, req.Send(ctx, NewMsg([]byte("two"))))
	require.Equal(t, "two", peer.request())
	rctx, cancel := context.WithCancel(ctx)
	res := rxRecv(t, rctx, req)
	reply := rawReply("the second reply")
	peer.send(reply[:6]) // the delimiter and part of the body
	cancel()
	r := <-res
	require.ErrorIs(t, r.err, context.Canceled)

	peer.send(reply[6:])
	m, err = req.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "the second reply", string(m.Frames[0]))
}

// A peer that hangs up while the application reads inline is seen at
// once: the connection ends (the role goes back to its reader goroutine,
// which ends it) and the REQ goes on waiting, as ever, until its ctx
// ends.
func TestInlineRecvPeerGoneWhileReading(t *testing.T) {
	req, rep := rxPair(t, nil, nil)
	ctx := rxCtx(t)
	events, stop := req.Monitor()
	defer stop()
	require.NoError(t, req.Send(ctx, NewMsg([]byte("q"))))
	_, err := rep.Recv(ctx)
	require.NoError(t, err)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := rxRecv(t, rctx, req)
	require.NoError(t, rep.Close())
	rxEvent(t, ctx, events, EventDisconnected)
	require.Eventually(t, func() bool { held, _ := rxState(req); return !held }, 10*time.Second, time.Millisecond,
		"the role went back to the reader, which ended the connection")
	select {
	case r := <-res:
		t.Fatalf("Recv returned %v while its request is outstanding", r.err)
	default:
	}
	cancel()
	assert.ErrorIs(t, (<-res).err, context.Canceled)
}

// A REP reading one peer inline still serves the others: a request from
// another pipe interrupts its read, and one from a peer that replaces a
// departed one is received by the same Recv. Roles are kept for the
// test's length (rxKeep): with the real reclaim period a test goroutine
// descheduled for 20-40 ms between seeing the role held and calling
// Recv saw it reclaimed, and failed. (With rxKeep the round trip after
// b's departure once hung: a REP reader refused its hand-over while the
// Recv it had served looked as if it still waited, and kept the role
// with nothing more to read; patterns' rep.RecvWouldWait now tells.)
func TestInlineRecvOtherPipes(t *testing.T) {
	ctx := rxCtx(t)
	rep := rxSocket(t, Rep)
	require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
	events, stop := rep.Monitor()
	defer stop()
	a := rxSocket(t, Req)
	require.NoError(t, a.Connect(rep.LastEndpoint()))
	rxRoundTrip(t, ctx, a, rep, "a")
	rxHeld(t, rep)

	res := rxRecv(t, ctx, rep)
	b := rxSocket(t, Req)
	require.NoError(t, b.Connect(rep.LastEndpoint()))
	require.NoError(t, b.Send(ctx, NewMsg([]byte("from b"))))
	r := <-res
	require.NoError(t, r.err)
	assert.Equal(t, "from b", string(r.m.Frames[0]))
	require.NoError(t, rep.Send(ctx, r.m))
	m, err := b.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "from b", string(m.Frames[0]))
	require.NoError(t, b.Close())
	rxEvent(t, ctx, events, EventDisconnected)

	// a's pipe is the only one again: the role comes back to it.
	rxRoundTrip(t, ctx, a, rep, "a again")
	rxHeld(t, rep)
	res = rxRecv(t, ctx, rep)
	require.NoError(t, a.Close())
	rxEvent(t, ctx, events, EventDisconnected)
	c := rxSocket(t, Req)
	require.NoError(t, c.Connect(rep.LastEndpoint()))
	require.NoError(t, c.Send(ctx, NewMsg([]byte("from c"))))
	r = <-res
	require.NoError(t, r.err)
	assert.Equal(t, "from c", string(r.m.Frames[0]))
}

// An application that holds the role but does not receive gets it taken
// back after a period, so a peer's hang-up is still seen while nobody
// calls Recv; the next message is handed over again.
func TestInlineRecvReclaimed(t *testing.T) {
	ctx := rxCtx(t)
	rep := rxSocket(t, Rep)
	require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
	req := rxLiveSocket(t, Req)
	require.NoError(t, req.Connect(rep.LastEndpoint()))
	rxRoundTrip(t, ctx, req, rep, "hello")
	rxHandedOver(t, req, 1)
	require.Eventually(t, func() bool { held, _ := rxState(req); return !held }, 10*time.Second, time.Millisecond,
		"the reader takes its role back from an application that does not receive")
	rxRoundTrip(t, ctx, req, rep, "again")
	rxHandedOver(t, req, 2)

	events, stop := req.Monitor()
	defer stop()
	require.NoError(t, rep.Close())
	rxEvent(t, ctx, events, EventDisconnected)
}

// Close unblocks a Recv reading inline with ErrClosed.
func TestInlineRecvClose(t *testing.T) {
	req, rep := rxPair(t, nil, nil)
	ctx := rxCtx(t)
	require.NoError(t, req.Send(ctx, NewMsg([]byte("q"))))
	_, err := rep.Recv(ctx)
	require.NoError(t, err)
	res := rxRecv(t, ctx, req)
	require.NoError(t, req.Close())
	r := <-res
	assert.ErrorIs(t, r.err, ErrClosed)
}

// Close takes back a role held by an application that does not receive
// at once (its reader then reads the peer's hang-up while Close
// lingers), and no role is handed over once it is closing.
func TestInlineRecvStop(t *testing.T) {
	req, _ := rxPair(t, nil, nil)
	req.closing.Store(true)
	req.rx.stop()
	held, _ := rxState(req)
	assert.False(t, held, "the role went back at once")
	req.mu.Lock()
	require.Len(t, req.pipes, 1)
	var p *pipe
	for _, q := range req.pipes {
		p = q
	}
	req.mu.Unlock()
	assert.False(t, req.handOver(p, nil), "no hand-over while closing")
	require.NoError(t, req.Close())
}

// Heartbeats go on while the application reads inline, and while it
// holds the role without receiving: PINGs are answered either way. The
// side that answers has heartbeats off, so only its PONGs keep the
// pinging side from dropping the connection.
func TestInlineRecvHeartbeats(t *testing.T) {
	// The timeout is what an answering side starved of CPU may take to
	// answer, and 150 ms is short on a 2-core machine at load average
	// 11-22 running -race binaries (this test's failures reproduced
	// there were all the reclaim race of rxHeld and rxRecv, though).
	// The claim holds at any timeout several of which go by: a side that
	// never answered would be dropped within one.
	const ivl, timeout = 50 * time.Millisecond, 600 * time.Millisecond
	hb := []Option{WithHeartbeat(ivl, timeout, 0)}
	// Several heartbeat timeouts go by with no Disconnected on pinger.
	quiet := func(t *testing.T, pinger <-chan Event) {
		t.Helper()
		end := time.After(4 * timeout)
		for {
			select {
			case e := <-pinger:
				require.NotEqual(t, EventDisconnected, e.Type, "dropped: %v", e.Err)
			case <-end:
				return
			}
		}
	}
	t.Run("REQ answers while reading inline", func(t *testing.T) {
		req, rep := rxPair(t, nil, hb)
		ctx := rxCtx(t)
		events, stop := rep.Monitor()
		defer stop()
		require.NoError(t, req.Send(ctx, NewMsg([]byte("q"))))
		m, err := rep.Recv(ctx)
		require.NoError(t, err)
		res := rxRecv(t, ctx, req)
		quiet(t, events)
		require.NoError(t, rep.Send(ctx, m))
		r := <-res
		require.NoError(t, r.err)
		assert.Equal(t, "q", string(r.m.Frames[0]))
	})
	t.Run("REP answers while reading inline", func(t *testing.T) {
		req, rep := rxPair(t, hb, nil)
		ctx := rxCtx(t)
		events, stop := req.Monitor()
		defer stop()
		res := rxRecv(t, ctx, rep)
		quiet(t, events)
		require.NoError(t, req.Send(ctx, NewMsg([]byte("q"))))
		r := <-res
		require.NoError(t, r.err)
		assert.Equal(t, "q", string(r.m.Frames[0]))
	})
	// The pingers below are a ROUTER and a DEALER, whose readers always
	// read (so count the silence), facing an application that holds its
	// role and does not receive: its reader must take the role back to
	// answer.
	t.Run("REQ answers while not receiving", func(t *testing.T) {
		ctx := rxCtx(t)
		router := rxSocket(t, Router, hb...)
		require.NoError(t, router.Bind("tcp://127.0.0.1:0"))
		req := rxLiveSocket(t, Req)
		require.NoError(t, req.Connect(router.LastEndpoint()))
		events, stop := router.Monitor()
		defer stop()
		roundTrip := func(body string) {
			require.NoError(t, req.Send(ctx, NewMsg([]byte(body))))
			m, err := router.Recv(ctx)
			require.NoError(t, err)
			require.NoError(t, router.Send(ctx, m))
			m, err = req.Recv(ctx)
			require.NoError(t, err)
			require.Equal(t, body, string(m.Frames[0]))
		}
		roundTrip("q")
		rxHandedOver(t, req, 1)
		quiet(t, events)
		roundTrip("again")
	})
	t.Run("REP answers while not receiving", func(t *testing.T) {
		ctx := rxCtx(t)
		rep := rxLiveSocket(t, Rep)
		require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
		dealer := rxSocket(t, Dealer, hb...)
		require.NoError(t, dealer.Connect(rep.LastEndpoint()))
		events, stop := dealer.Monitor()
		defer stop()
		roundTrip := func(body string) {
			require.NoError(t, dealer.Send(ctx, NewMsg(nil, []byte(body))))
			m, err := rep.Recv(ctx)
			require.NoError(t, err)
			require.NoError(t, rep.Send(ctx, m))
			m, err = dealer.Recv(ctx)
			require.NoError(t, err)
			require.Equal(t, body, string(m.Frames[1]))
		}
		roundTrip("q")
		rxHandedOver(t, rep, 1)
		quiet(t, events)
		roundTrip("again")
	})
}

// rxEvent waits for an event of type want.
func rxEvent(t *testing.T, ctx context.Context, events <-chan Event, want EventType) {
	t.Helper()
	for {
		select {
		case e, ok := <-events:
			require.True(t, ok, "monitor closed before %s", want)
			if e.Type == want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", want, ctx.Err())
		}
	}
}

// A REQ's reader that reads a PONG with the reply it delivers handles the
// PONG from its buffer and hands its role over, rather than reading on
// past it for a next reply that only comes after the next request (with
// heartbeats on, a PONG often comes with a reply: rxPair timed out
// waiting for the hand-over in TestInlineRecvHeartbeats, once in 40
// -race runs on a loaded machine).
func TestInlineRecvHandsOverPastPong(t *testing.T) {
	ctx := rxCtx(t)
	req, rep := rxReqRawRep(t)
	require.NoError(t, req.Send(ctx, NewMsg([]byte("q"))))
	require.Equal(t, "q", rep.request())
	pong := []byte{0x04, 5, 4, 'P', 'O', 'N', 'G'}
	rep.send(append(rawReply("a"), pong...)) // one write: read at once
	m, err := req.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", string(m.Frames[0]))
	rxHandedOver(t, req, 1)
}
