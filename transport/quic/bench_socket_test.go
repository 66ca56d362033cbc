package quic

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// packetsSent is how many QUIC packets the Transport's connections sent,
// and how many of them quic-go declared lost.
func (t *Transport) packetsSent() (sent, lost uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.conns {
		st := c.qc.ConnectionStats()
		sent += st.PacketsSent
		lost += st.PacketsLost
	}
	return sent, lost
}

// BenchmarkSocketThroughput streams messages from a PUSH to a PULL socket
// over quic://, as mqbench thr does, and reports the QUIC packets the
// PUSH side sent per message and the share of them declared lost. On
// loopback the kernel drops nothing, but quic-go drops packets for a
// connection that already has 256 waiting to be processed ("DoS
// prevention" in its qlog): a receiver starved of CPU loses packets, and
// the sender's congestion window shrinks.
func BenchmarkSocketThroughput(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			pull, push, _, ct := socketPair(b, socket.Pull, socket.Push)
			ctx := context.Background()
			sentBefore, lostBefore := ct.packetsSent()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			sent := make(chan error, 1)
			go func() {
				for range b.N {
					if err := push.Send(ctx, socket.NewMsg(make([]byte, size))); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
			for range b.N {
				if _, err := pull.Recv(ctx); err != nil {
					b.Fatal(err)
				}
			}
			require.NoError(b, <-sent)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			sentAfter, lostAfter := ct.packetsSent()
			b.ReportMetric(float64(sentAfter-sentBefore)/float64(b.N), "pkts/msg")
			b.ReportMetric(100*float64(lostAfter-lostBefore)/float64(max(sentAfter-sentBefore, 1)), "%lost")
		})
	}
}

// BenchmarkSocketRoundTrip measures REQ/REP round trips of 64 bytes over
// quic://.
func BenchmarkSocketRoundTrip(b *testing.B) {
	rep, req, _, _ := socketPair(b, socket.Rep, socket.Req)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		for range b.N {
			m, err := rep.Recv(ctx)
			if err == nil {
				err = rep.Send(ctx, m)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	payload := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := req.Send(ctx, socket.NewMsg(payload)); err != nil {
			b.Fatal(err)
		}
		if _, err := req.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, <-done)
}
