package patterns

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type idPipe uint64

func (p idPipe) ID() uint64                  { return uint64(p) }
func (idPipe) Peer() transport.PeerInfo      { return transport.PeerInfo{} }
func (idPipe) TrySend(Msg) bool              { return true }
func (idPipe) SendSubscription([]byte, bool) {}
func (idPipe) ResetSubscriptions([][]byte)   {}

// Several producers push numbered messages through a small per-pipe bound
// while a consumer pops: every message arrives once, each producer's in
// order, each with the tag it was pushed with.
func TestFQOrderUnderBackpressure(t *testing.T) {
	const producers, each, hwm = 3, 20000, 7
	q := newFairQueue(hwm)
	ctx := context.Background()
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				b := make([]byte, 8)
				binary.BigEndian.PutUint64(b, uint64(i))
				require.NoError(t, q.Push(ctx, idPipe(p), Msg{Frames: [][]byte{b}}, Tag(p<<32|i)))
			}
		}(p)
	}
	next := make([]uint64, producers)
	for n := 0; n < producers*each; n++ {
		r, err := q.Pop(ctx)
		require.NoError(t, err)
		id := r.Pipe.ID()
		got := binary.BigEndian.Uint64(r.Msg.Frames[0])
		require.Equal(t, next[id], got, "producer %d", id)
		require.Equal(t, Tag(id<<32|got), r.Tag, "tag of producer %d's message %d", id, got)
		next[id]++
	}
	wg.Wait()
	assert.Zero(t, q.Len())
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := q.Pop(done)
	assert.ErrorIs(t, err, context.Canceled, "an empty queue makes Pop wait")
}

// A tagged message is never held back at the high-water mark.
func TestFQTaggedDoNotWait(t *testing.T) {
	q := newFairQueue(2)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 5 {
		require.NoError(t, q.Push(done, idPipe(1), Msg{Frames: [][]byte{{byte(i)}}}, Tag(i+1)), "tagged message %d", i)
	}
	assert.ErrorIs(t, q.Push(done, idPipe(1), Msg{Frames: [][]byte{{9}}}, 0), context.Canceled, "an untagged one waits for room")
	assert.Equal(t, 5, q.Len())
}

// The bound is exact: a pipe has at most hwm messages in the queue,
// whichever side of the consumer's swap they are on, and each message the
// application takes gives back the room of one.
func TestFQBoundIsExact(t *testing.T) {
	const hwm = 5
	q := newFairQueue(hwm)
	ctx := context.Background()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	p := idPipe(1)
	for i := range hwm {
		require.NoError(t, q.Push(gone, p, Msg{Frames: [][]byte{{byte(i)}}}, 0))
	}
	require.ErrorIs(t, q.Push(gone, p, Msg{Frames: [][]byte{{9}}}, 0), context.Canceled, "full at hwm")
	_, err := q.Pop(ctx) // the consumer swaps all five out, takes one
	require.NoError(t, err)
	n, err := q.Room(gone, p)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "room for the one taken, not for the four swapped out")
	require.NoError(t, q.Push(gone, p, Msg{Frames: [][]byte{{5}}}, 0))
	require.ErrorIs(t, q.Push(gone, p, Msg{Frames: [][]byte{{9}}}, 0), context.Canceled)
	assert.Equal(t, hwm, q.Len())
	for i := 1; i <= hwm; i++ {
		r, err := q.Pop(ctx)
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, r.Msg.Frames[0])
	}
}

// A reader that hands over batches asks for room first; Room waits for
// the application to take a message when there is none, and PushBatch
// queues the batch in order.
func TestFQRoomAndBatch(t *testing.T) {
	const hwm = 4
	q := newFairQueue(hwm)
	ctx := testContext(t)
	p := idPipe(7)
	n, err := q.Room(ctx, p)
	require.NoError(t, err)
	require.Equal(t, hwm, n)
	batch := make([]Msg, n)
	for i := range batch {
		batch[i] = Msg{Frames: [][]byte{{byte(i)}}}
	}
	require.NoError(t, q.PushBatch(p, batch))
	room := make(chan int, 1)
	go func() {
		n, err := q.Room(ctx, p)
		assert.NoError(t, err)
		room <- n
	}()
	r, err := q.Pop(ctx)
	require.NoError(t, err)
	assert.Equal(t, []byte{0}, r.Msg.Frames[0])
	assert.Equal(t, 1, <-room, "Room returns once the application took one")
	require.NoError(t, q.PushBatch(p, []Msg{{Frames: [][]byte{{4}}}}))
	for i := 1; i <= hwm; i++ {
		r, err := q.Pop(ctx)
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, r.Msg.Frames[0])
		assert.EqualValues(t, 7, r.Pipe.ID())
	}
	q.Close()
	_, err = q.Room(ctx, p)
	require.ErrorIs(t, err, transport.ErrClosed)
	require.ErrorIs(t, q.PushBatch(p, batch), transport.ErrClosed)
}

