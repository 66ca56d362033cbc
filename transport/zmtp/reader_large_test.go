package zmtp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// patterned returns n bytes that differ from message to message (seed).
func patterned(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seed*13 + i>>8)
	}
	return b
}

// A body still on its way, that fits in the large read buffer, is
// gathered there and copied out once: one allocation of its size. A
// reader ahead of its peer used to grow such a body in steps from 4 KiB,
// allocating and copying about twice its size. (The collector is off, so
// that the read buffer, allocated with the first message, stays.)
func TestArrivingBodyIsGatheredNotGrown(t *testing.T) {
	const size, n = 60 << 10, 8
	var stream []byte
	for i := range n {
		stream = append(stream, rawFrame(0, patterned(size, i))...)
	}
	c := NewConn(&chunkRW{data: append(validPrefix(), stream...), step: 4 << 10}, "local", "peer", Options{})
	defer c.Close()
	_, err := c.Handshake(context.Background(), &transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20})
	require.NoError(t, err)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	for i := range n {
		runtime.ReadMemStats(&before)
		m, err := c.ReadMsg()
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		require.Equal(t, patterned(size, i), m.Frames[0], "message %d", i)
		if i > 0 {
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(size+size/8), "message %d: one allocation of the body's size", i)
		}
	}
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
