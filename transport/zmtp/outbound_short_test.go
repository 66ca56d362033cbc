package zmtp

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// recordRW is a stream that keeps every byte written to it.
type recordRW struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recordRW) Read([]byte) (int, error) { return 0, nil }
func (r *recordRW) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}
func (r *recordRW) Close() error { return nil }

// Short single-frame messages (WriteMsg's shortcut) go out byte for byte
// as the general encoding has them, around the short/long boundary and
// across a buffer that fills up (the shortcut then leaves it to the
// general path, which flushes or grows it), and each counts as written
// once out.
func TestShortMessagesEncodeAsFrames(t *testing.T) {
	rw := &recordRW{}
	c := NewConn(rw, "local", "peer", Options{})
	c.ready.Store(true)
	c.initBuffers()
	var want []byte
	calls := 0
	write := func(m transport.Msg) {
		require.NoError(t, c.WriteMsg(m))
		calls++
		for i, f := range m.Frames {
			var flags byte
			if i < len(m.Frames)-1 {
				flags = flagMore
			}
			want = append(appendFrameHeader(want, flags, len(f)), f...)
		}
	}
	for round := range 3 {
		for _, n := range []int{0, 1, 16, 254, 255, 256, 1000} {
			write(transport.NewMsg(bytes.Repeat([]byte{byte(n + round)}, n)))
		}
		write(transport.NewMsg([]byte("a"), []byte("b")))
	}
	for i := range 2 * DefaultWriteBufferSize / 200 { // past a full buffer
		write(transport.NewMsg(bytes.Repeat([]byte{byte(i)}, 200)))
	}
	require.NoError(t, c.Flush())
	assert.Equal(t, want, rw.buf.Bytes())
	assert.Equal(t, uint64(calls), c.Written())

	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("x"))))
	require.NotNil(t, c.wbuf, "a buffer the shortcut could fill")
	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.WriteMsg(transport.NewMsg([]byte("y"))), transport.ErrClosed, "a closed Conn takes no short message")
	assert.Equal(t, 3, c.wn, "only the message before Close is buffered")
}
