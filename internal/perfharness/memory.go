package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// procStatus returns a field of /proc/self/status in KiB (-1 if absent).
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return -1
		}
		return v
	}
	return -1
}

// rssKiB is the resident set size now; peakRSSKiB its peak.
func rssKiB() int64     { return procStatus("VmRSS") }
func peakRSSKiB() int64 { return procStatus("VmHWM") }

// liveHeap is the heap in use after a forced collection, in bytes.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
