package workload_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLossAndReorderCounted(t *testing.T) {
	everyTenth := func(seq uint64) bool { return seq%10 == 9 }
	everyFifth := func(seq uint64) bool { return seq%5 == 2 }
	t.Run("lost", func(t *testing.T) {
		cfg := parse(t, "thr", "--transport", "inproc", "--count", "1000")
		res, err := workload.Run(testCtx(t), cfg, mangle(everyTenth, nil), workload.Options{})
		require.NoError(t, err)
		assert.EqualValues(t, 1000, res[0].Sent)
		assert.EqualValues(t, 900, res[0].Received)
		assert.EqualValues(t, 100, res[0].Lost)
		assert.Zero(t, res[0].OutOfOrder)
	})
	t.Run("reordered", func(t *testing.T) {
		cfg := parse(t, "thr", "--transport", "tcp", "--count", "1000")
		res, err := workload.Run(testCtx(t), cfg, mangle(nil, everyFifth), workload.Options{})
		require.NoError(t, err)
		assert.EqualValues(t, 1000, res[0].Received)
		assert.EqualValues(t, 200, res[0].OutOfOrder)
		assert.Zero(t, res[0].Lost)
	})
	t.Run("round trips lost in a window", func(t *testing.T) {
		// A lost request costs its window slot for good; the End still
		// comes back, so the run ends and counts the loss.
		cfg := parse(t, "lat", "--pattern", "dealerrouter", "--transport", "inproc", "--count", "100", "--inflight", "4")
		res, err := workload.Run(testCtx(t), cfg, mangle(func(seq uint64) bool { return seq == 5 }, nil), workload.Options{})
		require.NoError(t, err)
		assert.EqualValues(t, 100, res[0].Sent)
		assert.EqualValues(t, 99, res[0].Received)
		assert.EqualValues(t, 1, res[0].Lost)
	})
	t.Run("round trip lost in lockstep", func(t *testing.T) {
		// One request in flight and it is lost: the client waits until
		// the idle timeout ends the run with ErrIdle.
		cfg, err := config.Parse([]string{"lat", "--pattern", "pair", "--transport", "inproc", "--count", "100",
			"--idle-timeout", "1s", "--timeout", "20s"})
		require.NoError(t, err)
		res, err := workload.Run(testCtx(t), cfg, mangle(everyTenth, nil), workload.Options{})
		require.ErrorIs(t, err, workload.ErrIdle)
		require.Len(t, res, 1)
		assert.EqualValues(t, 10, res[0].Sent)
		assert.EqualValues(t, 9, res[0].Received)
		assert.EqualValues(t, 1, res[0].Lost)
	})
}

// TestCoordinatedOmission stalls the receiver for 200 ms in an open-loop
// run over a socket without buffering, so the stalled receiver holds the
// sender back at once (what a full high-water mark does, without the
// library's queues in the picture). Measured from the intended send
// times, the stall shows in p99: ~400 messages were due during it and
// waited up to its whole length. Measured from the actual send times
// (what a closed-loop tool reports) it hides: the sender simply sent
// those messages late, and only the one in hand waited out the stall.
func TestCoordinatedOmission(t *testing.T) {
	const stall = 200 * time.Millisecond
	cfg := parse(t, "thr", "--transport", "inproc", "--rate", "2000", "--count", "2000")
	res, err := workload.Run(testCtx(t), cfg, newRendezvous(), workload.Options{StallAfter: 500, Stall: stall})
	require.NoError(t, err)
	r := res[0]
	require.EqualValues(t, 2000, r.Received)
	stallUs := float64(stall.Microseconds())
	t.Logf("corrected p99 %.0f µs max %.0f µs; uncorrected p99 %.0f µs max %.0f µs; send delay max %.0f µs",
		r.Corrected.P99, r.Corrected.Max, r.Uncorrected.P99, r.Uncorrected.Max, r.SendDelay.Max)
	// The first message due after the stall began waited it out, less the
	// 0.5 ms between two messages at most.
	assert.GreaterOrEqual(t, r.Corrected.Max, 0.99*stallUs, "the worst corrected latency covers the stall")
	// The 20 worst of 2000 (p99) were due in the first 10 ms of the
	// stall: each waited at least 190 ms.
	assert.GreaterOrEqual(t, r.Corrected.P99, 0.9*stallUs, "p99 from the intended send time shows the stall")
	assert.GreaterOrEqual(t, r.Uncorrected.Max, 0.99*stallUs, "the message in hand waited out the stall")
	assert.Less(t, r.Uncorrected.P99, stallUs/2, "p99 from the actual send time hides the stall")
	assert.GreaterOrEqual(t, r.SendDelay.Max, 0.95*stallUs, "the sender was held back for the stall")
}

