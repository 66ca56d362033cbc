//go:build unix

package quic

import "syscall"

// cpuTime is the CPU time (user and system, in nanoseconds) the process
// has used so far: per message, the figure to compare on a machine shared
// with other work, where wall-clock throughput moves with the neighbours'
// load.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}
