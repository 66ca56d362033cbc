package socket_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

// The memory a socket holds for a peer follows its high-water marks: at
// most HWM messages on the sending side and HWM on the receiving side,
// each costing its size plus a fixed overhead (msgOverhead: its frame
// list and its queue slot), plus the connection's buffers (bufSlack).
// Measured with runtime.ReadMemStats after forced collections, for small
// and 256 KiB messages, against a raw ZMTP peer in the same process that
// allocates nothing per message.
const (
	msgOverhead = 256       // bytes per message held beyond its payload (frame list, queue slot, slab tails)
	bufSlack    = 512 << 10 // the connections' buffers, both ends, and noise
)

var memoryCases = []struct {
	hwm, size int
}{
	{1000, 1 << 10},
	{10, 256 << 10},
}

// rawPeer dials ep and shakes hands as a socket of the given type.
func rawPeer(t *testing.T, ctx context.Context, ep, typ string) transport.Conn {
	t.Helper()
	c, err := tcp.New().Dial(ctx, mustParse(t, ep))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.Handshake(ctx, &transport.Config{SocketType: typ, MaxMsgSize: 1 << 30})
	require.NoError(t, err)
	return c
}

func peerStats(t *testing.T, s *socket.Socket) socket.PeerStats {
	t.Helper()
	peers := s.Stats().Peers
	require.Len(t, peers, 1)
	return peers[0]
}

// A PUSH whose peer reads nothing holds exactly its send HWM, and the
// memory of those messages, once the kernel's buffers are full: not the
// batch being written on top of a refilled queue.
func TestSendSideMemoryFollowsHWM(t *testing.T) {
	for _, tc := range memoryCases {
		t.Run(fmt.Sprintf("%dx%dB", tc.hwm, tc.size), func(t *testing.T) {
			ctx := testCtx(t)
			base := liveHeap()
			push := newSocket(t, socket.Push, socket.WithSendHWM(tc.hwm), socket.WithLinger(0))
			require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
			rawPeer(t, ctx, push.LastEndpoint(), "PULL")
			sent := 0
			var held uint64
			for {
				short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				err := push.Send(short, socket.NewMsg(make([]byte, tc.size)))
				cancel()
				if err == nil {
					sent++
					continue
				}
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.NoError(t, ctx.Err())
				if peerStats(t, push).Queued < tc.hwm {
					continue
				}
				// Full, unless the writer was only starved of CPU
				// (a loaded machine) and has not filled the kernel's
				// buffers yet: then it writes more while the heap is
				// measured, and the queue is filled again.
				written := peerStats(t, push).Sent
				held = liveHeap() - base
				if peerStats(t, push).Sent == written {
					break // full: the peer's buffers too
				}
			}
			bound := uint64(tc.hwm*(tc.size+msgOverhead) + bufSlack)
			t.Logf("sent %d, %d held: %d KiB of heap (%.2fx HWM x size), bound %d KiB",
				sent, peerStats(t, push).Queued, held>>10, float64(held)/float64(tc.hwm*tc.size), bound>>10)
			assert.Equal(t, tc.hwm, peerStats(t, push).Queued)
			assert.LessOrEqual(t, held, bound)
		})
	}
}

// A PULL whose application reads nothing holds exactly its receive HWM
// from a peer that sends without pause, and after the application takes
// one message it reads exactly one more: the queue's room comes back
// message by message, not a whole batch at a time.
func TestReceiveSideMemoryFollowsHWM(t *testing.T) {
	for _, tc := range memoryCases {
		t.Run(fmt.Sprintf("%dx%dB", tc.hwm, tc.size), func(t *testing.T) {
			ctx := testCtx(t)
			base := liveHeap()
			pull := newSocket(t, socket.Pull, socket.WithRecvHWM(tc.hwm), socket.WithLinger(0))
			require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
			peer := rawPeer(t, ctx, pull.LastEndpoint(), "PUSH")
			payload := transport.NewMsg(make([]byte, tc.size)) // one buffer for every message
			writing := make(chan error, 1)
			go func() {
				for {
					if err := peer.WriteMsg(payload); err != nil {
						writing <- err
						return
					}
					if err := peer.Flush(); err != nil {
						writing <- err
						return
					}
				}
			}()
			received := func() uint64 {
				if peers := pull.Stats().Peers; len(peers) == 1 {
					return peers[0].Received
				}
				return 0
			}
			require.Eventually(t, func() bool { return received() == uint64(tc.hwm) },
				20*time.Second, time.Millisecond, "the PULL reads up to its HWM")
			_, err := pull.Recv(ctx)
			require.NoError(t, err)
			require.Eventually(t, func() bool { return received() >= uint64(tc.hwm+1) },
				20*time.Second, time.Millisecond, "and one more once a message is taken")
			held := liveHeap() - base
			bound := uint64(tc.hwm*(tc.size+msgOverhead) + bufSlack)
			t.Logf("%d read: %d KiB of heap (%.2fx HWM x size), bound %d KiB",
				received(), held>>10, float64(held)/float64(tc.hwm*tc.size), bound>>10)
			assert.Equal(t, uint64(tc.hwm+1), received(), "no more than the room given back")
			assert.LessOrEqual(t, held, bound)
			peer.Close()
			assert.Error(t, <-writing)
		})
	}
}
