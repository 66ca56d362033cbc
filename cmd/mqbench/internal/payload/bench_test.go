package payload_test

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

func BenchmarkPut(b *testing.B) {
	buf := make([]byte, 64)
	h := payload.Header{Seq: 1, Intended: 2, Sent: 3, Stream: 4, Kind: payload.Data}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Seq = uint64(i)
		h.Put(buf)
	}
}

func BenchmarkParse(b *testing.B) {
	buf := make([]byte, 64)
	(&payload.Header{Seq: 1, Kind: payload.Data}).Put(buf)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := payload.Parse(buf); err != nil {
			b.Fatal(err)
		}
	}
}
