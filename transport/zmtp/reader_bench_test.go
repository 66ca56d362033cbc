package zmtp

import (
	"fmt"
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// readSizes are the single-frame message sizes BenchmarkReadMsg runs:
// slab-carved bodies, a body read through the read buffer, and bodies
// larger than the read buffer, up to ones beyond the reader's old 8 MiB
// first chunk.
var readSizes = []struct {
	name string
	size int
}{
	{"16B", 16}, {"256B", 256}, {"16KiB", 16 << 10}, {"48KiB", 48 << 10}, {"64KiB", 64 << 10},
	{"256KiB", 256 << 10}, {"1MiB", 1 << 20}, {"8MiB", 8 << 20}, {"32MiB", 32 << 20},
}

// BenchmarkReadMsg measures the receiving side of a zmtp Conn pair over
// loopback TCP: a writer goroutine sends b.N single-frame messages (one
// shared payload, flushed at the end and whenever the buffer fills) while
// the benchmark goroutine reads them. allocs/op and B/op are the reader's
// allocations per message (the writer allocates nothing, see
// TestWriteMsgDoesNotAllocate).
func BenchmarkReadMsg(b *testing.B) {
	for _, rs := range readSizes {
		b.Run(rs.name, func(b *testing.B) {
			w, r := nullPair(b)
			benchReads(b, w, r, rs.size, false)
		})
	}
}

// benchReads reads b.N single-frame messages of size bytes on r while a
// writer goroutine sends them on w (one shared payload), releasing each
// once read if release says so.
func benchReads(b *testing.B, w, r *Conn, size int, release bool) {
	msg := transport.NewMsg(make([]byte, size))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	done := sendRepeated(w, msg, b.N)
	for range b.N {
		m, err := r.ReadMsg()
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Frames[0]) != size {
			b.Fatalf("got %d bytes", len(m.Frames[0]))
		}
		if release {
			m.Release()
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkReadMsgRelease is BenchmarkReadMsg for slab-carved and large messages, plain
// and CURVE, with each message left to the collector (keep) or given
// back with Release once read (release): what recycling bodies saves the
// reader, in time and in allocs/op and B/op.
//
//	go test -run '^$' -bench ReadMsgRelease -benchmem ./transport/zmtp/
func BenchmarkReadMsgRelease(b *testing.B) {
	for _, mech := range []string{"NULL", "CURVE"} {
		for _, size := range []int{256, 1 << 10, 16 << 10, 48 << 10, 64 << 10, 256 << 10, 1 << 20} {
			for _, release := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/keep", mech, byteCount(size))
				if release {
					name = fmt.Sprintf("%s/%s/release", mech, byteCount(size))
				}
				b.Run(name, func(b *testing.B) {
					bufpool.SetActive(release)
					defer bufpool.SetActive(false)
					var w, r *Conn
					if mech == "CURVE" {
						w, r = curvePair(b, Options{})
					} else {
						w, r = nullPair(b)
					}
					benchReads(b, w, r, size, release)
				})
			}
		}
	}
}

// loopStream serves block over and over, as a peer streaming the same
// frames would, with no network between: what the reader spends is its
// own.
type loopStream struct {
	block []byte
	off   int
}

func (s *loopStream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], s.block[s.off:])
		n += k
		s.off = (s.off + k) % len(s.block)
	}
	return n, nil
}
func (s *loopStream) Write(p []byte) (int, error) { return len(p), nil }
func (s *loopStream) Close() error                { return nil }

// BenchmarkReadMsgs measures the reader goroutine's parsing alone:
// ReadMsgs batches of up to 128 single-frame messages from a stream
// that always has more (loopStream), each message dropped once read
// (B/op and allocs/op are the slabs' share per message).
//
//	go test -run '^$' -bench ReadMsgs -benchmem ./transport/zmtp/
func BenchmarkReadMsgs(b *testing.B) {
	for _, size := range []int{16, 256, 1 << 10} {
		b.Run(byteCount(size), func(b *testing.B) {
			var block []byte
			for len(block) < 64<<10 {
				block = append(block, rawFrame(0, make([]byte, size))...)
			}
			c := NewConn(&loopStream{block: block}, "local", "peer", Options{})
			c.initBuffers()
			c.ready.Store(true)
			defer c.Close()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			batch := make([]transport.Msg, 0, 128)
			for n := 0; n < b.N; {
				var err error
				batch, err = c.ReadMsgs(batch[:0], min(128, b.N-n))
				if err != nil {
					b.Fatal(err)
				}
				if len(batch[0].Frames[0]) != size {
					b.Fatalf("got %d bytes", len(batch[0].Frames[0]))
				}
				n += len(batch)
			}
		})
	}
}
