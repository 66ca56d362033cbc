package jbench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/brookmq/brook/durable"
)

// The bare journal: the ceilings the journaled sockets are measured
// against.

// appendAsync appends n records of size bytes from one goroutine with
// AppendAsync; a second goroutine waits for each to be durable, in
// order, and records append-to-durable latency. The rate runs from the
// first append to the last record durable.
func (e *env) appendAsync(ctx context.Context, size int, n int64) (Figure, error) {
	f := Figure{Name: "journal AppendAsync, 1 goroutine"}
	log, err := e.openLog("append-async")
	if err != nil {
		return f, err
	}
	defer log.Close()
	type pending struct {
		off uint64
		t0  int64
	}
	ch := make(chan pending, 1<<16)
	lat := stats.NewHistogram()
	var last int64
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range ch {
			if werr == nil {
				werr = log.WaitDurable(ctx, p.off)
			}
			last = e.now()
			lat.Record(last - p.t0)
		}
	}()
	payload := make([]byte, size) // the journal copies what it appends
	cpu := startCPU()
	start := e.now()
	for range n {
		t0 := e.now()
		off, err := log.AppendAsync(ctx, payload)
		if err != nil {
			close(ch)
			<-done
			return f, fmt.Errorf("append: %w", err)
		}
		ch <- pending{off, t0}
	}
	close(ch)
	<-done
	if werr != nil {
		return f, fmt.Errorf("wait durable: %w", werr)
	}
	f.setRate(n, time.Duration(last-start))
	cpu.charge(&f)
	f.latency("append-to-durable", lat)
	f.Lossless = true
	return f, nil
}

// appendConcurrent appends n records of size bytes from g goroutines
// with Append, each returning once its record is durable.
func (e *env) appendConcurrent(ctx context.Context, size int, n int64, g int) (Figure, error) {
	f := Figure{Name: fmt.Sprintf("journal Append, %d goroutines", g)}
	log, err := e.openLog("append")
	if err != nil {
		return f, err
	}
	defer log.Close()
	payload := make([]byte, size)
	var next atomic.Int64
	hists := make([]*stats.Histogram, g)
	errs := make([]error, g)
	var wg sync.WaitGroup
	cpu := startCPU()
	start := e.now()
	for i := range g {
		hists[i] = stats.NewHistogram()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				t0 := e.now()
				if _, err := log.Append(ctx, payload); err != nil {
					errs[i] = err
					return
				}
				hists[i].Record(e.now() - t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Duration(e.now() - start)
	if err := errors.Join(errs...); err != nil {
		return f, fmt.Errorf("append: %w", err)
	}
	for _, h := range hists[1:] {
		hists[0].Merge(h)
	}
	f.setRate(n, elapsed)
	cpu.charge(&f)
	f.latency("append-to-durable", hists[0])
	f.Lossless = true
	return f, nil
}

// readAll reads n records of log from its first with one Reader: the
// journal's own replay rate (right after writing: from the page cache).
func (e *env) readAll(ctx context.Context, log *durable.Log, n int64) (Figure, error) {
	f := Figure{Name: "journal Reader, 1 goroutine"}
	r := log.NewReader(log.First())
	defer r.Close()
	cpu := startCPU()
	start := e.now()
	for range n {
		if _, err := r.Next(ctx); err != nil {
			return f, fmt.Errorf("read: %w", err)
		}
	}
	f.setRate(n, time.Duration(e.now()-start))
	cpu.charge(&f)
	f.Lossless = true
	return f, nil
}
