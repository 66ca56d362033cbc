package workload

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrIdle means an end heard nothing for the idle timeout in the middle
// of a phase; what did not arrive counts as lost.
var ErrIdle = errors.New("brook: mqbench: no message within --idle-timeout")

// watchdog ends a context when nothing happened for the idle timeout
// after the first touch, and fails the run with ErrIdle (which ends it:
// some libraries' Recv only returns when the socket's own context ends).
type watchdog struct {
	ctx    context.Context
	cancel context.CancelFunc
	idle   time.Duration
	last   atomic.Int64 // Unix ns of the last activity; 0: not armed
	fired  atomic.Bool
	wg     sync.WaitGroup
}

func startWatchdog(parent context.Context, idle time.Duration, onIdle func(error)) *watchdog {
	w := &watchdog{idle: idle}
	w.ctx, w.cancel = context.WithCancel(parent)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(min(idle/4, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-w.ctx.Done():
				return
			case now := <-t.C:
				if l := w.last.Load(); l != 0 && now.UnixNano()-l > int64(idle) {
					w.fired.Store(true)
					onIdle(fmt.Errorf("%w (%s)", ErrIdle, idle))
					w.cancel()
					return
				}
			}
		}
	}()
	return w
}

// touch records activity (and arms the watchdog).
func (w *watchdog) touch(now time.Time) { w.last.Store(now.UnixNano()) }

// err turns an error caused by the watchdog into ErrIdle.
func (w *watchdog) err(err error) error {
	if err != nil && w.fired.Load() {
		return fmt.Errorf("%w (%s)", ErrIdle, w.idle)
	}
	return err
}

// stop ends the watchdog and waits for it.
func (w *watchdog) stop() {
	w.cancel()
	w.wg.Wait()
}