func TestLocalAndRemoteRoles(t *testing.T) {
	// The local side binds: the PULL, REP or the PUB; the remote side
	// connects. Counts are [sent, received] of each side.
	for _, tt := range []struct {
		args          []string
		localMeasures bool
		local, remote [2]uint64
	}{
		{[]string{"thr", "--pattern", "pushpull", "--clients", "2"}, true, [2]uint64{0, 300}, [2]uint64{300, 0}},
		{[]string{"lat", "--pattern", "reqrep", "--clients", "2"}, false, [2]uint64{0, 300}, [2]uint64{300, 300}},
		{[]string{"thr", "--pattern", "pubsub", "--subscribers", "2", "--hwm", "5000"}, false, [2]uint64{300, 0}, [2]uint64{0, 600}},
		{[]string{"lat", "--pattern", "pushpull"}, false, [2]uint64{0, 300}, [2]uint64{300, 300}},
	} {
		t.Run(tt.args[0]+"/"+tt.args[2], func(t *testing.T) {
			base := append(tt.args, "--transport", "tcp", "--count", "300", "--size", "64,512")
			ctx := testCtx(t)
			im, err := impl.New(config.ImplBrook)
			require.NoError(t, err)
			eps := make(chan [2]string, 1)
			var local []workload.Result
			var localErr error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				local, localErr = workload.Run(ctx, parse(t, append(base, "--role", "local")...), im,
					workload.Options{OnListening: func(ep, ret string) { eps <- [2]string{ep, ret} }})
			}()
			var ep [2]string
			select {
			case ep = <-eps:
			case <-ctx.Done():
				t.Fatal("local side never listened")
			}
			remoteArgs := append(base, "--role", "remote", "--endpoint", ep[0])
			if ep[1] != "" {
				remoteArgs = append(remoteArgs, "--return-endpoint", ep[1])
			}
			remote, err := workload.Run(ctx, parse(t, remoteArgs...), im, workload.Options{})
			wg.Wait()
			require.NoError(t, err)
			require.NoError(t, localErr)
			require.Len(t, local, 2)
			require.Len(t, remote, 2)
			for k := range local {
				l, r := local[k], remote[k]
				assert.Equal(t, tt.localMeasures, l.Measured)
				assert.Equal(t, !tt.localMeasures, r.Measured)
				measured, other := l, r
				if !tt.localMeasures {
					measured, other = r, l
				}
				assert.Zero(t, measured.Lost)
				assert.EqualValues(t, measured.Received, measured.Corrected.Count)
				assert.Zero(t, other.Corrected.Count, "the side that does not measure has no latency")
				assert.Equal(t, tt.local, [2]uint64{l.Sent, l.Received}, "local side [sent, received]")
				assert.Equal(t, tt.remote, [2]uint64{r.Sent, r.Received}, "remote side [sent, received]")
			}
		})
	}
}

func TestDurationAndWarmup(t *testing.T) {
	cfg := parse(t, "thr", "--transport", "inproc", "--rate", "2000", "--duration", "300ms", "--warmup", "100ms")
	im, err := impl.New(config.ImplBrook)
	require.NoError(t, err)
	start := time.Now()
	res, err := workload.Run(context.Background(), cfg, im, workload.Options{})
	require.NoError(t, err)
	took := time.Since(start)
	r := res[0]
	// 300 ms at 2000/s is 600 messages; warmup messages are not counted.
	assert.InDelta(t, 600, float64(r.Sent), 2)
	assert.Equal(t, r.Sent, r.Received)
	assert.Zero(t, r.Lost)
	assert.GreaterOrEqual(t, took, 400*time.Millisecond, "warmup then the measured duration")
	assert.EqualValues(t, r.Sent, r.SendDelay.Count, "open loop records every send delay")

	cfg = parse(t, "lat", "--pattern", "dealerrouter", "--transport", "inproc", "--rate", "2000", "--count", "200", "--inflight", "4")
	res, err = workload.Run(context.Background(), cfg, im, workload.Options{})
	require.NoError(t, err)
	assert.EqualValues(t, 200, res[0].Received)
	assert.EqualValues(t, 200, res[0].SendDelay.Count, "round trips record every send delay too")
}

