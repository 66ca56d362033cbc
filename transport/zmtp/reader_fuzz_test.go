package zmtp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// dribbleRW feeds a byte stream to a Conn in reads of at most step bytes
// (cycling through steps), the way a slow or fragmenting network would,
// and discards what the Conn writes.
type dribbleRW struct {
	data  []byte
	steps []byte
	n     int
}

func (d *dribbleRW) Read(p []byte) (int, error) {
	if len(d.data) == 0 {
		return 0, io.EOF
	}
	step := 1
	if len(d.steps) > 0 {
		step = int(d.steps[d.n%len(d.steps)])%64 + 1
		d.n++
	}
	n := copy(p[:min(len(p), step)], d.data)
	d.data = d.data[n:]
	return n, nil
}

func (d *dribbleRW) Write(p []byte) (int, error) { return len(p), nil }
func (d *dribbleRW) Close() error                { return nil }

// readStream shakes hands over rw and reads messages until the first
// error, returning the messages and whether that error was the end of
// the stream (between messages or inside one) rather than a refusal.
func readStream(t *testing.T, rw io.ReadWriteCloser, opts Options) ([][][]byte, bool) {
	t.Helper()
	c := NewConn(rw, "fuzz-local", "fuzz-peer", opts)
	defer c.Close()
	_, err := c.Handshake(context.Background(), &transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20})
	require.NoError(t, err)
	var msgs [][][]byte
	for {
		m, err := c.ReadMsg()
		if err != nil {
			return msgs, errors.Is(err, io.EOF)
		}
		for _, f := range m.Frames {
			require.Equal(t, len(f), cap(f), "frames are capped so appends never clobber a neighbour")
		}
		msgs = append(msgs, m.Frames)
	}
}

// FuzzReaderArrival: what the reader returns does not depend on how the
// bytes arrive. The same stream read whole through a 64 KiB buffer, and
// dribbled a few bytes per read through the smallest buffer (where every
// body above 2 KiB takes the growing path), gives the same messages and
// ends the same way.
func FuzzReaderArrival(f *testing.F) {
	big := bytes.Repeat([]byte("g"), 9000)
	f.Add(rawFrame(0, big), []byte{63})
	f.Add(append(rawFrame(flagMore, []byte("head")), rawLongFrame(0, big)...), []byte{0, 5, 63, 7})
	f.Add(append(rawFrame(0, bytes.Repeat([]byte("s"), maxSlabBody)), rawFrame(0, bytes.Repeat([]byte("t"), maxSlabBody+1))...), []byte{3})
	f.Add(longHeader(1<<19), []byte{1})                               // announced, never sent
	f.Add(append(longHeader(5000), make([]byte, 4000)...), []byte{9}) // cut short
	f.Add(appendCommand(nil, cmdSubscribe, bytes.Repeat([]byte("topic"), 1000)), []byte{40})
	f.Fuzz(func(t *testing.T, data, steps []byte) {
		stream := append(validPrefix(), data...)
		whole, wholeClean := readStream(t, &streamRW{r: bytes.NewReader(stream)}, Options{})
		dribbled, dribbledClean := readStream(t, &dribbleRW{data: stream, steps: steps}, Options{ReadBufferSize: minBufferSize})
		require.Equal(t, len(whole), len(dribbled), "message count")
		for i := range whole {
			require.Equal(t, normalise(whole[i]), normalise(dribbled[i]), "message %d", i)
		}
		require.Equal(t, wholeClean, dribbledClean, "how the stream ended")
	})
}

// longHeader is the header of a long frame announcing size bytes.
func longHeader(size uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{flagLong}, size)
}
