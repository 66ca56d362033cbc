package patterns

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"

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
