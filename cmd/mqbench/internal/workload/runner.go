package workload

import (
	"context"
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
