package socket_test

import (
	"context"
	"encoding/binary"
	"net"
	"testing"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// When an accepted peer of a PUSH or DEALER goes away with messages
// still queued for it, they go to the other peers (one that connects
// afterwards, if there is none yet): only those already flushed to the
// departed peer's connection may be lost. Nothing is counted as dropped.
func TestLostPeerQueueIsRerouted(t *testing.T) {
	for _, tc := range []struct {
		typ      socket.Type
		peerType string // the departing raw peer
		next     socket.Type
	}{
		{socket.Push, "PULL", socket.Pull},
		{socket.Dealer, "DEALER", socket.Dealer},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			const (
				before = 400 // sent while only the departing peer is there
				after  = 100
				size   = 64 << 10 // before*size is more than the kernel's buffers hold
			)
			ctx := testCtx(t)
			seqs := newSeqTracker()
			s := newSocket(t, tc.typ, socket.WithSendHWM(1000), socket.WithTransport(newFlushRecorder(seqs)))
			events := watchEvents(t, s, tc.typ.String())
			require.NoError(t, s.Bind("tcp://127.0.0.1:0"))
			addr := s.LastEndpoint()[len("tcp://"):]

			// The departing peer shakes hands, reads nothing, and is the
			// one the recorder watches ("child").
			nc, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			gone := zmtp.NewConn(nc, nc.LocalAddr().String(), addr, zmtp.Options{})
			defer gone.Close()
			_, err = gone.Handshake(ctx, &transport.Config{
				SocketType: tc.peerType,
				Properties: map[string][]byte{frozenRole: []byte("child")},
			})
			require.NoError(t, err)
			_, err = events.await(ctx, 0, func(e socket.Event) bool { return e.Type == socket.EventHandshakeSucceeded })
			require.NoError(t, err)

			send := func(seq uint64) {
				b := make([]byte, size)
				binary.BigEndian.PutUint64(b, seq)
				require.NoError(t, s.Send(ctx, socket.NewMsg(b)))
			}
			for seq := range uint64(before) {
				send(seq)
			}
			// It leaves with unread data: a reset, and its queue is handed
			// back with no peer left to take it.
			require.NoError(t, gone.Close())
			_, err = events.await(ctx, 0, func(e socket.Event) bool { return e.Type == socket.EventDisconnected })
			require.NoError(t, err)

			next := newSocket(t, tc.next)
			require.NoError(t, next.Connect(s.LastEndpoint()))
			for seq := uint64(before); seq < before+after; seq++ {
				send(seq)
			}
			rctx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					m, err := next.Recv(rctx)
					if err != nil {
						return
					}
					seqs.record(atLive, binary.BigEndian.Uint64(m.Frames[0]))
				}
			}()
			require.NoError(t, seqs.waitDelivered(ctx, before+after), "messages not flushed to the departed peer")
			cancel()
			<-done
			dups, lost, flushed := seqs.totals(before + after)
			assert.Empty(t, dups)
			assert.Less(t, flushed, before, "part of the queue was still unsent when the peer left")
			assert.Empty(t, s.Stats().Dropped)
			t.Logf("%d flushed to the departed peer (lost: %d); %d rerouted to the next", flushed, lost, before-flushed)
		})
	}
}
