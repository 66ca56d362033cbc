package zmtp

import (
	"bytes"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// chunkStream reads a fixed input in pieces of random sizes up to max
// bytes, as a stream delivers a large MESSAGE in several reads.
type chunkStream struct {
	r   *bytes.Reader
	rnd *mrand.Rand
	max int
}

func (s chunkStream) Read(p []byte) (int, error) {
	return s.r.Read(p[:min(len(p), 1+s.rnd.IntN(s.max))])
}
func (chunkStream) Write(p []byte) (int, error) { return len(p), nil }
func (chunkStream) Close() error                { return nil }

// chunkedBoxedConn is boxedConn reading input through a chunkStream.
func chunkedBoxedConn(input []byte, readBuf, maxChunk int, seed uint64) *Conn {
	c := boxedConn(nil, readBuf)
	c.rw = chunkStream{bytes.NewReader(input), mrand.New(mrand.NewPCG(seed, 1)), maxChunk}
	return c
}

// MESSAGEs of every size class open to what was sent, however the
// stream cuts them: a body carved from the slab, one decrypted from the
// read buffer into its own memory, one larger than the read buffer that
// grows as it arrives (decrypted from the read buffer for the part read
// there, in place for the rest), and commands in boxes of each size.
func TestCurveOpensEverySize(t *testing.T) {
	const readBuf = 4 << 10
	sizes := []int{0, 1, maxSlabBody, maxSlabBody + 1, readBuf/2 + 1, readBuf - msgOverhead - 1, readBuf - msgOverhead,
		readBuf - msgOverhead + 1, readBuf, 10 << 10, 100 << 10}
	var frames [][]byte
	var want []transport.Msg
	for i, n := range sizes {
		body := make([]byte, n)
		for k := range body {
			body[k] = byte(i + k*7)
		}
		frames = append(frames, rawFrame(flagMore, []byte{byte(i)}), rawFrame(0, body))
		want = append(want, transport.Msg{Frames: [][]byte{{byte(i)}, body}})
		topic := bytes.Repeat([]byte{'t'}, n)
		frames = append(frames, appendCommand(nil, cmdSubscribe, topic))
		want = append(want, transport.Msg{Frames: [][]byte{append([]byte{1}, topic...)}})
	}
	input := boxed(t, newMessageBox(&fuzzMessageKey, prefixMsgC, 2), frames...)
	for _, chunk := range []int{1 << 20, 64 << 10, 5000, 700, 33} {
		t.Run(fmt.Sprintf("reads of up to %d B", chunk), func(t *testing.T) {
			c := chunkedBoxedConn(input, readBuf, chunk, uint64(chunk))
			c.maxMsg = 1 << 20
			defer c.Close()
			for i, w := range want {
				m, err := c.ReadMsg()
				require.NoError(t, err, "message %d", i)
				require.Len(t, m.Frames, len(w.Frames), "message %d", i)
				for k := range w.Frames {
					require.True(t, bytes.Equal(w.Frames[k], m.Frames[k]), "message %d frame %d: %d bytes", i, k, len(w.Frames[k]))
				}
			}
			_, err := c.ReadMsg()
			require.ErrorIs(t, err, io.EOF)
		})
	}
}

// A MESSAGE with any byte damaged does not open, wherever the damage is
// (tag, flags, the part read into the read buffer, the part read into
// the growing body), and nothing of it is delivered.
func TestCurveDamagedMessageDoesNotOpen(t *testing.T) {
	const readBuf = 4 << 10
	for _, n := range []int{100, 3000, 10 << 10} {
		body := bytes.Repeat([]byte{'b'}, n)
		good := boxed(t, newMessageBox(&fuzzMessageKey, prefixMsgC, 2), rawFrame(0, body))
		hdr := len(good) - (tagSize + 1 + n) // frame header, name and nonce
		for _, at := range []int{hdr, hdr + tagSize - 1, hdr + tagSize, hdr + tagSize + 1, hdr + 2000, len(good) - 1} {
			if at >= len(good) {
				continue
			}
			t.Run(fmt.Sprintf("%d B, byte %d", n, at), func(t *testing.T) {
				bad := bytes.Clone(good)
				bad[at] ^= 0x20
				c := chunkedBoxedConn(bad, readBuf, 1500, uint64(at))
				c.maxMsg = 1 << 20
				defer c.Close()
				m, err := c.ReadMsg()
				assert.ErrorIs(t, err, ErrDecrypt)
				assert.Empty(t, m.Frames)
				assert.Nil(t, c.opened, "no body kept")
			})
		}
	}
}
