package quic

import (
	"context"
	"sync"
	"time"
)

// ticker is a connection's periodic work, run from a timer rather than a
// goroutine of its own: it looks for streams the profile does not allow
// and, once the liveness protocol runs, sends a PING every liveness
// interval and polls the liveness stream in between (see liveness). It
// starts with the Conn (the setup period is watched too, every interval)
// and switches to the liveness schedule when the handshake completes.
type ticker struct {
	c *Conn
	// now is an ended context: AcceptStream with it returns a stream the
	// peer opened, or at once an error if there is none.
	now context.Context

	mu       sync.Mutex
	stopped  bool
	interval time.Duration
	timer    *time.Timer
	lv       *liveness // PINGs go out and polls run once it is set
	nextPing time.Time
	running  sync.WaitGroup
	// busy makes ticks run one at a time: startLiveness may fire one
	// while a tick of the setup period is still running.
	busy sync.Mutex
}

func (t *ticker) start(c *Conn, interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t.c, t.now, t.interval = c, ctx, interval
	t.mu.Lock()
	t.timer = time.AfterFunc(interval, t.run)
	t.mu.Unlock()
}

// startLiveness runs the liveness protocol on lv from now on: a PING
// every interval, the first one interval from now, and polls in between.
// It checks the streams once at once.
func (t *ticker) startLiveness(lv *liveness, interval time.Duration) {
	t.mu.Lock()
	if !t.stopped {
		t.lv, t.interval = lv, interval
		t.nextPing = time.Now().Add(interval)
		t.timer.Reset(lv.next(interval))
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
	t.mu.Unlock()
	defer t.running.Done()
	t.busy.Lock()
	defer t.busy.Unlock()
	t.mu.Lock()
	lv, interval, nextPing := t.lv, t.interval, t.nextPing
	t.mu.Unlock()

	next := interval
	if lv == nil {
		t.c.checkStreams()
	} else {
		if now := time.Now(); !now.Before(nextPing) {
			// Streams are checked with each PING: once an interval.
			t.c.checkStreams()
			if !lv.ping() {
				return // the connection is over
			}
			nextPing = now.Add(interval)
		}
		if !lv.poll() {
			return
		}
		next = lv.next(time.Until(nextPing))
	}
	t.mu.Lock()
	if !t.stopped {
		if lv != nil {
			t.nextPing = nextPing
		}
		t.timer.Reset(next)
	}
	t.mu.Unlock()
}

// stop ends the ticking and waits for a tick in progress. A PING or PONG
// blocked by flow control returns once the connection is closed or the
// liveness stream's deadlines expire.
func (t *ticker) stop() {
	t.mu.Lock()
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	t.running.Wait()
}