// Many readers handing over batches through a small bound while two
// consumers pop: every message arrives once, each reader's in order.
func TestFQBatchesUnderBackpressure(t *testing.T) {
	const readers, each, hwm = 3, 20000, 9
	q := newFairQueue(hwm)
	ctx := testContext(t)
	var wg sync.WaitGroup
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				n, err := q.Room(ctx, idPipe(r))
				if !assert.NoError(t, err) {
					return
				}
				batch := make([]Msg, 0, n)
				for ; len(batch) < n && i < each; i++ {
					b := make([]byte, 8)
					binary.BigEndian.PutUint64(b, uint64(i))
					batch = append(batch, Msg{Frames: [][]byte{b}})
				}
				assert.NoError(t, q.PushBatch(idPipe(r), batch))
			}
		}()
	}
	var mu sync.Mutex
	next := make([]uint64, readers)
	var cons sync.WaitGroup
	for range 2 {
		cons.Add(1)
		go func() {
			defer cons.Done()
			for {
				mu.Lock()
				r, err := q.Pop(ctx)
				if err != nil {
					mu.Unlock()
					return
				}
				id := r.Pipe.ID()
				assert.Equal(t, next[id], binary.BigEndian.Uint64(r.Msg.Frames[0]), "reader %d", id)
				next[id]++
				done := next[0] == each && next[1] == each && next[2] == each
				mu.Unlock()
				if done {
					q.Close()
					return
				}
			}
		}()
	}
	wg.Wait()
	cons.Wait()
	assert.Equal(t, []uint64{each, each, each}, next)
}

// testContext ends with the test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// A backlog many blocks long comes out whole and in order, whether it
// went in one message or one batch at a time, and the blocks it used are
// kept for reuse only up to fqMaxFree.
func TestFQBlocksChainAndRecycle(t *testing.T) {
	q := newFairQueue(0)
	ctx := testContext(t)
	const total = (fqMaxFree+5)*fqBlockSize + 3
	msg := func(i int) Msg {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, uint64(i))
		return Msg{Frames: [][]byte{b}}
	}
	for i := 0; i < total; {
		if i%3 == 0 {
			require.NoError(t, q.Push(ctx, idPipe(1), msg(i), Tag(i)))
			i++
			continue
		}
		n := min(fqBlockSize+7, total-i) // batches that straddle blocks
		batch := make([]Msg, n)
		tags := make([]Tag, n)
		for j := range batch {
			batch[j], tags[j] = msg(i+j), Tag(i+j)
		}
		require.NoError(t, q.PushTagged(idPipe(1), batch, tags))
		i += n
	}
	require.Equal(t, total, q.Len())
	for i := range total {
		r, err := q.Pop(ctx)
		require.NoError(t, err)
		require.EqualValues(t, i, binary.BigEndian.Uint64(r.Msg.Frames[0]))
		require.EqualValues(t, i, r.Tag)
	}
	assert.Zero(t, q.Len())
	// The spent blocks reach the free list at the next claim.
	require.NoError(t, q.PushBatch(idPipe(1), []Msg{msg(0)}))
	_, err := q.Pop(ctx)
	require.NoError(t, err)
	q.mu.Lock()
	assert.Equal(t, fqMaxFree, q.nfree, "a burst's blocks are kept up to fqMaxFree")
	q.mu.Unlock()
}

