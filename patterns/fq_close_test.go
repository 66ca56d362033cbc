package patterns

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brookmq/brook/transport"
)

// Close wakes every Pop waiting on the queue, with and without a ctx
// that can end, even when messages arrive with the Close and the few
// waiters that take them could swallow the wake-up: the messages are
// each returned once, and every other waiter fails with ErrClosed.
func TestFQCloseWakesEveryWaiter(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, queued := range []int{0, 1, 2} {
		q := newFairQueue(0)
		const waiters = 6
		var wg sync.WaitGroup
		var mu sync.Mutex
		got, closed := 0, 0
		ctx, cancel := context.WithCancel(context.Background())
		for i := range waiters {
			wctx := context.Background()
			if i%2 == 1 {
				wctx = ctx
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := q.Pop(wctx)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					got++
				case errors.Is(err, transport.ErrClosed):
					closed++
				default:
					t.Errorf("Pop: %v", err)
				}
			}()
		}
		require.Eventually(t, func() bool {
			return int(q.waiters.Load()) == waiters
		}, 5*time.Second, time.Millisecond, "all waiting")
		for range queued {
			require.True(t, q.Inject(idPipe(1), Msg{Frames: [][]byte{{1}}}))
		}
		q.Close()
		ended := make(chan struct{})
		go func() { wg.Wait(); close(ended) }()
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatalf("a Pop still waits 5s after Close (%d queued)", queued)
		}
		cancel()
		assert.Equal(t, queued, got, "each queued message returned once (%d queued)", queued)
		assert.Equal(t, waiters-queued, closed, "every other waiter fails with ErrClosed (%d queued)", queued)
	}
}
