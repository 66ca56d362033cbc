package patterns

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A REP whose Recv has taken its request from the queue, and has not yet
// changed its state to replying, would not wait: the socket's reader
// asks just then whether to keep reading for it (an empty queue and a
// receiving state looked as if it would wait, and the reader kept its
// role). A malformed request it took and dropped makes it wait again.
func TestRepRecvWouldWaitAfterTake(t *testing.T) {
	ctx := context.Background()
	s := newRep(Config{RecvHWM: 10})
	assert.True(t, s.RecvWouldWait(), "nothing queued")
	require.NoError(t, s.Inbound(ctx, idPipe(1), Msg{Frames: [][]byte{{}, []byte("q")}}, 0))
	assert.False(t, s.RecvWouldWait(), "a request queued")

	// Recv's first steps, then its take, stopped before its state change.
	s.mu.Lock()
	s.state, s.mark = repReceiving, s.fq.Popped()
	s.mu.Unlock()
	_, err := s.fq.Pop(ctx)
	require.NoError(t, err)
	assert.False(t, s.RecvWouldWait(), "the waiting Recv has its request")

	// Taken and dropped as malformed: Recv waits again.
	s.mu.Lock()
	s.mark = s.fq.Popped()
	s.mu.Unlock()
	assert.True(t, s.RecvWouldWait())

	// The whole Recv, through a malformed request to a good one.
	s.mu.Lock()
	s.state = repIdle
	s.mu.Unlock()
	require.NoError(t, s.Inbound(ctx, idPipe(1), Msg{Frames: [][]byte{[]byte("no delimiter")}}, 0))
	require.NoError(t, s.Inbound(ctx, idPipe(1), Msg{Frames: [][]byte{{}, []byte("q2")}}, 0))
	r, err := s.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "q2", string(r.Msg.Frames[0]))
	assert.False(t, s.RecvWouldWait(), "a reply is owed")
}
