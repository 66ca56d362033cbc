package workload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// clientStats is what a round-trip driver measured in a phase.
type clientStats struct {
	sent, received, lost, outOfOrder uint64
	start, stop                      time.Time
	latency                          *stats.Histogram // from the intended send time
	uncorrected                      *stats.Histogram // from the actual send time
	sendDelay                        *stats.Histogram
}

// replies tracks the answers to one client's requests.
type replies struct {
	ph     phase
	fanout int
	pubsub bool
	seqs   []stats.Sequence
	ends   int
	res    *clientStats
	prog   *Progress
	lastAt time.Time
}

// take records one reply and reports whether the phase's End came back
// from every echoing end.
func (rp *replies) take(frames [][]byte, now time.Time) (bool, error) {
	h, err := payload.Parse(frames[len(frames)-1])
	if err != nil {
		return true, fmt.Errorf("reply is not mqbench's: %w", err)
	}
	if int(h.Phase) != rp.ph.index {
		return true, fmt.Errorf("reply of phase %d during phase %d", h.Phase, rp.ph.index)
	}
	switch h.Kind {
	case payload.Data:
		stream := 0
		if rp.pubsub {
			stream = int(h.Stream)
		}
		if stream >= len(rp.seqs) {
			return true, fmt.Errorf("echo from subscriber %d of %d: do both processes have the same --subscribers?", stream, len(rp.seqs))
		}
		rp.seqs[stream].Observe(h.Seq)
		t := now.UnixNano()
		rp.res.latency.Record(t - h.Intended)
		rp.res.uncorrected.Record(t - h.Sent)
		rp.res.received++
		rp.lastAt = now
		rp.prog.add(rp.ph.index, 1)
	case payload.End:
		rp.ends++
		return rp.ends == rp.fanout, nil
	}
	return false, nil
}

func (rp *replies) finish() {
	for i := range rp.seqs {
		rp.seqs[i].End(rp.res.sent)
		rp.res.lost += rp.seqs[i].Lost()
		rp.res.outOfOrder += rp.seqs[i].OutOfOrder()
	}
	rp.res.stop = rp.lastAt
}

// client runs one phase of round trips from driver d: requests go out
// on d.data, replies come back on d.data or, for one-way patterns, on
// the return path. One request in flight runs in one goroutine; a wider
// window sends and receives in two.
func (r *runner) client(ctx context.Context, d *end, ph phase, prog *Progress) (clientStats, error) {
	res := clientStats{latency: stats.NewHistogram(), uncorrected: stats.NewHistogram(), sendDelay: stats.NewHistogram()}
	fanout := r.cfg.Fanout()
	rp := &replies{ph: ph, fanout: fanout, pubsub: r.cfg.Pattern == config.PubSub, seqs: make([]stats.Sequence, fanout), res: &res, prog: prog}
	in := d.data
	if d.ret != nil {
		in = d.ret
	}
	w := startWatchdog(ctx, r.cfg.IdleTimeout, r.fail)
	defer w.stop()
	var err error
	tr, timed := in.(impl.TimedReceiver)
	switch {
	case r.cfg.Inflight <= 1:
		err = r.lockstep(w, d.index, d.data, in, ph, rp)
	case r.im.Concurrent() || in != d.data:
		err = r.windowed(w, d.index, d.data, in, ph, rp)
	case timed:
		err = r.polled(w, d.index, d.data, tr, ph, rp)
	default:
		err = fmt.Errorf("%w: %s: --inflight %d needs concurrent send and receive or a timed receive", impl.ErrUnsupported, r.im.Name(), r.cfg.Inflight)
	}
	rp.finish()
	return res, w.err(err)
}

// requester sends one client's requests.
type requester struct {
	out   impl.Socket
	snd   *sender
	h     payload.Header
	ph    phase
	w     *watchdog
	delay *stats.Histogram
}

// send sends a request of kind k (Warmup, Data or End).
func (q *requester) send(k payload.Kind, seq uint64, intended int64) error {
	now := time.Now()
	if intended == 0 {
		intended = now.UnixNano()
	}
	q.h.Kind, q.h.Seq, q.h.Intended, q.h.Sent = k, seq, intended, now.UnixNano()
	size := q.ph.size
	if k == payload.End {
		size = payload.HeaderSize
	}
	if err := q.out.Send(q.w.ctx, q.snd.message(&q.h, size)); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	q.w.touch(now)
	if k == payload.Data && q.delay != nil {
		q.delay.Record(q.h.Sent - intended)
	}
	return nil
}

func (r *runner) newRequester(out impl.Socket, d int, ph phase, w *watchdog, rp *replies) *requester {
	q := &requester{out: out, snd: newSender(r.im), ph: ph, w: w}
	q.h.Stream, q.h.Phase = uint16(d), uint8(ph.index)
	if ph.rate > 0 {
		q.delay = rp.res.sendDelay
	}
	return q
}

