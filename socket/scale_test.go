package socket_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// liveHeap is the heap in use after a forced collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A ROUTER serves 1,000 DEALERs over tcp, each with a burst of traffic
// (a 64 KiB message each way, then a small round trip): every connection
// costs two goroutines at each end, and once idle its buffers have shrunk
// back, so the heap per connection (both ends, sockets and pipes
// included) stays far below the 64 KiB read and write buffers each end
// used to keep. The 5,000-connection figures beside libzmq's come from
// internal/perfharness (conns mode).
func TestThousandConnections(t *testing.T) {
	const n = 1000
	// Not testCtx's 20 s: setting up 1,000 connections and two round
	// trips on each takes 10 s under -race on a 2-core machine running
	// other packages, and twice that was seen under heavier load (every
	// DEALER's Recv failed at 20 s). The deadline only turns a hang
	// into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	baseHeap, baseG := liveHeap(), runtime.NumGoroutine()
	router := newSocket(t, socket.Router, socket.WithSendHWM(0))
	require.NoError(t, router.Bind("tcp://127.0.0.1:0"))
	dealers := make([]*socket.Socket, n)
	for i := range dealers {
		dealers[i] = newSocket(t, socket.Dealer)
		require.NoError(t, dealers[i].Connect(router.LastEndpoint()))
	}
	served := make(chan error, 1)
	go func() {
		for range 2 * n {
			m, err := router.Recv(ctx)
			if err != nil {
				served <- err
				return
			}
			if err := router.Send(ctx, m); err != nil {
				served <- err
				return
			}
		}
		served <- nil
	}()
	big := make([]byte, 64<<10)
	roundTrip := func(body []byte) {
		var wg sync.WaitGroup
		for _, d := range dealers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if !assert.NoError(t, d.Send(ctx, socket.NewMsg(body))) {
					return
				}
				m, err := d.Recv(ctx)
				if assert.NoError(t, err) {
					assert.Len(t, m.Frames[0], len(body))
				}
			}()
		}
		wg.Wait()
	}
	roundTrip(big)
	roundTrip([]byte("small"))
	require.NoError(t, <-served)

	perConn := float64(liveHeap()-baseHeap) / n
	goroutines := runtime.NumGoroutine() - baseG
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d connections: %.1f KiB of heap and %.2f goroutines per connection (both ends), stacks %.1f KiB per connection",
		n, perConn/1024, float64(goroutines)/n, float64(ms.StackInuse)/1024/n)
	// Two per connection at each end, and the journal receiver's one per
	// receiving socket (jrecv.go), here one per DEALER.
	assert.LessOrEqual(t, goroutines, 4*n+(n+1)+8, "two goroutines per connection at each end")
	assert.Less(t, perConn, float64(32<<10), "idle connections keep no large buffer")
	for _, d := range dealers {
		require.NoError(t, d.Close())
	}
	require.NoError(t, router.Close())
}
