//go:build linux

package zmtp

import (
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// unixPair returns both ends of a connected unix stream socket pair. A
// write on one end returns once its bytes are queued on the other, so
// after a Write the reader's kernel holds all of it.
func unixPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	conn := func(fd int, name string) *net.UnixConn {
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		c, err := net.FileConn(f)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0], "pair-a"), conn(fds[1], "pair-b")
}

// unixPushPull returns a PUSH and a PULL Conn, handshaken, over a unix
// socket pair with a 1 MiB send buffer; readSide, if not nil, wraps the
// PULL's end, which is returned too (to ask its kernel what has arrived).
func unixPushPull(t *testing.T, readSide func(net.Conn) net.Conn) (w, r *Conn, ub *net.UnixConn) {
	t.Helper()
	ua, ub := unixPair(t)
	require.NoError(t, ua.SetWriteBuffer(1<<20))
	var rb net.Conn = ub
	if readSide != nil {
		rb = readSide(ub)
	}
	w = NewConn(ua, "pair-a", "pair-b", Options{})
	r = NewConn(rb, "pair-b", "pair-a", Options{})
	t.Cleanup(func() {
		_ = w.Close()
		_ = r.Close()
	})
	mustHandshake(t, w, r, &transport.Config{SocketType: "PUSH"},
		&transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20})
	return w, r, ub
}

// TestStreamQueued: the reader learns how many bytes the kernel holds
// for it, and nothing from a stream that is not a socket.
func TestStreamQueued(t *testing.T) {
	a, b := unixPair(t)
	assert.Zero(t, streamQueued(b))
	_, err := a.Write(make([]byte, 1000))
	require.NoError(t, err)
	assert.Equal(t, 1000, streamQueued(b))
	assert.Zero(t, streamQueued(&streamRW{}), "not a socket")
	require.NoError(t, b.Close())
	assert.Zero(t, streamQueued(b), "a closed socket")
}

// A large body that has arrived whole is read into one allocation of its
// size, not grown: the growth that protects against lying peers costs
// nothing to a peer that sends what it announces (issue 18).
func TestArrivedBodyIsOneAllocation(t *testing.T) {
	for _, size := range []int{48 << 10, 128 << 10, 256 << 10} {
		t.Run(byteCount(size), func(t *testing.T) {
			w, r, ub := unixPushPull(t, nil)
			body := make([]byte, size)
			for i := range body {
				body[i] = byte(i * 13)
			}
			require.NoError(t, w.WriteMsg(transport.NewMsg(body)))
			require.NoError(t, w.Flush())
			require.GreaterOrEqual(t, streamQueued(ub), size, "the whole frame waits in the reader's kernel")

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m, err := r.ReadMsg()
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.Len(t, m.Frames, 1)
			assert.Equal(t, body, m.Frames[0])
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte body: %d bytes allocated", size, allocated)
			assert.GreaterOrEqual(t, allocated, uint64(size))
			assert.Less(t, allocated, uint64(size+size/8), "one allocation of the body's size, no growth")
		})
	}
}

// The rest of a large body and what follows it come in one readv: once a
// 64 KiB message is read from a socket, the next header is already in
// the small read buffer, with the first bytes of its body, and the next
// body is read the same way. Without readv the next header took a read
// of its own.
func TestLargeBodyBringsTheNextHeader(t *testing.T) {
	const size, n = 64 << 10, 3
	w, r, ub := unixPushPull(t, nil)
	for i := range n {
		require.NoError(t, w.WriteMsg(transport.NewMsg(patterned(size, i))))
	}
	require.NoError(t, w.Flush())
	require.GreaterOrEqual(t, streamQueued(ub), n*size, "every frame waits in the reader's kernel")
	for i := range n {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		require.Len(t, m.Frames, 1)
		require.Equal(t, patterned(size, i), m.Frames[0], "message %d", i)
		if i < n-1 {
			assert.GreaterOrEqual(t, r.rend-r.rpos, maxHeader, "after message %d the next header is buffered", i)
			assert.Len(t, r.rbuf, idleReadBuffer, "after message %d the small buffer holds it", i)
		}
	}
}

