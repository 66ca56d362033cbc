package socket_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

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
