package stats_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramSummaryAndMerge(t *testing.T) {
	a, b := stats.NewHistogram(), stats.NewHistogram()
	for i := int64(1); i <= 1000; i++ {
		a.Record(i * 1000) // 1..1000 µs
	}
	b.Record(5_000_000) // 5 ms
	b.Record(-3)
	a.Merge(b)
	s := a.Summary()
	assert.EqualValues(t, 1002, s.Count)
	assert.InDelta(t, 500, s.P50, 1)
	assert.InDelta(t, 990, s.P99, 2)
	assert.InDelta(t, 5000, s.Max, 5)
	assert.Zero(t, s.Min)
	assert.EqualValues(t, 1, s.Negative)
	assert.Less(t, s.P90, s.P99)
}

func TestHistogramClamps(t *testing.T) {
	h := stats.NewHistogram()
	h.Record(1 << 50)
	s := h.Summary()
	assert.EqualValues(t, 1, s.Clamped)
	assert.InDelta(t, 100e6, s.Max, 100e3)
}

func TestEmptySummary(t *testing.T) {
	assert.Equal(t, stats.Summary{}, stats.NewHistogram().Summary())
}

func TestWriteHGRM(t *testing.T) {
	h := stats.NewHistogram()
	for i := int64(1); i <= 100; i++ {
		h.Record(i * 1000)
	}
	var buf bytes.Buffer
	require.NoError(t, h.WriteHGRM(&buf))
	out := buf.String()
	assert.True(t, strings.Contains(out, "Percentile"), out)
	assert.Contains(t, out, "#[Max     =      100.031, Total count    =          100]")
}

func TestSequence(t *testing.T) {
	tests := []struct {
		name             string
		seqs             []uint64
		end              uint64
		lost, ooo, recvd uint64
	}{
		{"in order", []uint64{0, 1, 2, 3}, 4, 0, 0, 4},
		{"gap", []uint64{0, 1, 4}, 5, 2, 0, 3},
		{"reordered", []uint64{0, 2, 1, 3}, 4, 0, 1, 4},
		{"tail lost", []uint64{0, 1}, 5, 3, 0, 2},
		{"nothing", nil, 3, 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stats.Sequence
			for _, q := range tt.seqs {
				s.Observe(q)
			}
			s.End(tt.end)
			assert.Equal(t, tt.lost, s.Lost(), "lost")
			assert.Equal(t, tt.ooo, s.OutOfOrder(), "out of order")
			assert.Equal(t, tt.recvd, s.Received(), "received")
		})
	}
}