// Once bodies are recycled, a 64 KiB body is read straight into its
// pooled buffer whether or not it has arrived, so the reader does not
// ask the kernel how much has (a system call per message); before any
// message is released it must ask, to allocate only for what arrived.
func TestRecycledLargeBodyAsksNoQueue(t *testing.T) {
	const size, n = 64 << 10, 4
	for _, recycle := range []bool{false, true} {
		t.Run(map[bool]string{false: "allocated", true: "recycled"}[recycle], func(t *testing.T) {
			bufpool.SetActive(recycle)
			defer bufpool.SetActive(false)
			w, r, _ := unixPushPull(t, nil)
			for i := range n {
				require.NoError(t, w.WriteMsg(transport.NewMsg(patterned(size, i))))
			}
			require.NoError(t, w.Flush())
			for i := range n {
				m, err := r.ReadMsg()
				require.NoError(t, err)
				require.Len(t, m.Frames, 1)
				require.Equal(t, patterned(size, i), m.Frames[0], "message %d", i)
				if recycle {
					m.Release() // (it would turn recycling on)
				}
			}
			if recycle {
				assert.Zero(t, r.inq.asked, "kernel queue asked while reading recycled bodies")
			} else {
				assert.GreaterOrEqual(t, r.inq.asked, n, "each allocated body is sized by what arrived")
			}
		})
	}
}

// Large messages that have arrived whole cross in one batch, up to
// arrivedBatch bytes, rather than one ReadMsgs call (and one hand-off to
// the application) each; larger ones still come one at a time, and a
// batch never waits for a message that has not arrived.
func TestReadMsgsTakesArrivedLargeMessages(t *testing.T) {
	cases := []struct {
		size, sent int
		batches    []int
	}{
		{64 << 10, 6, []int{4, 2}},
		{100 << 10, 3, []int{2, 1}},
		{300 << 10, 2, []int{1, 1}},
	}
	for _, tc := range cases {
		t.Run(byteCount(tc.size), func(t *testing.T) {
			w, r, ub := unixPushPull(t, nil)
			for i := range tc.sent {
				require.NoError(t, w.WriteMsg(transport.NewMsg(patterned(tc.size, i))))
			}
			require.NoError(t, w.Flush())
			require.GreaterOrEqual(t, streamQueued(ub), tc.sent*tc.size, "every frame waits in the reader's kernel")
			next := 0
			for _, want := range tc.batches {
				got, err := r.ReadMsgs(nil, 128)
				require.NoError(t, err)
				require.Equal(t, want, len(got), "batch starting at message %d", next)
				for _, m := range got {
					require.Len(t, m.Frames, 1)
					require.Equal(t, patterned(tc.size, next), m.Frames[0], "message %d", next)
					next++
				}
			}
		})
	}
}

// A batch stops at a large message that has not arrived whole, and the
// next call reads it once it has.
func TestReadMsgsLeavesPartialLargeMessage(t *testing.T) {
	const size = 64 << 10
	w, r, _ := unixPushPull(t, nil)
	require.NoError(t, w.WriteMsg(transport.NewMsg(patterned(size, 0))))
	require.NoError(t, w.Flush())
	// The next two frames written raw on the PUSH's stream, the last one
	// cut short.
	second := append(rawFrame(0, patterned(size, 1)), rawFrame(0, patterned(size, 2))...)
	cut := len(second) - 1000
	_, err := w.rw.Write(second[:cut])
	require.NoError(t, err)
	got, err := r.ReadMsgs(nil, 128)
	require.NoError(t, err)
	require.Equal(t, 2, len(got), "the third message has not arrived whole")
	assert.Equal(t, patterned(size, 0), got[0].Frames[0])
	assert.Equal(t, patterned(size, 1), got[1].Frames[0])
	_, err = w.rw.Write(second[cut:])
	require.NoError(t, err)
	got, err = r.ReadMsgs(got[:0], 128)
	require.NoError(t, err)
	require.Equal(t, 1, len(got))
	assert.Equal(t, patterned(size, 2), got[0].Frames[0])
}
