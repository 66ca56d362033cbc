package socket_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// recvN receives n deliveries from s.
func recvN(t *testing.T, ctx context.Context, s *socket.Socket, n int) []*socket.Delivery {
	t.Helper()
	out := make([]*socket.Delivery, n)
	for i := range out {
		d, err := s.RecvDelivery(ctx)
		require.NoError(t, err, "delivery %d of %d", i, n)
		out[i] = d
	}
	return out
}

// Nack gives a message back: it comes again (at once, or after the delay
// asked for), with its delivery count raised.
func TestJournalNack(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)))
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	require.NoError(t, push.Send(ctx, msgOf("a")))
	d := recvN(t, ctx, pull, 1)[0]
	require.NoError(t, d.Nack(0))
	assert.ErrorIs(t, d.Nack(0), socket.ErrAcked)
	d2 := recvN(t, ctx, pull, 1)[0]
	assert.Equal(t, d.ID, d2.ID)
	assert.Equal(t, 2, d2.Count)

	start := time.Now()
	require.NoError(t, d2.Nack(300*time.Millisecond))
	d3 := recvN(t, ctx, pull, 1)[0]
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "not before the delay asked for")
	assert.Equal(t, 3, d3.Count)
	require.NoError(t, d3.Ack())
	require.NoError(t, push.WaitAcked(ctx))
	assert.EqualValues(t, 2, push.Stats().Journal.Nacked)
}

// A message left unacknowledged past the ack timeout is delivered again
// (to whichever receiver is ready), and the late acknowledgement of the
// first delivery still counts.
func TestJournalAckTimeout(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)), socket.WithAckTimeout(200*time.Millisecond))
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	require.NoError(t, push.Send(ctx, msgOf("slow")))
	first := recvN(t, ctx, pull, 1)[0]
	// The receiver holds it: the redelivery to the same receiver is
	// dropped as a duplicate, so the application sees it once.
	require.Eventually(t, func() bool { return pull.Stats().Journal.Duplicates >= 1 }, 10*time.Second, 10*time.Millisecond)
	st := push.Stats().Journal
	assert.GreaterOrEqual(t, st.TimedOut, uint64(1))
	assert.GreaterOrEqual(t, st.Redelivered, uint64(1))
	require.NoError(t, first.Ack(), "the first delivery's acknowledgement still counts")
	require.NoError(t, push.WaitAcked(ctx))
	assert.EqualValues(t, 1, push.Stats().Journal.Acked)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := pull.RecvDelivery(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the application saw it once")
}

// After max deliveries a message goes to the dead-letter journal, is
// acknowledged and reported; Reinject sends it again as a new message.
func TestJournalDeadLetters(t *testing.T) {
	ctx := testCtx(t)
	dlq := openJournal(t)
	push := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)), socket.WithMaxDeliveries(3, dlq))
	ev, stop := push.Monitor()
	defer stop()
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	require.NoError(t, push.Send(ctx, socket.NewMsg([]byte("poison"), []byte("pill"))))
	require.NoError(t, push.Send(ctx, msgOf("fine")))
	seen := 0
	for seen < 3 {
		d := recvN(t, ctx, pull, 1)[0]
		if string(d.Msg.Frames[0]) == "fine" {
			require.NoError(t, d.Ack())
			continue
		}
		seen++
		assert.Equal(t, seen, d.Count)
		require.NoError(t, d.Nack(0))
	}
	e := waitEvent(t, ctx, ev, socket.EventDeadLetter)
	assert.Contains(t, e.Err.Error(), "delivered 3 times")
	require.NoError(t, push.WaitAcked(ctx))
	st := push.Stats().Journal
	assert.EqualValues(t, 1, st.DeadLettered)
	assert.EqualValues(t, 2, st.Floor, "the dead letter is settled")

	require.EqualValues(t, 1, dlq.End())
	rec, err := dlq.NewReader(0).Next(ctx)
	require.NoError(t, err)
	dl, err := socket.ReadDeadLetter(rec)
	require.NoError(t, err)
	assert.EqualValues(t, 0, dl.ID.Offset)
	assert.Equal(t, 3, dl.Deliveries)
	assert.Equal(t, [][]byte{[]byte("poison"), []byte("pill")}, dl.Msg.Frames)
	assert.Contains(t, dl.Reason, "delivered 3 times")

	n, err := socket.Reinject(ctx, push, dlq, "reinject", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	d := recvN(t, ctx, pull, 1)[0]
	assert.Equal(t, [][]byte{[]byte("poison"), []byte("pill")}, d.Msg.Frames)
	assert.EqualValues(t, 2, d.ID.Offset, "reinjected as a new message")
	assert.Equal(t, 1, d.Count)
	n, err = socket.Reinject(ctx, push, dlq, "reinject", nil)
	require.NoError(t, err)
	assert.Zero(t, n, "the cursor remembers what was reinjected")
}

