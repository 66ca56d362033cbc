package socket_test

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// A PULL whose Recv reads its inproc peers' connections itself still
// fair-queues them with a tcp peer: every message arrives once, each
// sender's in order, with a small receive HWM that makes the readers and
// the direct reads take turns.
func TestInprocDirectFairWithTCP(t *testing.T) {
	const perSender = 2000
	ctx := testCtx(t)
	pull := newSocket(t, socket.Pull, socket.WithRecvHWM(7))
	inproc := inprocEndpoint(t)
	require.NoError(t, pull.Bind(inproc))
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	tcp := pull.LastEndpoint()
	senders := []string{inproc, inproc, tcp}
	var wg sync.WaitGroup
	for i, ep := range senders {
		push := newSocket(t, socket.Push, socket.WithSendHWM(5))
		require.NoError(t, push.Connect(ep))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range perSender {
				if !assert.NoError(t, push.Send(ctx, msgOf(fmt.Sprintf("%d:%d", i, n)))) {
					return
				}
			}
		}()
	}
	next := make([]int, len(senders))
	for range perSender * len(senders) {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		from, n, ok := strings.Cut(string(m.Frames[0]), ":")
		require.True(t, ok)
		i, err := strconv.Atoi(from)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(next[i]), n, "sender %d out of order", i)
		next[i]++
	}
	wg.Wait()
	for i := range senders {
		assert.Equal(t, perSender, next[i], "sender %d", i)
	}
}

// Several goroutines waiting in Recv on one PAIR over inproc share its
// stream: each message reaches exactly one of them, none is lost while
// they arm and disarm the connection.
func TestInprocDirectConcurrentReceivers(t *testing.T) {
	const total, receivers = 5000, 4
	ctx := testCtx(t)
	rx := newSocket(t, socket.Pair)
	require.NoError(t, rx.Bind(inprocEndpoint(t)))
	tx := newSocket(t, socket.Pair)
	require.NoError(t, tx.Connect(rx.LastEndpoint()))
	seen := make([]bool, total)
	var mu sync.Mutex
	nseen := 0
	all := make(chan struct{}) // closed once every message was received
	var wg sync.WaitGroup
	counts := make(chan int, receivers)
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := 0
			for {
				m, err := rx.Recv(ctx)
				if err != nil {
					counts <- got
					return
				}
				n, err := strconv.Atoi(string(m.Frames[0]))
				if !assert.NoError(t, err) {
					counts <- got
					return
				}
				mu.Lock()
				assert.False(t, seen[n], "message %d twice", n)
				seen[n] = true
				if nseen++; nseen == total {
					close(all)
				}
				mu.Unlock()
				got++
			}
		}()
	}
	for n := range total {
		require.NoError(t, tx.Send(ctx, msgOf(strconv.Itoa(n))))
	}
	select {
	case <-all:
	case <-ctx.Done():
		mu.Lock()
		n := nseen
		mu.Unlock()
		t.Fatalf("only %d of %d received", n, total)
	}
	require.NoError(t, rx.Close())
	wg.Wait()
	close(counts)
	got := 0
	for c := range counts {
		got += c
	}
	assert.Equal(t, total, got)
}

// A PAIR whose Recv takes its only inproc peer's messages as a local
// batch keeps them in order with those its reader goroutine moves into
// the queue while the application pauses, and the receive HWM bounds
// both: every message arrives once, in order, and Stats counts each.
func TestInprocLocalBatchOrder(t *testing.T) {
	const total = 20000
	ctx := testCtx(t)
	a := newSocket(t, socket.Pair, socket.WithRecvHWM(50))
	require.NoError(t, a.Bind(inprocEndpoint(t)))
	z := newSocket(t, socket.Pair, socket.WithSendHWM(30))
	require.NoError(t, z.Connect(a.LastEndpoint()))
	errc := make(chan error, 1)
	go func() {
		for n := range total {
			if err := z.Send(ctx, msgOf(strconv.Itoa(n))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for n := range total {
		if n%1000 == 999 {
			// Leave the reader goroutine time to fill the queue to the
			// HWM behind the local batch (not a synchronisation: order
			// must hold whatever it does meanwhile).
			runtime.Gosched()
		}
		m, err := a.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(n), string(m.Frames[0]), "message %d out of order", n)
	}
	require.NoError(t, <-errc)
	assert.Equal(t, uint64(total), a.Stats().Received)
}

// Two goroutines receiving from one PULL share what its only inproc peer
// sends: a batch one of them takes does not leave the other waiting
// while messages are there, so both end once all have arrived.
func TestInprocLocalBatchTwoConsumers(t *testing.T) {
	const total = 10000
	ctx := testCtx(t)
	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Bind(inprocEndpoint(t)))
	push := newSocket(t, socket.Push)
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	var got [2][]int
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := pull.Recv(ctx)
				if err != nil {
					return
				}
				n, err := strconv.Atoi(string(m.Frames[0]))
				if !assert.NoError(t, err) || n < 0 {
					return
				}
				got[i] = append(got[i], n)
			}
		}()
	}
	for n := range total {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(n))))
	}
	// One stop message per consumer, after everything else.
	require.NoError(t, push.Send(ctx, msgOf("-1")))
	require.NoError(t, push.Send(ctx, msgOf("-1")))
	wg.Wait()
	all := append(got[0], got[1]...)
	require.Len(t, all, total)
	for _, g := range got {
		assert.True(t, sort.IntsAreSorted(g), "each consumer sees the stream in order")
	}
	sort.Ints(all)
	for n, v := range all {
		require.Equal(t, n, v)
	}
}

// A PAIR streaming over inproc with small HWMs, its sends going through
// the connection's gate: the sender's pipe never holds more than its
// SNDHWM, a sender that has filled it (the receiver pausing) is woken as
// the receiver reads on, and every message arrives once, in order.
func TestInprocGateKeepsHWMWhileStreaming(t *testing.T) {
	const hwm, total, pauseEvery = 4, 8000, 500
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	r := newSocket(t, socket.Pair, socket.WithRecvHWM(hwm))
	require.NoError(t, r.Bind(ep))
	s := newSocket(t, socket.Pair, socket.WithSendHWM(hwm))
	require.NoError(t, s.Connect(ep))
	errc := make(chan error, 1)
	go func() {
		for i := range total {
			if err := s.Send(ctx, seqMsg(uint64(i))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	queued := func() int {
		st := s.Stats()
		if len(st.Peers) == 0 {
			return 0
		}
		return st.Peers[0].Queued
	}
	for i := range total {
		if i%pauseEvery == 0 {
			require.Eventually(t, func() bool { return queued() == hwm }, 10*time.Second, time.Millisecond,
				"the sender fills its pipe while the receiver pauses (after %d)", i)
		}
		m, err := r.Recv(ctx)
		require.NoError(t, err, "message %d", i)
		require.Equal(t, uint64(i), seqOf(t, m))
		if i%7 == 0 {
			require.LessOrEqual(t, queued(), hwm, "after %d", i)
		}
	}
	require.NoError(t, <-errc)
}
