package main

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/brookmq/brook/internal/benchcurve"
	"github.com/brookmq/brook/socket"
)

// brook runs one side of a measurement on brook's sockets.
func (s side) brook() error {
	switch s.mode {
	case "thr":
		if s.local {
			return s.brookThrLocal()
		}
		return s.brookThrRemote()
	case "lat":
		if s.local {
			return s.brookLatLocal()
		}
		return s.brookLatRemote()
	case "conns":
		if s.local {
			return s.brookConnsLocal()
		}
		return s.brookConnsRemote()
	}
	return fmt.Errorf("unknown mode %q", s.mode)
}

// newSocket is socket.New with CURVE when the side has it.
func (s side) newSocket(t socket.Type, opts ...socket.Option) (*socket.Socket, error) {
	if s.curve {
		o, err := benchcurve.Option(s.local)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	return socket.New(t, opts...)
}

func (s side) socket(t socket.Type, extra ...socket.Option) (*socket.Socket, error) {
	opts := extra
	if s.hwm > 0 {
		opts = append(opts, socket.WithSendHWM(s.hwm), socket.WithRecvHWM(s.hwm))
	}
	return s.newSocket(t, opts...)
}

// done is the receiver done with m: m is released unless -keep says to
// leave it to the garbage collector.
func (s side) done(m socket.Msg) {
	if !s.keep {
		m.Release()
	}
}

func (s side) brookThrLocal() error {
	ctx := context.Background()
	pull, err := s.socket(socket.Pull)
	if err != nil {
		return err
	}
	defer pull.Close()
	if err := pull.Bind(s.endpoint); err != nil {
		return err
	}
	listening()
	var start time.Time
	for i := range s.count {
		m, err := pull.Recv(ctx)
		if err != nil {
			return err
		}
		if len(m.Frames) != 1 || len(m.Frames[0]) != s.size {
			return fmt.Errorf("message %d has the wrong shape", i)
		}
		s.done(m)
		if i == 0 {
			start = time.Now()
		}
	}
	el := time.Since(start).Seconds()
	n := float64(s.count - 1)
	fmt.Printf("RESULT msgs/s=%.0f MB/s=%.1f peakRSS_KiB=%d cpu_us=%.2f\n", n/el, n*float64(s.size)/el/1e6, peakRSSKiB(), cpuSeconds()/float64(s.count)*1e6)
	return nil
}

func (s side) brookThrRemote() error {
	ctx := context.Background()
	push, err := s.socket(socket.Push, socket.WithLinger(time.Minute))
	if err != nil {
		return err
	}
	if err := push.Connect(s.endpoint); err != nil {
		return err
	}
	// One payload for every message: Send takes ownership, and nothing
	// ever changes it.
	frames := [][]byte{make([]byte, s.size)}
	for range s.count {
		if err := push.Send(ctx, socket.Msg{Frames: frames}); err != nil {
			return err
		}
	}
	if err := push.Close(); err != nil {
		return err
	}
	fmt.Printf("RESULT sent=%d peakRSS_KiB_sender=%d cpu_us_sender=%.2f\n", s.count, peakRSSKiB(), cpuSeconds()/float64(s.count)*1e6)
	return nil
}

func (s side) brookLatLocal() error {
	ctx := context.Background()
	rep, err := s.socket(socket.Rep)
	if err != nil {
		return err
	}
	defer rep.Close()
	if err := rep.Bind(s.endpoint); err != nil {
		return err
	}
	listening()
	var cost costMeter
	for i := range s.count {
		if i == 1 {
			cost = startCost() // after the connection's first round trip
		}
		m, err := rep.Recv(ctx)
		if err != nil {
			return err
		}
		if err := rep.Send(ctx, m); err != nil {
			return err
		}
	}
	printEchoed(s.count, cost)
	return nil
}

// printEchoed reports the echoing side of lat: its round trips, and the
// CPU time and allocations of each after the first.
func printEchoed(count int, cost costMeter) {
	cpu, allocs := cost.perRound(count - 1)
	fmt.Printf("RESULT echoed=%d cpu_us_echo=%.2f allocs_echo=%.2f\n", count, cpu, allocs)
}

func (s side) brookLatRemote() error {
	ctx := context.Background()
	req, err := s.socket(socket.Req)
	if err != nil {
		return err
	}
	defer req.Close()
	if err := req.Connect(s.endpoint); err != nil {
		return err
	}
	frames := [][]byte{make([]byte, s.size)}
	rtt := make([]time.Duration, s.count)
	var cost costMeter
	for i := range rtt {
		if i == 1 {
			cost = startCost() // after the connection's first round trip
		}
		t0 := time.Now()
		if err := req.Send(ctx, socket.Msg{Frames: frames}); err != nil {
			return err
		}
		m, err := req.Recv(ctx)
		if err != nil {
			return err
		}
		rtt[i] = time.Since(t0)
		s.done(m)
	}
	printLatency(rtt, cost)
	return nil
}

// printLatency reports the requesting side of lat: the median and 99th
// percentile round trip, and the CPU time and allocations of each after
// the first (cost started then).
func printLatency(rtt []time.Duration, cost costMeter) {
	cpu, allocs := cost.perRound(len(rtt) - 1)
	sort.Slice(rtt, func(i, j int) bool { return rtt[i] < rtt[j] })
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	fmt.Printf("RESULT p50_us=%.2f p99_us=%.2f cpu_us_req=%.2f allocs_req=%.2f\n",
		us(rtt[len(rtt)/2]), us(rtt[len(rtt)*99/100]), cpu, allocs)
}

// brookConnsLocal is a ROUTER echoing to s.count DEALERs until one sends
// "stop"; it reports its memory per connection once they are all served.
func (s side) brookConnsLocal() error {
	ctx := context.Background()
	router, err := s.newSocket(socket.Router, socket.WithSendHWM(0))
	if err != nil {
		return err
	}
	defer router.Close()
	if err := router.Bind(s.endpoint); err != nil {
		return err
	}
	baseRSS, baseHeap := rssKiB(), liveHeap()
	listening()
	echoed := 0
	var warmCPU float64
	stopProfile := func() {}
	for {
		m, err := router.Recv(ctx)
		if err != nil {
			return err
		}
		if len(m.Frames) == 2 && string(m.Frames[1]) == "stop" {
			break
		}
		if err := router.Send(ctx, m); err != nil {
			return err
		}
		echoed++
		if echoed == s.count {
			// The cold round is over: the rest is the warm one.
			warmCPU = cpuSeconds()
			if stopProfile, err = warmProfile("local"); err != nil {
				return err
			}
		}
	}
	warmCPU = cpuSeconds() - warmCPU
	stopProfile()
	rss, heap := rssKiB(), liveHeap()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := float64(s.count)
	fmt.Printf("RESULT echoed=%d RSS_KiB_per_conn=%.1f heap_KiB_per_conn=%.1f stack_KiB_per_conn=%.1f goroutines_per_conn=%.2f peakRSS_KiB=%d warm_cpu_s=%.3f\n",
		echoed, float64(rss-baseRSS)/n, (float64(heap)-float64(baseHeap))/1024/n,
		float64(ms.StackInuse)/1024/n, float64(runtime.NumGoroutine())/n, peakRSSKiB(), warmCPU)
	return nil
}

// brookConnsRemote connects s.count DEALERs and times one message from
// each there and back, twice (cold, then warm).
func (s side) brookConnsRemote() error {
	ctx := context.Background()
	dealers := make([]*socket.Socket, s.count)
	defer func() {
		for _, d := range dealers {
			if d != nil {
				d.Close()
			}
		}
	}()
	for i := range dealers {
		d, err := s.newSocket(socket.Dealer)
		if err != nil {
			return err
		}
		dealers[i] = d
		if err := d.Connect(s.endpoint); err != nil {
			return err
		}
	}
	body := make([]byte, s.size)
	var times [2]time.Duration
	var warmCPU float64
	for pass := range times {
		stopProfile := func() {}
		if pass == 1 {
			var err error
			if stopProfile, err = warmProfile("remote"); err != nil {
				return err
			}
			warmCPU = cpuSeconds()
		}
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, len(dealers))
		for _, d := range dealers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := d.Send(ctx, socket.NewMsg(body)); err != nil {
					errs <- err
					return
				}
				if _, err := d.Recv(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		times[pass] = time.Since(t0)
		if pass == 1 {
			warmCPU = cpuSeconds() - warmCPU
		}
		stopProfile()
	}
	if err := dealers[0].Send(ctx, socket.NewMsg([]byte("stop"))); err != nil {
		return err
	}
	fmt.Printf("RESULT cold_s=%.3f warm_s=%.3f peerPeakRSS_KiB=%d warm_cpu_s_peer=%.3f\n", times[0].Seconds(), times[1].Seconds(), peakRSSKiB(), warmCPU)
	return nil
}