// A delayed message is journaled at once and delivered when due, also
// by a sender restarted in between; messages after it are not held up.
func TestJournalDelayedSurvivesRestart(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "journal")
	push, err := socket.New(socket.Push, socket.WithJournalDir(dir))
	require.NoError(t, err)
	due := time.Now().Add(700 * time.Millisecond)
	p, err := push.SendAsync(ctx, msgOf("later"), socket.NotBefore(due))
	require.NoError(t, err)
	require.NoError(t, p.Wait(ctx))
	require.NoError(t, push.Send(ctx, msgOf("now")))
	require.NoError(t, push.Close()) // restart the sender before it is due

	push = newSocket(t, socket.Push, socket.WithJournalDir(dir))
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	d := recvN(t, ctx, pull, 1)[0]
	assert.Equal(t, "now", string(d.Msg.Frames[0]), "the delayed one does not hold up the next")
	require.NoError(t, d.Ack())
	d = recvN(t, ctx, pull, 1)[0]
	assert.Equal(t, "later", string(d.Msg.Frames[0]))
	assert.False(t, time.Now().Before(due), "delivered no earlier than its time")
	require.NoError(t, d.Ack())
	require.NoError(t, push.WaitAcked(ctx))
}

// A restarted sender delivers again exactly what was not acknowledged.
func TestJournalSenderRestartRedeliversUnacked(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "journal")
	ep := inprocEndpoint(t)
	pull, err := socket.New(socket.Pull)
	require.NoError(t, err)
	require.NoError(t, pull.Bind(ep))
	push, err := socket.New(socket.Push, socket.WithJournalDir(dir), socket.WithLinger(0))
	require.NoError(t, err)
	require.NoError(t, push.Connect(ep))
	const n = 20
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	for _, d := range recvN(t, ctx, pull, n) {
		if d.ID.Offset%2 == 0 {
			require.NoError(t, d.Ack())
		}
	}
	// No event tells when the sender has the acknowledgements; its
	// counters do.
	require.Eventually(t, func() bool { return push.Stats().Journal.Acked == n/2 }, 10*time.Second, time.Millisecond)
	require.NoError(t, push.Close())
	require.NoError(t, pull.Close()) // it held the odd ones, never settled

	pull = newSocket(t, socket.Pull)
	require.NoError(t, pull.Bind(ep))
	push = newSocket(t, socket.Push, socket.WithJournalDir(dir))
	require.NoError(t, push.Connect(ep))
	for _, d := range recvN(t, ctx, pull, n/2) {
		assert.Equal(t, uint64(1), d.ID.Offset%2, "only unacknowledged messages come again: %d", d.ID.Offset)
		assert.Equal(t, 1, d.Count, "a restarted sender counts deliveries afresh")
		require.NoError(t, d.Ack())
	}
	require.NoError(t, push.WaitAcked(ctx), "%+v / %+v", push.Stats().Journal, pull.Stats().Journal)
	assert.EqualValues(t, n/2, push.Stats().Journal.Acked)
}

