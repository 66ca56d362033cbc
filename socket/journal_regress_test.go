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

// Regressions found by driving the journaled examples and mqbench for
// hours under SIGKILL loops.

// Acknowledgements fragmented beyond the cursor's range bound (here 2)
// are not lost: the sender holds them until the floor reaches them, every
// message is acknowledged once, and WaitAcked returns.
func TestJournalFragmentedAcksBeyondRangeBound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	push := newSocket(t, socket.Push, socket.WithJournalDir(filepath.Join(t.TempDir(), "journal"), durable.WithMaxAckRanges(2)))
	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Bind("inproc://fragmented-acks"))
	require.NoError(t, push.Connect("inproc://fragmented-acks"))
	const n = 20
	for i := range n {
		require.NoError(t, push.Send(ctx, socket.NewMsg([]byte(strconv.Itoa(i)))))
	}
	var odd []*socket.Delivery
	for range n {
		d, err := pull.RecvDelivery(ctx)
		require.NoError(t, err)
		if d.ID.Offset%2 == 0 {
			require.NoError(t, d.Ack()) // 0, 2, 4, ...: ranges with holes
		} else {
			odd = append(odd, d)
		}
	}
	require.Eventually(t, func() bool { return push.Stats().Journal.Acked == n/2 }, 10*time.Second, time.Millisecond)
	for _, d := range odd {
		require.NoError(t, d.Ack())
	}
	require.NoError(t, push.WaitAcked(ctx), "journal stats: %+v", push.Stats().Journal)
	st := push.Stats().Journal
	assert.EqualValues(t, n, st.Acked)
	assert.Zero(t, st.Redelivered, "an acknowledged message is not delivered again")
	short, c := context.WithTimeout(ctx, 50*time.Millisecond)
	defer c()
	_, err := pull.RecvDelivery(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "nothing comes again")
}

// StartTime(t) starts with the first message whose Delivery.Time is at or
// after t, for every t strictly between two messages, and Delivery.Time
// never decreases along the journal (it is the journal record's own time).
func TestJournalStartTimeMatchesDeliveryTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log, err := durable.Open(t.TempDir())
	require.NoError(t, err)
	defer log.Close()
	pub := newSocket(t, socket.Pub, socket.WithJournal(log))
	const ep = "inproc://start-time-matches"
	require.NoError(t, pub.Bind(ep))
	const n = 2000
	var last socket.Pending
	for i := range n {
		last, err = pub.SendAsync(ctx, socket.NewMsg([]byte(fmt.Sprint(i))))
		require.NoError(t, err)
	}
	require.NoError(t, last.Wait(ctx))

	times := make([]time.Time, n)
	sub := subscriber(t, socket.WithStart(socket.StartOldest()))
	require.NoError(t, sub.Connect(ep))
	for i := range n {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		require.EqualValues(t, i, d.ID.Offset)
		times[i] = d.Time
		if i > 0 {
			require.False(t, times[i].Before(times[i-1]), "Delivery.Time decreased at offset %d", i)
		}
	}
	require.NoError(t, sub.Close())

	tried := 0
	for m := 1; m < n && tried < 100; m += 7 {
		if !times[m-1].Before(times[m]) {
			continue
		}
		tried++
		at := times[m-1].Add(times[m].Sub(times[m-1]) / 2)
		s := subscriber(t, socket.WithStart(socket.StartTime(at)))
		require.NoError(t, s.Connect(ep))
		d, err := s.RecvDelivery(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, m, d.ID.Offset, "StartTime(%s): got a message published %s", at.Format(time.StampNano), d.Time.Format(time.StampNano))
		require.NoError(t, s.Close())
	}
	require.NotZero(t, tried)
}

// WaitAcked covers what SendAsync journaled even before it is durable:
// with no receiver it cannot return.
func TestJournalWaitAckedCoversSendAsync(t *testing.T) {
	ctx := context.Background()
	push := newSocket(t, socket.Push, socket.WithJournalDir(filepath.Join(t.TempDir(), "j")))
	_, err := push.SendAsync(ctx, socket.NewMsg([]byte("nobody will ack this")))
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, push.WaitAcked(short), context.DeadlineExceeded)
}

