package workload

import (
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// Result is one message size's outcome, as seen from this process.
type Result struct {
	Impl        string  `json:"impl"`
	Version     string  `json:"version"`
	Mode        string  `json:"mode"`
	Pattern     string  `json:"pattern"`
	Transport   string  `json:"transport"`
	Role        string  `json:"role"`
	Size        int     `json:"size"`
	Clients     int     `json:"clients"`
	Subscribers int     `json:"subscribers"`
	Inflight    int     `json:"inflight"`
	HWM         int     `json:"hwm"`
	Rate        float64 `json:"rate"`
	// Measured is true when this process received the measured messages
	// (the sinks of a one-way run, the clients of a round trip); the
	// other end of a two-process run only reports what it sent or echoed.
	Measured bool `json:"measured"`
	// Latency says what the latency figures are: "one-way" (receive
	// time minus send time; across hosts only as good as their clocks)
	// or "round-trip".
	Latency string `json:"latency_kind"`
	// Sent counts the data messages sent from this process (requests for
	// round trips); Received the data messages (replies) received or
	// echoed here. A pubsub message counts once per subscriber.
	Sent     uint64 `json:"sent"`
	Received uint64 `json:"received"`
	// Lost and OutOfOrder come from the sequence numbers; Dropped is what
	// the library itself reported dropping (brook's socket statistics).
	Lost       uint64 `json:"lost"`
	OutOfOrder uint64 `json:"out_of_order"`
	Dropped    uint64 `json:"dropped"`
	// Elapsed runs from the first to the last measured message received
	// (from the first request for round trips).
	Elapsed    time.Duration `json:"-"`
	ElapsedSec float64       `json:"elapsed_s"`
	MsgsPerSec float64       `json:"msgs_per_s"`
	// MBPerSec is MsgsPerSec times the message size, in 10^6 bytes/s.
	MBPerSec float64 `json:"mb_per_s"`
	// CPUPerMsg is the CPU time (user and system, ns) this process used
	// over Elapsed per message counted in MsgsPerSec: with --role both,
	// both ends' and the library's; across processes, this end's. It
	// moves less than MsgsPerSec with the load of other work on the
	// machine. 0 where the CPU time cannot be read.
	CPUPerMsg float64 `json:"cpu_ns_per_msg"`
	// Corrected is measured from each message's intended send time (the
	// open-loop schedule with --rate: coordinated omission corrected);
	// Uncorrected from its actual send time; SendDelay is actual minus
	// intended (how late the sender was, open loop only).
	Corrected   stats.Summary `json:"latency_us"`
	Uncorrected stats.Summary `json:"latency_uncorrected_us"`
	SendDelay   stats.Summary `json:"send_delay_us"`

	hist *stats.Histogram
}

// Histogram is the merged corrected latency histogram (nil when this
// process did not measure).
func (r *Result) Histogram() *stats.Histogram { return r.hist }

// setRate derives the rates from n messages over the span of starts and
// stops, and the CPU per message from cpu's samples over that span.
func (r *Result) setRate(n uint64, starts, stops []time.Time, cpu *cpuClock) {
	lo, hi := spanTimes(starts, stops)
	if !lo.IsZero() && hi.After(lo) {
		r.Elapsed = hi.Sub(lo)
	}
	r.ElapsedSec = r.Elapsed.Seconds()
	if r.Elapsed > 0 && n > 0 {
		r.MsgsPerSec = float64(n) / r.Elapsed.Seconds()
		r.MBPerSec = r.MsgsPerSec * float64(r.Size) / 1e6
		if cpu != nil {
			if d, ok := cpu.between(lo, hi); ok {
				r.CPUPerMsg = float64(d) / float64(n)
			}
		}
	}
}

// spanTimes returns the earliest start and the latest stop, ignoring zero
// times.
func spanTimes(starts, stops []time.Time) (lo, hi time.Time) {
	for _, t := range starts {
		if !t.IsZero() && (lo.IsZero() || t.Before(lo)) {
			lo = t
		}
	}
	for _, t := range stops {
		if t.After(hi) {
			hi = t
		}
	}
	return lo, hi
}
