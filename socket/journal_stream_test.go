package socket_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

// subscriber makes a SUB subscribed to everything.
func subscriber(t *testing.T, opts ...socket.Option) *socket.Socket {
	t.Helper()
	s := newSocket(t, socket.Sub, opts...)
	require.NoError(t, s.Subscribe(nil))
	return s
}

// expectSeq receives messages and checks their offsets run from..to-1 in
// order, their bodies being their offsets (as publishSeq sends them).
func expectSeq(t *testing.T, ctx context.Context, s *socket.Socket, from, to uint64, ack bool) {
	t.Helper()
	for want := from; want < to; want++ {
		d, err := s.RecvDelivery(ctx)
		require.NoError(t, err, "waiting for offset %d", want)
		require.True(t, d.Journaled())
		require.Equal(t, want, d.ID.Offset, "offsets arrive in order, no gap, no duplicate")
		require.Equal(t, strconv.FormatUint(want, 10), string(d.Msg.Frames[len(d.Msg.Frames)-1]))
		if ack {
			require.NoError(t, d.Ack())
		}
	}
}

// publishSeq publishes offsets from..to-1 (bodies are the offsets) and
// waits until they are durable.
func publishSeq(t *testing.T, ctx context.Context, pub *socket.Socket, from, to uint64) {
	t.Helper()
	var last socket.Pending
	for i := from; i < to; i++ {
		p, err := pub.SendAsync(ctx, msgOf(strconv.FormatUint(i, 10)))
		require.NoError(t, err)
		last = p
	}
	if to > from {
		require.NoError(t, last.Wait(ctx))
	}
}

// A subscriber that starts from the oldest message gets the journal's
// history, then the live stream, with no gap and no duplicate at the
// switch, while the publisher keeps publishing.
func TestStreamReplayThenLive(t *testing.T) {
	for _, scheme := range []string{"inproc", "tcp"} {
		t.Run(scheme, func(t *testing.T) {
			ctx := testCtx(t)
			pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
			require.NoError(t, pub.Bind(endpointFor(t, scheme)))
			publishSeq(t, ctx, pub, 0, 1000)
			sub := subscriber(t, socket.WithStart(socket.StartOldest()))
			require.NoError(t, sub.Connect(pub.LastEndpoint()))
			done := make(chan struct{})
			go func() {
				defer close(done)
				publishSeq(t, ctx, pub, 1000, 2000)
			}()
			expectSeq(t, ctx, sub, 0, 2000, false)
			<-done
			assert.EqualValues(t, 2000, pub.Stats().Journal.Streamed)
		})
	}
}

// Filters apply to replayed messages; the subscriber's position still
// moves past what its filter skipped.
func TestStreamFiltersReplay(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	ep := inprocEndpoint(t)
	require.NoError(t, pub.Bind(ep))
	for i := range 100 {
		topic := "odd"
		if i%2 == 0 {
			topic = "even"
		}
		require.NoError(t, pub.Send(ctx, socket.NewMsg([]byte(topic), []byte(strconv.Itoa(i)))))
	}
	sub := newSocket(t, socket.Sub, socket.WithStart(socket.StartOldest()))
	require.NoError(t, sub.Subscribe([]byte("even")))
	require.NoError(t, sub.Connect(ep))
	for i := 0; i < 100; i += 2 {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"even", strconv.Itoa(i)}, patStrings(d.Msg))
		assert.EqualValues(t, i, d.ID.Offset)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := sub.RecvDelivery(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "nothing else")
	assert.EqualValues(t, 50, pub.Stats().Journal.Filtered)
}

// With a position store, a subscriber restarted resumes after the last
// message it acknowledged: nothing lost, nothing twice.
func TestStreamResumeFromStoredPosition(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	ep := inprocEndpoint(t)
	require.NoError(t, pub.Bind(ep))
	store := filepath.Join(t.TempDir(), "positions")
	publishSeq(t, ctx, pub, 0, 300)

	sub, err := socket.New(socket.Sub, socket.WithPositionStore(store, time.Hour), socket.WithStart(socket.StartOldest()))
	require.NoError(t, err)
	require.NoError(t, sub.Subscribe(nil))
	require.NoError(t, sub.Connect(ep))
	expectSeq(t, ctx, sub, 0, 120, true)
	require.NoError(t, sub.Close()) // commits the position

	publishSeq(t, ctx, pub, 300, 400)
	sub = subscriber(t, socket.WithPositionStore(store, time.Hour), socket.WithStart(socket.StartLive()))
	require.NoError(t, sub.Connect(ep))
	expectSeq(t, ctx, sub, 120, 400, true)
	require.NoError(t, sub.CommitPositions())
}

