// Package workload runs mqbench's workloads over any implementation: it
// builds the pattern's sockets (drivers that send the data and sinks that
// receive it, plus a return path where the pattern needs one), runs one
// phase per message size and measures throughput, latency, loss and
// reordering.
//
// One-way runs (pushpull, pubsub and pair throughput) stream from the
// drivers to the sinks, which measure one-way latency from the
// timestamps in each message. Round trips (every latency run, and
// reqrep/dealerrouter throughput) are measured at the drivers: the sinks
// echo each request, on the same socket or, for one-way patterns, over a
// return PUSH/PULL path.
//
// With a rate, senders follow an open-loop schedule and latency is
// measured from each message's intended send time, so a stalled receiver
// shows in the latency even when it made the sender wait (coordinated
// omission); the latency from the actual send time is reported too, and
// the gap between the two is the send delay.
package workload

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// Run runs cfg's workload on im: the ends cfg.Role names, in this
// process, one phase per size. It returns one Result per size and the
// run's first error; a failed run's results hold what was measured
// before it failed.
func Run(ctx context.Context, cfg *config.Config, im impl.Impl, opts Options) ([]Result, error) {
	if err := im.Check(cfg); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	r := &runner{cfg: cfg, im: im, opts: opts, abort: cancel}
	tag := fmt.Sprintf("%s-%d", im.Name(), time.Now().UnixNano())
	topo, err := build(ctx, cfg, im, tag, opts.OnListening)
	if err != nil {
		return nil, err
	}
	m := r.measure(ctx, topo)
	if err := topo.close(); err != nil {
		r.fail(fmt.Errorf("close: %w", err))
	}
	if r.err != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		r.err = fmt.Errorf("run timed out (--timeout %s): %w", cfg.Timeout, r.err)
	}
	return r.results(topo, m), r.err
}

// measurements is everything the ends measured, by phase and end.
type measurements struct {
	drive   [][]driverStats
	clients [][]clientStats
	sinks   [][]sinkStats
	echoes  []echoStats
	dropped []uint64 // cumulative library drops after each phase
	cpu     *cpuClock
}

// measure runs every phase on topo and collects the ends' figures.
func (r *runner) measure(ctx context.Context, t *topology) *measurements {
	cfg := r.cfg
	phs := phases(cfg)
	oneWay := !cfg.RoundTrip()
	measuringHere := (oneWay && len(t.sinks) > 0) || (!oneWay && len(t.drivers) > 0)
	m := &measurements{
		drive:   make([][]driverStats, len(phs)),
		clients: make([][]clientStats, len(phs)),
		sinks:   make([][]sinkStats, len(phs)),
		echoes:  make([]echoStats, len(t.sinks)),
		dropped: make([]uint64, len(phs)),
		cpu:     startCPUClock(cpuPeriod),
	}
	defer m.cpu.Stop()
	for k := range phs {
		m.drive[k] = make([]driverStats, len(t.drivers))
		m.clients[k] = make([]clientStats, len(t.drivers))
		m.sinks[k] = make([]sinkStats, len(t.sinks))
	}
	streams := cfg.Drivers()
	if cfg.Pattern == config.PubSub {
		streams = 1
	}
	var wg sync.WaitGroup
	for i, s := range t.sinks {
		prog := r.progressFor(oneWay, measuringHere)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !oneWay {
				if len(t.drivers) == 0 && i == 0 {
					r.startProgress(prog, phs[0], len(t.sinks))
				}
				r.fail(r.echo(ctx, s, streams, &m.echoes[i], prog))
				return
			}
			alone := len(t.drivers) == 0 && i == 0
			if alone {
				r.startProgress(prog, phs[0], len(t.sinks))
			}
			res, err := r.sink(ctx, s, phs, streams, prog, func(k int) {
				if alone && k+1 < len(phs) {
					r.startProgress(prog, phs[k+1], len(t.sinks))
				}
			})
			for k := range res {
				m.sinks[k][i] = res[k]
			}
			r.fail(err)
		}()
	}
	if len(t.drivers) > 0 {
		r.drivePhases(ctx, t, phs, m, r.progressFor(!oneWay, measuringHere))
	}
	wg.Wait()
	return m
}

// progressFor returns the progress an end updates: the measuring end
// when this process has it, otherwise whichever end is here.
func (r *runner) progressFor(isMeasuring, measuringHere bool) *Progress {
	if isMeasuring || !measuringHere {
		return r.opts.Progress
	}
	return nil
}

