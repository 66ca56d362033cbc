package socket_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// A journaled PUB keeps what it sends in its tail cache as the message's
// own frames and the record's time: a live subscriber gets every message
// whole, from one frame to more than the send path builds on its stack,
// with the journal record's own time (sent one by one or in batches), and
// a subscriber replaying the same records (from the cache, or from the
// journal) gets the same.
func TestStreamLiveFramesAndTimes(t *testing.T) {
	for _, tc := range []struct {
		scheme string
		batch  bool
	}{{"inproc", false}, {"tcp", false}, {"inproc", true}, {"tcp", true}} {
		name := tc.scheme
		if tc.batch {
			name += "/SendBatchAsync"
		}
		t.Run(name, func(t *testing.T) {
			scheme := tc.scheme
			ctx := testCtx(t)
			log := openJournal(t)
			pub := newSocket(t, socket.Pub, socket.WithJournal(log))
			require.NoError(t, pub.Bind(endpointFor(t, scheme)))
			live := subscriber(t, socket.WithStart(socket.StartOldest()))
			require.NoError(t, live.Connect(pub.LastEndpoint()))

			frameCounts := []int{1, 2, 3, 4, 7, 1, 5, 1, 2}
			var msgs, batch []socket.Msg
			for i, k := range frameCounts {
				var fr [][]byte
				for f := range k {
					fr = append(fr, fmt.Appendf(nil, "m%d-f%d", i, f))
				}
				m := socket.NewMsg(fr...)
				msgs = append(msgs, socket.NewMsg(fr...))
				if !tc.batch {
					_, err := pub.SendAsync(ctx, m)
					require.NoError(t, err)
					continue
				}
				// Batches of 4: the later ones reuse the first's buffers.
				if batch = append(batch, m); len(batch) == 4 || i == len(frameCounts)-1 {
					_, n, err := pub.SendBatchAsync(ctx, batch)
					require.NoError(t, err)
					require.Equal(t, len(batch), n)
					batch = nil
				}
			}
			rd := log.NewReader(0)
			defer rd.Close()
			times := make([]int64, len(msgs))
			for i := range msgs {
				rec, err := rd.Next(ctx)
				require.NoError(t, err)
				times[i] = rec.Time.UnixNano()
			}
			check := func(sub *socket.Socket) {
				t.Helper()
				for i, want := range msgs {
					d, err := sub.RecvDelivery(ctx)
					require.NoError(t, err)
					require.EqualValues(t, i, d.ID.Offset)
					assert.Equal(t, want.Frames, d.Msg.Frames, "message %d", i)
					assert.Equal(t, times[i], d.Time.UnixNano(), "message %d has its record's time", i)
				}
			}
			check(live)
			replay := subscriber(t, socket.WithStart(socket.StartOldest()))
			require.NoError(t, replay.Connect(pub.LastEndpoint()))
			check(replay)
			// A new PUB on the journal has nothing cached: from disk.
			require.NoError(t, pub.Close())
			pub2 := newSocket(t, socket.Pub, socket.WithJournal(log))
			require.NoError(t, pub2.Bind(endpointFor(t, scheme)))
			disk := subscriber(t, socket.WithStart(socket.StartOldest()))
			require.NoError(t, disk.Connect(pub2.LastEndpoint()))
			check(disk)
		})
	}
}
