// Package jbench runs mqbench journal: brook's journaled sockets measured
// beside their baselines in the same run, so each figure comes with the
// ratio that says what the journal costs.
//
//   - queue: a journaled PUSH sending from one goroutine with SendAsync to
//     a PULL that acknowledges each message (RecvDelivery, Ack), end to
//     end: the run ends when the sender has every acknowledgement. It
//     records send-to-durable latency (SendAsync called to Pending.Wait
//     returning, in offset order) and send-to-ack latency (measured by
//     rounds of WaitAcked: each round stamps every message sent before it,
//     so a figure is late by at most one round). Beside it: the bare
//     journal (durable.Log) appending from one goroutine with AppendAsync
//     and from many with Append, and a PUSH without a journal.
//   - replay: a journaled PUB with a history; a SUB started at the oldest
//     message replays it (from the page cache; per-subscriber rate, beside
//     a bare durable.Reader over the same journal), then another catches
//     up from that far behind while the PUB goes on publishing live.
//   - fanout: one PUB to 1, 10, 100 SUBs, live, with a journal and
//     without, the same messages.
//
// Every message carries a sequence number and its send time; receivers
// count what is lost, duplicated or out of order.
package jbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// Run runs cfg's journal workload and returns its results; a failed run
// returns what was measured before it failed.
func Run(ctx context.Context, cfg *config.Config) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	j := cfg.Journal
	dir, err := os.MkdirTemp(j.Dir, "mqbench-journal-")
	if err != nil {
		return nil, fmt.Errorf("journal directory: %w", err)
	}
	defer os.RemoveAll(dir)
	e := &env{cfg: cfg, j: j, dir: dir, base: time.Now()}
	res := &Result{Workload: j.Workload, Transport: cfg.Transport, Sync: j.Sync.String(), Count: cfg.Count, HWM: cfg.HWM, Dir: dir}
	for _, size := range cfg.Sizes {
		var secs []Section
		switch j.Workload {
		case config.JournalQueue:
			var s Section
			s, err = e.queue(ctx, size)
			secs = []Section{s}
		case config.JournalReplay:
			var s Section
			s, err = e.replay(ctx, size)
			secs = []Section{s}
		case config.JournalFanout:
			secs, err = e.fanout(ctx, size)
		}
		res.Sections = append(res.Sections, secs...)
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (--timeout %s)", err, cfg.Timeout)
			}
			return res, err
		}
	}
	return res, nil
}

// env is what the measurements share.
type env struct {
	cfg  *config.Config
	j    *config.Journal
	dir  string
	base time.Time
	seq  atomic.Int64
}

// now is the time since the run began, in ns: every timestamp of a run
// (sender, receivers, completers) is on this one monotonic clock.
func (e *env) now() int64 { return int64(time.Since(e.base)) }

// subdir returns a new directory name under the run's directory.
func (e *env) subdir(name string) string {
	return filepath.Join(e.dir, fmt.Sprintf("%s-%d", name, e.seq.Add(1)))
}

// endpoint returns a fresh endpoint to bind on the run's transport.
func (e *env) endpoint(name string) string {
	switch e.cfg.Transport {
	case "ipc":
		return "ipc://" + e.subdir(name) + ".sock"
	case "inproc":
		return fmt.Sprintf("inproc://mqbench-journal-%s-%d-%d", name, os.Getpid(), e.seq.Add(1))
	}
	return "tcp://127.0.0.1:0"
}

// openLog opens a fresh journal with the run's sync mode.
func (e *env) openLog(name string) (*durable.Log, error) {
	log, err := durable.Open(e.subdir(name), e.logOptions()...)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return log, nil
}

func (e *env) logOptions() []durable.Option {
	return []durable.Option{durable.WithSync(e.j.Sync)}
}

// socketOptions are the options every socket of the run gets.
func (e *env) socketOptions(more ...socket.Option) []socket.Option {
	if e.cfg.HWM > 0 {
		more = append(more, socket.WithSendHWM(e.cfg.HWM), socket.WithRecvHWM(e.cfg.HWM))
	}
	return more
}

// pair binds a new socket of type bt and connects one of type ct to it.
func (e *env) pair(name string, bt socket.Type, bopts []socket.Option, ct socket.Type, copts []socket.Option) (b, c *socket.Socket, err error) {
	if b, err = socket.New(bt, e.socketOptions(bopts...)...); err != nil {
		return nil, nil, err
	}
	if err = b.Bind(e.endpoint(name)); err != nil {
		b.Close()
		return nil, nil, err
	}
	if c, err = socket.New(ct, e.socketOptions(copts...)...); err != nil {
		b.Close()
		return nil, nil, err
	}
	if err = c.Connect(b.LastEndpoint()); err != nil {
		b.Close()
		c.Close()
		return nil, nil, err
	}
	return b, c, nil
}