// A position older than retention: the subscriber learns exactly how many
// messages are gone and the stream starts at the oldest retained.
func TestStreamRetentionGap(t *testing.T) {
	ctx := testCtx(t)
	log := openJournal(t, durable.WithSegmentSize(4096), durable.WithRetainBytes(8192))
	pub := newSocket(t, socket.Pub, socket.WithJournal(log))
	ep := inprocEndpoint(t)
	require.NoError(t, pub.Bind(ep))
	publishSeq(t, ctx, pub, 0, 500)
	first := log.First()
	require.Positive(t, first, "retention deleted the oldest segments")
	sub := subscriber(t, socket.WithStart(socket.StartAt(10)))
	ev, stop := sub.Monitor()
	defer stop()
	require.NoError(t, sub.Connect(ep))
	e := waitEvent(t, ctx, ev, socket.EventJournalGap)
	assert.EqualValues(t, first-10, e.Count, "exactly the offsets between the one asked for and the oldest retained")
	expectSeq(t, ctx, sub, first, 500, false)
	assert.EqualValues(t, first-10, sub.Stats().Journal.Gaps)
}

// One SUB connected to two journaled publishers keeps a position in each.
func TestStreamSeveralPublishers(t *testing.T) {
	ctx := testCtx(t)
	store := filepath.Join(t.TempDir(), "positions")
	var pubs []*socket.Socket
	var eps []string
	for range 2 {
		pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
		ep := inprocEndpoint(t)
		require.NoError(t, pub.Bind(ep))
		pubs, eps = append(pubs, pub), append(eps, ep)
	}
	publishSeq(t, ctx, pubs[0], 0, 50)
	publishSeq(t, ctx, pubs[1], 0, 80)
	sub, err := socket.New(socket.Sub, socket.WithPositionStore(store, time.Hour), socket.WithStart(socket.StartOldest()))
	require.NoError(t, err)
	require.NoError(t, sub.Subscribe(nil))
	for _, ep := range eps {
		require.NoError(t, sub.Connect(ep))
	}
	count := map[[16]byte]uint64{}
	for range 130 {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		j := [16]byte(d.ID.Journal)
		require.Equal(t, count[j], d.ID.Offset, "in order per publisher")
		count[j]++
		require.NoError(t, d.Ack())
	}
	require.NoError(t, sub.Close())
	publishSeq(t, ctx, pubs[0], 50, 60)
	publishSeq(t, ctx, pubs[1], 80, 85)
	sub = subscriber(t, socket.WithPositionStore(store, time.Hour))
	for _, ep := range eps {
		require.NoError(t, sub.Connect(ep))
	}
	for range 15 {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		j := [16]byte(d.ID.Journal)
		require.Equal(t, count[j], d.ID.Offset, "each publisher resumes at its own position")
		count[j]++
	}
}

// A publisher restarted on the same journal: its subscribers resume
// across the restart without a gap or a duplicate.
func TestStreamPublisherRestart(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "journal")
	ep := "tcp://127.0.0.1:" + freePort(t)
	pub, err := socket.New(socket.Pub, socket.WithJournalDir(dir))
	require.NoError(t, err)
	require.NoError(t, pub.Bind(ep))
	sub := subscriber(t, socket.WithStart(socket.StartOldest()), socket.WithReconnectInterval(10*time.Millisecond))
	require.NoError(t, sub.Connect(ep))
	publishSeq(t, ctx, pub, 0, 100)
	expectSeq(t, ctx, sub, 0, 100, false)
	require.NoError(t, pub.Close())

	pub = newSocket(t, socket.Pub, socket.WithJournalDir(dir))
	require.NoError(t, pub.Bind(ep))
	publishSeq(t, ctx, pub, 100, 200)
	expectSeq(t, ctx, sub, 100, 200, false)
}

