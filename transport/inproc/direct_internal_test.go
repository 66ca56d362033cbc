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

// waitReader waits until the reader of q waits on it, empty.
func waitReader(t *testing.T, q *queue) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q.mu.Lock()
		waiting := q.readerWaiting && len(q.msgs) == 0
		q.mu.Unlock()
		if waiting {
			return
		}
		require.True(t, time.Now().Before(deadline), "the reader never waited")
		runtime.Gosched()
	}
}

// While the reader waits, WriteMsgs hands messages to its sink, which
// takes what it has room for; the rest is queued behind, in order, and
// what the sink took counts towards ReadMsgs' max.
func TestSinkTakesWhileReaderWaits(t *testing.T) {
	dialer, accepter := newPair("q")
	defer dialer.Close()
	var sunk []transport.Msg
	room := 3
	accepter.SetSink(func(msgs []transport.Msg) int {
		n := min(room, len(msgs))
		room -= n
		sunk = append(sunk, msgs[:n]...)
		return n
	})
	type result struct {
		got []transport.Msg
		err error
	}
	res := make(chan result, 1)
	read := func(max int) {
		got, err := accepter.ReadMsgs(nil, max)
		res <- result{got, err}
	}
	go read(5)
	waitReader(t, &accepter.p.q[1])
	msgs := []transport.Msg{byteMsg(0), byteMsg(1), byteMsg(2), byteMsg(3), byteMsg(4)}
	n, err := dialer.WriteMsgs(msgs)
	require.NoError(t, err)
	require.Equal(t, 3, n, "the sink took its share")
	require.Len(t, sunk, 3)
	for i, m := range sunk {
		assert.Equal(t, []byte{byte(i)}, m.Frames[0])
	}
	n, err = dialer.WriteMsgs(msgs[3:])
	require.NoError(t, err)
	require.Equal(t, 2, n)
	assert.Len(t, sunk, 3, "no room left in the sink: queued")
	r := <-res
	require.NoError(t, r.err)
	assert.Len(t, r.got, 2, "5 allowed, 3 taken by the sink")
	assert.Equal(t, []byte{3}, r.got[0].Frames[0])

	// An allowance used up by the sink: ReadMsgs returns none, and the
	// next call gets the message it waited for.
	go read(3)
	waitReader(t, &accepter.p.q[1])
	room = 3
	n, err = dialer.WriteMsgs(msgs[:3])
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.NoError(t, dialer.WriteMsg(byteMsg(9)))
	r = <-res
	require.NoError(t, r.err)
	assert.Empty(t, r.got, "the sink used up the allowance")
	got, err := accepter.ReadMsgs(nil, 3)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []byte{9}, got[0].Frames[0])
	assert.EqualValues(t, 3, accepter.MsgsRead(), "what the sink took is not read here")
}

// While the sink delivers, nothing is queued ahead of its messages:
// WriteMsg waits, TryWriteMsg refuses, SetSink(nil) waits for it to end;
// a close wakes the waiting writer.
func TestSinkHoldsOtherWriters(t *testing.T) {
	dialer, accepter := newPair("q")
	defer dialer.Close()
	entered := make(chan struct{})
	release := make(chan struct{})
	accepter.SetSink(func(msgs []transport.Msg) int {
		close(entered)
		<-release
		return len(msgs)
	})
	reading := make(chan error, 1)
	go func() {
		_, err := accepter.ReadMsgs(nil, 10)
		reading <- err
	}()
	q := &accepter.p.q[1]
	waitReader(t, q)
	wrote := make(chan error, 1)
	go func() {
		_, err := dialer.WriteMsgs([]transport.Msg{byteMsg(0)})
		wrote <- err
	}()
	<-entered
	ok, err := dialer.TryWriteMsg(byteMsg(1))
	require.NoError(t, err)
	assert.False(t, ok, "nothing jumps ahead of a delivery in progress")
	blocked := make(chan error, 1)
	go func() { blocked <- dialer.WriteMsg(byteMsg(2)) }()
	unset := make(chan struct{})
	go func() {
		accepter.SetSink(nil)
		close(unset)
	}()
	waitWriters(t, q, 2)
	select {
	case <-unset:
		t.Fatal("SetSink(nil) returned during a delivery")
	default:
	}
	close(release)
	require.NoError(t, <-wrote)
	<-unset
	require.NoError(t, <-blocked, "queued once the delivery ended")
	require.NoError(t, <-reading)

	// A writer waiting for a delivery to end is woken by a close.
	entered2 := make(chan struct{})
	release2 := make(chan struct{})
	accepter.SetSink(func(msgs []transport.Msg) int {
		close(entered2)
		<-release2
		return len(msgs)
	})
	go func() {
		_, err := accepter.ReadMsgs(nil, 10)
		reading <- err
	}()
	waitReader(t, q)
	go func() {
		_, err := dialer.WriteMsgs([]transport.Msg{byteMsg(0)})
		wrote <- err
	}()
	<-entered2
	go func() { blocked <- dialer.WriteMsg(byteMsg(1)) }()
	waitWriters(t, q, 1)
	require.NoError(t, accepter.Close())
	require.ErrorIs(t, <-blocked, transport.ErrClosed)
	close(release2)
	require.NoError(t, <-wrote, "the delivery itself completes")
	require.ErrorIs(t, <-reading, transport.ErrClosed)
}
