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
	w, r := memPair(t)
	msg := transport.NewMsg(make([]byte, size))
	base := liveHeap()
	sent := sendRepeated(w, msg, n)
	keepEvery(t, r, n, size, 0)
	require.NoError(t, <-sent)
	grown := liveHeap() - base
	t.Logf("live heap after %d dropped messages of %d bytes: %+d bytes", n, size, grown)
	assert.Less(t, grown, int64(1<<20), "bytes still live after every message was dropped")
	runtime.KeepAlive(msg) // the sender's payload was live in base: keep it in the measure
}

// Issue 16 item 1: an application that keeps one message in 256 pins what
// it keeps, not the 255 it dropped around each.
func TestKeptMessagePinsOnlyItself(t *testing.T) {
	const size, n, every = 256 << 10, 512, 256
	w, r := memPair(t)
	msg := transport.NewMsg(make([]byte, size))
	base := liveHeap()
	sent := sendRepeated(w, msg, n)
	kept := keepEvery(t, r, n, size, every)
	require.NoError(t, <-sent)
	require.Len(t, kept, n/every)
	grown := liveHeap() - base
	t.Logf("live heap with %d of %d messages of %d bytes kept: %+d bytes", len(kept), n, size, grown)
	assert.Less(t, grown, int64(len(kept)*size+1<<20), "bytes live beyond the kept messages")
	runtime.KeepAlive(kept)
	runtime.KeepAlive(msg)
}

// Small messages share slabs, and a kept one keeps its slabs alive: the
// reader bounds that to one frame slab and two byte slabs per kept
// message, whatever the size of the small bodies around it (the old
// 256-entry frame slab made a kept 2 KiB message pin 512 KiB).
func TestKeptSmallMessagesPinBoundedSlabs(t *testing.T) {
	for _, size := range []int{64, maxSlabBody} {
		t.Run(byteCount(size), func(t *testing.T) {
			const n, every = 8192, 256
			w, r := memPair(t)
			msg := transport.NewMsg(make([]byte, size))
			base := liveHeap()
			sent := sendRepeated(w, msg, n)
			kept := keepEvery(t, r, n, size, every)
			require.NoError(t, <-sent)
			grown := liveHeap() - base
			perKept := int64(2*byteSlabSize + frameSlabSize*24)
			t.Logf("live heap with %d of %d messages of %d bytes kept: %+d bytes (bound %d per kept message)",
				len(kept), n, size, grown, perKept)
			assert.Less(t, grown, int64(len(kept))*perKept+256<<10, "bytes live beyond the kept messages' slabs")
			runtime.KeepAlive(kept)
			runtime.KeepAlive(msg)
		})
	}
}

// Reading small messages still allocates only slabs: the bound on what a
// slab pins costs no allocation per message (16 and 256 bytes, the sizes
// of the benchmark).
func TestSmallMessagesStillAllocatePerSlab(t *testing.T) {
	for _, size := range []int{16, 256} {
		t.Run(byteCount(size), func(t *testing.T) {
			const n = 20000
			c, p := shaken(t, 1, nil, Options{})
			frame := rawFrame(0, make([]byte, size))
			var stream []byte
			for range n {
				stream = append(stream, frame...)
			}
			sent := make(chan error, 1)
			go func() {
				_, err := p.c.Write(stream)
				sent <- err
			}()
			allocs := testing.AllocsPerRun(n-1, func() {
				if _, err := c.ReadMsg(); err != nil {
					t.Fatal(err)
				}
			})
			assert.Less(t, allocs, 0.1, "allocations per %d-byte message", size)
			require.NoError(t, <-sent)
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
