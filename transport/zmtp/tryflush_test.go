package zmtp

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// numbered returns a message of size bytes that says which one it is.
func numbered(i, size int) transport.Msg {
	b := bytes.Repeat([]byte{byte(i)}, size)
	binary.BigEndian.PutUint32(b, uint32(i))
	return transport.NewMsg(b)
}

// TryFlush never waits: against a peer that does not read it fills the
// kernel's buffers and then reports false, keeping the rest (a frame cut
// anywhere) for Flush; once the peer reads, everything arrives whole and
// in order.
func TestTryFlushNeverWaits(t *testing.T) {
	w, r := tcpConns(t, Options{})
	mustHandshake(t, w, r, nil, nil)
	const size = 10000 // odd against the kernel's segment sizes
	sent := 0
	for full := false; !full; sent++ {
		require.Less(t, sent, 20000, "the kernel never pushed back")
		require.NoError(t, w.WriteMsg(numbered(sent, size)))
		done, err := w.TryFlush()
		require.NoError(t, err)
		full = !done
	}
	// More after the cut goes behind it.
	for range 3 {
		require.NoError(t, w.WriteMsg(numbered(sent, size)))
		sent++
	}
	got := make(chan error, 1)
	go func() {
		for i := range sent {
			m, err := r.ReadMsg()
			if err != nil {
				got <- err
				return
			}
			if !bytes.Equal(m.Frames[0], numbered(i, size).Frames[0]) {
				got <- assert.AnError
				return
			}
		}
		got <- nil
	}()
	require.NoError(t, w.Flush())
	require.NoError(t, <-got)
	done, err := w.TryFlush()
	require.NoError(t, err)
	assert.True(t, done, "nothing left to write")
}

// On a stream that is not a socket TryFlush writes nothing and says so;
// Flush does the work.
func TestTryFlushNotASocket(t *testing.T) {
	w, r := pipeConns(t, Options{})
	mustHandshake(t, w, r, nil, nil)
	require.NoError(t, w.WriteMsg(transport.NewMsg([]byte("x"))))
	done, err := w.TryFlush()
	require.NoError(t, err)
	assert.False(t, done)
	writeAsync(t, w.Flush)
	m, err := r.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, []byte("x"), m.Frames[0])
}

// CURVE boxes frames as they leave: TryFlush leaves them to Flush, so no
// plain frame ever reaches the stream.
func TestTryFlushLeavesBoxedTrafficToFlush(t *testing.T) {
	cli, srv := curvePair(t, Options{})
	require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("secret"))))
	done, err := cli.TryFlush()
	require.NoError(t, err)
	assert.False(t, done)
	require.NoError(t, cli.Flush())
	m, err := srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, []byte("secret"), m.Frames[0])
}
