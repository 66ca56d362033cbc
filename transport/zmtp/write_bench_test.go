package zmtp

import (
	"fmt"
	"testing"

	"github.com/brookmq/brook/transport"
)

// discardRW is a stream that takes every write whole and reads nothing.
type discardRW struct{}

func (discardRW) Read([]byte) (int, error)    { return 0, nil }
func (discardRW) Write(p []byte) (int, error) { return len(p), nil }
func (discardRW) Close() error                { return nil }

// BenchmarkWriteMsg is the send path's per-message cost in the engine
// alone: WriteMsg of one single-frame message to a stream that takes
// everything, flushed every 32 KiB as the socket's pipe writer does.
func BenchmarkWriteMsg(b *testing.B) {
	for _, size := range []int{16, 256, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			c := NewConn(discardRW{}, "local", "peer", Options{})
			c.ready.Store(true)
			c.initBuffers()
			msg := transport.NewMsg(make([]byte, size))
			per := (32 << 10) / (size + 9)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := c.WriteMsg(msg); err != nil {
					b.Fatal(err)
				}
				if i%per == per-1 {
					if err := c.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := c.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
