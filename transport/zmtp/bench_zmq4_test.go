package zmtp

import (
	"context"
	"testing"

	zmq4 "github.com/go-zeromq/zmq4"
)

// BenchmarkGoZeroMQ is the same workload as BenchmarkConn with
// go-zeromq/zmq4 PUSH and PULL sockets over loopback TCP, for comparison.
func BenchmarkGoZeroMQ(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pull := zmq4.NewPull(ctx)
			defer pull.Close()
			if err := pull.Listen("tcp://127.0.0.1:0"); err != nil {
				b.Fatal(err)
			}
			push := zmq4.NewPush(ctx)
			defer push.Close()
			if err := push.Dial("tcp://" + pull.Addr().String()); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, bs.size)
			b.SetBytes(int64(bs.size))
			b.ReportAllocs()
			b.ResetTimer()
			done := make(chan error, 1)
			go func() {
				for range b.N {
					if err := push.Send(zmq4.NewMsg(payload)); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for range b.N {
				m, err := pull.Recv()
				if err != nil {
					b.Fatal(err)
				}
				if len(m.Frames[0]) != bs.size {
					b.Fatalf("got %d bytes", len(m.Frames[0]))
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
