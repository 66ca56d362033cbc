package quic

import (
	"context"
	"sync"
	"time"
)

// ticker is a connection's periodic work, run from a timer rather than a
// goroutine of its own: every interval it looks for streams the profile
// does not allow and, once the liveness protocol runs, sends a PING. It
// starts with the Conn (the setup period is watched too) and switches to
// the liveness interval when the handshake completes.
type ticker struct {
	c *Conn
	// now is an ended context: AcceptStream with it returns a stream the
	// peer opened, or at once an error if there is none.
	now context.Context

	mu       sync.Mutex
	stopped  bool
	interval time.Duration
	timer    *time.Timer
	lv       *liveness // PINGs go out once it is set
	running  sync.WaitGroup
}

func (t *ticker) start(c *Conn, interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t.c, t.now, t.interval = c, ctx, interval
	t.mu.Lock()
	t.timer = time.AfterFunc(interval, t.run)
	t.mu.Unlock()
}

// startLiveness makes every tick from now on, one interval apart, send a
// PING on lv, and checks the streams once at once.
func (t *ticker) startLiveness(lv *liveness, interval time.Duration) {
	t.mu.Lock()
	if !t.stopped {
		t.lv, t.interval = lv, interval
		t.timer.Reset(interval)
	}
	t.mu.Unlock()
	t.c.checkStreams()
}

func (t *ticker) run() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.running.Add(1)
	lv := t.lv
	t.mu.Unlock()
	defer t.running.Done()

	t.c.checkStreams()
	if lv != nil && !lv.ping() {
		return // the connection is over
	}
	t.mu.Lock()
	if !t.stopped {
		t.timer.Reset(t.interval)
	}
	t.mu.Unlock()
}

// stop ends the ticking and waits for a tick in progress. A PING blocked
// by flow control returns once the connection is closed or the liveness
// stream's deadlines expire.
func (t *ticker) stop() {
	t.mu.Lock()
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	t.running.Wait()
}
