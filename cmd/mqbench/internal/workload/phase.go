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

// Carving: a sender for a library that keeps what it sends gives every
// message memory of its own, never reused; small bodies are carved one
// after another from a block of carveBlock bytes (one allocation for
// hundreds of 64-byte messages, as an application producing small
// messages would do), and single-frame lists from a block of carveLists.
// A carved body's capacity is its length, so a receiver that releases it
// (inproc passes the sender's frames along) gives nothing back to
// brook's pools; the garbage collector frees a block once every message
// carved from it is gone.
const (
	carveMax   = 1024
	carveBlock = 32 << 10
	carveLists = 512
)

// sender makes messages for one socket: fresh memory per message for
// libraries that keep what they send (small bodies carved from blocks,
// see carveMax), one reused buffer for those that copy.
type sender struct {
	fresh  bool
	buf    []byte
	frames [][]byte
	block  []byte   // fresh: what is left of the current body block
	lists  [][]byte // fresh: what is left of the current list block
}

func newSender(im impl.Impl) *sender { return &sender{fresh: im.KeepsFrames()} }

// message returns a size-byte message whose header is h.
func (s *sender) message(h *payload.Header, size int) [][]byte {
	if s.fresh {
		b := s.body(size)
		h.Put(b)
		if len(s.lists) == 0 {
			s.lists = make([][]byte, carveLists)
		}
		f := s.lists[:1:1]
		s.lists = s.lists[1:]
		f[0] = b
		return f
	}
	if len(s.buf) != size {
		s.buf = make([]byte, size)
		s.frames = [][]byte{s.buf}
	}
	h.Put(s.buf)
	return s.frames
}

// body returns size zeroed bytes no other message shares.
func (s *sender) body(size int) []byte {
	if size > carveMax {
		return make([]byte, size)
	}
	if len(s.block) < size {
		s.block = make([]byte, carveBlock)
	}
	b := s.block[:size:size]
	s.block = s.block[size:]
	return b
}
