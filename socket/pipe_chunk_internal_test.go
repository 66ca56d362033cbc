package socket

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A backlog of several chunks comes out of popAll chunk by chunk, in
// order, none larger than a chunk once the queue has reached one; items
// put back (requeue) and a subscription reset keep the order across the
// chunks; the journaled count follows what is taken.
func TestPipeBacklogInChunks(t *testing.T) {
	s, err := New(Push, WithSendHWM(0))
	require.NoError(t, err)
	defer s.Close()
	p := newPipe(s, 1, "test", true)
	const total = 3*pipeChunk + 5
	for i := range total {
		require.True(t, p.TrySend(seqMsg(i)))
		if i == pipeChunk+1 {
			p.SendSubscription([]byte("old"), true)
		}
	}
	assert.NotEmpty(t, p.more, "the backlog is in chunks")
	p.ResetSubscriptions([][]byte{[]byte("a")})
	assert.Empty(t, p.more, "a reset reworks the whole queue")
	for i := total; i < total+2*pipeChunk; i++ {
		require.True(t, p.TrySend(seqMsg(i)))
	}

	var got []int
	subs := 0
	for pops := 0; ; pops++ {
		batch, _ := p.popAll(nil)
		if len(batch) == 0 {
			break
		}
		if pops >= 2 {
			// After the reset's queue and what was put back of it.
			assert.LessOrEqual(t, len(batch), pipeChunk, "a chunk at a time")
		}
		if pops == 0 {
			// Put the first batch's tail back, as a failed write does.
			p.requeue(batch[10:])
			batch = batch[:10]
		}
		for _, it := range batch {
			switch it.kind {
			case itemData:
				got = append(got, seqOf(it.msg))
			case itemSubscribe:
				assert.Equal(t, "a", string(it.msg.Frames[0]), "only the reset's subscription")
				subs++
			}
		}
	}
	assert.Equal(t, 1, subs)
	require.Len(t, got, total+2*pipeChunk)
	for i, v := range got {
		require.Equal(t, i, v)
	}

	frames := make([][][]byte, 3*pipeChunk)
	for i := range frames {
		frames[i] = [][]byte{{1}, {2}}
	}
	require.True(t, p.sendJournaledBatch(frames, false))
	assert.Equal(t, len(frames), p.journalQueued())
	batch, _ := p.popAll(nil)
	assert.Equal(t, len(frames)-len(batch), p.journalQueued(), "what the writer took is no longer queued")
	for len(batch) > 0 {
		batch, _ = p.popAll(nil)
	}
	assert.Zero(t, p.journalQueued())
}

// BenchmarkPipeBacklog queues b.N messages on a pipe whose writer lags
// (a PUB with no HWM and a slow subscriber), then takes them as the writer
// would: the cost of a backlog's growth.
func BenchmarkPipeBacklog(b *testing.B) {
	s, err := New(Push, WithSendHWM(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := newPipe(s, 1, "bench", true)
	m := seqMsg(1)
	b.ReportAllocs()
	for range b.N {
		p.TrySend(m)
	}
	var spare []outItem
	for {
		batch, _ := p.popAll(spare)
		if len(batch) == 0 {
			break
		}
		clear(batch)
		spare = batch[:0]
	}
}
