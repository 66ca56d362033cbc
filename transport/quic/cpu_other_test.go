//go:build !unix

package quic

// cpuTime is not measured here: the benchmarks leave out their CPU
// figures.
func cpuTime() float64 { return 0 }
