package workload

import (
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// phase is one message size's measurement, as every end sees it.
type phase struct {
	index    int
	size     int
	count    int64         // measured messages, all drivers together; 0: duration
	duration time.Duration // measured time; 0: count
	warmup   time.Duration
	rate     float64 // per driver; 0: closed loop
	spin     bool    // the pacer busy-waits (--pacer spin)
}

func phases(cfg *config.Config) []phase {
	out := make([]phase, len(cfg.Sizes))
	drivers := int64(cfg.Drivers())
	for i, size := range cfg.Sizes {
		out[i] = phase{index: i, size: size, count: cfg.Count, duration: cfg.Duration, warmup: cfg.Warmup, rate: cfg.Rate / float64(drivers), spin: cfg.Pacer == config.PacerSpin}
	}
	return out
}

// share is driver d's part of the phase's count (the first drivers take
// the remainder).
func (p *phase) share(d, drivers int) int64 {
	if p.count == 0 {
		return 0
	}
	n := p.count / int64(drivers)
	if int64(d) < p.count%int64(drivers) {
		n++
	}
	return n
}

// sender makes messages for one socket: a fresh buffer per message for
// libraries that keep what they send, one reused buffer for those that
// copy.
type sender struct {
	fresh  bool
	buf    []byte
	frames [][]byte
}

func newSender(im impl.Impl) *sender { return &sender{fresh: im.KeepsFrames()} }

// message returns a size-byte message whose header is h.
func (s *sender) message(h *payload.Header, size int) [][]byte {
	if s.fresh {
		b := make([]byte, size)
		h.Put(b)
		return [][]byte{b}
	}
	if len(s.buf) != size {
		s.buf = make([]byte, size)
		s.frames = [][]byte{s.buf}
	}
	h.Put(s.buf)
	return s.frames
}
