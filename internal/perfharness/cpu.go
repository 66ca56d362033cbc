package main

import (
	"runtime"
	"syscall"
)

// cpuSeconds is the CPU time (user and system) the process has used so
// far. Per message it is the figure to compare on a machine shared with
// other work, where wall-clock throughput moves with the neighbours' load.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// costMeter measures what a run of round trips costs the process: CPU
// time and heap allocations, both per round trip. Unlike latency, neither
// moves much with the load of a shared machine.
type costMeter struct {
	cpu     float64
	mallocs uint64
}

// startCost starts a costMeter (it reads the memory statistics, which
// stops the world for a moment: call it outside the timed loop).
func startCost() costMeter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return costMeter{cpu: cpuSeconds(), mallocs: ms.Mallocs}
}

// perRound returns the CPU microseconds and the allocations per round
// trip since m started, over n round trips.
func (m costMeter) perRound(n int) (cpuUS, allocs float64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if n <= 0 {
		return 0, 0
	}
	return (cpuSeconds() - m.cpu) / float64(n) * 1e6, float64(ms.Mallocs-m.mallocs) / float64(n)
}
