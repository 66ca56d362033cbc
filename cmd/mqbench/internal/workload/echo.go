package workload

import (
	"context"
	"fmt"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// echoStats counts what an echoing end answered in each phase.
type echoStats struct {
	echoed      []uint64
	first, last []time.Time
}

// echo answers every request that reaches sink s until it has seen the
// End of every phase from each of its streams: back on the same socket
// (REP, ROUTER with the peer's routing id, PAIR) or, for one-way
// patterns, on the return path, marked with the sink's index. A pubsub
// sink also answers the publisher's Hello with Ready.
func (r *runner) echo(ctx context.Context, s *end, streams int, st *echoStats, prog *Progress) error {
	nph := len(r.cfg.Sizes)
	st.echoed = make([]uint64, nph)
	st.first = make([]time.Time, nph)
	st.last = make([]time.Time, nph)
	out := s.data
	if s.ret != nil {
		out = s.ret
	}
	snd := newSender(r.im)
	pubsub := r.cfg.Pattern == config.PubSub
	stall := r.newStaller()
	readySent := false
	ends, want := 0, streams*nph
	return recvLoop(ctx, s.data, r.cfg.IdleTimeout, r.fail, func(frames [][]byte, now time.Time) (bool, error) {
		body := frames[len(frames)-1]
		h, err := payload.Parse(body)
		if err != nil {
			return true, fmt.Errorf("received a message that is not mqbench's: %w", err)
		}
		if int(h.Phase) >= nph {
			return true, fmt.Errorf("message of phase %d, expected %d sizes: do both processes have the same --size?", h.Phase, nph)
		}
		switch h.Kind {
		case payload.Hello:
			if pubsub && !readySent {
				readySent = true
				return false, r.answer(ctx, s, snd, payload.Ready, int(h.Phase))
			}
			return false, nil
		case payload.Data:
			stall.data(int(h.Phase))
			if st.echoed[h.Phase] == 0 {
				st.first[h.Phase] = now
			}
			st.echoed[h.Phase]++
			st.last[h.Phase] = now
			prog.add(int(h.Phase), 1)
		}
		if pubsub {
			// Subscribers may share one received buffer (brook's inproc
			// fan-out does): mark a copy.
			body = append([]byte(nil), body...)
			payload.SetStream(body, uint16(s.index))
			frames = [][]byte{body}
		}
		if err := out.Send(ctx, frames); err != nil {
			return true, fmt.Errorf("echo: %w", err)
		}
		if out != s.data {
			// The return path is another socket: a buffering one must
			// not hold the answer while this one waits.
			flush(out)
		}
		if h.Kind == payload.End {
			ends++
			if ends == want {
				flush(out)
				return true, nil
			}
		}
		return false, nil
	})
}
