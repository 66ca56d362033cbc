package workload

import (
	"context"
	"fmt"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// driverStats is what a one-way driver measured in a phase.
type driverStats struct {
	sent        uint64
	start, stop time.Time
	sendDelay   *stats.Histogram
}

// drive sends one phase of a one-way workload from driver d: warmup,
// measured messages on the pacer's schedule, then End (acknowledged by
// every subscriber on the return path for pubsub, whose PUB may drop).
func (r *runner) drive(ctx context.Context, d *end, ph phase, prog *Progress) (driverStats, error) {
	snd := newSender(r.im)
	h := payload.Header{Stream: uint16(d.index), Phase: uint8(ph.index)}
	st := driverStats{sendDelay: stats.NewHistogram()}
	if err := r.warmupOneWay(ctx, d.data, snd, &h, ph); err != nil {
		return st, err
	}
	n := ph.share(d.index, r.cfg.Drivers())
	st.start = time.Now()
	deadline := st.start.Add(ph.duration).UnixNano()
	p := newPacer(ph.rate, ph.spin, st.start, d.data)
	h.Kind = payload.Data
	var i int64
	for ; n == 0 || i < n; i++ {
		intended := p.due(i)
		if ph.duration > 0 && intended >= deadline {
			break
		}
		p.waitUntil(intended)
		now := time.Now().UnixNano()
		if intended == 0 {
			if ph.duration > 0 && now >= deadline {
				break
			}
			intended = now
		}
		h.Seq, h.Intended, h.Sent = uint64(i), intended, now
		if err := d.data.Send(ctx, snd.message(&h, ph.size)); err != nil {
			return st, fmt.Errorf("send: %w", err)
		}
		if p.open() {
			st.sendDelay.Record(now - intended)
		}
		prog.add(ph.index, 1)
	}
	st.sent = uint64(i)
	st.stop = time.Now()
	h.Kind, h.Seq, h.Intended, h.Sent = payload.End, st.sent, 0, st.stop.UnixNano()
	if d.ret != nil {
		// pubsub: repeat End until every subscriber acknowledged it. A
		// subscriber may still be working through a backlog of seconds
		// (a PUB without a high-water mark queues it all), so there is no
		// limit but the run's: a subscriber that stops hearing anything
		// fails the run with ErrIdle.
		return st, r.handshake(ctx, d, snd, h, payload.End, r.cfg.Fanout(), endRepeat)
	}
	if err := d.data.Send(ctx, snd.message(&h, payload.HeaderSize)); err != nil {
		return st, fmt.Errorf("send end: %w", err)
	}
	flush(d.data)
	return st, nil
}

// warmupOneWay sends Warmup messages for the phase's warmup time, on the
// phase's schedule.
func (r *runner) warmupOneWay(ctx context.Context, s impl.Socket, snd *sender, h *payload.Header, ph phase) error {
	if ph.warmup <= 0 {
		return nil
	}
	start := time.Now()
	end := start.Add(ph.warmup).UnixNano()
	h.Kind = payload.Warmup
	p := newPacer(ph.rate, ph.spin, start, s)
	for i := int64(0); ; i++ {
		intended := p.due(i)
		if intended >= end {
			return nil
		}
		p.waitUntil(intended)
		now := time.Now().UnixNano()
		if intended == 0 {
			if now >= end {
				return nil
			}
			intended = now
		}
		h.Seq, h.Intended, h.Sent = uint64(i), intended, now
		if err := s.Send(ctx, snd.message(h, ph.size)); err != nil {
			return fmt.Errorf("send warmup: %w", err)
		}
	}
}
