package workload

import (
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// schedule yields the requests of a phase: warmup, then measured until
// the count or duration is done. next returns the kind, sequence number
// and intended send time of the next request, or ok false at the end.
type schedule struct {
	ph       phase
	n        int64
	warm     bool
	warmEnd  int64
	i        int64
	p        *pacer
	deadline int64
	onStart  func(time.Time)
	sock     impl.Socket
}

func newSchedule(ph phase, n int64, sock impl.Socket, onStart func(time.Time)) *schedule {
	s := &schedule{ph: ph, n: n, sock: sock, onStart: onStart}
	now := time.Now()
	if ph.warmup > 0 {
		s.warm = true
		s.warmEnd = now.Add(ph.warmup).UnixNano()
		s.p = newPacer(ph.rate, ph.spin, now, sock)
	} else {
		s.begin(now)
	}
	return s
}

func (s *schedule) begin(now time.Time) {
	s.warm, s.i = false, 0
	s.p = newPacer(s.ph.rate, s.ph.spin, now, s.sock)
	s.deadline = now.Add(s.ph.duration).UnixNano()
	s.onStart(now)
}

func (s *schedule) next() (kind payload.Kind, seq uint64, intended int64, ok bool) {
	if s.warm {
		intended = s.p.wait(s.i)
		if max(intended, time.Now().UnixNano()) < s.warmEnd {
			s.i++
			return payload.Warmup, uint64(s.i - 1), intended, true
		}
		s.begin(time.Now())
	}
	if s.n > 0 && s.i >= s.n {
		return 0, 0, 0, false
	}
	intended = s.p.wait(s.i)
	if s.ph.duration > 0 && max(intended, time.Now().UnixNano()) >= s.deadline {
		return 0, 0, 0, false
	}
	s.i++
	return payload.Data, uint64(s.i - 1), intended, true
}