// With a dedup store, a message acknowledged before the receiver
// restarted is not passed to the application again, even when the sender
// delivers it again (here: the sender never got the acknowledgement).
func TestJournalDedupStoreAcrossReceiverRestart(t *testing.T) {
	ctx := testCtx(t)
	store := filepath.Join(t.TempDir(), "dedup")
	dir := filepath.Join(t.TempDir(), "journal")
	ep := inprocEndpoint(t)
	const n = 10

	// The sender journals n messages and goes away with linger 0: the
	// receiver's acknowledgements come too late for it.
	pull, err := socket.New(socket.Pull, socket.WithDedupStore(store))
	require.NoError(t, err)
	require.NoError(t, pull.Bind(ep))
	push, err := socket.New(socket.Push, socket.WithJournalDir(dir), socket.WithLinger(0))
	require.NoError(t, err)
	require.NoError(t, push.Connect(ep))
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	ds := recvN(t, ctx, pull, n)
	require.NoError(t, push.Close())
	for _, d := range ds[:n/2] {
		require.NoError(t, d.Ack()) // durable in the store
	}
	require.NoError(t, pull.Close())

	pull = newSocket(t, socket.Pull, socket.WithDedupStore(store))
	require.NoError(t, pull.Bind(ep))
	push = newSocket(t, socket.Push, socket.WithJournalDir(dir))
	require.NoError(t, push.Connect(ep))
	for _, d := range recvN(t, ctx, pull, n/2) {
		off := d.ID.Offset
		assert.GreaterOrEqual(t, off, uint64(n/2), "message %d was acknowledged before the restart", off)
		require.NoError(t, d.Ack())
	}
	require.NoError(t, push.WaitAcked(ctx))
	assert.EqualValues(t, n/2, pull.Stats().Journal.Duplicates, "the acknowledged half came again and was dropped")
}

// One receiver that stops acknowledging holds only its own window: the
// others go on receiving everything else.
func TestJournalNoHeadOfLineBlocking(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)), socket.WithSendHWM(5))
	stuck := newSocket(t, socket.Pull)
	live := newSocket(t, socket.Pull)
	for _, s := range []*socket.Socket{stuck, live} {
		ep := inprocEndpoint(t)
		require.NoError(t, s.Bind(ep))
		require.NoError(t, push.Connect(ep))
	}
	const n = 200
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	// stuck never acknowledges: it holds at most its window of 5.
	got := 0
	for got < n-5 {
		d, err := live.RecvDelivery(ctx)
		require.NoError(t, err)
		require.NoError(t, d.Ack())
		got++
	}
	require.Eventually(t, func() bool { return push.Stats().Journal.Acked == n-5 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, 5, push.Stats().Journal.InFlight, "the stuck receiver's window")
	assert.EqualValues(t, 5, stuck.Stats().Journal.Received, "no more than its window went to the stuck receiver")
}

// Send and SendAsync report a journal that cannot take more, and nothing
// acknowledged before is lost: a full disk, simulated by the free-space
// floor.
func TestJournalFullDisk(t *testing.T) {
	ctx := testCtx(t)
	log := openJournal(t, durable.WithMinFreeBytes(1<<62))
	push := newSocket(t, socket.Push, socket.WithJournal(log))
	err := push.Send(ctx, msgOf("x"))
	require.ErrorIs(t, err, durable.ErrFull)
	_, err = push.SendAsync(ctx, msgOf("x"))
	require.ErrorIs(t, err, durable.ErrFull)
	assert.Zero(t, push.Stats().Sent)
}

