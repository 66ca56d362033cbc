package jbench_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/jbench"
)

// run parses an mqbench journal command line and runs it; it must
// succeed and leave no journal behind.
func run(t *testing.T, args ...string) *jbench.Result {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(append([]string{"journal", "--journal", dir, "--timeout", "60s"}, args...))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := jbench.Run(ctx, cfg)
	require.NoError(t, err)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "the run removes its journals")
	return res
}

// figure finds a section's figure by name.
func figure(t *testing.T, s jbench.Section, name string) jbench.Figure {
	t.Helper()
	for _, f := range s.Figures {
		if f.Name == name {
			return f
		}
	}
	require.Failf(t, "no figure", "%q in %q", name, s.Title)
	return jbench.Figure{}
}

// complete checks a figure measured count messages, all of them.
func complete(t *testing.T, f jbench.Figure, count int64) {
	t.Helper()
	assert.Equal(t, count, f.Count, f.Name)
	assert.Positive(t, f.MsgsPerSec, f.Name)
	assert.Positive(t, f.Seconds, f.Name)
	assert.InDelta(t, float64(count)/f.Seconds, f.MsgsPerSec, f.MsgsPerSec*1e-9, f.Name)
	assert.Zero(t, f.Lost+f.Duplicates+f.OutOfOrder, "%s: nothing lost, repeated or reordered", f.Name)
}

// costed checks a figure carries its CPU cost per message.
func costed(t *testing.T, f jbench.Figure) {
	t.Helper()
	assert.Positive(t, f.CPUPerMsg, "%s: CPU µs per message", f.Name)
}

// latency finds a figure's latency distribution by name and checks it
// counted count values.
func latency(t *testing.T, f jbench.Figure, name string, count int64) jbench.Latency {
	t.Helper()
	for _, l := range f.Latency {
		if l.Name == name {
			assert.Equal(t, count, l.Count, "%s %s", f.Name, name)
			assert.LessOrEqual(t, l.P50, l.P99)
			assert.LessOrEqual(t, l.P99, l.Max)
			return l
		}
	}
	require.Failf(t, "no latency", "%q in %q", name, f.Name)
	return jbench.Latency{}
}

