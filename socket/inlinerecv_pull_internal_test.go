package socket

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rxPull returns a PULL bound over tcp and a PUSH connected to it, after
// one message (so the PULL's reader has handed its role over).
func rxPull(t *testing.T) (pull, push *Socket) {
	t.Helper()
	ctx := rxCtx(t)
	pull = rxSocket(t, Pull)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	push = rxSocket(t, Push)
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	require.NoError(t, push.Send(ctx, NewMsg([]byte("hello"))))
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "hello", string(m.Frames[0]))
	rxHeld(t, pull)
	return pull, push
}

// A PULL's reader hands its role over after a batch of small messages,
// and the application's Recv reads a stream inline from then on: every
// message arrives, in order, with the role still held, and each Recv
// that found one queued by an inline read took it without a look at the
// queue (ahead is back to zero once all are taken).
func TestInlineRecvPullStream(t *testing.T) {
	pull, push := rxPull(t)
	ctx := rxCtx(t)
	const n = 20000
	errc := rxSendAll(ctx, push, n, func(i int) []byte { return fmt.Appendf(nil, "m%d", i) })
	for i := range n {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("m%d", i), string(m.Frames[0]))
		m.Release()
	}
	require.NoError(t, <-errc)
	held, busy := rxState(pull)
	assert.True(t, held, "the application keeps the role")
	assert.False(t, busy)
	assert.Zero(t, pull.rx.ahead.Load())
	assert.Zero(t, pull.rx.waiting.Load())
	assert.Empty(t, pull.Stats().Dropped)
	pull.rx.mu.Lock()
	reads := pull.rx.reads
	pull.rx.mu.Unlock()
	assert.NotZero(t, reads, "Recv read inline")
	assert.Less(t, reads, uint64(n/2), "a read inline serves several Recvs")
}

// rxSendAll sends n messages from push, the i-th with body(i), on a
// goroutine of its own, and reports how that ended.
func rxSendAll(ctx context.Context, push *Socket, n int, body func(i int) []byte) <-chan error {
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := push.Send(ctx, NewMsg(body(i))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	return errc
}

// A Recv reading one pipe inline is interrupted by a message another
// pipe's reader queues, and the application gives the role back while
// the socket has two pipes, so that both are read by their reader
// goroutines: neither waits behind the other (the reclaim period is an
// hour here, so waiting for it would fail the test).
func TestInlineRecvPullOtherPipe(t *testing.T) {
	pull, a := rxPull(t)
	ctx := rxCtx(t)
	res := rxRecv(t, ctx, pull)
	b := rxSocket(t, Push)
	require.NoError(t, b.Connect(pull.LastEndpoint()))
	require.NoError(t, b.Send(ctx, NewMsg([]byte("from b"))))
	r := <-res
	require.NoError(t, r.err)
	assert.Equal(t, "from b", string(r.m.Frames[0]))

	// With two pipes, a's messages reach the application whatever b does.
	for i := range 3 {
		require.NoError(t, a.Send(ctx, NewMsg(fmt.Appendf(nil, "a%d", i))))
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("a%d", i), string(m.Frames[0]))
	}
	held, _ := rxState(pull)
	assert.False(t, held, "the role went back to a's reader")
}

// Messages a PULL's application read inline and never took are counted
// as unread when it closes, as those its reader queued are. The PULL
// has the real reclaim period: the ten messages may arrive in more than
// one read, and what the application's inline reads left on the
// connection is then read by the reader goroutine once it takes its role
// back (with the role kept for the test, nobody would read it).
func TestInlineRecvPullUnreadAtClose(t *testing.T) {
	ctx := rxCtx(t)
	pull := rxLiveSocket(t, Pull, WithLinger(0))
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	push := rxSocket(t, Push)
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	require.NoError(t, push.Send(ctx, NewMsg([]byte("hello"))))
	hello, err := pull.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "hello", string(hello.Frames[0]))
	const n = 10
	for i := range n {
		require.NoError(t, push.Send(ctx, NewMsg(fmt.Appendf(nil, "m%d", i))))
	}
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "m0", string(m.Frames[0]))
	m2, err := pull.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "m1", string(m2.Frames[0]))
	require.Eventually(t, func() bool { return rxReadFromPipes(pull) == n+1 }, 10*time.Second, time.Millisecond,
		"the rest is read (inline or by the reader goroutine)")
	require.NoError(t, pull.Close())
	st := pull.Stats()
	assert.Equal(t, uint64(n-2), st.Dropped[DropUnread], "the unread ones")
	assert.Len(t, st.Dropped, 1)
}

