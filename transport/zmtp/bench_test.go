package zmtp

import (
	"bufio"
	"encoding/binary"
	"io"
	"testing"

	"github.com/brookmq/brook/transport"
)

var benchSizes = []struct {
	name string
	size int
}{{"64B", 64}, {"1KiB", 1024}}

// BenchmarkConn measures one-way throughput of single-frame messages over
// a loopback TCP pair: a writer goroutine WriteMsg's b.N messages and
// flushes once at the end (the buffer goes out whenever it fills), the
// benchmark goroutine ReadMsg's them.
func BenchmarkConn(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			w, r := tcpConns(b, Options{})
			mustHandshake(b, w, r, &transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL"})
			benchOneWay(b, w, r, bs.size)
		})
	}
}

// benchOneWay streams b.N single-frame messages of size bytes from w to
// r: a writer goroutine WriteMsg's them and flushes once at the end, the
// benchmark goroutine ReadMsg's them.
func benchOneWay(b *testing.B, w, r *Conn, size int) { benchReads(b, w, r, size, false) }

// BenchmarkBareTCP is the practical limit BenchmarkConn is compared with:
// length-prefixed frames through bufio over the same kind of loopback TCP
// pair, flushed only when the buffer fills, each message read into a fresh
// slice.
func BenchmarkBareTCP(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			wc, rc := tcpPair(b)
			bw := bufio.NewWriterSize(wc, DefaultWriteBufferSize)
			br := bufio.NewReaderSize(rc, DefaultReadBufferSize)
			payload := make([]byte, bs.size)
			b.SetBytes(int64(bs.size))
			b.ReportAllocs()
			b.ResetTimer()
			done := make(chan error, 1)
			go func() {
				var hdr [4]byte
				for range b.N {
					binary.BigEndian.PutUint32(hdr[:], uint32(len(payload)))
					if _, err := bw.Write(hdr[:]); err != nil {
						done <- err
						return
					}
					if _, err := bw.Write(payload); err != nil {
						done <- err
						return
					}
				}
				done <- bw.Flush()
			}()
			var hdr [4]byte
			for range b.N {
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					b.Fatal(err)
				}
				m := make([]byte, binary.BigEndian.Uint32(hdr[:]))
				if _, err := io.ReadFull(br, m); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