// Journal options are refused where they make no sense.
func TestJournalOptionsChecked(t *testing.T) {
	log := openJournal(t)
	for _, typ := range []socket.Type{socket.Pull, socket.Sub, socket.Req, socket.Rep, socket.Router, socket.Pair} {
		_, err := socket.New(typ, socket.WithJournal(log))
		assert.ErrorIs(t, err, socket.ErrBadOption, "%s with a journal", typ)
	}
	_, err := socket.New(socket.Push, socket.WithDedupStore(t.TempDir()))
	assert.ErrorIs(t, err, socket.ErrBadOption, "a PUSH receives nothing to deduplicate")
	_, err = socket.New(socket.Push, socket.WithMaxDeliveries(3, nil))
	assert.ErrorIs(t, err, socket.ErrBadOption, "dead letters need a journal")
	_, err = socket.New(socket.Push, socket.WithAckTimeout(0))
	assert.ErrorIs(t, err, socket.ErrBadOption)
	plain := newSocket(t, socket.Push)
	_, err = plain.SendAsync(context.Background(), msgOf("x"))
	assert.ErrorIs(t, err, socket.ErrNotJournaled)
	assert.ErrorIs(t, plain.WaitAcked(context.Background()), socket.ErrNotJournaled)
}

// A journaled DEALER's messages reach a ROUTER with the routing id in
// front, and the ROUTER acknowledges them.
func TestJournalDealerRouter(t *testing.T) {
	ctx := testCtx(t)
	dealer := newSocket(t, socket.Dealer, socket.WithJournal(openJournal(t)), socket.WithRoutingID([]byte("d1")))
	router := newSocket(t, socket.Router)
	ep := inprocEndpoint(t)
	require.NoError(t, router.Bind(ep))
	require.NoError(t, dealer.Connect(ep))
	for i := range 5 {
		require.NoError(t, dealer.Send(ctx, msgOf(fmt.Sprint(i))))
	}
	for i, d := range recvN(t, ctx, router, 5) {
		assert.Equal(t, []string{"d1", fmt.Sprint(i)}, patStrings(d.Msg))
		require.NoError(t, d.Ack())
		require.NoError(t, router.Send(ctx, socket.NewMsg([]byte("d1"), []byte("reply"))))
	}
	require.NoError(t, dealer.WaitAcked(ctx))
	for range 5 {
		m, err := dealer.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "reply", string(m.Frames[0]))
	}
}

// AckSync returns once the sender has the acknowledgement durably: a
// sender restarted right after does not deliver those messages again.
func TestJournalAckSync(t *testing.T) {
	for _, scheme := range []string{"inproc", "tcp"} {
		t.Run(scheme, func(t *testing.T) { testJournalAckSync(t, scheme) })
	}
}

func testJournalAckSync(t *testing.T, scheme string) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "journal")
	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Bind(endpointFor(t, scheme)))
	ep := pull.LastEndpoint()
	push, err := socket.New(socket.Push, socket.WithJournalDir(dir), socket.WithLinger(0))
	require.NoError(t, err)
	require.NoError(t, push.Connect(ep))
	const n = 10
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	for _, d := range recvN(t, ctx, pull, n) {
		require.NoError(t, d.AckSync(ctx))
		assert.ErrorIs(t, d.AckSync(ctx), socket.ErrAcked)
	}
	require.NoError(t, push.Close()) // at once: no linger for acknowledgements

	push = newSocket(t, socket.Push, socket.WithJournalDir(dir))
	require.NoError(t, push.Connect(ep))
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = pull.RecvDelivery(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "nothing is delivered again")
	assert.EqualValues(t, n, push.Stats().Journal.Floor)
}

