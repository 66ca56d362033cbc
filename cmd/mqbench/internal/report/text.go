package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// Banner writes the configuration and environment of a run.
func Banner(w io.Writer, cfg *config.Config, env Env, versions []string) {
	fmt.Fprintf(w, "mqbench %s  %s\n", cfg.Command, Describe(cfg))
	dirty := ""
	if env.Dirty {
		dirty = " (modified)"
	}
	fmt.Fprintf(w, "%s %s/%s  cpu: %s (%d threads)  GOMAXPROCS=%d  commit %s%s\n",
		env.GoVersion, env.OS, env.Arch, env.CPU, env.NumCPU, env.GOMAXPROCS, env.Commit, dirty)
	for _, v := range versions {
		fmt.Fprintf(w, "  %s\n", v)
	}
	fmt.Fprintln(w)
}

// Describe is a one-line summary of the workload settings.
func Describe(cfg *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mode=%s pattern=%s transport=%s", cfg.Mode, cfg.Pattern, cfg.Transport)
	if cfg.Endpoint != "" {
		fmt.Fprintf(&b, " endpoint=%s", cfg.Endpoint)
	}
	if cfg.Command != "compare" {
		fmt.Fprintf(&b, " impl=%s role=%s", cfg.Impl, cfg.Role)
	}
	sizes := make([]string, len(cfg.Sizes))
	for i, s := range cfg.Sizes {
		sizes[i] = fmt.Sprint(s)
	}
	fmt.Fprintf(&b, " size=%s", strings.Join(sizes, ","))
	if cfg.Duration > 0 {
		fmt.Fprintf(&b, " duration=%s", cfg.Duration)
	} else {
		fmt.Fprintf(&b, " count=%d", cfg.Count)
	}
	fmt.Fprintf(&b, " warmup=%s", cfg.Warmup)
	if cfg.Pattern == config.PubSub {
		fmt.Fprintf(&b, " subscribers=%d", cfg.Subscribers)
	} else {
		fmt.Fprintf(&b, " clients=%d", cfg.Clients)
	}
	if cfg.RoundTrip() {
		fmt.Fprintf(&b, " inflight=%d", cfg.Inflight)
	}
	if cfg.HWM > 0 {
		fmt.Fprintf(&b, " hwm=%d", cfg.HWM)
	} else {
		b.WriteString(" hwm=default")
	}
	if cfg.Rate > 0 {
		fmt.Fprintf(&b, " rate=%g/s (open loop)", cfg.Rate)
	} else {
		b.WriteString(" rate=closed-loop")
	}
	return b.String()
}

// Text writes one result for people.
func Text(w io.Writer, r *workload.Result) {
	what := "received"
	switch {
	case r.Latency == "round-trip" && r.Measured:
		what = "round trips"
	case !r.Measured && r.Latency == "round-trip":
		what = "echoed"
	case !r.Measured:
		what = "sent"
	}
	n := r.Received
	if what == "sent" {
		n = r.Sent
	}
	fmt.Fprintf(w, "%s %d B: %s msgs/s  %.1f MB/s  (%d %s in %.3f s; sent %d, lost %d, out of order %d, dropped by library %d)\n",
		r.Impl, r.Size, Count(r.MsgsPerSec), r.MBPerSec, n, what, r.ElapsedSec, r.Sent, r.Lost, r.OutOfOrder, r.Dropped)
	if r.CPUPerMsg > 0 {
		fmt.Fprintf(w, "  cpu %.0f ns/msg (this process, user+system, over the same time)\n", r.CPUPerMsg)
	}
	if !r.Measured {
		fmt.Fprintln(w, "  latency is measured by the other process")
		return
	}
	from := "from send"
	if r.Rate > 0 {
		from = "from intended send time"
	}
	latencyLine(w, fmt.Sprintf("%s latency µs (%s)", r.Latency, from), r.Corrected)
	if r.Rate > 0 {
		latencyLine(w, "uncorrected µs (from actual send time)", r.Uncorrected)
		latencyLine(w, "send delay µs (actual - intended)", r.SendDelay)
	}
	if r.Corrected.Negative > 0 {
		fmt.Fprintf(w, "  warning: %d latencies were negative: the two hosts' clocks disagree\n", r.Corrected.Negative)
	}
}

func latencyLine(w io.Writer, label string, s stats.Summary) {
	fmt.Fprintf(w, "  %-44s min %s  p50 %s  p90 %s  p99 %s  p99.9 %s  p99.99 %s  max %s  mean %s\n",
		label+":", us(s.Min), us(s.P50), us(s.P90), us(s.P99), us(s.P999), us(s.P9999), us(s.Max), us(s.Mean))
}

// us formats microseconds with three significant figures or more.
func us(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Count formats a rate with a k/M suffix.
func Count(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
