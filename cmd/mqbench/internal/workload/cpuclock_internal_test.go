package workload

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The CPU time between two moments is interpolated between the samples
// around them, and unknown outside the samples.
func TestCPUClockBetween(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := &cpuClock{samples: []cpuSample{
		{wall: t0, cpu: 0},
		{wall: t0.Add(10 * time.Millisecond), cpu: 20 * time.Millisecond},
		{wall: t0.Add(20 * time.Millisecond), cpu: 20 * time.Millisecond},
		{wall: t0.Add(30 * time.Millisecond), cpu: 30 * time.Millisecond},
	}}
	d, ok := c.between(t0.Add(5*time.Millisecond), t0.Add(25*time.Millisecond))
	require.True(t, ok)
	assert.Equal(t, 25*time.Millisecond-10*time.Millisecond, d)
	d, ok = c.between(t0, t0.Add(30*time.Millisecond))
	require.True(t, ok)
	assert.Equal(t, 30*time.Millisecond, d)
	_, ok = c.between(t0.Add(-time.Millisecond), t0.Add(time.Millisecond))
	assert.False(t, ok, "before the first sample")
	_, ok = c.between(t0.Add(time.Millisecond), t0.Add(31*time.Millisecond))
	assert.False(t, ok, "after the last sample")
	_, ok = c.between(t0.Add(2*time.Millisecond), t0.Add(time.Millisecond))
	assert.False(t, ok, "an empty interval")
}

// A running clock sees the CPU the process spends, and its goroutine ends
// with Stop.
func TestCPUClockSamples(t *testing.T) {
	if _, ok := processCPU(); !ok {
		t.Skip("no process CPU time on " + runtime.GOOS)
	}
	c := startCPUClock(time.Millisecond)
	lo := time.Now()
	x := 0
	// 30 ms at least, and until the ticker has sampled once: with one P
	// (GOMAXPROCS=1) the busy loop held it for all 30 ms, and the clock
	// had only its first and last samples (35 runs in 40 failed so).
	for time.Since(lo) < 30*time.Millisecond || c.count() < 2 && time.Since(lo) < 10*time.Second {
		x++
	}
	hi := time.Now()
	c.Stop()
	d, ok := c.between(lo, hi)
	require.True(t, ok)
	assert.Positive(t, d, "a busy loop of 30 ms (%d turns)", x)
	assert.Greater(t, len(c.samples), 2)
}

// count is how many samples c has taken so far.
func (c *cpuClock) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.samples)
}
