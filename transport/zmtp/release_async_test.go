package zmtp

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// Messages read in batches on one goroutine and released on another, as a
// socket's reader and its application do: a Release must be done with the
// message's frame list before it gives back the slab the list was carved
// from, or the reader, carving the next messages from that slab at once,
// races with it (the race detector caught Release clearing its slab
// tokens after releasing them). Every message is checked whole before it
// is released: a frame list overwritten by a late Release would show a
// nil or foreign frame.
func TestReleaseOnAnotherGoroutine(t *testing.T) {
	recycling(t)
	const n = 200000
	w, r := nullPair(t)
	msgs := make([]transport.Msg, n)
	for i := range msgs {
		msgs[i] = transport.NewMsg(patterned(16, i))
	}
	done := writeAll(w, msgs)
	batches := make(chan []transport.Msg, 4)
	released := make(chan error, 1)
	go func() {
		i := 0
		for batch := range batches {
			for _, m := range batch {
				if len(m.Frames) != 1 || !bytes.Equal(m.Frames[0], msgs[i].Frames[0]) {
					released <- fmt.Errorf("message %d differs from what was sent", i)
					for range batches {
					}
					return
				}
				m.Release()
				i++
			}
		}
		released <- nil
	}()
	for got := 0; got < n; {
		batch, err := r.ReadMsgs(nil, 128)
		require.NoError(t, err)
		got += len(batch)
		batches <- batch
	}
	close(batches)
	require.NoError(t, <-released)
	require.NoError(t, <-done)
}
