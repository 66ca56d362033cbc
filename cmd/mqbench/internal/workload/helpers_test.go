package workload_test

import (
	"context"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/require"
)

// parse builds a validated configuration from command-line arguments,
// with a timeout that fails a hung run instead of hanging the test.
func parse(t *testing.T, args ...string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(append(args, "--timeout", "30s", "--idle-timeout", "10s"))
	require.NoError(t, err)
	return cfg
}

// run runs args on the implementation they name and requires success.
func run(t *testing.T, args ...string) []workload.Result {
	t.Helper()
	cfg := parse(t, args...)
	im, err := impl.New(cfg.Impl)
	require.NoError(t, err)
	res, err := workload.Run(context.Background(), cfg, im, workload.Options{})
	require.NoError(t, err, "%v", args)
	require.Len(t, res, len(cfg.Sizes))
	return res
}

// requireComplete checks that every message of every phase arrived once,
// in order, and was measured.
func requireComplete(t *testing.T, cfg *config.Config, res []workload.Result) {
	t.Helper()
	for i, r := range res {
		require.Equal(t, cfg.Sizes[i], r.Size)
		require.True(t, r.Measured)
		require.EqualValues(t, cfg.Count, r.Sent, "sent, size %d", r.Size)
		require.EqualValues(t, cfg.Count*int64(cfg.Fanout()), r.Received, "received, size %d", r.Size)
		require.Zero(t, r.Lost, "lost, size %d", r.Size)
		require.Zero(t, r.OutOfOrder, "out of order, size %d", r.Size)
		require.EqualValues(t, r.Received, r.Corrected.Count, "every received message is in the histogram")
		require.Positive(t, r.MsgsPerSec)
		require.Positive(t, r.Elapsed)
		require.InDelta(t, r.MsgsPerSec*float64(r.Size)/1e6, r.MBPerSec, 1e-6)
		require.LessOrEqual(t, r.Corrected.Min, r.Corrected.P50)
		require.LessOrEqual(t, r.Corrected.P50, r.Corrected.P99)
		require.LessOrEqual(t, r.Corrected.P99, r.Corrected.Max)
	}
}

// testCtx bounds a test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
