package inproc

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func byteMsg(i int) transport.Msg { return transport.NewMsg([]byte{byte(i)}) }

// waitWriters waits until n writers are parked on q being full.
func waitWriters(t *testing.T, q *queue, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for writersWaiting(q) < n {
		require.True(t, time.Now().Before(deadline), "writer never blocked on a full queue")
		runtime.Gosched()
	}
}

// TryWriteMsg takes messages while there is room and refuses the next
// one without keeping it; the reader gets exactly those taken, in order.
func TestTryWriteMsgStopsAtCapacity(t *testing.T) {
	dialer, accepter := newPair("q")
	defer dialer.Close()
	for i := range QueueCapacity {
		ok, err := dialer.TryWriteMsg(byteMsg(i))
		require.NoError(t, err)
		require.True(t, ok, "message %d fits", i)
	}
	ok, err := dialer.TryWriteMsg(byteMsg(QueueCapacity))
	require.NoError(t, err)
	assert.False(t, ok, "a full queue refuses")
	got, err := accepter.ReadMsgs(nil, 2*QueueCapacity)
	require.NoError(t, err)
	require.Len(t, got, QueueCapacity)
	for i, m := range got {
		assert.Equal(t, []byte{byte(i)}, m.Frames[0])
	}
	ok, err = dialer.TryWriteMsg(byteMsg(0))
	require.NoError(t, err)
	assert.True(t, ok, "room again once read")

	_, err = dialer.TryWriteMsg(transport.Msg{})
	assert.ErrorIs(t, err, ErrNoFrames)
	require.NoError(t, accepter.Close())
	ok, err = dialer.TryWriteMsg(byteMsg(0))
	assert.False(t, ok)
	assert.ErrorIs(t, err, transport.ErrClosed)
}

// WriteMsgs takes as many as fit under one lock, waits only while the
// queue is full, and keeps the order across calls.
func TestWriteMsgsTakesPrefix(t *testing.T) {
	dialer, accepter := newPair("q")
	defer dialer.Close()
	msgs := make([]transport.Msg, QueueCapacity+10)
	for i := range msgs {
		msgs[i] = byteMsg(i)
	}
	n, err := dialer.WriteMsgs(msgs)
	require.NoError(t, err)
	require.Equal(t, QueueCapacity, n, "a prefix up to the room left")

	rest := make(chan int, 1)
	go func() {
		n, err := dialer.WriteMsgs(msgs[QueueCapacity:])
		assert.NoError(t, err)
		rest <- n
	}()
	waitWriters(t, &accepter.p.q[1], 1)
	got, err := accepter.ReadMsgs(nil, 2*QueueCapacity)
	require.NoError(t, err)
	require.Len(t, got, QueueCapacity)
	require.Equal(t, 10, <-rest, "the blocked call takes the rest once there is room")
	got, err = accepter.ReadMsgs(got, 2*QueueCapacity)
	require.NoError(t, err)
	require.Len(t, got, len(msgs))
	for i, m := range got {
		assert.Equal(t, []byte{byte(i)}, m.Frames[0])
	}

	n, err = dialer.WriteMsgs(nil)
	assert.NoError(t, err)
	assert.Zero(t, n)
	n, err = dialer.WriteMsgs([]transport.Msg{byteMsg(0), {}})
	assert.ErrorIs(t, err, ErrNoFrames)
	assert.Zero(t, n, "nothing taken from a refused batch")
}

// A WriteMsgs waiting for room is woken by a close and takes nothing.
func TestWriteMsgsWokenByClose(t *testing.T) {
	for _, closer := range []string{"writer", "reader"} {
		t.Run(closer, func(t *testing.T) {
			dialer, accepter := newPair("q")
			defer dialer.Close()
			defer accepter.Close()
			for i := range QueueCapacity {
				require.NoError(t, dialer.WriteMsg(byteMsg(i)))
			}
			errs := make(chan error, 1)
			go func() {
				_, err := dialer.WriteMsgs([]transport.Msg{byteMsg(1)})
				errs <- err
			}()
			waitWriters(t, &accepter.p.q[1], 1)
			if closer == "writer" {
				require.NoError(t, dialer.Close())
			} else {
				require.NoError(t, accepter.Close())
			}
			require.ErrorIs(t, <-errs, transport.ErrClosed)
		})
	}
}

// CloseWrite makes both direct writes fail.
func TestDirectWritesAfterCloseWrite(t *testing.T) {
	dialer, accepter := newPair("q")
	defer dialer.Close()
	defer accepter.Close()
	require.NoError(t, dialer.CloseWrite())
	_, err := dialer.TryWriteMsg(byteMsg(0))
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = dialer.WriteMsgs([]transport.Msg{byteMsg(0)})
	assert.ErrorIs(t, err, transport.ErrClosed)
}
