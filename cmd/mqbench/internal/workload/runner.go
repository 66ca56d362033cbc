package workload

import (
	"context"
	"errors"
	"sync"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// runner carries one run's settings to its ends.
type runner struct {
	cfg   *config.Config
	im    impl.Impl
	opts  Options
	abort context.CancelFunc // ends the whole run

	mu      sync.Mutex
	aborted bool
	err     error
}

// fail records the run's error and ends the run. The first error wins,
// except that a cancellation gives way to the error that caused it: an
// end that hears nothing for the idle timeout cancels the run, and the
// other ends then fail with context.Canceled, which would hide why.
func (r *runner) fail(err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	if r.err == nil || (errors.Is(r.err, context.Canceled) && !errors.Is(err, context.Canceled)) {
		r.err = err
	}
	first := !r.aborted
	r.aborted = true
	r.mu.Unlock()
	if first {
		r.abort()
	}
}