// A publisher now serving another journal at the same endpoint is
// reported, and the stream starts afresh.
func TestStreamJournalReplaced(t *testing.T) {
	ctx := testCtx(t)
	ep := "tcp://127.0.0.1:" + freePort(t)
	pub, err := socket.New(socket.Pub, socket.WithJournal(openJournal(t)))
	require.NoError(t, err)
	require.NoError(t, pub.Bind(ep))
	sub := subscriber(t, socket.WithStart(socket.StartOldest()), socket.WithReconnectInterval(10*time.Millisecond))
	ev, stop := sub.Monitor()
	defer stop()
	require.NoError(t, sub.Connect(ep))
	publishSeq(t, ctx, pub, 0, 10)
	expectSeq(t, ctx, sub, 0, 10, true)
	require.NoError(t, pub.Close())

	pub = newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	require.NoError(t, pub.Bind(ep))
	e := waitEvent(t, ctx, ev, socket.EventJournalChanged)
	assert.Contains(t, e.Err.Error(), "new journal")
	publishSeq(t, ctx, pub, 0, 5)
	expectSeq(t, ctx, sub, 0, 5, true)
}

// Starting from a time: the first message at or after it, then on.
func TestStreamStartTime(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	ep := inprocEndpoint(t)
	require.NoError(t, pub.Bind(ep))
	publishSeq(t, ctx, pub, 0, 20)
	time.Sleep(5 * time.Millisecond) // a time strictly between two messages
	mark := time.Now()
	time.Sleep(5 * time.Millisecond)
	publishSeq(t, ctx, pub, 20, 30)
	sub := subscriber(t, socket.WithStart(socket.StartTime(mark)))
	require.NoError(t, sub.Connect(ep))
	d, err := sub.RecvDelivery(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 20, d.ID.Offset)
	assert.False(t, d.Time.Before(mark))
	expectSeq(t, ctx, sub, 21, 30, false)
}