// rxReadFromPipes is what s has read from its connections so far.
func rxReadFromPipes(s *Socket) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(0)
	for _, p := range s.pipes {
		n += p.received.Load()
	}
	return n
}

// ahead stays exact when the reader goroutine is held up just after
// queuing a batch while the application takes every message of it and
// waits for one more: counted after the batch was queued, those Recvs
// drove ahead below -1, the waiting one set it to -1, and the late count
// then promised messages that were gone (Recvs waited in the pattern,
// nobody reading, until the role was reclaimed: a batch every period).
func TestInlineRecvPullCountedBeforeQueued(t *testing.T) {
	ctx := rxCtx(t)
	pull := rxSocket(t, Pull)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	sizes := make(chan int, 1)
	gate := make(chan struct{})
	var once atomic.Bool
	hook := func(n int) {
		if once.CompareAndSwap(false, true) {
			sizes <- n
			<-gate
		}
	}
	testHookQueued.Store(&hook)
	t.Cleanup(func() { testHookQueued.Store(nil) })
	push := rxSocket(t, Push)
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	for i := range 10 {
		require.NoError(t, push.Send(ctx, NewMsg(fmt.Appendf(nil, "m%d", i))))
	}
	n := <-sizes
	for i := range n {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("m%d", i), string(m.Frames[0]))
	}
	res := make(chan recvResult, 1)
	go func() {
		m, err := pull.Recv(ctx)
		res <- recvResult{m, err}
	}()
	require.Eventually(t, func() bool { return pull.rx.waiting.Load() == 1 }, 10*time.Second, time.Millisecond,
		"a Recv waits in the pattern")
	close(gate)
	require.NoError(t, push.Send(ctx, NewMsg([]byte("m10")))) // for it, if the batch had all ten
	r := <-res
	require.NoError(t, r.err)
	require.Equal(t, fmt.Sprintf("m%d", n), string(r.m.Frames[0]))
	for i := n + 1; i <= 10; i++ {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("m%d", i), string(m.Frames[0]))
	}
	assert.Zero(t, pull.rx.ahead.Load(), "as many Recvs as messages queued")
}

// The reader hands its role over even when the Recv that took the
// message it just queued is still registered in the pattern (it has
// taken the message and not yet returned): that Recv waits for nothing.
// A reader that saw it there and the queue empty read on and kept its
// role with nothing more to read (CI saw rxPull time out that way).
func TestInlineRecvPullHandsOverPastTakenRecv(t *testing.T) {
	ctx := rxCtx(t)
	pull := rxSocket(t, Pull)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	gate := make(chan struct{})
	var once atomic.Bool
	hook := func(int) {
		if once.CompareAndSwap(false, true) {
			<-gate
		}
	}
	testHookQueued.Store(&hook)
	t.Cleanup(func() { testHookQueued.Store(nil) })
	push := rxSocket(t, Push)
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	require.NoError(t, push.Send(ctx, NewMsg([]byte("hello"))))
	m, err := pull.Recv(ctx) // the reader is held in the hook, after queuing it
	require.NoError(t, err)
	require.Equal(t, "hello", string(m.Frames[0]))
	// The state between the Recv's take and its return, held for the
	// reader to see: registered, the queue empty, ahead back at zero.
	pull.rx.waiting.Add(1)
	require.Zero(t, pull.rx.ahead.Load())
	close(gate)
	rxHeld(t, pull)
	pull.rx.waiting.Add(-1)
	require.NoError(t, push.Send(ctx, NewMsg([]byte("next"))))
	m, err = pull.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "next", string(m.Frames[0]))
	pull.rx.mu.Lock()
	reads := pull.rx.reads
	pull.rx.mu.Unlock()
	assert.Equal(t, uint64(1), reads, "the next Recv read inline")
}
