package workload

import (
	"context"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// recvLoop receives from s and hands each message with its arrival time
// to fn until fn reports done or fails. Once the first message has
// arrived, a silence longer than idle ends the loop with ErrIdle, which
// goes to onIdle first.
func recvLoop(ctx context.Context, s impl.Socket, idle time.Duration, onIdle func(error), fn func(frames [][]byte, now time.Time) (bool, error)) error {
	w := startWatchdog(ctx, idle, onIdle)
	defer w.stop()
	for {
		frames, err := s.Recv(w.ctx)
		if err != nil {
			return w.err(err)
		}
		now := time.Now()
		w.touch(now)
		if done, err := fn(frames, now); err != nil || done {
			return err
		}
	}
}

// release gives a received message's frames back to s's library for
// reuse (impl.Releaser), once the workload is done with them and has not
// sent them on.
func release(s impl.Socket, frames [][]byte) {
	if r, ok := s.(impl.Releaser); ok {
		r.Release(frames)
	}
}
