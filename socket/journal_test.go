package socket_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// openJournal opens a journal in a fresh directory, closed at the end.
func openJournal(t *testing.T, opts ...durable.Option) *durable.Log {
	t.Helper()
	l, err := durable.Open(filepath.Join(t.TempDir(), "journal"), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// A journaled PUSH delivers every message to a PULL that acknowledges
// them; ids are the journal's offsets, in order, each delivered once.
func TestJournalPushPull(t *testing.T) {
	for _, scheme := range []string{"inproc", "tcp", "ipc"} {
		t.Run(scheme, func(t *testing.T) {
			ctx := testCtx(t)
			log := openJournal(t)
			pull := newSocket(t, socket.Pull)
			require.NoError(t, pull.Bind(endpointFor(t, scheme)))
			push := newSocket(t, socket.Push, socket.WithJournal(log))
			require.NoError(t, push.Connect(pull.LastEndpoint()))
			const n = 500
			for i := range n {
				require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
			}
			for i := range n {
				d, err := pull.RecvDelivery(ctx)
				require.NoError(t, err)
				require.True(t, d.Journaled())
				assert.Equal(t, strconv.Itoa(i), string(d.Msg.Frames[0]))
				assert.Equal(t, log.ID(), d.ID.Journal)
				assert.EqualValues(t, i, d.ID.Offset)
				assert.Equal(t, 1, d.Count)
				assert.False(t, d.Time.IsZero())
				assert.Equal(t, "PUSH", d.Peer.SocketType, "the sender's handshake")
				require.NoError(t, d.Ack())
				assert.ErrorIs(t, d.Ack(), socket.ErrAcked)
			}
			require.NoError(t, push.WaitAcked(ctx))
			st := push.Stats().Journal
			assert.EqualValues(t, n, st.Floor, "every message acknowledged")
			assert.EqualValues(t, n, st.Delivered)
			assert.Zero(t, st.Redelivered)
			assert.Zero(t, st.PlainDelivered)
		})
	}
}

// Messages sent while no receiver is there are kept in the journal and
// delivered when one connects; Send returns once they are durable.
func TestJournalStoreAndForward(t *testing.T) {
	ctx := testCtx(t)
	log := openJournal(t)
	push := newSocket(t, socket.Push, socket.WithJournal(log))
	const n = 100
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(fmt.Sprint(i))))
	}
	assert.EqualValues(t, n, log.DurableEnd(), "Send returned once durable")
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	for i := range n {
		m, err := pull.Recv(ctx) // acknowledged on receipt
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i), string(m.Frames[0]))
	}
	require.NoError(t, push.WaitAcked(ctx))
	assert.EqualValues(t, n, push.Stats().Journal.Floor)
}

// A receiver that goes away with messages unacknowledged: they are
// delivered again to the receiver that is left, with their delivery count.
func TestJournalRedeliversWhenReceiverLeaves(t *testing.T) {
	ctx := testCtx(t)
	log := openJournal(t)
	push := newSocket(t, socket.Push, socket.WithJournal(log), socket.WithSendHWM(10))
	ep1, ep2 := inprocEndpoint(t), inprocEndpoint(t)
	a := newSocket(t, socket.Pull)
	require.NoError(t, a.Bind(ep1))
	require.NoError(t, push.Connect(ep1))
	const n = 10
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(fmt.Sprint(i))))
	}
	for range n {
		_, err := a.RecvDelivery(ctx) // received, never acknowledged
		require.NoError(t, err)
	}
	b := newSocket(t, socket.Pull)
	require.NoError(t, b.Bind(ep2))
	require.NoError(t, push.Connect(ep2))
	require.NoError(t, a.Close())
	got := map[string]int{}
	for range n {
		d, err := b.RecvDelivery(ctx)
		require.NoError(t, err)
		got[string(d.Msg.Frames[0])] = d.Count
		require.NoError(t, d.Ack())
	}
	for i := range n {
		assert.Equal(t, 2, got[fmt.Sprint(i)], "message %d delivered a second time", i)
	}
	require.NoError(t, push.WaitAcked(ctx))
	assert.EqualValues(t, n, push.Stats().Journal.Redelivered)
}
