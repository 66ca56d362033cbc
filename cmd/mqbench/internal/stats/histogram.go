// Package stats records what mqbench measures: latency histograms
// (HdrHistogram, one per worker, merged at the end) and per-stream
// sequence tracking for lost and reordered messages.
package stats

import (
	"fmt"
	"io"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 ns to 100 s at 3 significant digits (0.1% error).
const (
	lowestNs  = 1
	highestNs = 100_000_000_000
	sigFigs   = 3
)

// Histogram records latencies in nanoseconds. It is not safe for
// concurrent use: give each worker its own and Merge them.
type Histogram struct {
	h *hdrhistogram.Histogram
	// negative counts values below zero (clocks of two hosts disagreeing),
	// recorded as 0; clamped counts values above the range, recorded as
	// the highest value.
	negative, clamped int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(lowestNs, highestNs, sigFigs)}
}

// Record adds one latency in nanoseconds.
func (h *Histogram) Record(ns int64) {
	switch {
	case ns < 0:
		h.negative++
		ns = 0
	case ns > highestNs:
		h.clamped++
		ns = highestNs
	}
	// In range by construction, so RecordValue cannot fail.
	_ = h.h.RecordValue(ns)
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	h.h.Merge(o.h)
	h.negative += o.negative
	h.clamped += o.clamped
}

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// ValueAtQuantile returns the value at quantile q (0..100) in ns.
func (h *Histogram) ValueAtQuantile(q float64) int64 { return h.h.ValueAtQuantile(q) }

// Summary condenses the histogram into the figures mqbench prints.
func (h *Histogram) Summary() Summary {
	if h.Count() == 0 {
		return Summary{}
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Summary{
		Count:    h.Count(),
		Min:      us(h.h.Min()),
		P50:      us(h.h.ValueAtQuantile(50)),
		P90:      us(h.h.ValueAtQuantile(90)),
		P99:      us(h.h.ValueAtQuantile(99)),
		P999:     us(h.h.ValueAtQuantile(99.9)),
		P9999:    us(h.h.ValueAtQuantile(99.99)),
		Max:      us(h.h.Max()),
		Mean:     h.h.Mean() / 1e3,
		Negative: h.negative,
		Clamped:  h.clamped,
	}
}

// WriteHGRM writes the percentile distribution in HdrHistogram's text
// format (.hgrm), values in microseconds, readable by the HdrHistogram
// plotter.
func (h *Histogram) WriteHGRM(w io.Writer) error {
	if _, err := h.h.PercentilesPrint(w, 5, 1000); err != nil {
		return fmt.Errorf("mqbench: write hgrm: %w", err)
	}
	return nil
}

// Summary is a histogram's percentiles in microseconds.
type Summary struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p99_9_us"`
	P9999 float64 `json:"p99_99_us"`
	Max   float64 `json:"max_us"`
	Mean  float64 `json:"mean_us"`
	// Negative counts latencies below zero (recorded as 0): the sender's
	// and receiver's clocks disagree. Clamped counts latencies above
	// 100 s (recorded as 100 s).
	Negative int64 `json:"negative,omitempty"`
	Clamped  int64 `json:"clamped,omitempty"`
}
