package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/brookmq/brook/socket"
)

// tick is how often the client makes jobs and looks for late answers.
const tick = 10 * time.Millisecond

// sendWait bounds one Send: with WithImmediate a DEALER blocks while no
// instance is connected, and the client has answers to take meanwhile.
const sendWait = 10 * time.Millisecond

// client makes jobs, sends them over the DEALER and matches the answers.
// It runs on one goroutine; a second one only receives.
type client struct {
	cfg     instanceConfig
	dealer  *socket.Socket
	st      *counters
	observe func(time.Duration)
	jobs    map[uint64]*job
	seq     uint64
}

// job is one job waiting for its answer.
type job struct {
	payload []byte
	digest  [32]byte
	made    time.Time
	// sent is the time of the last send (zero: not sent yet); attempts
	// counts the sends.
	sent     time.Time
	attempts int
}

func newClient(cfg instanceConfig, dealer *socket.Socket, st *counters, observe func(time.Duration)) *client {
	return &client{cfg: cfg, dealer: dealer, st: st, observe: observe, jobs: map[uint64]*job{}}
}

// run makes jobs until term ends, then drains: it makes no new job and
// waits up to cfg.drain for the answers still owed, sending late jobs
// again meanwhile. It returns how many jobs were left unanswered.
func (c *client) run(term context.Context) (abandoned int, err error) {
	recvCtx, stopRecv := context.WithCancel(context.Background())
	answers := make(chan socket.Msg, 256)
	recvErr := make(chan error, 1)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			m, err := c.dealer.Recv(recvCtx)
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case answers <- m:
			case <-recvCtx.Done():
				return
			}
		}
	}()
	defer func() {
		stopRecv()
		<-recvDone
	}()

	t := time.NewTicker(tick)
	defer t.Stop()
	start, made := time.Now(), 0
	termDone := term.Done()
	var drainEnd <-chan time.Time
	for {
		if drainEnd != nil && len(c.jobs) == 0 {
			return 0, nil
		}
		select {
		case <-termDone:
			termDone = nil
			drainEnd = time.After(c.cfg.drain)
		case <-drainEnd:
			return len(c.jobs), nil
		case m := <-answers:
			if err := c.answer(m); err != nil {
				return len(c.jobs), err
			}
		case err := <-recvErr:
			return len(c.jobs), fmt.Errorf("jobs: %w", err)
		case now := <-t.C:
			if drainEnd == nil {
				due := int(now.Sub(start).Seconds() * c.cfg.rate)
				for ; made < due && len(c.jobs) < c.cfg.window; made++ {
					c.make(now)
				}
				made = due // a full window skips jobs rather than piling them up
			}
			if err := c.send(term, now); err != nil {
				return len(c.jobs), err
			}
		}
		c.st.outstanding.Store(int64(len(c.jobs)))
	}
}

func (c *client) make(now time.Time) {
	c.seq++
	id := jobID(c.cfg.self, c.seq)
	payload := fmt.Appendf(nil, "job %d of instance %d", c.seq, c.cfg.self)
	c.jobs[id] = &job{payload: payload, digest: sha256.Sum256(payload), made: now}
}

// send sends jobs never sent, and jobs whose answer is late, until one
// Send finds no instance connected.
func (c *client) send(term context.Context, now time.Time) error {
	for id, j := range c.jobs {
		if !j.sent.IsZero() && now.Sub(j.sent) < c.cfg.reqTimeout {
			continue
		}
		if j.attempts >= c.cfg.attempts {
			delete(c.jobs, id)
			c.st.failed.Add(1)
			continue
		}
		frame := binary.BigEndian.AppendUint64(nil, id)
		ctx, cancel := context.WithTimeout(context.Background(), sendWait)
		err := c.dealer.Send(ctx, socket.NewMsg([]byte{}, frame, j.payload))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil // no instance connected right now: try again next tick
		}
		if err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		j.sent = now
		j.attempts++
		if j.attempts > 1 {
			c.st.retried.Add(1)
		}
	}
	return nil
}

// answer matches one answer [“”, job id, digest, server] to its job.
func (c *client) answer(m socket.Msg) error {
	f := m.Frames
	if len(f) != 4 || len(f[0]) != 0 || len(f[1]) != 8 {
		return fmt.Errorf("jobs: malformed answer of %d frames", len(f))
	}
	id := binary.BigEndian.Uint64(f[1])
	j, ok := c.jobs[id]
	if !ok {
		c.st.dup.Add(1) // answered before, by another instance or attempt
		return nil
	}
	if string(f[2]) != string(j.digest[:]) {
		return fmt.Errorf("jobs: wrong digest for job %#x from %s", id, f[3])
	}
	delete(c.jobs, id)
	c.st.done.Add(1)
	c.observe(time.Since(j.made))
	return nil
}