func TestProgress(t *testing.T) {
	cfg := parse(t, "thr", "--transport", "inproc", "--count", "500", "--size", "64,128")
	im, err := impl.New(config.ImplBrook)
	require.NoError(t, err)
	var p workload.Progress
	_, err = workload.Run(context.Background(), cfg, im, workload.Options{Progress: &p})
	require.NoError(t, err)
	assert.EqualValues(t, 1, p.Phase.Load(), "the last phase")
	assert.EqualValues(t, 500, p.Done.Load())
	assert.EqualValues(t, 500, p.Total.Load())
}

func TestUnsupported(t *testing.T) {
	for _, tt := range []struct {
		impl string
		args []string
	}{
		{"raw", []string{"thr", "--pattern", "pubsub", "--subscribers", "2"}},
		{"raw", []string{"thr", "--pattern", "dealerrouter"}},
		{"raw", []string{"thr", "--clients", "2"}},
		{"raw", []string{"thr", "--transport", "inproc"}},
		{"zmq4", []string{"thr", "--transport", "zstd+tcp"}},
	} {
		cfg := parse(t, append(tt.args, "--impl", tt.impl)...)
		im, err := impl.New(tt.impl)
		require.NoError(t, err)
		_, err = workload.Run(context.Background(), cfg, im, workload.Options{})
		require.ErrorIs(t, err, impl.ErrUnsupported, "%s %v", tt.impl, tt.args)
	}
}

func TestWindowWithoutConcurrentSockets(t *testing.T) {
	for _, args := range [][]string{
		{"thr", "--pattern", "dealerrouter", "--clients", "2", "--count", "2000"},
		{"lat", "--pattern", "pair", "--inflight", "6", "--rate", "4000", "--count", "400", "--warmup", "20ms"},
	} {
		cfg := parse(t, append(args, "--transport", "inproc")...)
		res, err := workload.Run(testCtx(t), cfg, newSerial(), workload.Options{})
		require.NoError(t, err, "%v", args)
		requireComplete(t, cfg, res)
	}
}

// TestMixedImplementations runs the two roles on different libraries:
// they meet on the wire (ZMTP over tcp).
func TestMixedImplementations(t *testing.T) {
	for _, pair := range [][2]string{{"brook", "zmq4"}, {"zmq4", "brook"}} {
		t.Run(pair[0]+"-binds/"+pair[1]+"-connects", func(t *testing.T) {
			ctx := testCtx(t)
			localImpl, err := impl.New(pair[0])
			require.NoError(t, err)
			remoteImpl, err := impl.New(pair[1])
			require.NoError(t, err)
			base := []string{"lat", "--pattern", "reqrep", "--transport", "tcp", "--count", "200"}
			eps := make(chan string, 1)
			var local []workload.Result
			var localErr error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				local, localErr = workload.Run(ctx, parse(t, append(base, "--role", "local", "--impl", pair[0])...), localImpl,
					workload.Options{OnListening: func(ep, _ string) { eps <- ep }})
			}()
			var ep string
			select {
			case ep = <-eps:
			case <-ctx.Done():
				t.Fatal("local side never listened")
			}
			remote, err := workload.Run(ctx, parse(t, append(base, "--role", "remote", "--impl", pair[1], "--endpoint", ep)...), remoteImpl, workload.Options{})
			wg.Wait()
			require.NoError(t, err)
			require.NoError(t, localErr)
			assert.EqualValues(t, 200, local[0].Received, "echoed by %s", pair[0])
			assert.EqualValues(t, 200, remote[0].Received, "replies to %s", pair[1])
			assert.Zero(t, remote[0].Lost)
		})
	}
}
