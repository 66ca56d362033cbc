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
	// announced is the number of messages the streams' End said they sent.
	announced   uint64
	first, last time.Time
	latency     *stats.Histogram // from the intended send time
	uncorrected *stats.Histogram // from the actual send time
	// complete is false when the phase ended without every stream's End.
	complete bool
}

// sinkState is what a sink carries from one phase to the next.
type sinkState struct {
	snd       *sender
	readySent bool
	stall     *staller
	// pending is a message of a later phase that ended the previous one
	// (its End was dropped).
	pending *arrival
}

type arrival struct {
	h   payload.Header
	now time.Time
}

// sinkPhase receives one phase of a one-way workload at sink s, whose
// messages come from streams drivers.
func (r *runner) sinkPhase(ctx context.Context, s *end, st *sinkState, ph phase, streams int, prog *Progress) (sinkStats, error) {
	res := sinkStats{latency: stats.NewHistogram(), uncorrected: stats.NewHistogram()}
	seqs := make([]stats.Sequence, streams)
	ended := make([]bool, streams)
	nEnded := 0
	handle := func(h payload.Header, now time.Time) (bool, error) {
		switch {
		case int(h.Phase) < ph.index:
			return false, nil // a repeated End of an earlier phase
		case int(h.Phase) > ph.index:
			st.pending = &arrival{h, now}
			return true, nil
		}
		switch h.Kind {
		case payload.Hello:
			if s.ret != nil && !st.readySent {
				st.readySent = true
				return false, r.answer(ctx, s, st.snd, payload.Ready, ph.index)
			}
		case payload.Data:
			if int(h.Stream) >= streams {
				return true, fmt.Errorf("message from stream %d, expected %d streams: do both processes have the same --clients?", h.Stream, streams)
			}
			seqs[h.Stream].Observe(h.Seq)
			t := now.UnixNano()
			res.latency.Record(t - h.Intended)
			res.uncorrected.Record(t - h.Sent)
			if res.received == 0 {
				res.first = now
			}
			res.last = now
			res.received++
			prog.add(1)
			st.stall.data(ph.index)
		case payload.End:
			if int(h.Stream) < streams && !ended[h.Stream] {
				ended[h.Stream] = true
				nEnded++
				seqs[h.Stream].End(h.Seq)
				res.announced += h.Seq
			}
			return nEnded == streams, nil
		}
		return false, nil
	}
	var err error
	done := false
	if p := st.pending; p != nil {
		st.pending = nil
		done, err = handle(p.h, p.now)
	}
	if !done && err == nil {
		err = recvLoop(ctx, s.data, r.cfg.IdleTimeout, r.fail, func(frames [][]byte, now time.Time) (bool, error) {
			h, err := payload.Parse(frames[len(frames)-1])
			if err != nil {
				return true, fmt.Errorf("received a message that is not mqbench's: %w", err)
			}
			return handle(h, now)
		})
	}
	for i := range seqs {
		res.lost += seqs[i].Lost()
		res.outOfOrder += seqs[i].OutOfOrder()
	}
	res.complete = nEnded == streams
	if err == nil && r.cfg.Pattern == config.PubSub && res.complete {
		err = r.answer(ctx, s, st.snd, payload.End, ph.index)
	}
	return res, err
}
