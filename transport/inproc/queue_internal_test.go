package inproc

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// A full queue blocks the writer until the reader takes a batch, and the
// blocked message then follows the others in order.
func TestFullQueueBlocksWriter(t *testing.T) {
	dialer, accepter := newPair("q")
	defer dialer.Close()
	for i := range QueueCapacity {
		require.NoError(t, dialer.WriteMsg(transport.NewMsg([]byte{byte(i)})))
	}
	errs := make(chan error, 1)
	go func() { errs <- dialer.WriteMsg(transport.NewMsg([]byte{byte(QueueCapacity % 256)})) }()

	// Wait for the writer to park on the full queue: a condition the
	// queue exposes under its lock, polled with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for writersWaiting(&accepter.p.q[1]) == 0 {
		require.True(t, time.Now().Before(deadline), "writer never blocked on a full queue")
		runtime.Gosched()
	}
	select {
	case err := <-errs:
		t.Fatalf("WriteMsg on a full queue returned %v instead of blocking", err)
	default:
	}
	for i := range QueueCapacity + 1 {
		m, err := accepter.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, m.Frames[0])
	}
	require.NoError(t, <-errs)
}

func writersWaiting(q *queue) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.writersWaiting
}

// Read messages are cleared from the reader's batch, so their frames are
// not kept alive by the connection.
func TestReadClearsSlot(t *testing.T) {
	dialer, accepter := newPair("q")
	defer dialer.Close()
	require.NoError(t, dialer.WriteMsg(transport.NewMsg([]byte("x"))))
	_, err := accepter.ReadMsg()
	require.NoError(t, err)
	require.Len(t, accepter.batch, 1)
	assert.Nil(t, accepter.batch[0].m.Frames)
}
