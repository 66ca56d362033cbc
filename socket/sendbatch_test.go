package socket_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// numbered returns n one-frame messages "from", "from+1", ...
func numbered(from, n int) []socket.Msg {
	msgs := make([]socket.Msg, n)
	for i := range msgs {
		msgs[i] = msgOf(strconv.Itoa(from + i))
	}
	return msgs
}

// recvNumbered receives n messages and checks they are from, from+1, ...
func recvNumbered(t *testing.T, ctx context.Context, s *socket.Socket, from, n int) {
	t.Helper()
	for i := range n {
		m, err := s.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(from+i), string(m.Frames[0]))
	}
}

// A journaled PUB's batch is durable when SendBatch returns, at
// consecutive offsets, and its subscribers get it in order; SendBatchAsync
// gives the last message's Pending.
func TestSendBatchJournaledPub(t *testing.T) {
	ctx := testCtx(t)
	log, err := durable.Open(filepath.Join(t.TempDir(), "j"))
	require.NoError(t, err)
	defer log.Close()
	pub := newSocket(t, socket.Pub, socket.WithJournal(log))
	ep := inprocEndpoint(t)
	require.NoError(t, pub.Bind(ep))

	n, err := pub.SendBatch(ctx, numbered(0, 300))
	require.NoError(t, err)
	require.Equal(t, 300, n)
	require.Equal(t, uint64(300), log.DurableEnd(), "durable on return")

	p, n, err := pub.SendBatchAsync(ctx, numbered(300, 200))
	require.NoError(t, err)
	require.Equal(t, 200, n)
	require.Equal(t, uint64(499), p.ID().Offset)
	require.Equal(t, log.ID(), p.ID().Journal)
	require.NoError(t, p.Wait(ctx))
	require.Equal(t, uint64(500), log.DurableEnd())
	assert.Equal(t, uint64(500), pub.Stats().Sent)

	sub := newSocket(t, socket.Sub, socket.WithStart(socket.StartOldest()))
	require.NoError(t, sub.Subscribe(nil))
	require.NoError(t, sub.Connect(ep))
	for i := range 500 {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(i), string(d.Msg.Frames[0]))
		require.Equal(t, uint64(i), d.ID.Offset)
		require.NoError(t, d.Ack())
	}
	// Live, after the replay.
	n, err = pub.SendBatch(ctx, numbered(500, 10))
	require.NoError(t, err)
	require.Equal(t, 10, n)
	recvNumbered(t, ctx, sub, 500, 10)
}

// An error mid-batch: exactly the messages before the one refused are
// accepted (journaled and durable), the error says why, matched with
// errors.Is.
func TestSendBatchStopsAtRefused(t *testing.T) {
	ctx := testCtx(t)
	log, err := durable.Open(filepath.Join(t.TempDir(), "j"), durable.WithMaxRecordSize(1000))
	require.NoError(t, err)
	defer log.Close()
	pub := newSocket(t, socket.Pub, socket.WithJournal(log))

	msgs := numbered(0, 10)
	msgs[4] = socket.Msg{} // no frames
	n, err := pub.SendBatch(ctx, msgs)
	require.ErrorIs(t, err, socket.ErrEmptyMsg)
	require.Equal(t, 4, n)
	require.Equal(t, uint64(4), log.DurableEnd())

	msgs = numbered(4, 10)
	msgs[7] = socket.NewMsg(make([]byte, 2000)) // larger than a record may be
	p, n, err := pub.SendBatchAsync(ctx, msgs)
	require.ErrorIs(t, err, durable.ErrTooLarge)
	require.Equal(t, 7, n)
	require.Equal(t, uint64(10), p.ID().Offset)
	require.NoError(t, p.Wait(ctx))
	require.Equal(t, uint64(11), log.End())

	// Refused at the first message: nothing accepted, a zero Pending.
	p, n, err = pub.SendBatchAsync(ctx, []socket.Msg{{}})
	require.ErrorIs(t, err, socket.ErrEmptyMsg)
	require.Zero(t, n)
	require.True(t, p.ID().IsZero())

	done, cancel := context.WithCancel(ctx)
	cancel()
	n, err = pub.SendBatch(done, numbered(0, 3))
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
	require.Equal(t, uint64(11), log.End())

	n, err = pub.SendBatch(ctx, nil)
	require.NoError(t, err)
	require.Zero(t, n)

	require.NoError(t, pub.Close())
	n, err = pub.SendBatch(ctx, numbered(0, 3))
	require.ErrorIs(t, err, socket.ErrClosed)
	require.Zero(t, n)
	_, n, err = pub.SendBatchAsync(ctx, numbered(0, 3))
	require.ErrorIs(t, err, socket.ErrClosed)
	require.Zero(t, n)
	require.Equal(t, uint64(11), log.End())

	// The journal holds exactly what was accepted, in order.
	r := log.NewReader(0)
	defer r.Close()
	for i, want := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"} {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		frames, err := rec.Frames()
		require.NoError(t, err)
		require.Equal(t, want, string(frames[len(frames)-1]), "offset %d", i)
	}
}

