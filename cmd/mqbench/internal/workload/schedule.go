package workload

import (
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// schedule yields the requests of a phase: warmup, then measured until
// the count or duration is done. peek tells what the next request is and
// when it is due without waiting; next waits for it.
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

// begin starts the measured part.
func (s *schedule) begin(now time.Time) {
	s.warm, s.i = false, 0
	s.p = newPacer(s.ph.rate, s.ph.spin, now, s.sock)
	s.deadline = now.Add(s.ph.duration).UnixNano()
	s.onStart(now)
}

// peek returns the next request's kind, sequence number and due time
// (Unix ns; 0 closed loop: now), or ok false when the phase has sent
// everything. It does not wait.
func (s *schedule) peek() (kind payload.Kind, seq uint64, due int64, ok bool) {
	at := func(due int64) int64 {
		if due == 0 {
			return time.Now().UnixNano()
		}
		return due
	}
	if s.warm {
		due = s.p.due(s.i)
		if at(due) < s.warmEnd {
			return payload.Warmup, uint64(s.i), due, true
		}
		s.begin(time.Now())
	}
	if s.n > 0 && s.i >= s.n {
		return 0, 0, 0, false
	}
	due = s.p.due(s.i)
	if s.ph.duration > 0 && at(due) >= s.deadline {
		return 0, 0, 0, false
	}
	return payload.Data, uint64(s.i), due, true
}

// take consumes the request peek returned.
func (s *schedule) take() { s.i++ }

// next waits until the next request is due and takes it.
func (s *schedule) next() (kind payload.Kind, seq uint64, intended int64, ok bool) {
	kind, seq, intended, ok = s.peek()
	if ok {
		s.p.waitUntil(intended)
		s.take()
	}
	return kind, seq, intended, ok
}