// A burst that becomes durable while the publisher's feeder (or the
// queue's dispatcher) is deciding to wait is not left behind: the sender
// takes the journal's change channel before its last look at the end.
// The race is narrow; each round is a fresh pair so a few dozen rounds
// exercise it.
func TestJournalBurstTailIsNotLeftBehind(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	const burst = 500
	for _, kind := range []string{"stream", "queue"} {
		t.Run(kind, func(t *testing.T) {
			for r := range rounds {
				burstRound(t, kind, r, burst)
			}
		})
	}
}

func burstRound(t *testing.T, kind string, r, burst int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	ep := "ipc://" + filepath.Join(dir, "sock")
	var snd, rcv *socket.Socket
	if kind == "stream" {
		snd = newSocket(t, socket.Pub, socket.WithJournalDir(filepath.Join(dir, "j")))
		rcv = subscriber(t, socket.WithStart(socket.StartLive()))
	} else {
		snd = newSocket(t, socket.Push, socket.WithJournalDir(filepath.Join(dir, "j")))
		rcv = newSocket(t, socket.Pull)
	}
	defer snd.Close()
	defer rcv.Close()
	require.NoError(t, snd.Bind(ep))
	require.NoError(t, rcv.Connect(ep))
	if kind == "stream" {
		// A live subscriber sees what is published once it is attached:
		// publish hellos until one arrives.
		ready := make(chan struct{})
		go func() {
			defer close(ready)
			for {
				m, err := rcv.Recv(ctx)
				if err != nil || string(m.Frames[0]) == "hello" {
					return
				}
			}
		}()
	hello:
		for {
			_, err := snd.SendAsync(ctx, socket.NewMsg([]byte("hello")))
			require.NoError(t, err)
			select {
			case <-ready:
				break hello
			case <-time.After(time.Millisecond):
			}
		}
	}
	for i := range burst {
		_, err := snd.SendAsync(ctx, socket.NewMsg([]byte(strconv.Itoa(i))))
		require.NoError(t, err)
	}
	for got := 0; got < burst; {
		short, c := context.WithTimeout(ctx, 10*time.Second)
		d, err := rcv.RecvDelivery(short)
		c()
		require.NoError(t, err, "round %d: %d of %d received", r, got, burst)
		if string(d.Msg.Frames[0]) == "hello" {
			continue
		}
		if kind == "queue" {
			require.NoError(t, d.Ack())
		}
		got++
	}
}

// A message redelivered after the ack timeout sits unread at a second
// receiver when the first one acknowledges it with AckSync: AckSync
// returns only once the second receiver has dropped its copy, and that
// copy never reaches its application.
func TestJournalAckSyncWaitsForOtherCopiesToBeDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	push := newSocket(t, socket.Push, socket.WithJournalDir(filepath.Join(t.TempDir(), "j")),
		socket.WithAckTimeout(300*time.Millisecond))
	require.NoError(t, push.Bind("inproc://acksync-revoke"))
	a := newSocket(t, socket.Pull)
	require.NoError(t, a.Connect("inproc://acksync-revoke"))
	require.NoError(t, push.Send(ctx, socket.NewMsg([]byte("once"))))
	da, err := a.RecvDelivery(ctx)
	require.NoError(t, err)

	// A holds it past the ack timeout: the sender gives it to B, whose
	// application does not read yet.
	b := newSocket(t, socket.Pull)
	require.NoError(t, b.Connect("inproc://acksync-revoke"))
	require.Eventually(t, func() bool { return b.Stats().Journal.Received >= 1 }, 20*time.Second, time.Millisecond)

	require.NoError(t, da.AckSync(ctx))
	short, c := context.WithTimeout(ctx, 100*time.Millisecond)
	defer c()
	_, err = b.RecvDelivery(short)
	require.ErrorIs(t, err, context.DeadlineExceeded, "B's copy was dropped before A's AckSync returned")
	assert.EqualValues(t, 1, push.Stats().Journal.Acked)
	assert.GreaterOrEqual(t, b.Stats().Journal.Duplicates, uint64(1))
	require.NoError(t, push.WaitAcked(ctx))
	assert.Zero(t, push.Stats().Journal.InFlight)
}
