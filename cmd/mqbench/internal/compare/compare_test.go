package compare_test

import (
	"context"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/compare"
	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// go-zeromq/zmq4 leaves goroutines behind after Close (its bugs).
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4.(*pubMWriter).run"),
		goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4.(*Conn).read"),
		goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4/internal/inproc.(*conn).read"))
}

func impls(t *testing.T, names ...string) []impl.Impl {
	var out []impl.Impl
	for _, n := range names {
		im, err := impl.New(n)
		require.NoError(t, err)
		out = append(out, im)
	}
	return out
}

func TestExecute(t *testing.T) {
	cfg, err := config.Parse([]string{"compare", "--transport", "inproc", "--count", "300", "--rounds", "2", "--warmup", "0s", "--size", "64,200"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var runs []string
	c, err := compare.Execute(ctx, cfg, impls(t, "brook", "zmq4", "raw"), compare.Options{
		Progress: &workload.Progress{},
		OnRun:    func(round int, name string) { runs = append(runs, name) },
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"brook", "zmq4"}, c.Impls)
	assert.Contains(t, c.Skipped["raw"], "transport inproc")
	assert.Equal(t, []string{"brook", "zmq4", "zmq4", "brook"}, runs, "the order rotates each round")
	assert.Equal(t, "one-way", c.Latency)
	require.Len(t, c.Tables, 2)
	for _, tab := range c.Tables {
		assert.Equal(t, "msgs/s", tab.Rows[0].Metric)
		for _, cell := range tab.Rows[0].Cells {
			assert.Len(t, cell.Values, 2)
			assert.Positive(t, cell.Median)
		}
		assert.Positive(t, tab.Rows[0].Cells[1].Ratio)
		assert.Zero(t, tab.Lost["brook"])
	}
}

func TestExecuteNeedsTwo(t *testing.T) {
	cfg, err := config.Parse([]string{"compare", "--transport", "quic", "--count", "10", "--rounds", "1"})
	require.NoError(t, err)
	c, err := compare.Execute(context.Background(), cfg, impls(t, "brook", "zmq4"), compare.Options{})
	require.ErrorIs(t, err, impl.ErrUnsupported)
	assert.Contains(t, c.Skipped["zmq4"], "transport quic")
}

func TestExecuteReportsFailedRuns(t *testing.T) {
	cfg, err := config.Parse([]string{"compare", "--transport", "inproc", "--count", "100", "--rounds", "1", "--warmup", "0s"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := compare.Execute(ctx, cfg, impls(t, "brook", "zmq4"), compare.Options{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, c.Runs, "nothing runs once the context ended")
}
