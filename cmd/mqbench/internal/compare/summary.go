package compare

import (
	"slices"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// Table holds the figures for one message size.
type Table struct {
	Size int   `json:"size"`
	Rows []Row `json:"rows"`
	// Lost is the total of lost messages per implementation over all
	// rounds.
	Lost map[string]uint64 `json:"lost"`
}

// Row is one metric across the implementations.
type Row struct {
	Metric string `json:"metric"`
	// HigherIsBetter says how to read the ratio: above 1 brook is ahead
	// for throughput, below 1 for latency.
	HigherIsBetter bool   `json:"higher_is_better"`
	Cells          []Cell `json:"cells"`
}

// Cell is one implementation's figure for a metric.
type Cell struct {
	Impl   string    `json:"impl"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
	// Ratio is brook's median over this implementation's (0 for brook
	// itself, or when this median is 0).
	Ratio float64 `json:"ratio,omitempty"`
}

// metric is one figure taken from a Result.
type metric struct {
	name   string
	higher bool
	get    func(*workload.Result) float64
}

func metrics(mode config.Mode, roundTrip bool) []metric {
	rate := metric{"msgs/s", true, func(r *workload.Result) float64 { return r.MsgsPerSec }}
	mb := metric{"MB/s", true, func(r *workload.Result) float64 { return r.MBPerSec }}
	p50 := metric{"p50 µs", false, func(r *workload.Result) float64 { return r.Corrected.P50 }}
	p99 := metric{"p99 µs", false, func(r *workload.Result) float64 { return r.Corrected.P99 }}
	p999 := metric{"p99.9 µs", false, func(r *workload.Result) float64 { return r.Corrected.P999 }}
	cpu := metric{"cpu ns/msg", false, func(r *workload.Result) float64 { return r.CPUPerMsg }}
	if mode == config.Latency || roundTrip {
		rate.name = "round trips/s"
		return []metric{p50, p99, p999, rate, cpu}
	}
	return []metric{rate, mb, p50, p99, cpu}
}

// summarize builds one table per size from the successful runs.
func summarize(cfg *config.Config, impls []string, runs []Run) []Table {
	var tables []Table
	for k, size := range cfg.Sizes {
		t := Table{Size: size, Lost: map[string]uint64{}}
		for _, m := range metrics(cfg.Mode, cfg.RoundTrip()) {
			row := Row{Metric: m.name, HigherIsBetter: m.higher}
			for _, name := range impls {
				var vals []float64
				for i := range runs {
					if runs[i].Impl != name || runs[i].Error != "" || k >= len(runs[i].Results) {
						continue
					}
					vals = append(vals, m.get(&runs[i].Results[k]))
				}
				row.Cells = append(row.Cells, cellOf(name, vals))
			}
			for i := 1; i < len(row.Cells); i++ {
				if row.Cells[i].Median != 0 {
					row.Cells[i].Ratio = row.Cells[0].Median / row.Cells[i].Median
				}
			}
			t.Rows = append(t.Rows, row)
		}
		for i := range runs {
			if k < len(runs[i].Results) {
				t.Lost[runs[i].Impl] += runs[i].Results[k].Lost
			}
		}
		tables = append(tables, t)
	}
	return tables
}

// cellOf condenses vals into median, min and max. The median of an even
// count is the mean of the middle two.
func cellOf(name string, vals []float64) Cell {
	c := Cell{Impl: name, Values: vals}
	if len(vals) == 0 {
		return c
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	c.Min, c.Max = s[0], s[len(s)-1]
	if n := len(s); n%2 == 1 {
		c.Median = s[n/2]
	} else {
		c.Median = (s[n/2-1] + s[n/2]) / 2
	}
	return c
}
