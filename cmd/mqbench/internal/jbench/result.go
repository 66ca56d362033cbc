package jbench

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/report"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// Result is one mqbench journal run.
type Result struct {
	Workload  string `json:"workload"`
	Transport string `json:"transport"`
	Sync      string `json:"sync"`
	Count     int64  `json:"count"`
	HWM       int    `json:"hwm"`
	// Dir is where the journals were (removed after the run).
	Dir      string    `json:"dir"`
	Sections []Section `json:"sections"`
}

// Section is one message size (and, for fanout, one subscriber count):
// its figures, the ratios between them, and the targets they are held to.
type Section struct {
	Title   string   `json:"title"`
	Size    int      `json:"size"`
	Figures []Figure `json:"figures"`
	Ratios  []Ratio  `json:"ratios,omitempty"`
	Targets []Target `json:"targets,omitempty"`
}

// Figure is one measured rate, with what was measured on the way.
type Figure struct {
	Name string `json:"name"`
	// Count is the number of messages the rate is over (per subscriber
	// where the figure is per subscriber).
	Count      int64   `json:"count"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_s"`
	// Lost, Duplicates and OutOfOrder come from the sequence numbers.
	Lost       uint64    `json:"lost"`
	Duplicates uint64    `json:"duplicates"`
	OutOfOrder uint64    `json:"out_of_order"`
	Latency    []Latency `json:"latency,omitempty"`
	// CPUPerMsg is the CPU time (user and system, every goroutine of the
	// process) the measurement used per message, in µs: unlike the rate,
	// it does not depend on how much of the machine others take. 0 where
	// not measured.
	CPUPerMsg float64 `json:"cpu_us_per_msg,omitempty"`
	// WritePerMsg is the wall time the journal's writer spent in write(2)
	// per message, in µs: the kernel copying records into the page cache,
	// a cost of the machine rather than of brook. It includes any time the
	// writer waited for a CPU inside the call, so on a busy machine it can
	// exceed CPUPerMsg. 0 where not measured.
	WritePerMsg float64 `json:"write_us_per_msg,omitempty"`
	Note        string  `json:"note,omitempty"`
	// Lossless says the figure's messages must all arrive: its losses
	// make the run exit with mqbench's loss code.
	Lossless bool `json:"lossless"`
}

// Latency is one latency distribution of a figure, in µs.
type Latency struct {
	Name string `json:"name"`
	stats.Summary
}

// Ratio is one figure's rate over another's.
type Ratio struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Target is a goal a figure is held to (from the issues).
type Target struct {
	Name string  `json:"name"`
	Want float64 `json:"want"`
	Got  float64 `json:"got"`
	Met  bool    `json:"met"`
}

// setRate sets a figure's rate over n messages in d.
func (f *Figure) setRate(n int64, d time.Duration) {
	f.Count = n
	f.Seconds = d.Seconds()
	if d > 0 {
		f.MsgsPerSec = float64(n) / d.Seconds()
	}
}

// cpuMeter measures the process's CPU time over a measurement.
type cpuMeter time.Duration

func startCPU() cpuMeter { return cpuMeter(cpuTime()) }

// charge sets f's CPU cost per message: what the process used since m
// started, over f.Count messages.
func (m cpuMeter) charge(f *Figure) {
	used := cpuTime() - time.Duration(m)
	if used > 0 && m > 0 && f.Count > 0 {
		f.CPUPerMsg = float64(used.Microseconds()) / float64(f.Count)
	}
}

// latency adds a latency distribution, if it has values.
func (f *Figure) latency(name string, h *stats.Histogram) {
	if h != nil && h.Count() > 0 {
		f.Latency = append(f.Latency, Latency{Name: name, Summary: h.Summary()})
	}
}

// ratio returns the ratio of a's rate to b's, named.
func ratio(name string, a, b Figure) Ratio {
	r := Ratio{Name: name}
	if b.MsgsPerSec > 0 {
		r.Value = a.MsgsPerSec / b.MsgsPerSec
	}
	return r
}

func target(name string, want, got float64) Target {
	return Target{Name: name, Want: want, Got: got, Met: got >= want}
}

// Losses sums the losses of figures that must not lose anything.
func (r *Result) Losses() (lost uint64, where []string) {
	for _, s := range r.Sections {
		for _, f := range s.Figures {
			if f.Lossless && f.Lost+f.Duplicates+f.OutOfOrder > 0 {
				lost += f.Lost + f.Duplicates + f.OutOfOrder
				where = append(where, fmt.Sprintf("%s, %s: %d lost, %d duplicates, %d out of order", s.Title, f.Name, f.Lost, f.Duplicates, f.OutOfOrder))
			}
		}
	}
	return lost, where
}

// Text writes the result for people.
func (r *Result) Text(w io.Writer) {
	hwm := "default"
	if r.HWM > 0 {
		hwm = fmt.Sprint(r.HWM)
	}
	fmt.Fprintf(w, "workload=%s transport=%s sync=%s count=%d hwm=%s journals in %s\n", r.Workload, r.Transport, r.Sync, r.Count, hwm, r.Dir)
	for _, s := range r.Sections {
		fmt.Fprintf(w, "\n%s\n", s.Title)
		width := 0
		for _, f := range s.Figures {
			width = max(width, len(f.Name))
		}
		for _, f := range s.Figures {
			fmt.Fprintf(w, "  %-*s %9s msgs/s  %8.3f s", width, f.Name, report.Count(f.MsgsPerSec), f.Seconds)
			if f.CPUPerMsg > 0 {
				fmt.Fprintf(w, "  cpu %5.2f µs/msg", f.CPUPerMsg)
			}
			if f.WritePerMsg > 0 {
				fmt.Fprintf(w, " (journal in write(2): %.2f µs/msg wall)", f.WritePerMsg)
			}
			fmt.Fprintf(w, "  lost %d", f.Lost)
			if f.Duplicates+f.OutOfOrder > 0 {
				fmt.Fprintf(w, "  duplicates %d  out of order %d", f.Duplicates, f.OutOfOrder)
			}
			if f.Note != "" {
				fmt.Fprintf(w, "  (%s)", f.Note)
			}
			fmt.Fprintln(w)
			for _, l := range f.Latency {
				fmt.Fprintf(w, "  %-*s   %s µs: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", width, "", l.Name,
					l.P50, l.P90, l.P99, l.P999, l.Max)
			}
		}
		if len(s.Ratios) > 0 {
			parts := make([]string, len(s.Ratios))
			for i, q := range s.Ratios {
				parts[i] = fmt.Sprintf("%s %.2f", q.Name, q.Value)
			}
			fmt.Fprintf(w, "  ratios: %s\n", strings.Join(parts, "; "))
		}
		for _, t := range s.Targets {
			verdict := "met"
			if !t.Met {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "  target: %s >= %s, got %s: %s\n", t.Name, num(t.Want), num(t.Got), verdict)
		}
	}
}

// num formats a target's figure: a rate with k/M, a ratio with two
// decimals.
func num(v float64) string {
	if v >= 1000 {
		return report.Count(v)
	}
	return fmt.Sprintf("%.2f", v)
}
