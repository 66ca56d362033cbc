package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

// frozenMargin bounds what detecting a stopped peer may take beyond
// interval plus timeout on a loaded machine; it only bounds a failure.
const frozenMargin = 3 * time.Second

// signal sends sig to the libzmq peer's process.
func (z *libzmqPeer) signal(sig unix.Signal) {
	z.t.Helper()
	if err := unix.Kill(z.pid, sig); err != nil {
		z.t.Fatalf("signal %v to libzmq peer %d: %v", sig, z.pid, err)
	}
}

// seqSet records the sequence numbers a brook receiver got.
type seqSet struct {
	mu      sync.Mutex
	got     map[int]int
	changed chan struct{}
}

func newSeqSet() *seqSet { return &seqSet{got: map[int]int{}, changed: make(chan struct{})} }

func (s *seqSet) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[n]++
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitRun waits until every number of [from, to) was received.
func (s *seqSet) waitRun(ctx context.Context, from, to int) error {
	for next := from; ; {
		s.mu.Lock()
		for next < to && s.got[next] > 0 {
			next++
		}
		changed := s.changed
		s.mu.Unlock()
		if next == to {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("message %d of [%d, %d) never arrived: %w", next, from, to, ctx.Err())
		}
	}
}

// TestBrookHeartbeatDetectsFrozenLibzmq: a brook PUSH (heartbeats on)
// streams at full rate to a libzmq PULL it connected to and to a live
// brook PULL. The libzmq process is stopped with SIGSTOP: brook drops it
// within interval plus timeout (with a margin for a loaded machine), and
// every message sent afterwards reaches the live peer while libzmq stays
// stopped; what was still queued for libzmq goes there too (nothing is
// dropped). Resumed, libzmq answers brook's reconnection and gets
// traffic again, and no message reached both peers. With 8-byte and
// 16 KiB messages.
func TestBrookHeartbeatDetectsFrozenLibzmq(t *testing.T) {
	for _, size := range []int{8, 16 << 10} {
		t.Run(fmt.Sprintf("%d-byte messages", size), func(t *testing.T) {
			t.Parallel()
			testFrozenLibzmq(t, size)
		})
	}
}

func testFrozenLibzmq(t *testing.T, size int) {
	const after = 2000 // sent once the stopped peer was dropped
	ctx := deadline(t)
	end := []byte("end")
	hb := socket.WithHeartbeat(hbInterval, hbTimeout, 0)

	frozen := startLibzmq(t, "PULL") // no heartbeats of its own: it answers PINGs
	ep := frozen.bind("tcp://127.0.0.1:*")
	push := newBrook(t, socket.Push, hb)
	events := watchEvents(t, push)
	require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
	live := newBrook(t, socket.Pull, hb)
	require.NoError(t, live.Connect(push.LastEndpoint()))
	require.NoError(t, push.Connect(ep))
	isFrozen := func(typ socket.EventType) func(socket.Event) bool {
		return func(e socket.Event) bool { return e.Type == typ && e.Endpoint == ep }
	}
	events.waitFor(ctx, t, "libzmq's handshake", isFrozen(socket.EventHandshakeSucceeded))

	rec := filepath.Join(t.TempDir(), "libzmq")
	frozen.record(rec, end, 1, testTimeout)
	liveSeqs := newSeqSet()
	received := make(chan struct{})
	go func() {
		defer close(received)
		for {
			m, err := live.Recv(ctx)
			if err != nil {
				return
			}
			n, err := strconv.Atoi(string(m.Frames[0]))
			if err == nil {
				liveSeqs.add(n)
			}
		}
	}()
	payload := make([]byte, size)
	var sent, limit atomic.Int64
	limit.Store(1 << 62)
	streamed := make(chan error, 1)
	go func() {
		for n := int64(0); n < limit.Load(); n++ {
			if err := push.Send(ctx, socket.NewMsg([]byte(strconv.FormatInt(n, 10)), payload)); err != nil {
				streamed <- err
				return
			}
			sent.Store(n + 1)
		}
		streamed <- nil
	}()
	frozen.awaitMark(testTimeout)

	mark := events.len()
	frozen.signal(unix.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			frozen.signal(unix.SIGCONT)
		}
	}()
	detect, cancel := context.WithTimeout(ctx, hbInterval+hbTimeout+frozenMargin)
	defer cancel()
	e, err := events.awaitFrom(detect, mark, isFrozen(socket.EventDisconnected))
	require.NoError(t, err, "no disconnection of the stopped libzmq peer; events: %s", events)
	assert.ErrorIs(t, e.Err, transport.ErrPeerTimeout)
	from := int(sent.Load())
	limit.Store(int64(from + after))
	require.NoError(t, <-streamed)
	total := int(sent.Load())
	require.NoError(t, liveSeqs.waitRun(ctx, from, total), "sent after the detection, with libzmq stopped")
	assert.Empty(t, push.Stats().Dropped, "nothing is dropped with the stopped peer")

	resumed = true
	frozen.signal(unix.SIGCONT)
	_, err = events.awaitFrom(ctx, mark, isFrozen(socket.EventHandshakeSucceeded))
	require.NoError(t, err, "libzmq, resumed, answers the reconnection; events: %s", events)
	// With the live peer gone, the end marker can only go to libzmq: it
	// ends its recording.
	require.NoError(t, live.Close())
	<-received
	requireSend(ctx, t, push, end)
	frozen.awaitRecorded(testTimeout)

	var dups []int
	for _, n := range readSeqs(t, rec) {
		if liveSeqs.got[n] > 0 {
			dups = append(dups, n)
		}
	}
	assert.Empty(t, dups, "messages both peers received")
	t.Logf("%d messages; libzmq dropped after %d (%s)", total, from, e.Err)
}
