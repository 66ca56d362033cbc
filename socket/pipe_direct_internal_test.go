package socket

import (
	"context"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// inprocConns returns both ends of a handshaken inproc connection (PUSH
// to PULL) in a fresh namespace.
func inprocConns(t *testing.T) (client, server transport.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr := inproc.New(inproc.NewNamespace())
	ep := transport.Endpoint{Scheme: "inproc", Address: "direct"}
	l, err := tr.Listen(ep)
	require.NoError(t, err)
	defer l.Close()
	client, err = tr.Dial(ctx, ep)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	server, err = l.Accept(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { server.Close() })
	errs := make(chan error, 1)
	go func() {
		_, err := server.Handshake(ctx, &transport.Config{SocketType: "PULL"})
		errs <- err
	}()
	_, err = client.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	require.NoError(t, err)
	require.NoError(t, <-errs)
	return client, server
}

// waitParked waits until p's writer goroutine has parked (the role is
// free for a direct hand-off), a state the pipe exposes under its lock.
func waitParked(t *testing.T, p *pipe) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		idle := p.wstate == wIdle
		p.mu.Unlock()
		if idle {
			return
		}
		require.True(t, time.Now().Before(deadline), "the writer never parked")
		runtime.Gosched()
	}
}

func seqOf(m Msg) int { return int(binary.BigEndian.Uint64(m.Frames[0])) }

// readN reads n messages from c and checks they are numbered from, from+1...
func readN(t *testing.T, c transport.Conn, from, n int) {
	t.Helper()
	for i := range n {
		m, err := c.ReadMsg()
		require.NoError(t, err)
		require.Equal(t, from+i, seqOf(m))
	}
}

// A send that finds the writer parked hands the message straight to the
// peer's queue; once the peer's queue is full, messages queue for the
// writer. Either way each counts against the pipe's HWM until the peer's
// reader takes it, so the pipe refuses the one past its HWM however many
// the connection could take, each message read gives back the room of
// one, and the peer reads them all in order.
func TestDirectHandOffKeepsHWMAndOrder(t *testing.T) {
	const hwm = inproc.QueueCapacity + 10 // some handed over, some for the writer
	s, err := New(Push, WithSendHWM(hwm))
	require.NoError(t, err)
	defer s.Close()
	p := newPipe(s, 1, "test", true)
	client, server := inprocConns(t)
	ctx, cancel := context.WithCancel(context.Background())
	werr := make(chan error, 1)
	go func() { werr <- p.writeLoop(ctx, client) }()
	waitParked(t, p)

	for i := range inproc.QueueCapacity {
		require.True(t, p.TrySend(seqMsg(i)))
	}
	assert.EqualValues(t, inproc.QueueCapacity, p.sent.Load(), "handed over")
	assert.Equal(t, inproc.QueueCapacity, p.queued(), "handed over, not taken: still counted")
	for i := inproc.QueueCapacity; i < hwm; i++ {
		require.True(t, p.TrySend(seqMsg(i)), "message %d is within the HWM", i)
	}
	assert.False(t, p.TrySend(seqMsg(-1)), "the pipe and the connection hold %d messages: the HWM", hwm)
	assert.Equal(t, hwm, p.queued())

	readN(t, server, 0, 1)
	assert.Equal(t, hwm-1, p.queued(), "the room of the one read")
	require.True(t, p.TrySend(seqMsg(hwm)))
	assert.False(t, p.TrySend(seqMsg(-1)), "and of no more")
	readN(t, server, 1, hwm)
	assert.Zero(t, p.queued(), "room given back as they are read")
	waitParked(t, p)
	require.True(t, p.TrySend(seqMsg(hwm+1)), "room again")
	readN(t, server, hwm+1, 1)
	cancel()
	require.ErrorIs(t, <-werr, context.Canceled)
}

// The connection closes while the writer waits for room in the peer's
// queue: what it had not handed over goes back to the pipe, in order, and
// the next connection carries it on with no gap and no duplicate; the
// room of what was handed over and never read is given back, as for
// messages lost in a kernel's buffers.
func TestDirectCloseDuringHandOff(t *testing.T) {
	const hwm = 3 * inproc.QueueCapacity // more than two runs of the writer
	s, err := New(Push, WithSendHWM(hwm))
	require.NoError(t, err)
	defer s.Close()
	p := newPipe(s, 1, "test", true)
	c1, s1 := inprocConns(t)
	ctx := context.Background()
	werr := make(chan error, 1)
	go func() { werr <- p.writeLoop(ctx, c1) }()
	waitParked(t, p)
	next := 0
	for p.TrySend(seqMsg(next)) {
		next++
	}
	require.Equal(t, hwm, next, "the HWM covers the peer's queue")
	// Reading one takes the peer's whole queue: the writer hands over one
	// run more, then waits again.
	readN(t, s1, 0, 1)
	handed := 2 * inproc.QueueCapacity
	deadline := time.Now().Add(10 * time.Second)
	for p.sent.Load() < uint64(handed) {
		require.True(t, time.Now().Before(deadline), "the writer never handed a run over")
		runtime.Gosched()
	}
	assert.Equal(t, hwm-1, p.queued(), "handed over or not, all but the one read count")
	require.NoError(t, s1.Close())
	require.Error(t, <-werr)
	held := hwm - handed
	assert.Equal(t, held, p.queued(), "not handed over: still in the pipe; the rest left with the connection")

	c2, s2 := inprocConns(t)
	ctx2, cancel := context.WithCancel(ctx)
	go func() { werr <- p.writeLoop(ctx2, c2) }()
	readN(t, s2, next-held, held)
	assert.Zero(t, p.queued())
	waitParked(t, p)
	require.True(t, p.TrySend(seqMsg(next)), "the new connection takes direct hand-offs")
	readN(t, s2, next, 1)
	cancel()
	require.ErrorIs(t, <-werr, context.Canceled)
}

