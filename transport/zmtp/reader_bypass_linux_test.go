//go:build linux

package zmtp

import (
	"bytes"
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

// 64 KiB messages that have arrived are read mostly straight into their
// bodies: each header comes through the small buffer with a few KiB of
// its body, and the rest of the body goes from the kernel into the
// message, not into the read buffer first. The reader used to read every
// body into its 64 KiB buffer and copy it out.
func TestLargeBodiesBypassTheReadBuffer(t *testing.T) {
	const size, n = 64 << 10, 4
	var spy *bufferSpy
	w, r, ub := unixPushPull(t, func(c net.Conn) net.Conn {
		spy = &bufferSpy{Conn: c}
		return spy
	})
	spy.c = r
	msgs := make([]transport.Msg, n)
	for i := range msgs {
		msgs[i] = transport.NewMsg(patterned(size, i))
		require.NoError(t, w.WriteMsg(msgs[i]))
	}
	require.NoError(t, w.Flush())
	require.GreaterOrEqual(t, streamQueued(ub), n*size, "every frame waits in the reader's kernel")
	for i := range n {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		require.Len(t, m.Frames, 1)
		require.True(t, bytes.Equal(msgs[i].Frames[0], m.Frames[0]), "message %d", i)
	}
	total := spy.intoRbuf + spy.elsewhere
	t.Logf("%d bytes read: %d into the read buffer, %d straight into bodies", total, spy.intoRbuf, spy.elsewhere)
	assert.Less(t, spy.intoRbuf, total/8, "bytes copied through the read buffer")
}