// A queue holds no block until its first message, then a small one, so
// thousands of sockets that receive a little keep 1 KiB of queue each; a
// backlog beyond it goes on in full blocks, in order, and only full
// blocks are kept for reuse.
func TestFQFirstBlockIsSmall(t *testing.T) {
	q := newFairQueue(0)
	ctx := testContext(t)
	assert.Nil(t, q.tail, "no block before the first message")
	require.NoError(t, q.Push(ctx, idPipe(1), Msg{Frames: [][]byte{{0}}}, 0))
	require.NotNil(t, q.tail)
	assert.Len(t, q.tail.e, fqFirstBlockSize)
	const total = fqFirstBlockSize + fqBlockSize + 5
	for i := 1; i < total; i++ {
		require.NoError(t, q.Push(ctx, idPipe(1), Msg{Frames: [][]byte{{byte(i)}}}, Tag(i)))
	}
	for i := range total {
		r, err := q.Pop(ctx)
		require.NoError(t, err)
		require.Equal(t, byte(i), r.Msg.Frames[0][0])
	}
	// The spent blocks reach the free list at the next claim: the full
	// one, not the first.
	require.NoError(t, q.PushBatch(idPipe(1), []Msg{{Frames: [][]byte{{1}}}}))
	_, err := q.Pop(ctx)
	require.NoError(t, err)
	q.mu.Lock()
	defer q.mu.Unlock()
	require.Equal(t, 1, q.nfree)
	assert.Len(t, q.free.e, fqBlockSize)
}

// Once blocks are on the free list, queueing and taking messages
// allocates nothing, however far the tail runs ahead of the head.
func TestFQSteadyStateAllocatesNothing(t *testing.T) {
	q := newFairQueue(0)
	ctx := testContext(t)
	batch := make([]Msg, 100)
	for i := range batch {
		batch[i] = Msg{Frames: [][]byte{{byte(i)}}}
	}
	round := func() {
		for range 5 {
			_ = q.PushBatch(idPipe(1), batch)
		}
		for range 5 * len(batch) {
			if _, err := q.Pop(ctx); err != nil {
				panic(err)
			}
		}
	}
	round()
	round()
	assert.Zero(t, testing.AllocsPerRun(20, round))
}

// BenchmarkFQ measures a reader handing batches to the queue while the
// application pops them one by one. Unbounded, the reader runs ahead and
// a backlog builds (what a SUB with a huge HWM sees under a fast PUB);
// bounded, the reader waits for room as a socket's does.
func BenchmarkFQ(b *testing.B) {
	for _, hwm := range []int{0, 1000} {
		b.Run(fmt.Sprintf("hwm%d", hwm), func(b *testing.B) {
			q := newFairQueue(hwm)
			ctx := context.Background()
			batch := make([]Msg, 64)
			for i := range batch {
				batch[i] = Msg{Frames: [][]byte{make([]byte, 16)}}
			}
			b.ReportAllocs()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for sent := 0; sent < b.N; {
					n, err := q.Room(ctx, idPipe(1))
					if err != nil {
						panic(err)
					}
					n = min(n, len(batch), b.N-sent)
					if err := q.PushBatch(idPipe(1), batch[:n]); err != nil {
						panic(err)
					}
					sent += n
				}
			}()
			for range b.N {
				if _, err := q.Pop(ctx); err != nil {
					b.Fatal(err)
				}
			}
			<-done
		})
	}
	// backlog: every message queued before the first is taken, the cost of
	// a queue that grows to b.N entries.
	b.Run("backlog", func(b *testing.B) {
		q := newFairQueue(0)
		ctx := context.Background()
		batch := make([]Msg, 64)
		for i := range batch {
			batch[i] = Msg{Frames: [][]byte{make([]byte, 16)}}
		}
		b.ReportAllocs()
		for sent := 0; sent < b.N; sent += len(batch) {
			_ = q.PushBatch(idPipe(1), batch[:min(len(batch), b.N-sent)])
		}
		for range b.N {
			if _, err := q.Pop(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Two queues bounce a message back and forth, so nearly every Pop finds
// its queue empty and waits while the other side pushes: a Pop that
// registered as a waiter after its last look at the tail, or a Push that
// looked for waiters before marking the tail written, would miss a
// wake-up here and stall the game until the deadline.
func TestFQPingPongNeverMissesAWakeUp(t *testing.T) {
	const rounds = 20000
	ping, pong := newFairQueue(1), newFairQueue(1)
	ctx := testContext(t)
	errc := make(chan error, 1)
	go func() {
		for range rounds {
			r, err := ping.Pop(ctx)
			if err == nil {
				err = pong.Push(ctx, idPipe(2), r.Msg, 0)
			}
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range rounds {
		require.NoError(t, ping.Push(ctx, idPipe(1), Msg{Frames: [][]byte{{byte(i)}}}, 0))
		r, err := pong.Pop(ctx)
		require.NoError(t, err, "round %d", i)
		require.Equal(t, byte(i), r.Msg.Frames[0][0])
	}
	require.NoError(t, <-errc)
}
