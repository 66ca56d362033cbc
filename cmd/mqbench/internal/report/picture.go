package report

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// Spectrum range: percentiles are plotted on a log(1/(1-p)) axis from 0%
// to 99.999% (HdrHistogram's percentile distribution), as far as the
// number of samples resolves.
const (
	maxDecades  = 5    // 99.999%
	decadeSteps = 20   // points per decade
	floorMicros = 0.01 // values below (a clamped 0) are drawn at this
)

// picture is what a report draws: one section per message size.
type picture struct {
	Command string
	Config  string
	Env     Env
	// Latency is what the spectra measure: "round-trip" or "one-way".
	Latency string
	Sizes   []sizeSection
	// Impls orders the implementations (and their colours).
	Impls []string
}

// sizeSection is one message size: the latency spectrum of each
// implementation and, for compare, throughput bars.
type sizeSection struct {
	Size    int
	Spectra []spectrum
	// Missing lists implementations without a latency histogram here,
	// with the reason.
	Missing []string
	// Metric names the bars ("msgs/s", "round trips/s"); empty: no bars.
	Metric string
	Bars   []bar
}

// spectrum is one implementation's latency percentile spectrum.
type spectrum struct {
	Impl    string
	Summary stats.Summary
	// Points rise in percentile; Micros is the latency at Percentile.
	Points []point
}

type point struct{ Percentile, Micros float64 }

// bar is one implementation's throughput: median [min..max] over rounds.
type bar struct {
	Impl             string
	Median, Min, Max float64
}

// histogramOf returns a result's latency histogram (nil if it has none);
// tests give their own.
type histogramOf func(*workload.Result) *stats.Histogram

// WritePicture writes doc as a self-contained HTML page (.html, .htm)
// or a standalone SVG image (.svg) to path: the latency percentile
// spectrum of each implementation, per message size, and for compare the
// throughput of each.
func WritePicture(path string, doc *Document) error {
	write, err := pictureWriter(path)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mqbench: report: %w", err)
	}
	if err := write(f, buildPicture(doc, (*workload.Result).Histogram)); err != nil {
		f.Close()
		return fmt.Errorf("mqbench: report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mqbench: report: %w", err)
	}
	return nil
}

// pictureWriter picks the format from the file name.
func pictureWriter(path string) (func(io.Writer, *picture) error, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return writeHTML, nil
	case ".svg":
		return writeSVG, nil
	}
	return nil, fmt.Errorf("mqbench: report %q: the name must end in .html or .svg", path)
}

// buildPicture gathers the spectra and bars of doc. For compare, an
// implementation's spectrum merges its histograms of every round.
func buildPicture(doc *Document, hist histogramOf) *picture {
	p := &picture{Command: doc.Command, Config: doc.Config, Env: doc.Env, Latency: "round-trip"}
	if c := doc.Compare; c != nil {
		p.Latency = c.Latency
		p.Impls = c.Impls
		for k, t := range c.Tables {
			sec := sizeSection{Size: t.Size}
			for _, name := range c.Impls {
				merged := stats.NewHistogram()
				for i := range c.Runs {
					run := &c.Runs[i]
					if run.Impl != name || run.Error != "" || k >= len(run.Results) {
						continue
					}
					if h := hist(&run.Results[k]); h != nil {
						merged.Merge(h)
					}
				}
				sec.add(name, merged)
			}
			for _, row := range t.Rows {
				if row.HigherIsBetter && !strings.Contains(row.Metric, "MB") {
					sec.Metric = row.Metric
					for _, cell := range row.Cells {
						if len(cell.Values) > 0 {
							sec.Bars = append(sec.Bars, bar{Impl: cell.Impl, Median: cell.Median, Min: cell.Min, Max: cell.Max})
						}
					}
				}
			}
			p.Sizes = append(p.Sizes, sec)
		}
		return p
	}
	for i := range doc.Results {
		r := &doc.Results[i]
		if r.Latency != "" {
			p.Latency = r.Latency
		}
		if !contains(p.Impls, r.Impl) {
			p.Impls = append(p.Impls, r.Impl)
		}
		var sec *sizeSection
		for j := range p.Sizes {
			if p.Sizes[j].Size == r.Size {
				sec = &p.Sizes[j]
			}
		}
		if sec == nil {
			p.Sizes = append(p.Sizes, sizeSection{Size: r.Size})
			sec = &p.Sizes[len(p.Sizes)-1]
		}
		sec.add(r.Impl, hist(r))
	}
	return p
}

// add adds impl's spectrum from h, or notes why there is none.
func (s *sizeSection) add(impl string, h *stats.Histogram) {
	if h == nil || h.Count() == 0 {
		s.Missing = append(s.Missing, impl+": no latency histogram (no successful run, or measured by the other process)")
		return
	}
	s.Spectra = append(s.Spectra, spectrum{Impl: impl, Summary: h.Summary(), Points: spectrumPoints(h)})
}

// spectrumPoints samples h evenly on the log(1/(1-p)) axis, up to the
// percentile its sample count resolves (1 - 1/count) or 99.999%.
func spectrumPoints(h *stats.Histogram) []point {
	top := math.Min(maxDecades, math.Log10(float64(h.Count())))
	var pts []point
	for i := 0; ; i++ {
		x := float64(i) / decadeSteps
		if x > top {
			x = top
		}
		pct := 100 * (1 - math.Pow(10, -x))
		pts = append(pts, point{Percentile: pct, Micros: float64(h.ValueAtQuantile(pct)) / 1e3})
		if x >= top {
			return pts
		}
	}
}

// decades maps a percentile to the x axis: log10(1/(1-p)).
func decades(pct float64) float64 {
	if pct >= 100 {
		return maxDecades
	}
	return math.Min(maxDecades, math.Log10(100/(100-pct)))
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
