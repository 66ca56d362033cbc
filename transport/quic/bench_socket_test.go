package quic

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
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
// over quic://, as mqbench thr does (brook-release gives each message back
// once received, as mqbench's brook does), and the same messages over the
// bare quic-go stream (rawquic, see rawStream) in the same run, so that
// -count interleaves them. Besides msgs/s it reports the process's CPU time per
// message (cpu-ns/msg, the steadier figure on a shared machine), the QUIC
// packets the sending side sent per message and the share of them
// declared lost. On loopback the kernel drops nothing, but quic-go drops
// packets for a connection that already has 256 waiting to be processed
// ("DoS prevention" in its qlog): a receiver starved of CPU loses
// packets, and the sender's congestion window shrinks.
func BenchmarkSocketThroughput(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("%dB/brook", size), func(b *testing.B) {
			pull, push, bt, ct := socketPair(b, socket.Pull, socket.Push)
			ctx := context.Background()
			payload := make([]byte, size)
			stats := func() (sent, lost uint64) { return ct.packetsSent() }
			streamBench(b, size, stats,
				func() error { return push.Send(ctx, socket.NewMsg(payload)) },
				func() error { return nil },
				func() error {
					_, err := pull.Recv(ctx)
					return err
				})
			reportInline(b, bt)
		})
		b.Run(fmt.Sprintf("%dB/brook-release", size), func(b *testing.B) {
			// As mqbench's brook does: each message received is given
			// back, so the reader may carve bodies from recycled slabs.
			pull, push, bt, ct := socketPair(b, socket.Pull, socket.Push)
			ctx := context.Background()
			payload := make([]byte, size)
			stats := func() (sent, lost uint64) { return ct.packetsSent() }
			streamBench(b, size, stats,
				func() error { return push.Send(ctx, socket.NewMsg(payload)) },
				func() error { return nil },
				func() error {
					m, err := pull.Recv(ctx)
					m.Release()
					return err
				})
			reportInline(b, bt)
		})
		b.Run(fmt.Sprintf("%dB/rawquic", size), func(b *testing.B) {
			cli, srv, qc := rawPairConn(b)
			payload := make([]byte, size)
			m := transport.NewMsg(payload)
			stats := func() (sent, lost uint64) {
				st := qc.ConnectionStats()
				return st.PacketsSent, st.PacketsLost
			}
			streamBench(b, size, stats,
				func() error { return cli.WriteMsg(m) },
				cli.Flush,
				func() error {
					_, err := srv.ReadMsg()
					return err
				})
		})
	}
}

// reportInline reports the share of the messages the PULL received that
// its Recv read inline (%inline), from the one connection of its
// Transport t: below 100 the connection's reader goroutine read the rest
// and handed them over.
func reportInline(b *testing.B, t *Transport) {
	c := onlyConn(b, t)
	inline, reader := c.inlineMsgs.Load(), c.readerMsgs.Load()
	b.ReportMetric(100*float64(inline)/float64(max(inline+reader, 1)), "%inline")
}

// streamBench sends b.N messages of size bytes from one goroutine (send,
// then flush once at the end) and receives them on the benchmark's, and
// reports msgs/s, cpu-ns/msg, pkts/msg and %lost (stats: the sending
// side's packets sent and lost so far).
func streamBench(b *testing.B, size int, stats func() (sent, lost uint64), send, flush, recv func() error) {
	sentBefore, lostBefore := stats()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpuBefore := cpuTime()
	sent := make(chan error, 1)
	go func() {
		for range b.N {
			if err := send(); err != nil {
				sent <- err
				return
			}
		}
		sent <- flush()
	}()
	for range b.N {
		if err := recv(); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, <-sent)
	b.StopTimer()
	if cpu := cpuTime(); cpu > 0 {
		b.ReportMetric((cpu-cpuBefore)/float64(b.N), "cpu-ns/msg")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	sentAfter, lostAfter := stats()
	b.ReportMetric(float64(sentAfter-sentBefore)/float64(b.N), "pkts/msg")
	b.ReportMetric(100*float64(lostAfter-lostBefore)/float64(max(sentAfter-sentBefore, 1)), "%lost")
}

// BenchmarkSocketRoundTrip measures REQ/REP round trips of 64 bytes over
// quic:// and the same echo over the bare quic-go stream (rawquic: the
// request flushed, read, written back and flushed), in the same run.
// Besides ns/op it reports the p50 and p99 round trip in microseconds.
func BenchmarkSocketRoundTrip(b *testing.B) {
	b.Run("64B/brook", func(b *testing.B) {
		rep, req, _, _ := socketPair(b, socket.Rep, socket.Req)
		ctx := context.Background()
		payload := make([]byte, 64)
		roundTrips(b,
			func() error {
				m, err := rep.Recv(ctx)
				if err == nil {
					err = rep.Send(ctx, m)
				}
				return err
			},
			func() error {
				if err := req.Send(ctx, socket.NewMsg(payload)); err != nil {
					return err
				}
				_, err := req.Recv(ctx)
				return err
			})
	})
	b.Run("64B/rawquic", func(b *testing.B) {
		cli, srv := rawPair(b)
		m := transport.NewMsg(make([]byte, 64))
		roundTrips(b,
			func() error {
				got, err := srv.ReadMsg()
				if err == nil {
					err = srv.WriteMsg(got)
				}
				if err == nil {
					err = srv.Flush()
				}
				return err
			},
			func() error {
				if err := cli.WriteMsg(m); err != nil {
					return err
				}
				if err := cli.Flush(); err != nil {
					return err
				}
				_, err := cli.ReadMsg()
				return err
			})
	})
}

// roundTrips runs b.N round trips (one call of trip each) against a server
// answering with serve on its own goroutine, and reports the p50 and p99
// round trip.
func roundTrips(b *testing.B, serve, trip func() error) {
	done := make(chan error, 1)
	go func() {
		for range b.N {
			if err := serve(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	rtts := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := trip(); err != nil {
			b.Fatal(err)
		}
		rtts[i] = time.Since(start)
	}
	b.StopTimer()
	require.NoError(b, <-done)
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "p50-us")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds())/1e3, "p99-us")
}
