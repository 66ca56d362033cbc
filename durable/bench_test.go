package durable

import (
	"context"
	"github.com/brookmq/brook/durable/internal/record"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const benchRecord = 256

// latencies collects append latencies and reports p50/p99 and appends/s.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(l.d[len(l.d)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// benchAppend appends b.N 256-byte records from producers goroutines,
// timing every sample-th append.
func benchAppend(b *testing.B, mode SyncMode, producers, sample int, opts ...Option) {
	l, err := Open(b.TempDir(), append([]Option{WithSync(mode), WithRetainBytes(512 << 20)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	payload := make([]byte, benchRecord)
	var lat latencies
	var next atomic.Int64
	ctx := context.Background()
	b.SetBytes(benchRecord)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if i%int64(sample) != 0 {
					if _, err := l.Append(ctx, payload); err != nil {
						b.Error(err)
						return
					}
					continue
				}
				t0 := time.Now()
				if _, err := l.Append(ctx, payload); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			lat.add(mine)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
	if syncs := l.Stats().Syncs; syncs > 0 && mode.acksDurable() {
		b.ReportMetric(float64(b.N)/float64(syncs), "appends/sync")
	}
}

// BenchmarkAppend measures 256-byte appends per sync mode. Always is measured
// next to a bare pwrite+fdatasync loop over the same record size in the same
// run ("Always/bare").
func BenchmarkAppend(b *testing.B) {
	b.Run("None/1", func(b *testing.B) { benchAppend(b, None, 1, 16) })
	b.Run("Interval/1", func(b *testing.B) { benchAppend(b, Interval(10*time.Millisecond), 1, 1) })
	b.Run("Group/1", func(b *testing.B) { benchAppend(b, Group, 1, 1) })
	b.Run("Group/64", func(b *testing.B) { benchAppend(b, Group, 64, 1) })
	b.Run("Group/256", func(b *testing.B) { benchAppend(b, Group, 256, 1) })
	b.Run("Always/journal", func(b *testing.B) { benchAppend(b, Always, 1, 1) })
	b.Run("Always/bare", benchBareFdatasync)
}

// benchBareFdatasync is the floor Always is compared with: write one record
// and fdatasync, in a loop, on a plain file.
func benchBareFdatasync(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "bare"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := make([]byte, record.Size(benchRecord))
	fd := int(f.Fd())
	var lat latencies
	d := make([]time.Duration, 0, b.N)
	b.SetBytes(benchRecord)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var pos int64
	for range b.N {
		t0 := time.Now()
		if _, err := unix.Pwrite(fd, rec, pos); err != nil {
			b.Fatal(err)
		}
		if err := unix.Fdatasync(fd); err != nil {
			b.Fatal(err)
		}
		pos += int64(len(rec))
		d = append(d, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	lat.add(d)
	lat.report(b, elapsed)
}

// BenchmarkPreallocate measures Always (one fdatasync per append) and Group
// (64 producers) with segments that grow with every append and with
// preallocated segments, in the same run: with preallocation an fdatasync
// no longer commits a new file size.
func BenchmarkPreallocate(b *testing.B) {
	for _, pre := range []bool{false, true} {
		name := map[bool]string{false: "grow", true: "prealloc"}[pre]
		b.Run("Always/"+name, func(b *testing.B) { benchAppend(b, Always, 1, 1, WithPreallocate(pre)) })
		b.Run("Group64/"+name, func(b *testing.B) { benchAppend(b, Group, 64, 1, WithPreallocate(pre)) })
	}
}

// BenchmarkAppendAsync compares, in Group mode with 256-byte records, one
// goroutine keeping up to 4096 appends in flight with AppendAsync and
// WaitDurable against 256 goroutines calling Append.
func BenchmarkAppendAsync(b *testing.B) {
	b.Run("Append/256-goroutines", func(b *testing.B) { benchAppend(b, Group, 256, 1<<30) })
	b.Run("AppendAsync/1-goroutine", func(b *testing.B) {
		l, err := Open(b.TempDir(), WithRetainBytes(512<<20))
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		payload := make([]byte, benchRecord)
		ctx := context.Background()
		const window = 4096
		b.SetBytes(benchRecord)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		var last uint64
		for i := range b.N {
			off, err := l.AppendAsync(ctx, payload)
			if err != nil {
				b.Fatal(err)
			}
			last = off
			// Keep at most window appends in flight: wait for the oldest.
			if i >= window && l.DurableEnd() <= off-window {
				if err := l.WaitDurable(ctx, off-window); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := l.WaitDurable(ctx, last); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
		if syncs := l.Stats().Syncs; syncs > 0 {
			b.ReportMetric(float64(b.N)/float64(syncs), "appends/sync")
		}
	})
}
