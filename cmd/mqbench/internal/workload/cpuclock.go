package workload

import (
	"sync"
	"time"
)

// cpuPeriod is how often the CPU clock samples the process's CPU time: a
// getrusage call a period, nothing the run would feel, and fine enough
// for phases of a second or more.
const cpuPeriod = 10 * time.Millisecond

// cpuSample is the process's CPU time (user and system) at a moment.
type cpuSample struct {
	wall time.Time
	cpu  time.Duration
}

// cpuClock samples the process's CPU time while a run measures, so that
// each phase can report the CPU it cost per message: the steadier figure
// on a machine shared with other work, where messages per second move
// with the neighbours' load. On systems without getrusage it has no
// samples and phases report no CPU figure.
type cpuClock struct {
	mu      sync.Mutex
	samples []cpuSample
	stop    chan struct{}
	done    chan struct{}
}

// startCPUClock samples now, then every period until Stop.
func startCPUClock(period time.Duration) *cpuClock {
	c := &cpuClock{stop: make(chan struct{}), done: make(chan struct{})}
	if !c.sample() {
		close(c.done)
		return c
	}
	go func() {
		defer close(c.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.sample()
			}
		}
	}()
	return c
}

// sample records the CPU time now; false where it cannot be read.
func (c *cpuClock) sample() bool {
	cpu, ok := processCPU()
	if !ok {
		return false
	}
	now := time.Now()
	c.mu.Lock()
	c.samples = append(c.samples, cpuSample{wall: now, cpu: cpu})
	c.mu.Unlock()
	return true
}

// Stop takes a last sample and ends the sampling.
func (c *cpuClock) Stop() {
	close(c.stop)
	<-c.done
	c.sample()
}

// between returns the CPU time the process used from lo to hi,
// interpolated between the samples around them; false when the samples
// do not cover the interval.
func (c *cpuClock) between(lo, hi time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, okA := c.at(lo)
	b, okB := c.at(hi)
	if !okA || !okB || !hi.After(lo) {
		return 0, false
	}
	return max(b-a, 0), true
}

// at is the CPU time at t, interpolated linearly between the samples
// before and after it (c.mu held).
func (c *cpuClock) at(t time.Time) (time.Duration, bool) {
	s := c.samples
	if len(s) == 0 || t.Before(s[0].wall) || t.After(s[len(s)-1].wall) {
		return 0, false
	}
	if len(s) == 1 {
		return s[0].cpu, true
	}
	i := 1
	for i < len(s)-1 && s[i].wall.Before(t) {
		i++
	}
	p, n := s[i-1], s[i]
	span := n.wall.Sub(p.wall)
	if span <= 0 {
		return n.cpu, true
	}
	frac := float64(t.Sub(p.wall)) / float64(span)
	return p.cpu + time.Duration(frac*float64(n.cpu-p.cpu)), true
}
