package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := mqbench(t, false, "compare", "--impls", "brook,zmq4,raw", "--pattern", "pushpull", "--transport", "tcp",
		"--count", "1000", "--size", "64,1k", "--rounds", "2", "--warmup", "0s", "--json", filepath.Join(dir, "c.json"),
		"--hgrm", filepath.Join(dir, "c.hgrm"))
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "2 rounds, implementations interleaved")
	assert.Contains(t, out, "size 64 B")
	assert.Contains(t, out, "size 1024 B")
	assert.Contains(t, out, "brook/zmq4")
	assert.Contains(t, out, "brook/raw")
	assert.Contains(t, out, "msgs/s")
	assert.FileExists(t, filepath.Join(dir, "c-zmq4-1024B-round2.hgrm"))

	code, out, errOut = mqbench(t, false, "compare", "--impls", "brook,zmq4", "--mode", "lat", "--pattern", "reqrep",
		"--transport", "inproc", "--count", "300", "--rounds", "3", "--warmup", "10ms", "--json", "-")
	require.Equal(t, cli.ExitOK, code, errOut)
	doc := decode(t, out)
	require.NotNil(t, doc.Compare)
	c := doc.Compare
	assert.Equal(t, []string{"brook", "zmq4"}, c.Impls)
	require.Len(t, c.Runs, 6)
	// Interleaved: the order rotates each round.
	assert.Equal(t, []string{"brook", "zmq4", "zmq4", "brook", "brook", "zmq4"},
		[]string{c.Runs[0].Impl, c.Runs[1].Impl, c.Runs[2].Impl, c.Runs[3].Impl, c.Runs[4].Impl, c.Runs[5].Impl})
	require.Len(t, c.Tables, 1)
	rows := c.Tables[0].Rows
	require.Equal(t, "p50 µs", rows[0].Metric)
	assert.False(t, rows[0].HigherIsBetter)
	brook, zmq4 := rows[0].Cells[0], rows[0].Cells[1]
	assert.Len(t, brook.Values, 3)
	assert.LessOrEqual(t, brook.Min, brook.Median)
	assert.LessOrEqual(t, brook.Median, brook.Max)
	assert.InDelta(t, brook.Median/zmq4.Median, zmq4.Ratio, 1e-9)
	assert.Len(t, doc.Results, 6)
	assert.Equal(t, "round-trip", c.Latency)
}

func TestCompareSkipsWhatCannotRun(t *testing.T) {
	code, out, errOut := mqbench(t, false, "compare", "--impls", "brook,zmq4,raw", "--pattern", "dealerrouter", "--transport", "inproc",
		"--count", "300", "--rounds", "1", "--warmup", "0s")
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "skipped raw:")
	assert.Contains(t, out, "brook/zmq4")

	code, _, errOut = mqbench(t, false, "compare", "--impls", "brook,raw", "--pattern", "pubsub", "--subscribers", "2", "--count", "300")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "compare needs brook and another implementation")
}