// A journaled PUSH (queue model) delivers a batch to its receivers, each
// message once.
func TestSendBatchJournaledPush(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push, socket.WithJournalDir(filepath.Join(t.TempDir(), "j")))
	ep := inprocEndpoint(t)
	require.NoError(t, push.Bind(ep))
	n, err := push.SendBatch(ctx, numbered(0, 100))
	require.NoError(t, err)
	require.Equal(t, 100, n)
	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Connect(ep))
	recvNumbered(t, ctx, pull, 0, 100)
	p, n, err := push.SendBatchAsync(ctx, numbered(100, 50))
	require.NoError(t, err)
	require.Equal(t, 50, n)
	require.NoError(t, p.Wait(ctx))
	recvNumbered(t, ctx, pull, 100, 50)
	require.NoError(t, push.WaitAcked(ctx))
}

// Without a journal a batch goes out message by message through Send, and
// stops at the first error the same way.
func TestSendBatchPlain(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push)
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	n, err := push.SendBatch(ctx, numbered(0, 100))
	require.NoError(t, err)
	require.Equal(t, 100, n)
	recvNumbered(t, ctx, pull, 0, 100)

	msgs := numbered(100, 5)
	msgs[2] = socket.Msg{}
	n, err = push.SendBatch(ctx, msgs)
	require.ErrorIs(t, err, socket.ErrEmptyMsg)
	require.Equal(t, 2, n)
	recvNumbered(t, ctx, pull, 100, 2)

	_, _, err = push.SendBatchAsync(ctx, numbered(0, 1))
	require.ErrorIs(t, err, socket.ErrNotJournaled)

	n, err = pull.SendBatch(ctx, numbered(0, 1))
	require.ErrorIs(t, err, socket.ErrNotSupported)
	require.Zero(t, n)

	require.NoError(t, push.Close())
	n, err = push.SendBatch(ctx, numbered(0, 1))
	require.ErrorIs(t, err, socket.ErrClosed)
	require.Zero(t, n)
}

func ExampleSocket_SendBatch() {
	dir, _ := os.MkdirTemp("", "brook-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	pub, _ := socket.New(socket.Pub, socket.WithJournalDir(filepath.Join(dir, "journal")))
	defer pub.Close()
	batch := []socket.Msg{
		socket.NewMsg([]byte("tick 1")),
		socket.NewMsg([]byte("tick 2")),
		{}, // a message needs a frame: the batch stops here
		socket.NewMsg([]byte("tick 3")),
	}
	n, err := pub.SendBatch(ctx, batch) // one journal append, one wait for the fsync
	fmt.Println(n, "durable;", errors.Is(err, socket.ErrEmptyMsg))
	n, err = pub.SendBatch(ctx, batch[3:])
	fmt.Println(n, "durable;", err)
	fmt.Println("journal end:", pub.Stats().Journal.End)
	// Output:
	// 2 durable; true
	// 1 durable; <nil>
	// journal end: 3
}
