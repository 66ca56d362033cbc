package main

import "syscall"

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
