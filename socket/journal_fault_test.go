package socket_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/internal/faultproxy"
	"github.com/brookmq/brook/socket"
)

// TestJournalThroughCutConnections: a journaled PUSH and a PULL with a
// dedup store talk through a fault-injecting proxy that cuts the
// connection mid-frame in either direction (messages one way,
// acknowledgements the other) and resets it, again and again. Every
// message reaches the application exactly once (AckSync after
// processing; copies buffered on a cut connection are dropped, lost
// acknowledgements are asked again on the next), and the sender ends with
// everything acknowledged.
func TestJournalThroughCutConnections(t *testing.T) {
	// 3-9 s usually, past testCtx's 20 s under heavy load (30 cuts, each
	// waiting out part of a 5 s ack timeout).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	push := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)), socket.WithSendHWM(20),
		socket.WithAckTimeout(5*time.Second))
	require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
	proxy, err := faultproxy.New(push.LastEndpoint()[len("tcp://"):])
	require.NoError(t, err)
	defer proxy.Close()
	pull := newSocket(t, socket.Pull, socket.WithDedupStore(t.TempDir()),
		socket.WithReconnectInterval(5*time.Millisecond))
	require.NoError(t, pull.Connect("tcp://"+proxy.Addr()))

	const n = 1000
	var (
		mu   sync.Mutex
		seen = map[uint64]int{}
	)
	recvDone := make(chan error, 1)
	go func() {
		for {
			d, err := pull.RecvDelivery(ctx)
			if err != nil {
				recvDone <- err
				return
			}
			mu.Lock()
			seen[d.ID.Offset]++
			mu.Unlock()
			if err := d.AckSync(ctx); err != nil {
				recvDone <- err
				return
			}
		}
	}()
	sendDone := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := push.SendAsync(ctx, msgOf(strconv.Itoa(i))); err != nil {
				sendDone <- err
				return
			}
			if i%20 == 0 {
				time.Sleep(5 * time.Millisecond) // spread the traffic over the faults
			}
		}
		sendDone <- nil
	}()
	rng := rand.New(rand.NewPCG(3, 4))
	cuts := 0
	progress := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	// Faults while the messages flow: until 90% arrived, at most 30.
	for cuts < 30 && progress() < n*9/10 {
		time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		switch rng.IntN(3) {
		case 0:
			proxy.CutAfter(faultproxy.ToClient, int64(1+rng.IntN(3000))) // mid-message
		case 1:
			proxy.CutAfter(faultproxy.ToTarget, int64(1+rng.IntN(40))) // mid-acknowledgement
		default:
			proxy.ResetAll()
		}
		cuts++
	}
	require.NoError(t, <-sendDone)
	require.NoError(t, proxy.Heal())
	start := time.Now()
	require.NoError(t, push.WaitAcked(ctx))
	t.Logf("all acknowledged %v after the last fault", time.Since(start))
	require.NoError(t, pull.Close())
	require.ErrorIs(t, <-recvDone, socket.ErrClosed)
	mu.Lock()
	defer mu.Unlock()
	st := push.Stats()
	for off := uint64(0); off < n && len(seen) != n; off++ {
		if seen[off] == 0 {
			t.Errorf("offset %d never reached the application (sender: %+v)", off, *st.Journal)
			break
		}
	}
	assert.Len(t, seen, n, "every message reached the application")
	for off, k := range seen {
		assert.Equal(t, 1, k, "offset %d reached the application %d times", off, k)
	}
	t.Logf("%d faults, %d deliveries for %d messages", cuts, st.Journal.Delivered, n)
	assert.Greater(t, cuts, 3)
}