// Several goroutines sending at once through the direct hand-off and the
// writer (the receiver reads in bursts, so the peer's queue fills and
// empties) each see their messages arrive in order, none lost.
func TestDirectConcurrentSendersKeepOrder(t *testing.T) {
	ctx := context.Background()
	ep := "inproc://direct-order"
	pull, err := New(Pull, WithRecvHWM(50))
	require.NoError(t, err)
	defer pull.Close()
	require.NoError(t, pull.Bind(ep))
	push, err := New(Push, WithSendHWM(50))
	require.NoError(t, err)
	defer push.Close()
	require.NoError(t, push.Connect(ep))
	const senders, each = 4, 5000
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				b := make([]byte, 16)
				binary.BigEndian.PutUint64(b, uint64(i))
				binary.BigEndian.PutUint64(b[8:], uint64(g))
				if !assert.NoError(t, push.Send(ctx, Msg{Frames: [][]byte{b}})) {
					return
				}
			}
		}()
	}
	next := make([]int, senders)
	for n := range senders * each {
		if n%500 == 0 {
			runtime.Gosched() // let the queues fill now and then
		}
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		g := int(binary.BigEndian.Uint64(m.Frames[0][8:]))
		require.Equal(t, next[g], seqOf(m), "sender %d", g)
		next[g]++
	}
	wg.Wait()
}

// A sender blocked on a full inproc pipe (the peer's queue and the pipe's
// HWM both full) is woken by Close with ErrClosed, and every accepted
// Send is either read by the peer or counted as dropped (at most the
// pipe's HWM). How many the peer's side holds at that moment depends on
// when its reader last took the queue, so the test counts rather than
// expects a number.
func TestDirectBlockedSenderWokenByClose(t *testing.T) {
	ctx := context.Background()
	ep := "inproc://direct-close"
	const hwm = 5
	pull, err := New(Pull, WithRecvHWM(hwm))
	require.NoError(t, err)
	defer pull.Close()
	require.NoError(t, pull.Bind(ep))
	push, err := New(Push, WithSendHWM(hwm), WithLinger(0))
	require.NoError(t, err)
	require.NoError(t, push.Connect(ep))
	errs := make(chan error, 1)
	var sent atomic.Int64
	go func() {
		for {
			if err := push.Send(ctx, seqMsg(int(sent.Load()))); err != nil {
				errs <- err
				return
			}
			sent.Add(1)
		}
	}()
	// The sender ends up blocked once everything in the way is full: the
	// PULL's pattern (its HWM) and the pipe, whose HWM covers the inproc
	// connection too. The pipe may reach its HWM before that and be
	// handed over again, so wait for the whole chain's capacity.
	least := int64(hwm + hwm)
	deadline := time.Now().Add(10 * time.Second)
	for sent.Load() < least || push.Stats().Peers == nil || push.Stats().Peers[0].Queued < hwm {
		require.True(t, time.Now().Before(deadline), "the sender never filled the chain: %d sent", sent.Load())
		runtime.Gosched()
	}
	select {
	case err := <-errs:
		t.Fatalf("Send returned %v instead of blocking", err)
	default:
	}
	require.NoError(t, push.Close())
	require.ErrorIs(t, <-errs, ErrClosed)
	dropped := push.Stats().Dropped[DropPeerGone]
	assert.LessOrEqual(t, dropped, uint64(hwm), "more dropped than the pipe's HWM")
	// Every accepted Send is either read by the PULL or counted as
	// dropped: what was handed over is the PULL's to read.
	var got int64
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		m, err := pull.Recv(rctx)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
		require.Equal(t, got, int64(binary.BigEndian.Uint64(m.Frames[0])), "out of order")
		got++
	}
	assert.Equal(t, sent.Load(), got+int64(dropped), "accepted Sends = read by the PULL + dropped")
}

// Claiming pipes for inline writes reuses the claim lists: no allocation
// per message once they have grown.
func TestInlineClaimsDoNotAllocate(t *testing.T) {
	var c inlineClaims
	p1, p2 := &pipe{}, &pipe{}
	claims := c.take()
	assert.Empty(t, claims)
	c.recycle(claims)
	allocs := testing.AllocsPerRun(100, func() {
		c.add(p1)
		c.add(p2)
		got := c.take()
		if len(got) != 2 || got[0] != p1 || got[1] != p2 {
			t.Fatalf("took %v", got)
		}
		c.recycle(got)
	})
	assert.Zero(t, allocs)
	assert.Zero(t, c.n.Load())
	// A list taken while another is out starts empty and keeps its own.
	c.add(p1)
	a := c.take()
	c.add(p2)
	b := c.take()
	require.Equal(t, []*pipe{p1}, a)
	require.Equal(t, []*pipe{p2}, b)
	c.recycle(a)
	c.recycle(b)
	assert.Empty(t, c.take(), "recycled lists come back empty")
}