// A slow subscriber of a journaled publisher misses nothing: it falls
// behind and catches up from the journal, where a plain SUB would lose
// messages at its high-water mark.
func TestStreamSlowSubscriberMissesNothing(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)), socket.WithSendHWM(10))
	ep := "tcp://127.0.0.1:" + freePort(t)
	require.NoError(t, pub.Bind(ep))
	sub := subscriber(t, socket.WithRecvHWM(10))
	ev, stop := pub.Monitor()
	require.NoError(t, sub.Connect(ep))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	stop()
	const n = 5000
	for i := range n {
		_, err := pub.SendAsync(ctx, msgOf(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	// The subscriber (live from when it connected) reads only now.
	first, err := sub.RecvDelivery(ctx)
	require.NoError(t, err)
	expectSeq(t, ctx, sub, first.ID.Offset+1, n, false)
	assert.Empty(t, pub.Stats().Dropped, "no drop for a journal-fed subscriber")
}

// A hundred subscribers catch up from the journal at once, from the
// oldest message, while the publisher keeps publishing: each one gets
// every message in order, replay then live, none lost.
func TestStreamHundredSubscribersCatchUp(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	ep := "tcp://127.0.0.1:" + freePort(t)
	require.NoError(t, pub.Bind(ep))
	const history, live, subs = 1000, 300, 100
	publishSeq(t, ctx, pub, 0, history)
	done := make(chan error, subs)
	for range subs {
		sub := subscriber(t, socket.WithStart(socket.StartOldest()))
		require.NoError(t, sub.Connect(ep))
		go func() {
			for want := uint64(0); want < history+live; want++ {
				d, err := sub.RecvDelivery(ctx)
				if err != nil {
					done <- err
					return
				}
				if d.ID.Offset != want {
					done <- fmt.Errorf("offset %d, want %d", d.ID.Offset, want)
					return
				}
			}
			done <- nil
		}()
	}
	publishSeq(t, ctx, pub, history, history+live) // live, while they catch up
	for range subs {
		require.NoError(t, <-done)
	}
	st := pub.Stats().Journal
	assert.EqualValues(t, subs*(history+live), st.Streamed)
	assert.Equal(t, subs, st.Subscribers)
}

// A subscriber that asks for the stream twice, or with a malformed
// request, loses its connection; the publisher goes on serving others.
func TestStreamMalformedResumeRequests(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	ev, stop := pub.Monitor()
	defer stop()
	require.NoError(t, pub.Bind("tcp://127.0.0.1:0"))
	good := subscriber(t, socket.WithStart(socket.StartOldest()))
	require.NoError(t, good.Connect(pub.LastEndpoint()))
	publishSeq(t, ctx, pub, 0, 1)
	expectSeq(t, ctx, good, 0, 1, true)
	hello := []byte{1, 0} // a receiver that speaks the profile
	for _, tc := range []struct {
		name string
		cmds []string
		data [][]byte
	}{
		{"mode 9", []string{"JSUB"}, [][]byte{{9, 0}}},
		{"live with a value", []string{"JSUB"}, [][]byte{{0, 5}}},
		{"trailing bytes", []string{"JSUB"}, [][]byte{{2, 1, 1}}},
		{"twice", []string{"JSUB", "JSUB"}, [][]byte{{1, 0}, {1, 0}}},
		{"JACK to a publisher", []string{"JACK"}, [][]byte{{0, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tcp.New().Dial(ctx, mustParse(t, pub.LastEndpoint()))
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Handshake(ctx, &transport.Config{SocketType: "SUB",
				Properties: map[string][]byte{"X-Brook-Journal": hello}})
			require.NoError(t, err)
			for i, name := range tc.cmds {
				require.NoError(t, c.WriteCommand(name, tc.data[i]))
			}
			require.NoError(t, c.Flush())
			for {
				e := waitEvent(t, ctx, ev, socket.EventDisconnected)
				if e.Err != nil && strings.Contains(e.Err.Error(), tc.cmds[len(tc.cmds)-1]) {
					assert.ErrorIs(t, e.Err, transport.ErrProtocol)
					break
				}
			}
			publishSeq(t, ctx, pub, 1, 2)
			d, err := good.RecvDelivery(ctx)
			require.NoError(t, err, "the good subscriber is still served")
			require.NoError(t, d.Ack())
		})
	}
}

// A replay to an application that does not read holds a window of
// messages (the receive HWM) at the subscriber, not the backlog: the
// connection stops being read and the feeder waits; once the application
// reads, everything arrives in order.
func TestStreamReplayIsBoundedAtTheSubscriber(t *testing.T) {
	for _, scheme := range []string{"inproc", "tcp"} {
		t.Run(scheme, func(t *testing.T) {
			ctx := testCtx(t)
			pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
			require.NoError(t, pub.Bind(endpointFor(t, scheme)))
			const n, window = 20000, 50
			publishSeq(t, ctx, pub, 0, n)
			sub := subscriber(t, socket.WithStart(socket.StartOldest()), socket.WithRecvHWM(window))
			require.NoError(t, sub.Connect(pub.LastEndpoint()))
			received := func() uint64 { return sub.Stats().Journal.Received }
			require.Eventually(t, func() bool { return received() == window }, 10*time.Second, time.Millisecond)
			assert.Never(t, func() bool { return received() > window }, 200*time.Millisecond, 2*time.Millisecond,
				"the subscriber takes no more than its window while the application reads nothing")
			expectSeq(t, ctx, sub, 0, n, false)
			assert.EqualValues(t, n, received())
		})
	}
}

// A subscriber that resumes within its process, holding one message
// unacknowledged and having acknowledged the next, gets both again from
// the publisher and drops them as duplicates without a word back (a
// stream takes no acknowledgements: one would be a protocol error that
// ends the connection), then reads on from where the stream is.
func TestStreamResumeDropsDuplicatesQuietly(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "journal")
	ep := "ipc://" + filepath.Join(t.TempDir(), "pub")
	open := func() *socket.Socket {
		pub := newSocket(t, socket.Pub, socket.WithJournalDir(dir))
		require.NoError(t, pub.Bind(ep))
		return pub
	}
	pub := open()
	sub := subscriber(t, socket.WithStart(socket.StartOldest()), socket.WithReconnectInterval(10*time.Millisecond))
	require.NoError(t, sub.Connect(ep))
	publishSeq(t, ctx, pub, 0, 3)
	var ds []*socket.Delivery
	for i := range 3 {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		require.EqualValues(t, i, d.ID.Offset)
		ds = append(ds, d)
	}
	require.NoError(t, ds[0].Ack())
	require.NoError(t, ds[2].Ack()) // offset 1 stays held: the position is 1

	require.NoError(t, pub.Close())
	pub = open()
	publishSeq(t, ctx, pub, 3, 6)
	expectSeq(t, ctx, sub, 3, 6, true)
	assert.EqualValues(t, 2, sub.Stats().Journal.Duplicates, "offsets 1 and 2 came again and were dropped")
	require.NoError(t, ds[1].Ack())
	assert.Never(t, func() bool { return sub.Stats().Peers[0].Connections > 2 }, 200*time.Millisecond, 5*time.Millisecond,
		"the connection to the restarted publisher stays up")
}

// A journaled PUB runs the live fan-out only while a subscriber that does
// not speak the profile (libzmq, here a bare ZMTP peer) is connected: one
// joining later gets the live stream, one leaving stops the work, and the
// profile subscriber gets every message in order throughout.
func TestStreamPlainSubscriberJoinsAndLeaves(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	ev, stop := pub.Monitor()
	t.Cleanup(stop)
	require.NoError(t, pub.Bind("tcp://127.0.0.1:0"))
	jsub := subscriber(t, socket.WithStart(socket.StartOldest()))
	require.NoError(t, jsub.Connect(pub.LastEndpoint()))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)

	var next uint64
	publish := func(n uint64) {
		publishSeq(t, ctx, pub, next, next+n)
		next += n
	}
	publish(100)
	assert.Zero(t, pub.Stats().Journal.PlainDelivered, "no plain subscriber: no live fan-out")

	// A plain subscriber joins: it gets the live stream once its
	// subscription is in (the slow joiner), then every message.
	c, err := tcp.New().Dial(ctx, mustParse(t, pub.LastEndpoint()))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Handshake(ctx, &transport.Config{SocketType: "SUB"})
	require.NoError(t, err)
	require.NoError(t, c.WriteSubscription(nil, true))
	require.NoError(t, c.Flush())
	got := make(chan string, 1000)
	readErr := make(chan error, 1)
	go func() {
		for {
			m, err := c.ReadMsg()
			if err != nil {
				readErr <- err
				return
			}
			got <- string(m.Frames[0])
		}
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var first string
	for first == "" {
		publish(1)
		select {
		case first = <-got:
		case <-tick.C:
		case <-ctx.Done():
			require.FailNow(t, "the plain subscriber got no live message")
		}
	}
	// The rest of the warm-up, in order, up to the last one published:
	// some may still be on their way (len(got) was only a snapshot).
	last, err := strconv.ParseUint(first, 10, 64)
	require.NoError(t, err)
	for last < next-1 {
		select {
		case s := <-got:
			require.Equal(t, strconv.FormatUint(last+1, 10), s, "the warm-up, in order")
			last++
		case <-ctx.Done():
			require.FailNow(t, "the plain subscriber is not up to date", "%d of %d", last, next-1)
		}
	}
	publish(50)
	for want := last + 1; want < next; want++ {
		select {
		case s := <-got:
			require.Equal(t, strconv.FormatUint(want, 10), s, "the live stream, in order")
		case <-ctx.Done():
			require.FailNow(t, "the plain subscriber missed a live message")
		}
	}
	fanned := pub.Stats().Journal.PlainDelivered
	assert.GreaterOrEqual(t, fanned, uint64(51), "fanned out live while it was connected")

	// It leaves: the fan-out stops.
	require.NoError(t, c.Close())
	<-readErr
	waitEvent(t, ctx, ev, socket.EventDisconnected)
	publish(100)
	assert.Equal(t, fanned, pub.Stats().Journal.PlainDelivered, "no plain subscriber left: no live fan-out")

	expectSeq(t, ctx, jsub, 0, next, false)
	st := pub.Stats().Journal
	assert.Equal(t, next, st.Streamed, "the profile subscriber was served from the journal all along")
	assert.Equal(t, 1, st.Subscribers)
}

// Over inproc a subscriber gets the very frame list the publisher sent;
// one that rewrites it in place must not change what the publisher's
// caches replay to the next subscriber.
func TestStreamInprocSubscriberCannotRewriteTheReplay(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	ep := inprocEndpoint(t)
	require.NoError(t, pub.Bind(ep))
	publishSeq(t, ctx, pub, 0, 3)
	first := subscriber(t, socket.WithStart(socket.StartOldest()))
	require.NoError(t, first.Connect(ep))
	for range 3 {
		m, err := first.Recv(ctx)
		require.NoError(t, err)
		m.Frames[0] = []byte("rewritten")
	}
	second := subscriber(t, socket.WithStart(socket.StartOldest()))
	require.NoError(t, second.Connect(ep))
	expectSeq(t, ctx, second, 0, 3, false)
}
