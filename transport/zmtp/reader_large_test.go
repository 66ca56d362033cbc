package zmtp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// bufferSpy is a Conn's stream that counts the bytes read into the Conn's
// read buffer apart from those read anywhere else (straight into message
// bodies). It keeps the stream's socket visible (syscall.Conn), so the
// Conn sizes large bodies as it would on the real stream.
type bufferSpy struct {
	net.Conn
	c                   *Conn // the Conn reading from the spy; set before any read
	intoRbuf, elsewhere int
}

func (s *bufferSpy) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if s.c != nil && len(s.c.rbuf) > 0 && overlaps(p, s.c.rbuf) {
		s.intoRbuf += n
	} else {
		s.elsewhere += n
	}
	return n, err
}

func (s *bufferSpy) SyscallConn() (syscall.RawConn, error) {
	return s.Conn.(syscall.Conn).SyscallConn()
}

// overlaps tells whether p starts inside b's backing array.
func overlaps(p, b []byte) bool {
	if cap(p) == 0 || cap(b) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b[:1])))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p[:1])))
	return at >= start && at < start+uintptr(cap(b))
}

// patterned returns n bytes that differ from message to message (seed).
func patterned(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seed*13 + i>>8)
	}
	return b
}

// A stream of 64 KiB messages is read mostly straight into the bodies:
// each header comes through the small buffer with a few KiB of its body,
// and the rest of the body goes from the kernel into the message, not
// into the read buffer first. The reader used to read every body into
// its 64 KiB buffer and copy it out.
func TestLargeBodiesBypassTheReadBuffer(t *testing.T) {
	const size, n = 64 << 10, 200
	a, b := tcpPair(t)
	spy := &bufferSpy{Conn: b}
	w := NewConn(a, "w", "r", Options{})
	r := NewConn(spy, "r", "w", Options{})
	t.Cleanup(func() {
		_ = w.Close()
		_ = r.Close()
	})
	mustHandshake(t, w, r, &transport.Config{SocketType: "PUSH"},
		&transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20})
	spy.c = r
	msgs := make([]transport.Msg, n)
	for i := range msgs {
		msgs[i] = transport.NewMsg(patterned(size, i))
	}
	sent := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := w.WriteMsg(m); err != nil {
				sent <- err
				return
			}
		}
		sent <- w.Flush()
	}()
	for i := range n {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		require.Len(t, m.Frames, 1)
		require.True(t, bytes.Equal(msgs[i].Frames[0], m.Frames[0]), "message %d", i)
	}
	require.NoError(t, <-sent)
	total := spy.intoRbuf + spy.elsewhere
	t.Logf("%d bytes read: %d into the read buffer, %d straight into bodies", total, spy.intoRbuf, spy.elsewhere)
	assert.Less(t, spy.intoRbuf, total/8, "bytes copied through the read buffer")
}

// A 64 KiB message costs two allocations on the receiving side: its body
// (exactly its size) and its one-entry frame list. Asking the kernel how
// much has arrived used to cost two more (a RawConn and a closure), and
// a body grown in steps one more still.
func TestLargeMessageAllocations(t *testing.T) {
	const size, runs = 64 << 10, 200
	w, r := tcpConns(t, Options{})
	mustHandshake(t, w, r, &transport.Config{SocketType: "PUSH"},
		&transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20})
	sent := sendRepeated(w, transport.NewMsg(make([]byte, size)), runs+1)
	allocs := testing.AllocsPerRun(runs, func() {
		m, err := r.ReadMsg()
		if err != nil || len(m.Frames[0]) != size {
			t.Fatalf("ReadMsg: %v", err)
		}
	})
	require.NoError(t, <-sent)
	assert.LessOrEqual(t, allocs, 2.0, "allocations per 64 KiB message")
}

// Bodies of every size keep their bytes when the stream hands them over
// in reads of every size: a body wholly in the read buffer, one partly
// there whose rest is read straight into it, one split across many short
// reads, and small frames between them.
func TestLargeBodiesSplitAcrossReads(t *testing.T) {
	sizes := []int{70 << 10, 100, 40 << 10, 3000, 64 << 10, 1, 33 << 10, 200 << 10, 16 << 10}
	var stream []byte
	var want [][]byte
	for i, n := range sizes {
		body := patterned(n, i)
		want = append(want, body)
		stream = append(stream, rawFrame(0, body)...)
	}
	for _, step := range []int{1, 7, 1000, 4 << 10, 9000, 100 << 10} {
		t.Run(byteCount(step), func(t *testing.T) {
			data := append(validPrefix(), stream...)
			got, ended := readStream(t, &chunkRW{data: data, step: step}, Options{})
			assert.True(t, ended, "the stream ends between messages")
			require.Len(t, got, len(want))
			for i := range want {
				require.Len(t, got[i], 1)
				require.True(t, bytes.Equal(want[i], got[i][0]), "message %d (%d bytes)", i, len(want[i]))
			}
		})
	}
}

// chunkRW feeds a byte stream to a Conn in reads of at most step bytes,
// and discards what the Conn writes.
type chunkRW struct {
	data []byte
	step int
}

func (c *chunkRW) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.step)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkRW) Write(p []byte) (int, error) { return len(p), nil }
func (c *chunkRW) Close() error                { return nil }

// A peer that hangs up in the middle of a large body ends the connection
// with an error that says so and matches io.EOF; no partial message is
// delivered.
func TestPeerHangsUpMidBody(t *testing.T) {
	for _, size := range []int{48 << 10, 64 << 10, 1 << 20} {
		t.Run(byteCount(size), func(t *testing.T) {
			c, p := shaken(t, 1, nil, Options{})
			frame := rawLongFrame(0, patterned(size, 1))
			_, err := p.c.Write(frame[:len(frame)-size/3])
			require.NoError(t, err)
			require.NoError(t, p.c.Close())
			m, err := c.ReadMsg()
			require.Error(t, err)
			assert.Empty(t, m.Frames)
			assert.True(t, errors.Is(err, io.EOF), "error %v matches io.EOF", err)
			assert.Contains(t, err.Error(), "closed the connection")
		})
	}
}
