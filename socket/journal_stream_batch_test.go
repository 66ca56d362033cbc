package socket_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

// rawPublisher dials sub as a journaled PUB speaking the stream profile by
// hand, and starts the stream at offset 0.
func rawPublisher(t *testing.T, ctx context.Context, sub *socket.Socket) transport.Conn {
	t.Helper()
	c, err := tcp.New().Dial(ctx, mustParse(t, sub.LastEndpoint()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	h := jwire.Hello{Flags: jwire.FlagJournal | jwire.FlagPublisher, Epoch: 1}
	h.Journal[0] = 0xCD
	_, err = c.Handshake(ctx, &transport.Config{SocketType: "PUB",
		Properties: map[string][]byte{"X-Brook-Journal": jwire.AppendHello(nil, h)}})
	require.NoError(t, err)
	require.NoError(t, c.WriteCommand(jwire.CmdStart, jwire.AppendStart(nil, jwire.StartInfo{First: 0})))
	return c
}

// boundSubscriber is a SUB to everything from the oldest message, bound
// to a tcp port for a raw publisher, with its monitor.
func boundSubscriber(t *testing.T) (*socket.Socket, <-chan socket.Event) {
	t.Helper()
	sub := subscriber(t, socket.WithStart(socket.StartOldest()))
	ev, stop := sub.Monitor()
	t.Cleanup(stop)
	require.NoError(t, sub.Bind("tcp://127.0.0.1:0"))
	return sub, ev
}

// awaitProtocolError waits for a connection to end with a protocol error
// whose text contains what.
func awaitProtocolError(t *testing.T, ctx context.Context, ev <-chan socket.Event, what string) {
	t.Helper()
	for {
		e := waitEvent(t, ctx, ev, socket.EventDisconnected)
		if e.Err != nil && strings.Contains(e.Err.Error(), what) {
			assert.ErrorIs(t, e.Err, transport.ErrProtocol)
			return
		}
	}
}

func writeStream(t *testing.T, c transport.Conn, off uint64, body string) {
	t.Helper()
	require.NoError(t, c.WriteCommand(jwire.CmdStream, jwire.AppendStream(nil, jwire.Stream{Offset: off, Epoch: 1, Time: int64(off) * 1000})))
	require.NoError(t, c.WriteMsg(msgOf(body)))
}

// A subscriber reads a publisher's stream in batches, the JSTREAM of each
// message read ahead of the messages before it: each message still gets
// its own offset and time, a message that came without a JSTREAM is
// delivered as a plain one, and a repeated offset is dropped as a
// duplicate, all within one batch (one flush of the raw publisher).
func TestStreamBatchPairsEachMessageWithItsJSTREAM(t *testing.T) {
	ctx := testCtx(t)
	sub, _ := boundSubscriber(t)
	c := rawPublisher(t, ctx, sub)
	writeStream(t, c, 0, "a")
	require.NoError(t, c.WriteMsg(msgOf("plain")))
	writeStream(t, c, 1, "b")
	writeStream(t, c, 1, "b again")
	require.NoError(t, c.WriteCommand(jwire.CmdSkip, jwire.AppendRanges(nil, []jwire.Range{{Lo: 2, Hi: 5}})))
	writeStream(t, c, 5, "c")
	require.NoError(t, c.Flush())

	type got struct {
		body      string
		journaled bool
		off       uint64
		at        time.Time
	}
	var all []got
	for range 4 {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		all = append(all, got{string(d.Msg.Frames[0]), d.Journaled(), d.ID.Offset, d.Time})
		if d.Journaled() {
			require.NoError(t, d.Ack())
		}
	}
	assert.Equal(t, []got{
		{"a", true, 0, time.Unix(0, 0)},
		{"plain", false, 0, time.Time{}},
		{"b", true, 1, time.Unix(0, 1000)},
		{"c", true, 5, time.Unix(0, 5000)},
	}, all)
	st := sub.Stats().Journal
	assert.EqualValues(t, 4, st.Received, "three journaled messages and the duplicate")
	assert.EqualValues(t, 1, st.Duplicates)
	assert.Zero(t, st.Unacked)
}

// Two JSTREAMs in a row, the first without its message, break only that
// connection, with a protocol error naming it, after the message read
// before them; the subscriber goes on with the next connection.
func TestStreamBatchJSTREAMWithoutItsMessage(t *testing.T) {
	ctx := testCtx(t)
	sub, ev := boundSubscriber(t)
	c := rawPublisher(t, ctx, sub)
	writeStream(t, c, 0, "a")
	require.NoError(t, c.WriteCommand(jwire.CmdStream, jwire.AppendStream(nil, jwire.Stream{Offset: 1, Epoch: 1})))
	writeStream(t, c, 2, "c")
	require.NoError(t, c.Flush())
	awaitProtocolError(t, ctx, ev, "JSTREAM before the messages")
	c2 := rawPublisher(t, ctx, sub)
	writeStream(t, c2, 1, "b")
	require.NoError(t, c2.Flush())
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, want := range []string{"a", "b"} {
		d, err := sub.RecvDelivery(rctx)
		require.NoError(t, err)
		assert.Equal(t, want, string(d.Msg.Frames[0]), "the message before the bad JSTREAM, then the next connection's")
	}
}

func writeRun(t *testing.T, c transport.Conn, recs []jwire.Stream, bodies ...string) {
	t.Helper()
	require.NoError(t, c.WriteCommand(jwire.CmdRun, jwire.AppendRun(nil, recs)))
	for _, b := range bodies {
		require.NoError(t, c.WriteMsg(msgOf(b)))
	}
}

// A JRUN describes the messages after it, one record each: every message
// gets its offset and time, the offsets it passed over are settled, and
// a JSTREAM may follow once its messages are all there.
func TestStreamRunPairsItsMessages(t *testing.T) {
	ctx := testCtx(t)
	sub, _ := boundSubscriber(t)
	c := rawPublisher(t, ctx, sub)
	writeRun(t, c, []jwire.Stream{
		{Offset: 0, Epoch: 1, Time: 100},
		{Offset: 3, Epoch: 1, Skip: 2, Time: 90},
		{Offset: 4, Epoch: 1, Time: 300},
	}, "a", "b", "c")
	writeStream(t, c, 5, "d")
	require.NoError(t, c.Flush())
	for _, want := range []struct {
		body string
		off  uint64
		at   int64
	}{{"a", 0, 100}, {"b", 3, 90}, {"c", 4, 300}, {"d", 5, 5000}} {
		d, err := sub.RecvDelivery(ctx)
		require.NoError(t, err)
		require.True(t, d.Journaled())
		assert.Equal(t, want.body, string(d.Msg.Frames[0]))
		assert.Equal(t, want.off, d.ID.Offset)
		assert.Equal(t, time.Unix(0, want.at), d.Time)
		require.NoError(t, d.Ack())
	}
	assert.EqualValues(t, 4, sub.Stats().Journal.Received)
}

// A JSTREAM (or JRUN) that comes before every message of the JRUN ahead
// of it has arrived is a protocol error that ends only that connection.
func TestStreamRunCutShort(t *testing.T) {
	ctx := testCtx(t)
	sub, ev := boundSubscriber(t)
	c := rawPublisher(t, ctx, sub)
	writeRun(t, c, []jwire.Stream{{Offset: 0, Epoch: 1}, {Offset: 1, Epoch: 1}}, "a")
	writeStream(t, c, 2, "c")
	require.NoError(t, c.Flush())
	awaitProtocolError(t, ctx, ev, "JSTREAM before the messages")
	d, err := sub.RecvDelivery(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", string(d.Msg.Frames[0]))
	assert.EqualValues(t, 0, d.ID.Offset)
}

// rawSubscriber dials pub as a profile subscriber announcing flags, asks
// for the stream from the oldest record, and returns the commands and
// messages it reads, in order, until it has n messages.
func rawSubscriber(t *testing.T, ctx context.Context, pub *socket.Socket, flags byte, n int) []string {
	t.Helper()
	c, err := tcp.New().Dial(ctx, mustParse(t, pub.LastEndpoint()))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Handshake(ctx, &transport.Config{SocketType: "SUB",
		Properties: map[string][]byte{"X-Brook-Journal": jwire.AppendHello(nil, jwire.Hello{Flags: flags})}})
	require.NoError(t, err)
	var seen []string
	c.SetCommandHandler(func(name string, data []byte) error {
		seen = append(seen, name)
		return nil
	})
	require.NoError(t, c.WriteSubscription(nil, true))
	require.NoError(t, c.WriteCommand(jwire.CmdSub, jwire.AppendSub(nil, jwire.Sub{Mode: jwire.StartOldest})))
	require.NoError(t, c.Flush())
	for got := 0; got < n; got++ {
		m, err := c.ReadMsg()
		require.NoError(t, err)
		seen = append(seen, string(m.Frames[0]))
	}
	return seen
}

// A journaled publisher describes its stream with one JRUN per batch to a
// subscriber that reads them, and with a JSTREAM per message to one that
// did not announce it (an older brook).
func TestStreamPublisherSpeaksWhatTheSubscriberReads(t *testing.T) {
	ctx := testCtx(t)
	pub := newSocket(t, socket.Pub, socket.WithJournal(openJournal(t)))
	require.NoError(t, pub.Bind("tcp://127.0.0.1:0"))
	publishSeq(t, ctx, pub, 0, 3)
	assert.Equal(t, []string{"JSTART", "JRUN", "0", "1", "2"}, rawSubscriber(t, ctx, pub, jwire.FlagRuns, 3))
	assert.Equal(t, []string{"JSTART", "JSTREAM", "0", "JSTREAM", "1", "JSTREAM", "2"}, rawSubscriber(t, ctx, pub, 0, 3))
}

// Under the None and Interval sync modes the journal writes records
// before they are durable; a feeder sends only durable ones, so it has
// the journal sync what subscribers wait for instead of waiting for a
// segment roll or the next tick.
func TestStreamUnderLazySyncModes(t *testing.T) {
	for name, mode := range map[string]durable.SyncMode{"none": durable.None, "interval": durable.Interval(time.Hour)} {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			log := openJournal(t, durable.WithSync(mode))
			pub := newSocket(t, socket.Pub, socket.WithJournal(log))
			require.NoError(t, pub.Bind("tcp://127.0.0.1:0"))
			sub := subscriber(t, socket.WithStart(socket.StartOldest()))
			require.NoError(t, sub.Connect(pub.LastEndpoint()))
			for i := range 100 {
				_, err := pub.SendAsync(ctx, msgOf(strconv.Itoa(i)))
				require.NoError(t, err)
			}
			expectSeq(t, ctx, sub, 0, 100, false)
			assert.EqualValues(t, 100, log.DurableEnd(), "everything sent was durable first")
		})
	}
}

// A journaled stream, replay then live, with a topic filter, works the
// same over every transport: batched where the connection reads in
// batches (tcp, ipc, inproc, quic), one by one where it cannot (zstd+tcp).
func TestStreamOverEveryTransport(t *testing.T) {
	for _, tc := range allTransports(t) {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			pub := newSocket(t, socket.Pub, append(tc.opts(t), socket.WithJournal(openJournal(t)))...)
			require.NoError(t, pub.Bind(tc.ep(t)))
			publish := func(from, to int) {
				var last socket.Pending
				for i := from; i < to; i++ {
					topic := "odd."
					if i%2 == 0 {
						topic = "even."
					}
					p, err := pub.SendAsync(ctx, socket.NewMsg([]byte(topic), []byte(strconv.Itoa(i))))
					require.NoError(t, err)
					last = p
				}
				require.NoError(t, last.Wait(ctx))
			}
			publish(0, 500)
			sub := newSocket(t, socket.Sub, append(tc.opts(t), socket.WithStart(socket.StartOldest()))...)
			require.NoError(t, sub.Subscribe([]byte("even.")))
			require.NoError(t, sub.Connect(pub.LastEndpoint()))
			done := make(chan struct{})
			go func() {
				defer close(done)
				publish(500, 1000)
			}()
			for want := 0; want < 1000; want += 2 {
				d, err := sub.RecvDelivery(ctx)
				require.NoError(t, err)
				require.Equal(t, "even.", string(d.Msg.Frames[0]))
				require.Equal(t, strconv.Itoa(want), string(d.Msg.Frames[1]), "in order, no gap, no duplicate")
				require.EqualValues(t, want, d.ID.Offset)
				require.NoError(t, d.Ack())
			}
			<-done
		})
	}
}