func TestQueue(t *testing.T) {
	for _, tr := range []string{"tcp", "inproc"} {
		t.Run(tr, func(t *testing.T) {
			const n = 3000
			res := run(t, "--workload", "queue", "--transport", tr, "--count", "3000", "--appenders", "16", "--size", "64,300", "--rate", "20000")
			assert.Equal(t, "group", res.Sync)
			require.Len(t, res.Sections, 2)
			for i, s := range res.Sections {
				assert.Equal(t, []int{64, 300}[i], s.Size)
				require.Len(t, s.Figures, 7)
				paced := figure(t, s, "journaled PUSH -> PULL acks, open loop at 20.0k msgs/s")
				latency(t, paced, "send-to-durable", n)
				latency(t, paced, "send-to-ack", n)
				assert.LessOrEqual(t, paced.MsgsPerSec, 20000*1.05, "paced")
				latency(t, figure(t, s, "journal Append, 16 goroutines"), "append-to-durable", n)
				latency(t, figure(t, s, "journal AppendAsync, 1 goroutine"), "append-to-durable", n)
				latency(t, figure(t, s, "PUSH -> PULL, no journal"), "send-to-receive", n)
				latency(t, figure(t, s, "journaled PUSH, durable (Pending.Wait)"), "send-to-durable", n)
				end := figure(t, s, "journaled PUSH -> PULL acks, end to end")
				assert.True(t, end.Lossless)
				dur := latency(t, figure(t, s, "journaled PUSH, durable (Pending.Wait)"), "send-to-durable", n)
				ack := latency(t, end, "send-to-ack", n)
				recv := latency(t, end, "send-to-receive", n)
				assert.LessOrEqual(t, dur.Min, ack.Max, "an acknowledgement comes after the message is durable")
				// Each message is acknowledged after it was received, so
				// every percentile of send-to-ack is at least that of
				// send-to-receive (0.1%: the histograms' precision).
				for _, q := range [][2]float64{{ack.P50, recv.P50}, {ack.P90, recv.P90}, {ack.P99, recv.P99}, {ack.Max, recv.Max}} {
					assert.GreaterOrEqual(t, q[0]*1.001, q[1], "send-to-ack %+v, send-to-receive %+v", ack.Summary, recv.Summary)
				}
				for _, f := range s.Figures {
					complete(t, f, n)
				}
				costed(t, end)
				for _, name := range []string{"journal Append, 16 goroutines", "journal AppendAsync, 1 goroutine", "PUSH -> PULL, no journal"} {
					costed(t, figure(t, s, name))
				}
				require.Len(t, s.Ratios, 3)
				for _, r := range s.Ratios {
					assert.Positive(t, r.Value, r.Name)
				}
				assert.InDelta(t, end.MsgsPerSec/figure(t, s, "PUSH -> PULL, no journal").MsgsPerSec, s.Ratios[2].Value, 1e-9)
				require.Len(t, s.Targets, 1)
				assert.InDelta(t, end.MsgsPerSec, s.Targets[0].Got, 1e-9)
				assert.Equal(t, s.Targets[0].Got >= 150_000, s.Targets[0].Met)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	const n = 4000
	res := run(t, "--workload", "replay", "--count", "4000", "--live-rate", "5000", "--size", "64,1000")
	require.Len(t, res.Sections, 2)
	for _, s := range res.Sections {
		require.Len(t, s.Figures, 5)
		complete(t, figure(t, s, "journaled PUB, SendAsync until durable, no subscriber"), n)
		complete(t, figure(t, s, "journal Reader, 1 goroutine"), n)
		rep := figure(t, s, "SUB replaying from the oldest (page cache)")
		complete(t, rep, n)
		costed(t, rep)
		assert.True(t, rep.Lossless)
		complete(t, figure(t, s, "SUB catching up from 4000 behind, backlog read"), n)
		head := figure(t, s, "SUB catching up, at the live head")
		assert.GreaterOrEqual(t, head.Count, int64(n), "the backlog and what was published live meanwhile")
		assert.Zero(t, head.Lost+head.Duplicates+head.OutOfOrder)
		assert.Contains(t, head.Note, "published live meanwhile at 5000 msgs/s")
		require.Len(t, s.Ratios, 1)
		assert.Positive(t, s.Ratios[0].Value)
	}
	require.Len(t, res.Sections[0].Targets, 1, "the replay target is for 64 B")
	assert.Empty(t, res.Sections[1].Targets)
}

func TestFanout(t *testing.T) {
	const n = 2000
	res := run(t, "--workload", "fanout", "--count", "2000", "--fanout", "1,4", "--size", "100", "--transport", "ipc")
	require.Len(t, res.Sections, 2)
	for i, s := range res.Sections {
		k := []int{1, 4}[i]
		t.Logf("%s: %+v", s.Title, s.Figures)
		require.Len(t, s.Figures, 6)
		batched := "PUB with journal, SendBatchAsync of 64"
		for _, name := range []string{"PUB without journal", "PUB with journal", batched} {
			per := figure(t, s, name+", per subscriber")
			all := figure(t, s, name+", all subscribers")
			complete(t, per, n)
			assert.Equal(t, int64(n*k), all.Count)
			assert.Zero(t, all.Lost)
			assert.InDelta(t, all.MsgsPerSec/float64(k), per.MsgsPerSec, per.MsgsPerSec*1e-9)
			costed(t, all)
		}
		assert.True(t, figure(t, s, "PUB with journal, per subscriber").Lossless)
		assert.True(t, figure(t, s, batched+", per subscriber").Lossless)
		assert.Contains(t, figure(t, s, "PUB without journal, per subscriber").Note, "nothing dropped")
		require.Len(t, s.Ratios, 2)
		require.Len(t, s.Targets, 2)
		for i := range s.Ratios {
			assert.InDelta(t, s.Ratios[i].Value, s.Targets[i].Got, 1e-12)
		}
	}
}

// Without a raised HWM the PUB without a journal drops, and the figures
// count it; the journaled one still delivers everything.
func TestFanoutCountsDrops(t *testing.T) {
	res := run(t, "--workload", "fanout", "--count", "20000", "--fanout", "3", "--size", "64", "--hwm", "10", "--transport", "inproc")
	s := res.Sections[0]
	plain := figure(t, s, "PUB without journal, all subscribers")
	assert.False(t, figure(t, s, "PUB without journal, per subscriber").Lossless)
	assert.Equal(t, uint64(3*20000), uint64(plain.Count)+plain.Lost, "every delivery is either received or counted lost")
	complete(t, figure(t, s, "PUB with journal, per subscriber"), 20000)
}
