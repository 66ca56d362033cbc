package workload

import (
	"context"
	"sync"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// runner carries one run's settings to its ends.
type runner struct {
	cfg   *config.Config
	im    impl.Impl
	opts  Options
	abort context.CancelFunc // ends the whole run

	errOnce sync.Once
	err     error
}

// fail records the run's first error and ends the run.
func (r *runner) fail(err error) {
	if err == nil {
		return
	}
	r.errOnce.Do(func() {
		r.err = err
		r.abort()
	})
}

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
