package stats_test

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// BenchmarkRecord is the per-message cost of a latency sample.
func BenchmarkRecord(b *testing.B) {
	h := stats.NewHistogram()
	b.ReportAllocs()
	for i := int64(0); b.Loop(); i++ {
		h.Record(1000 + i%100000)
	}
}

func BenchmarkSequenceObserve(b *testing.B) {
	var s stats.Sequence
	b.ReportAllocs()
	for i := uint64(0); b.Loop(); i++ {
		s.Observe(i)
	}
}
