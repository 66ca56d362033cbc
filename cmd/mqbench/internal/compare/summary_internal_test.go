package compare

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCellOf(t *testing.T) {
	c := cellOf("x", []float64{5, 1, 3})
	assert.Equal(t, Cell{Impl: "x", Median: 3, Min: 1, Max: 5, Values: []float64{5, 1, 3}}, c)
	assert.InDelta(t, 2.5, cellOf("x", []float64{4, 1, 2, 3}).Median, 0)
	assert.Zero(t, cellOf("x", nil).Median)
}

func TestSummarize(t *testing.T) {
	cfg, err := config.Parse([]string{"compare", "--size", "64,128"})
	require.NoError(t, err)
	res := func(rate float64) []workload.Result {
		return []workload.Result{
			{MsgsPerSec: rate, MBPerSec: rate / 1e6, Corrected: stats.Summary{P50: 1e6 / rate}, CPUPerMsg: 1e9 / rate},
			{MsgsPerSec: rate / 2, Lost: 1},
		}
	}
	runs := []Run{
		{Round: 1, Impl: "brook", Results: res(300)},
		{Round: 1, Impl: "zmq4", Results: res(100)},
		{Round: 2, Impl: "zmq4", Results: res(200)},
		{Round: 2, Impl: "brook", Results: res(100)},
		{Round: 3, Impl: "brook", Results: res(200)},
		{Round: 3, Impl: "zmq4", Results: res(9999), Error: "failed"},
	}
	tables := summarize(cfg, []string{"brook", "zmq4"}, runs)
	require.Len(t, tables, 2)
	rate := tables[0].Rows[0]
	require.Equal(t, "msgs/s", rate.Metric)
	assert.True(t, rate.HigherIsBetter)
	assert.Equal(t, Cell{Impl: "brook", Median: 200, Min: 100, Max: 300, Values: []float64{300, 100, 200}}, rate.Cells[0])
	assert.InDelta(t, 150, rate.Cells[1].Median, 0, "the failed run is left out")
	assert.InDelta(t, 200.0/150, rate.Cells[1].Ratio, 1e-9)
	assert.Equal(t, "p50 µs", tables[0].Rows[2].Metric)
	assert.False(t, tables[0].Rows[2].HigherIsBetter)
	cpu := tables[0].Rows[4]
	require.Equal(t, "cpu ns/msg", cpu.Metric)
	assert.False(t, cpu.HigherIsBetter)
	assert.InDelta(t, 1e9/200, cpu.Cells[0].Median, 1e-6)
	assert.InDelta(t, (1e9/200)/((1e9/100+1e9/200)/2), cpu.Cells[1].Ratio, 1e-9)
	assert.Equal(t, map[string]uint64{"brook": 3, "zmq4": 3}, tables[1].Lost)

	lat, err := config.Parse([]string{"compare", "--mode", "lat"})
	require.NoError(t, err)
	names := []string{}
	for _, m := range metrics(lat.Mode, lat.RoundTrip()) {
		names = append(names, m.name)
	}
	assert.Equal(t, []string{"p50 µs", "p99 µs", "p99.9 µs", "round trips/s", "cpu ns/msg"}, names)
}
