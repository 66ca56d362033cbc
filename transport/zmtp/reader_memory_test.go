package zmtp

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// memPair returns a handshaken PUSH/PULL Conn pair over loopback TCP, the
// PULL side accepting messages up to 1 MiB.
func memPair(t *testing.T) (w, r *Conn) {
	t.Helper()
	w, r = tcpConns(t, Options{})
	mustHandshake(t, w, r, &transport.Config{SocketType: "PUSH"},
		&transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20})
	return w, r
}

// sendRepeated writes m n times and flushes, on a goroutine. The frames
// are shared by every copy: the writer only reads them, so the sender
// holds one payload whatever n is.
func sendRepeated(c *Conn, m transport.Msg, n int) <-chan error {
	ch := make(chan error, 1)
	go func() {
		for range n {
			if err := c.WriteMsg(m); err != nil {
				ch <- err
				return
			}
		}
		ch <- c.Flush()
	}()
	return ch
}

// keepEvery reads n messages of size bytes from r and returns every
// every-th one (none when every is 0), dropping the rest.
func keepEvery(t *testing.T, r *Conn, n, size, every int) []transport.Msg {
	t.Helper()
	var kept []transport.Msg
	for i := range n {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		require.Len(t, m.Frames, 1)
		require.Len(t, m.Frames[0], size)
		if every > 0 && i%every == every-1 {
			kept = append(kept, m)
		}
	}
	return kept
}

// Issue 16 item 1: messages the application has dropped must not stay
// alive in the reader. 250 messages of 256 KiB (the run) are read
// and dropped; the heap then holds what it held before, not the 62 MiB a
// frame-list slab pointing at them kept.
func TestDroppedMessagesAreNotPinned(t *testing.T) {
	const size, n = 256 << 10, 250
	_, grown := heapKeeping(t, size, n, 0)
	assert.Less(t, grown, int64(1<<20), "bytes still live after every message was dropped")
}

// Issue 16 item 1: an application that keeps one message in 256 pins what
// it keeps, not the 255 it dropped around each.
func TestKeptMessagePinsOnlyItself(t *testing.T) {
	const size, n, every = 256 << 10, 512, 256
	kept, grown := heapKeeping(t, size, n, every)
	require.Equal(t, n/every, kept)
	assert.Less(t, grown, int64(kept*size+1<<20), "bytes live beyond the kept messages")
}

// heapKeeping reads n messages of size bytes through a Conn pair, keeps
// every every-th one, and returns how many it kept and how much the live
// heap grew with them still held.
func heapKeeping(t *testing.T, size, n, every int) (kept int, grown int64) {
	t.Helper()
	w, r := memPair(t)
	msg := transport.NewMsg(make([]byte, size))
	base := liveHeap()
	sent := sendRepeated(w, msg, n)
	held := keepEvery(t, r, n, size, every)
	require.NoError(t, <-sent)
	grown = liveHeap() - base
	t.Logf("live heap with %d of %d messages of %d bytes kept: %+d bytes", len(held), n, size, grown)
	runtime.KeepAlive(held)
	runtime.KeepAlive(msg) // the sender's payload was live in base: keep it in the measure
	return len(held), grown
}

// Small messages share slabs, and a kept one keeps its slabs alive: the
// reader bounds that to one frame slab and two byte slabs per kept
// message, whatever the size of the small bodies around it (the old
// 256-entry frame slab made a kept 2 KiB message pin 512 KiB).
func TestKeptSmallMessagesPinBoundedSlabs(t *testing.T) {
	for _, size := range []int{64, maxSlabBody} {
		t.Run(byteCount(size), func(t *testing.T) {
			kept, grown := heapKeeping(t, size, 8192, 256)
			perKept := int64(2*byteSlabSize + frameSlabSize*24)
			assert.Less(t, grown, int64(kept)*perKept+256<<10, "bytes live beyond the kept messages' slabs (%d each)", perKept)
		})
	}
}

// byteCount names a size for a subtest: "64B", "2KiB".
func byteCount(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
