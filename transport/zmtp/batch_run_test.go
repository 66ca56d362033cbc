package zmtp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// A long run of short single-frame messages (ReadMsgs' shortRun) comes out
// whole and in order, batch after batch, up to max per batch, each with a
// body and a frame list of its own capacity, so that appending to one
// never reaches the next; a short message over the size limit stops the
// run, and ReadMsg reports it after the messages before it.
func TestReadMsgsShortRuns(t *testing.T) {
	const n = 300
	var input []byte
	var want [][]byte
	for i := range n {
		body := bytes.Repeat([]byte{byte(i)}, 1+i%40)
		want = append(want, body)
		input = append(input, rawFrame(0, body)...)
	}
	input = append(input, rawFrame(0, bytes.Repeat([]byte{'z'}, 100))...) // over the limit
	c, _ := onceConn(t, input, 50)
	var got [][]byte
	for len(got) < n {
		batch, err := c.ReadMsgs(nil, 100)
		require.NoError(t, err)
		require.LessOrEqual(t, len(batch), 100)
		for i, m := range batch {
			require.Len(t, m.Frames, 1)
			assert.Equal(t, 1, cap(m.Frames), "message %d's frame list is capped", len(got)+i)
			f := m.Frames[0]
			assert.Equal(t, len(f), cap(f), "message %d's body is capped", len(got)+i)
			_ = append(f, 0xFF)
			_ = append(m.Frames, nil)
		}
		for _, m := range batch {
			got = append(got, m.Frames[0])
		}
	}
	require.Equal(t, want, got, "in order, untouched by the appends")
	assert.Equal(t, uint64(n), c.MsgsRead())
	_, err := c.ReadMsgs(nil, 100)
	require.ErrorIs(t, err, transport.ErrTooLarge)
}

// ReadMsgs (with its short-message runs) returns the messages ReadMsg
// does, in the same order, and ends the same way, with every frame
// capped, over streams of short messages damaged at random (a fixed
// seed): bytes changed, cut anywhere, batches of any size.
func TestReadMsgsMatchesReadMsg(t *testing.T) {
	var run []byte
	for i := range 70 {
		run = append(run, rawFrame(0, bytes.Repeat([]byte{byte(i)}, i%20))...)
	}
	run = append(run, rawFrame(flagMore, []byte("head"))...)
	run = append(run, rawFrame(0, make([]byte, 300))...)
	run = append(run, appendCommand(nil, cmdPing, []byte{0, 10})...)
	run = append(run, rawFrame(0, []byte("after"))...)
	r := rand.New(rand.NewPCG(1, 2))
	for it := range 2000 {
		data := append([]byte(nil), run...)
		for range r.IntN(4) {
			data[r.IntN(len(data))] = byte(r.IntN(256))
		}
		data = data[:r.IntN(len(data)+1)]
		max := 1 + r.IntN(200)
		stream := append(validPrefix(), data...)
		want, wantClean := readStream(t, &streamRW{r: bytes.NewReader(stream)}, Options{})
		c := NewConn(&streamRW{r: bytes.NewReader(stream)}, "local", "peer", Options{})
		_, err := c.Handshake(context.Background(), &transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20})
		require.NoError(t, err)
		var got [][][]byte
		for {
			batch, err := c.ReadMsgs(nil, max)
			if err != nil {
				require.Equal(t, wantClean, errors.Is(err, io.EOF), "stream %d ends the same way", it)
				break
			}
			require.LessOrEqual(t, len(batch), max)
			for _, m := range batch {
				for _, f := range m.Frames {
					require.Equal(t, len(f), cap(f), "frames are capped")
				}
				got = append(got, m.Frames)
			}
		}
		require.NoError(t, c.Close())
		require.Equal(t, len(want), len(got), "stream %d", it)
		for i := range want {
			require.Equal(t, len(want[i]), len(got[i]), "stream %d message %d", it, i)
			for j := range want[i] {
				require.True(t, bytes.Equal(want[i][j], got[i][j]), "stream %d message %d frame %d", it, i, j)
			}
		}
	}
}
