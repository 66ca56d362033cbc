package interop

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// TestJournalMixedLibzmqAndBrookReceivers: a journaled brook PUSH with a
// libzmq PULL and a brook PULL. Both get messages; the brook PULL
// acknowledges its own, the libzmq PULL (which knows nothing of the
// journal profile) gets plain ZeroMQ at most once, counted apart as
// PlainDelivered. Every message goes to exactly one of them.
func TestJournalMixedLibzmqAndBrookReceivers(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	log, err := durable.Open(filepath.Join(t.TempDir(), "journal"))
	require.NoError(t, err)
	defer log.Close()
	push := newBrook(t, socket.Push, socket.WithJournal(log))
	events := watchEvents(t, push)
	require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
	ep := push.LastEndpoint()
	zpull := startLibzmq(t, "PULL")
	zpull.connect(ep)
	bpull := newBrook(t, socket.Pull)
	require.NoError(t, bpull.Connect(ep))
	events.waitCount(ctx, t, socket.EventHandshakeSucceeded, 2)

	const n = 1000
	for i := range n {
		requireSend(ctx, t, push, []byte(strconv.Itoa(i)))
	}
	got := map[string]string{}
	brookGot := 0
	done := make(chan struct{})
	var brookMsgs []string
	plainAtBrook := 0
	go func() {
		defer close(done)
		for {
			d, err := bpull.RecvDelivery(ctx)
			if err != nil {
				return
			}
			if !d.Journaled() {
				plainAtBrook++
			}
			brookMsgs = append(brookMsgs, string(d.Msg.Frames[0]))
			if err := d.Ack(); err != nil {
				return
			}
		}
	}()
	require.NoError(t, push.WaitAcked(ctx), "journal state: %+v", push.Stats().Journal)
	st := push.Stats().Journal
	plain := int(st.PlainDelivered)
	assert.Positive(t, plain, "the libzmq PULL got its share")
	assert.Equal(t, n, plain+int(st.Acked), "every message acknowledged by the brook PULL or handed to the libzmq one")
	for range plain {
		frames, ok := zpull.tryRecv(peerWait)
		require.True(t, ok, "libzmq got every message handed to it")
		got[string(frames[0])] = "libzmq"
	}
	require.NoError(t, bpull.Close())
	<-done
	assert.Zero(t, plainAtBrook, "the brook PULL gets journaled messages only")
	for _, m := range brookMsgs {
		require.Empty(t, got[m], "message %s went to both", m)
		got[m] = "brook"
		brookGot++
	}
	assert.Len(t, got, n, "every message arrived once")
	assert.Equal(t, n-plain, brookGot)
}

// TestJournalPubToLibzmqSub: a libzmq SUB on a journaled brook PUB gets
// the live stream as from any PUB; a brook SUB on the same PUB can
// replay the history.
func TestJournalPubToLibzmqSub(t *testing.T) {
	t.Parallel()
	ctx := deadline(t)
	log, err := durable.Open(filepath.Join(t.TempDir(), "journal"))
	require.NoError(t, err)
	defer log.Close()
	pub := newBrook(t, socket.Pub, socket.WithJournal(log))
	events := watchEvents(t, pub)
	require.NoError(t, pub.Bind("tcp://127.0.0.1:0"))
	ep := pub.LastEndpoint()
	requireSend(ctx, t, pub, []byte("t history"))

	zsub := patLibzmq(t).socket("SUB", nil)
	zsub.subscribe("")
	zsub.connect(ep)
	events.waitType(ctx, t, socket.EventHandshakeSucceeded)
	// A slow joiner, as with any ZeroMQ PUB: publish until it hears.
	deadlineAt := time.Now().Add(10 * time.Second)
	for {
		requireSend(ctx, t, pub, []byte("t probe"))
		if frames, ok := zsub.tryRecv(50 * time.Millisecond); ok {
			require.Equal(t, "t probe", string(frames[0]), "the libzmq SUB gets the live stream, not the history")
			break
		}
		require.True(t, time.Now().Before(deadlineAt), "the libzmq SUB never heard the live stream")
	}
	bsub := newBrook(t, socket.Sub, socket.WithStart(socket.StartOldest()))
	require.NoError(t, bsub.Subscribe(nil))
	require.NoError(t, bsub.Connect(ep))
	d, err := bsub.RecvDelivery(ctx)
	require.NoError(t, err)
	assert.Equal(t, "t history", string(d.Msg.Frames[0]), "the brook SUB replays from the oldest")
	assert.EqualValues(t, 0, d.ID.Offset)
}
