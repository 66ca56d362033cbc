package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/compare"
	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/report"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBannerAndDescribe(t *testing.T) {
	cfg, err := config.Parse([]string{"lat", "--pattern", "dealerrouter", "--size", "64,1k", "--rate", "100", "--duration", "1s", "--hwm", "10"})
	require.NoError(t, err)
	var buf bytes.Buffer
	report.Banner(&buf, cfg, report.Env{GoVersion: "go1.x", OS: "linux", Arch: "amd64", CPU: "Test CPU", NumCPU: 2, GOMAXPROCS: 2, Commit: "abc", Dirty: true}, []string{"brook v0"})
	out := buf.String()
	assert.Contains(t, out, "mqbench lat  mode=lat pattern=dealerrouter transport=tcp impl=brook role=both size=64,1024 duration=1s")
	assert.Contains(t, out, "inflight=1 hwm=10 rate=100/s (open loop)")
	assert.Contains(t, out, "go1.x linux/amd64  cpu: Test CPU (2 threads)  GOMAXPROCS=2  commit abc (modified)")
	assert.Contains(t, out, "  brook v0\n")
}

func TestText(t *testing.T) {
	var buf bytes.Buffer
	r := workload.Result{Impl: "brook", Size: 64, Latency: "one-way", Measured: true, Received: 10, Sent: 10, MsgsPerSec: 1234567, MBPerSec: 79.0,
		Corrected: stats.Summary{Min: 1, P50: 12.345, P90: 99.9, P99: 123.4, Max: 5000, Negative: 3}}
	report.Text(&buf, &r)
	out := buf.String()
	assert.Contains(t, out, "brook 64 B: 1.23M msgs/s  79.0 MB/s  (10 received")
	assert.Contains(t, out, "one-way latency µs (from send):")
	assert.Contains(t, out, "p50 12.3  p90 99.9  p99 123")
	assert.Contains(t, out, "warning: 3 latencies were negative")
	assert.NotContains(t, out, "uncorrected", "closed loop has nothing to correct")

	buf.Reset()
	r = workload.Result{Impl: "zmq4", Size: 64, Latency: "round-trip", Sent: 5, Received: 5}
	report.Text(&buf, &r)
	assert.Contains(t, buf.String(), "(5 echoed")
	assert.Contains(t, buf.String(), "latency is measured by the other process")
}

func TestCount(t *testing.T) {
	assert.Equal(t, "999", report.Count(999))
	assert.Equal(t, "12.3k", report.Count(12345))
	assert.Equal(t, "4.56M", report.Count(4_560_000))
}

func TestCSVAndJSON(t *testing.T) {
	results := []workload.Result{{Impl: "brook", Mode: "thr", Pattern: "pushpull", Size: 64, Sent: 3, Received: 3, Corrected: stats.Summary{P50: 1.5}}}
	var buf bytes.Buffer
	require.NoError(t, report.CSV(&buf, results))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, len(strings.Split(lines[0], ",")), len(strings.Split(lines[1], ",")))
	assert.Contains(t, lines[1], "brook,thr,pushpull,,,64,")

	buf.Reset()
	require.NoError(t, report.JSON(&buf, &report.Document{Command: "thr", Results: results}))
	assert.Contains(t, buf.String(), `"p50_us": 1.5`)
	assert.Contains(t, buf.String(), `"msgs_per_s": 0`)
}

func TestHGRMPath(t *testing.T) {
	r := workload.Result{Impl: "brook", Size: 64}
	assert.Equal(t, "a.hgrm", report.HGRMPath("a.hgrm", &r, false, 0))
	assert.Equal(t, "dir/a-brook-64B.hgrm", report.HGRMPath("dir/a.hgrm", &r, true, 0))
	assert.Equal(t, "a-brook-64B-round2.txt", report.HGRMPath("a.txt", &r, true, 2))
	assert.Equal(t, "a-brook-64B.hgrm", report.HGRMPath("a", &r, true, 0))
	// No histogram (the other side measured): nothing is written.
	require.NoError(t, report.WriteHGRM("/nonexistent/dir/x.hgrm", &r))
}

func TestCompareTable(t *testing.T) {
	c := &compare.Comparison{
		Rounds:  3,
		Latency: "one-way",
		Impls:   []string{"brook", "zmq4"},
		Skipped: map[string]string{"raw": "not this pattern"},
		Tables: []compare.Table{{
			Size: 64,
			Rows: []compare.Row{
				{Metric: "msgs/s", HigherIsBetter: true, Cells: []compare.Cell{
					{Impl: "brook", Median: 2e6, Min: 1.9e6, Max: 2.1e6, Values: []float64{1.9e6, 2e6, 2.1e6}},
					{Impl: "zmq4", Median: 5e5, Min: 4e5, Max: 6e5, Values: []float64{4e5, 5e5, 6e5}, Ratio: 4},
				}},
				{Metric: "p99 µs", Cells: []compare.Cell{
					{Impl: "brook", Median: 12.5, Min: 10, Max: 15, Values: []float64{10, 12.5, 15}},
					{Impl: "zmq4"},
				}},
			},
			Lost: map[string]uint64{"zmq4": 7},
		}},
	}
	var buf bytes.Buffer
	report.CompareTable(&buf, c)
	out := buf.String()
	assert.Contains(t, out, "skipped raw: not this pattern")
	assert.Contains(t, out, "3 rounds, implementations interleaved")
	assert.Contains(t, out, "latencies are one-way")
	assert.Contains(t, out, "metric      brook                 zmq4                     brook/zmq4")
	assert.Contains(t, out, "msgs/s      2.00M [1.90M..2.10M]  500.0k [400.0k..600.0k]  4.00")
	assert.Contains(t, out, "p99 µs      12.5 [10.0..15.0]     failed                   -")
	assert.Contains(t, out, "lost (sum)  0                     7")
}