// A receiver whose application acknowledges one message at a time with
// AckSync, with a receive high-water mark below its sender's window: the
// connection keeps being read (journaled messages are bounded by the
// sender's window, not held back at the receive HWM), so the
// confirmations get through and nothing deadlocks.
func TestJournalAckSyncBeyondRecvHWM(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)), socket.WithLinger(0), socket.WithSendHWM(50))
	require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
	pull := newSocket(t, socket.Pull, socket.WithDedupStore(t.TempDir()), socket.WithRecvHWM(5))
	require.NoError(t, pull.Connect(push.LastEndpoint()))
	const n = 200
	for i := range n {
		_, err := push.SendAsync(ctx, msgOf(strconv.Itoa(i)))
		require.NoError(t, err)
	}
	for i := range n {
		d, err := pull.RecvDelivery(ctx)
		require.NoError(t, err)
		require.NoError(t, d.AckSync(ctx), "ack %d", i)
	}
	require.NoError(t, push.WaitAcked(ctx))
}

// A journaled PUSH with its own journal frees what every receiver
// acknowledged: the journal's oldest segments go once acknowledged.
func TestJournalDirRetainsOnlyUnacked(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "journal")
	push := newSocket(t, socket.Push, socket.WithJournalDir(dir, durable.WithSegmentSize(4096)))
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	for i := range 300 {
		_, err := push.SendAsync(ctx, msgOf(strconv.Itoa(i)))
		require.NoError(t, err)
	}
	for range 300 {
		_, err := pull.Recv(ctx)
		require.NoError(t, err)
	}
	require.NoError(t, push.WaitAcked(ctx))
	require.NoError(t, push.Close()) // commits the cursor; retention runs on the next roll or open
	log, err := durable.Open(dir)
	require.NoError(t, err)
	defer log.Close()
	assert.Greater(t, log.First(), uint64(0), "acknowledged segments were deleted")
}

// With an unlimited send HWM a journaled PUSH still puts at most
// DefaultHWM in flight per receiver: the journal keeps the backlog.
func TestJournalWindowWithUnlimitedHWM(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)), socket.WithSendHWM(0))
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	for i := range 3000 {
		_, err := push.SendAsync(ctx, msgOf(strconv.Itoa(i)))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return push.Stats().Journal.InFlight == socket.DefaultHWM }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, socket.DefaultHWM, push.Stats().Journal.InFlight, "no more than the window")
}

// Acknowledgements too fragmented for the cursor (more ranges above its
// floor than it keeps): the sender holds the refused ones itself, treats
// them as acknowledged, records them once the floor moves, and confirms
// an AckSync only then.
func TestJournalAcksBeyondCursorRanges(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "journal")
	log, err := durable.Open(dir, durable.WithMaxAckRanges(4))
	require.NoError(t, err)
	push := newSocket(t, socket.Push, socket.WithJournal(log), socket.WithSendHWM(100))
	pull := newSocket(t, socket.Pull)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	const n = 40
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	ds := recvN(t, ctx, pull, n)
	synced := make(chan error, n/2)
	for _, d := range ds {
		if d.ID.Offset%2 == 0 && d.ID.Offset > 0 {
			go func() { synced <- d.AckSync(ctx) }() // 19 ranges: most refused by the cursor
		}
	}
	require.Eventually(t, func() bool { return push.Stats().Journal.Acked == n/2-1 }, 10*time.Second, time.Millisecond)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	select {
	case err := <-synced:
		// The first few fit the cursor and are confirmed at once.
		require.NoError(t, err)
	case <-short.Done():
	}
	for _, d := range ds {
		if d.ID.Offset%2 == 1 || d.ID.Offset == 0 {
			require.NoError(t, d.Ack())
		}
	}
	for len(synced) > 0 || push.Stats().Journal.Acked < n {
		select {
		case err := <-synced:
			require.NoError(t, err)
		case <-ctx.Done():
			t.Fatal("AckSync never confirmed")
		default:
			if push.Stats().Journal.Acked == n {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	require.NoError(t, push.WaitAcked(ctx))
	require.NoError(t, push.Close())
	c, err := log.Cursor(socket.DefaultJournalCursor)
	require.NoError(t, err)
	assert.EqualValues(t, n, c.Offset(), "every acknowledgement reached the cursor")
	require.NoError(t, log.Close())
}
