package workload

import "time"

// staller sleeps once, after a given number of measured messages: the
// test hook for coordinated omission.
type staller struct {
	after int64
	d     time.Duration
	seen  int64
	phase int
}

func (r *runner) newStaller() *staller {
	return &staller{after: r.opts.StallAfter, d: r.opts.Stall, phase: -1}
}

// data counts one measured message of phase ph and stalls when due.
func (s *staller) data(ph int) {
	if s.d <= 0 {
		return
	}
	if ph != s.phase {
		s.phase, s.seen = ph, 0
	}
	s.seen++
	if s.seen == s.after {
		time.Sleep(s.d)
	}
}
