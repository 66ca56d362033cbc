package workload

import (
	"context"
	"fmt"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// sinkStats is what a one-way sink measured in a phase.
type sinkStats struct {
	received, lost, outOfOrder uint64
	first, last                time.Time
	latency                    *stats.Histogram // from the intended send time
	uncorrected                *stats.Histogram // from the actual send time
}

// sinkPhase is a sink's bookkeeping for one phase.
type sinkPhase struct {
	stats    sinkStats
	seqs     []stats.Sequence
	ended    []bool
	nEnded   int
	complete bool
}

// sink receives every phase of a one-way workload at sink s, whose
// messages come from streams senders. Streams are independent: one
// client may already send the next size while another's last messages
// of this one are still on their way, so each message counts in its own
// phase, and a phase completes when every stream ended it. A message of a
// later phase also ends the stream's earlier phases (a PUB may drop an
// End). onComplete is called as each phase completes.
func (r *runner) sink(ctx context.Context, s *end, phs []phase, streams int, prog *Progress, onComplete func(k int)) ([]sinkStats, error) {
	ps := make([]sinkPhase, len(phs))
	for k := range ps {
		ps[k] = sinkPhase{
			stats: sinkStats{latency: stats.NewHistogram(), uncorrected: stats.NewHistogram()},
			seqs:  make([]stats.Sequence, streams),
			ended: make([]bool, streams),
		}
	}
	snd := newSender(r.im)
	stall := r.newStaller()
	readySent := false
	completed := 0
	endStream := func(k, stream int, sent uint64, known bool) error {
		p := &ps[k]
		if p.complete || p.ended[stream] {
			return nil
		}
		p.ended[stream] = true
		p.nEnded++
		if known {
			p.seqs[stream].End(sent)
		}
		if p.nEnded < streams {
			return nil
		}
		p.complete = true
		completed++
		for i := range p.seqs {
			p.stats.lost += p.seqs[i].Lost()
			p.stats.outOfOrder += p.seqs[i].OutOfOrder()
		}
		onComplete(k)
		if r.cfg.Pattern == config.PubSub {
			return r.answer(ctx, s, snd, payload.End, k)
		}
		return nil
	}
	handle := func(h payload.Header, now time.Time) (bool, error) {
		k, stream := int(h.Phase), int(h.Stream)
		if k >= len(phs) {
			return true, fmt.Errorf("message of size #%d, expected %d sizes: do both processes have the same --size?", k+1, len(phs))
		}
		if h.Kind == payload.Hello {
			if s.ret != nil && !readySent {
				readySent = true
				return false, r.answer(ctx, s, snd, payload.Ready, k)
			}
			return false, nil
		}
		if stream >= streams {
			return true, fmt.Errorf("message from stream %d, expected %d streams: do both processes have the same --clients?", stream, streams)
		}
		for j := 0; j < k; j++ {
			if err := endStream(j, stream, 0, false); err != nil {
				return true, err
			}
		}
		p := &ps[k]
		switch h.Kind {
		case payload.Data:
			if p.complete {
				return false, nil
			}
			p.seqs[stream].Observe(h.Seq)
			t := now.UnixNano()
			st := &p.stats
			st.latency.Record(t - h.Intended)
			st.uncorrected.Record(t - h.Sent)
			if st.received == 0 {
				st.first = now
			}
			st.last = now
			st.received++
			prog.add(k, 1)
			stall.data(k)
		case payload.End:
			if err := endStream(k, stream, h.Seq, true); err != nil {
				return true, err
			}
		}
		return completed == len(phs), nil
	}
	// Subscribers may share one received buffer (brook's inproc fan-out
	// does): only other patterns' messages are given back.
	owned := r.cfg.Pattern != config.PubSub
	err := recvLoop(ctx, s.data, r.cfg.IdleTimeout, r.fail, func(frames [][]byte, now time.Time) (bool, error) {
		h, err := payload.Parse(frames[len(frames)-1])
		if err != nil {
			return true, fmt.Errorf("received a message that is not mqbench's: %w", err)
		}
		if owned {
			release(s.data, frames)
		}
		return handle(h, now)
	})
	out := make([]sinkStats, len(ps))
	for k := range ps {
		if !ps[k].complete {
			// Interrupted: count what the sequence numbers show so far.
			for i := range ps[k].seqs {
				ps[k].stats.lost += ps[k].seqs[i].Lost()
				ps[k].stats.outOfOrder += ps[k].seqs[i].OutOfOrder()
			}
		}
		out[k] = ps[k].stats
	}
	return out, err
}