// lockstep sends a request and waits for its replies, over and over.
func (r *runner) lockstep(w *watchdog, stream int, out, in impl.Socket, ph phase, rp *replies) error {
	q := r.newRequester(out, stream, ph, w, rp)
	sched := newSchedule(ph, ph.share(stream, r.cfg.Drivers()), out, func(t time.Time) { rp.res.start = t })
	awaitReplies := func(n int) (bool, error) {
		if out != in {
			flush(out)
		}
		for j := 0; j < n; j++ {
			frames, err := in.Recv(w.ctx)
			if err != nil {
				return false, err
			}
			now := time.Now()
			w.touch(now)
			done, err := rp.take(frames, now)
			release(in, frames)
			if err != nil || done {
				return done, err
			}
		}
		return false, nil
	}
	for {
		k, seq, intended, ok := sched.next()
		if !ok {
			break
		}
		if err := q.send(k, seq, intended); err != nil {
			return err
		}
		if k == payload.Data {
			rp.res.sent++
		}
		if _, err := awaitReplies(rp.fanout); err != nil {
			return err
		}
	}
	if err := q.send(payload.End, rp.res.sent, 0); err != nil {
		return err
	}
	for {
		done, err := awaitReplies(1)
		if err != nil || done {
			return err
		}
	}
}

// windowed keeps up to Inflight requests unanswered: a receiving
// goroutine returns a window slot per reply while this one sends.
func (r *runner) windowed(w *watchdog, stream int, out, in impl.Socket, ph phase, rp *replies) error {
	slots := make(chan struct{}, r.cfg.Inflight*rp.fanout)
	for range cap(slots) {
		slots <- struct{}{}
	}
	recvErr := make(chan error, 1)
	go func() {
		for {
			frames, err := in.Recv(w.ctx)
			if err != nil {
				recvErr <- err
				return
			}
			now := time.Now()
			w.touch(now)
			done, err := rp.take(frames, now)
			release(in, frames)
			if err != nil || done {
				recvErr <- err
				return
			}
			slots <- struct{}{}
		}
	}()
	acquire := func() error {
		for j := 0; j < rp.fanout; j++ {
			select {
			case <-slots:
				continue
			default:
			}
			flush(out)
			select {
			case <-slots:
			case err := <-recvErr:
				if err == nil {
					err = errors.New("brook: mqbench: replies ended before the requests")
				}
				recvErr <- err
				return err
			case <-w.ctx.Done():
				return w.ctx.Err()
			}
		}
		return nil
	}
	q := r.newRequester(out, stream, ph, w, rp)
	var sent uint64
	sched := newSchedule(ph, ph.share(stream, r.cfg.Drivers()), out, func(t time.Time) { rp.res.start = t })
	err := func() error {
		for {
			k, seq, intended, ok := sched.next()
			if !ok {
				break
			}
			if err := acquire(); err != nil {
				return err
			}
			if err := q.send(k, seq, intended); err != nil {
				return err
			}
			if k == payload.Data {
				sent++
			}
		}
		if err := acquire(); err != nil {
			return err
		}
		err := q.send(payload.End, sent, 0)
		flush(out)
		return err
	}()
	if err != nil {
		w.cancel()
	}
	rerr := <-recvErr
	rp.res.sent = sent
	if err != nil {
		return err
	}
	return rerr
}

// polled keeps up to Inflight requests unanswered from one goroutine, for
// sockets that cannot send and receive at once: it sends what is due
// while the window has room, and otherwise waits for replies, but only
// until the next request is due.
func (r *runner) polled(w *watchdog, stream int, out impl.Socket, in impl.TimedReceiver, ph phase, rp *replies) error {
	q := r.newRequester(out, stream, ph, w, rp)
	sched := newSchedule(ph, ph.share(stream, r.cfg.Drivers()), out, func(t time.Time) { rp.res.start = t })
	limit := r.cfg.Inflight * rp.fanout
	outstanding := 0
	endSent := false
	for {
		wait := time.Duration(-1)
		room := outstanding+rp.fanout <= limit
		k, seq, due, ok := sched.peek()
		switch {
		case ok && room:
			if left := due - time.Now().UnixNano(); due != 0 && left > 0 {
				wait = time.Duration(left)
				break
			}
			sched.take()
			if err := q.send(k, seq, due); err != nil {
				return err
			}
			if k == payload.Data {
				rp.res.sent++
			}
			outstanding += rp.fanout
			continue
		case !ok && !endSent && room:
			if err := q.send(payload.End, rp.res.sent, 0); err != nil {
				return err
			}
			endSent = true
			outstanding += rp.fanout
			continue
		}
		frames, got, err := in.RecvWithin(w.ctx, wait)
		if err != nil {
			return err
		}
		if !got {
			continue
		}
		now := time.Now()
		w.touch(now)
		outstanding--
		if done, err := rp.take(frames, now); err != nil || done {
			return err
		}
	}
}
