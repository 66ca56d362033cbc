package socket_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/require"
)

// BenchmarkRouterInbound times a ROUTER receiving a stream of messages
// from one DEALER over tcp: the one-message-at-a-time reader, which waits
// for room in the ROUTER's queue before each read.
func BenchmarkRouterInbound(b *testing.B) {
	for _, size := range []int{16, 1024} {
		b.Run(fmt.Sprintf("tcp/%dB", size), func(b *testing.B) {
			ctx := context.Background()
			router, err := socket.New(socket.Router)
			require.NoError(b, err)
			defer router.Close()
			require.NoError(b, router.Bind("tcp://127.0.0.1:0"))
			dealer, err := socket.New(socket.Dealer, socket.WithLinger(0))
			require.NoError(b, err)
			defer dealer.Close()
			require.NoError(b, dealer.Connect(router.LastEndpoint()))
			body := make([]byte, size)
			// Warm up: the connection is there and the queue works.
			require.NoError(b, dealer.Send(ctx, socket.NewMsg(body)))
			_, err = router.Recv(ctx)
			require.NoError(b, err)

			done := make(chan error, 1)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			go func() {
				for range b.N {
					if err := dealer.Send(ctx, socket.NewMsg(body)); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for range b.N {
				if _, err := router.Recv(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			require.NoError(b, <-done)
		})
	}
}