// drivePhases runs the drivers through every phase, all drivers of a
// phase together; prog is the progress they update (nil when the sinks
// here do).
func (r *runner) drivePhases(ctx context.Context, t *topology, phs []phase, m *measurements, prog *Progress) {
	cfg := r.cfg
	if cfg.Pattern == config.PubSub {
		hello := payload.Header{Kind: payload.Hello}
		if err := r.handshake(ctx, t.drivers[0], newSender(r.im), hello, payload.Ready, cfg.Fanout(), helloRepeat); err != nil {
			r.fail(fmt.Errorf("waiting for subscribers: %w", err))
			return
		}
	}
	for k, ph := range phs {
		if ctx.Err() != nil {
			return
		}
		r.startProgress(r.opts.Progress, ph, cfg.Fanout())
		var dwg sync.WaitGroup
		for j, d := range t.drivers {
			dwg.Add(1)
			go func() {
				defer dwg.Done()
				var err error
				if cfg.RoundTrip() {
					m.clients[k][j], err = r.client(ctx, d, ph, prog)
				} else {
					m.drive[k][j], err = r.drive(ctx, d, ph, prog)
				}
				r.fail(err)
			}()
		}
		dwg.Wait()
		m.dropped[k] = t.dropped()
	}
}

// startProgress resets the progress for phase ph, expecting per messages
// per measured one.
func (r *runner) startProgress(p *Progress, ph phase, per int) {
	if p == nil {
		return
	}
	var deadline time.Time
	if ph.duration > 0 {
		deadline = time.Now().Add(ph.warmup + ph.duration)
	}
	p.start(ph.index, ph.count*int64(per), deadline)
}

// results turns the measurements into one Result per phase.
func (r *runner) results(t *topology, m *measurements) []Result {
	cfg := r.cfg
	oneWay := !cfg.RoundTrip()
	var out []Result
	var prevDropped uint64
	for k, ph := range phases(cfg) {
		res := Result{
			Impl: r.im.Name(), Version: r.im.Version(), Mode: string(cfg.Mode), Pattern: string(cfg.Pattern),
			Transport: cfg.Transport, Role: string(cfg.Role), Size: ph.size, Clients: cfg.Drivers(),
			HWM: cfg.HWM, Rate: cfg.Rate, Latency: "round-trip",
		}
		if cfg.Pattern == config.PubSub {
			res.Subscribers = cfg.Fanout()
		}
		if !oneWay {
			res.Inflight = cfg.Inflight
		}
		lat, unc, delay := stats.NewHistogram(), stats.NewHistogram(), stats.NewHistogram()
		var starts, stops []time.Time
		switch {
		case oneWay:
			res.Latency = "one-way"
			res.Measured = len(t.sinks) > 0
			for _, d := range m.drive[k] {
				res.Sent += d.sent
				if d.sendDelay != nil {
					delay.Merge(d.sendDelay)
				}
				starts, stops = append(starts, d.start), append(stops, d.stop)
			}
			if !res.Measured {
				res.setRate(res.Sent, starts, stops, m.cpu)
				break
			}
			starts, stops = starts[:0], stops[:0]
			for _, s := range m.sinks[k] {
				res.Received += s.received
				res.Lost += s.lost
				res.OutOfOrder += s.outOfOrder
				if s.latency != nil {
					lat.Merge(s.latency)
					unc.Merge(s.uncorrected)
				}
				starts, stops = append(starts, s.first), append(stops, s.last)
			}
			if len(t.drivers) > 0 {
				if want := res.Sent * uint64(cfg.Fanout()); want > res.Received {
					res.Lost = max(res.Lost, want-res.Received)
				}
			}
			res.setRate(res.Received, starts, stops, m.cpu)
		case len(t.drivers) > 0:
			res.Measured = true
			for _, c := range m.clients[k] {
				res.Sent += c.sent
				res.Received += c.received
				res.Lost += c.lost
				res.OutOfOrder += c.outOfOrder
				if c.latency != nil {
					lat.Merge(c.latency)
					unc.Merge(c.uncorrected)
					delay.Merge(c.sendDelay)
				}
				starts, stops = append(starts, c.start), append(stops, c.stop)
			}
			res.setRate(res.Received, starts, stops, m.cpu)
		default:
			for _, e := range m.echoes {
				if k < len(e.echoed) {
					res.Received += e.echoed[k]
					starts, stops = append(starts, e.first[k]), append(stops, e.last[k])
				}
			}
			res.setRate(res.Received, starts, stops, m.cpu)
		}
		if m.dropped[k] >= prevDropped {
			res.Dropped = m.dropped[k] - prevDropped
			prevDropped = m.dropped[k]
		}
		if res.Measured {
			res.Corrected, res.Uncorrected = lat.Summary(), unc.Summary()
			res.hist = lat
		}
		res.SendDelay = delay.Summary()
		out = append(out, res)
	}
	return out
}
