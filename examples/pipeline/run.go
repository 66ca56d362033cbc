package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/brookmq/brook/examples/internal/childproc"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/brookmq/brook/socket"
)

// coordinator holds the ventilator, the sink and the workers.
type coordinator struct {
	cfg          config
	out, errOut  io.Writer
	vent, sink   *socket.Socket
	workers      []*process
	incarnation  []int
	joined       chan struct{} // one value per worker handshake with the ventilator
	stopMonitor  func()
	seen         []bool
	unique, dups int
	perWorker    map[string]int
	killsDone    int
	dir          string // ipc socket files
}

func run(stdout, stderr io.Writer, cfg config) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	c := &coordinator{cfg: cfg, out: stdout, errOut: &childproc.LockedWriter{W: stderr}, seen: make([]bool, cfg.n), perWorker: map[string]int{}}
	defer c.close()
	if err := c.setup(); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "pipeline: ventilator -> %d worker processes -> sink over %s, %d tasks, %d SIGKILLs, hwm %d\n",
		cfg.workers, cfg.transport, cfg.n, cfg.kills, cfg.hwm)
	for i := range cfg.workers {
		if err := c.startWorker(i); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "  worker %s started, pid %d\n", c.workers[i].label, c.workers[i].pid())
	}
	// Wait until every worker is connected, so that the first one does
	// not get the first tasks all to itself.
	for range cfg.workers {
		select {
		case <-c.joined:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the workers to connect: %w", ctx.Err())
		}
	}

	all := make([]uint64, cfg.n)
	for i := range all {
		all[i] = uint64(i)
	}
	missing, err := c.round(ctx, 1, all)
	if err != nil {
		return err
	}
	firstLoss := len(missing)
	rounds := 0
	for len(missing) > 0 && rounds < cfg.resend {
		rounds++
		if missing, err = c.round(ctx, rounds+1, missing); err != nil {
			return err
		}
	}
	if err := c.stopWorkers(); err != nil {
		return err
	}

	switch {
	case len(missing) == 0 && firstLoss == 0:
		fmt.Fprintf(c.out, "result: all %d tasks done in one round, nothing lost\n", cfg.n)
	case len(missing) == 0:
		fmt.Fprintf(c.out, "result: all %d tasks done after %d resend round(s); %d (%.2f%%) needed a resend, %d duplicate results dropped\n",
			cfg.n, rounds, firstLoss, 100*float64(firstLoss)/float64(cfg.n), c.dups)
	default:
		fmt.Fprintf(c.out, "result: %d of %d tasks done, %d lost for good (raise -resend to retry them)\n", c.unique, cfg.n, len(missing))
	}
	c.printPerWorker()
	return nil
}

// setup binds the ventilator and the sink.
func (c *coordinator) setup() error {
	var err error
	if c.vent, err = socket.New(socket.Push, socket.WithSendHWM(c.cfg.hwm), socket.WithLinger(0)); err != nil {
		return err
	}
	events, stop := c.vent.Monitor()
	monitorDone := make(chan struct{})
	c.stopMonitor = func() { stop(); <-monitorDone }
	c.joined = make(chan struct{}, 1024)
	go func() {
		defer close(monitorDone)
		for e := range events {
			if e.Type == socket.EventHandshakeSucceeded {
				select {
				case c.joined <- struct{}{}:
				default: // nobody waits for late joiners
				}
			}
		}
	}()
	if c.sink, err = socket.New(socket.Pull); err != nil {
		return err
	}
	ventEP, sinkEP := "tcp://127.0.0.1:0", "tcp://127.0.0.1:0"
	if c.cfg.transport == "ipc" {
		dir, err := os.MkdirTemp("", "brook-pipeline")
		if err != nil {
			return err
		}
		c.dir = dir
		ventEP, sinkEP = "ipc://"+filepath.Join(dir, "ventilator"), "ipc://"+filepath.Join(dir, "sink")
	}
	if err := c.vent.Bind(ventEP); err != nil {
		return err
	}
	return c.sink.Bind(sinkEP)
}

func (c *coordinator) startWorker(i int) error {
	for len(c.incarnation) <= i {
		c.incarnation = append(c.incarnation, 0)
		c.workers = append(c.workers, nil)
	}
	c.incarnation[i]++
	label := fmt.Sprintf("w%d#%d", i, c.incarnation[i])
	p, err := c.cfg.spawn.start(label, c.errOut,
		"-from", c.vent.LastEndpoint(), "-to", c.sink.LastEndpoint(), "-hwm", strconv.Itoa(c.cfg.hwm))
	if err != nil {
		return err
	}
	c.workers[i] = p
	return nil
}

// round sends tasks and collects results until every one came back, or
// the ventilator is done, nothing is queued, and the sink heard nothing
// for cfg.quiet. It returns the tasks still missing.
func (c *coordinator) round(ctx context.Context, r int, tasks []uint64) ([]uint64, error) {
	droppedBefore := dropped(c.vent.Stats())
	want := c.unique + len(tasks) // tasks of earlier rounds still arriving also count
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	sent := make(chan error, 1)
	go func() { sent <- c.ventilate(sendCtx, tasks) }()

	// Kill points: evenly spread over the first round's results.
	var killAt []int
	if r == 1 {
		for k := 1; k <= c.cfg.kills; k++ {
			killAt = append(killAt, c.cfg.n*k/(c.cfg.kills+1))
		}
	}
	ventDone := false
	received := 0
	for c.unique < want {
		if len(killAt) > 0 && c.unique >= killAt[0] {
			killAt = killAt[1:]
			if err := c.killOne(); err != nil {
				return nil, err
			}
		}
		wait, cancel := context.WithTimeout(ctx, c.cfg.quiet)
		m, err := c.sink.Recv(wait)
		cancel()
		if err == nil {
			received++
			if err := c.record(m); err != nil {
				return nil, err
			}
			continue
		}
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, fmt.Errorf("sink: %w", err)
		}
		if !ventDone {
			select {
			case err := <-sent:
				if err != nil {
					return nil, fmt.Errorf("ventilator: %w", err)
				}
				ventDone = true
			default:
				continue // still sending: the workers are slow, or all were killed
			}
		}
		if queued(c.vent.Stats()) == 0 {
			break // quiet, with nothing left to deliver: the rest is lost
		}
	}
	stopSending()
	if !ventDone {
		if err := <-sent; err != nil && !errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("ventilator: %w", err)
		}
	}
	var missing []uint64
	for _, t := range tasks {
		if !c.seen[t] {
			missing = append(missing, t)
		}
	}
	drops := dropped(c.vent.Stats()) - droppedBefore
	what := "sent"
	if r > 1 {
		what = "resent missing"
	}
	fmt.Fprintf(c.out, "round %d: %s %d tasks, sink got %d results (%d new), lost %d\n", r, what, len(tasks), received, len(tasks)-len(missing), len(missing))
	if len(missing) > 0 {
		inFlight := int64(len(missing)) - int64(drops)
		fmt.Fprintf(c.out, "  lost %d = %d dropped by the ventilator (queued for a killed worker: peer-gone) + %d in flight (inside a killed worker, its socket buffers, or its unsent results)\n",
			len(missing), drops, inFlight)
	}
	return missing, nil
}

// ventilate sends tasks at cfg.rate.
func (c *coordinator) ventilate(ctx context.Context, tasks []uint64) error {
	start := time.Now()
	for i, t := range tasks {
		if c.cfg.rate > 0 {
			due := start.Add(time.Duration(float64(i) / c.cfg.rate * float64(time.Second)))
			if d := time.Until(due); d > time.Millisecond {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		task := make([]byte, 8)
		binary.BigEndian.PutUint64(task, t)
		if err := c.vent.Send(ctx, socket.NewMsg(task)); err != nil {
			return err
		}
	}
	return nil
}

// record checks one result [label, task, digest] and counts it.
func (c *coordinator) record(m socket.Msg) error {
	if len(m.Frames) != 3 || len(m.Frames[1]) != 8 {
		return fmt.Errorf("sink: malformed result of %d frames", len(m.Frames))
	}
	t := binary.BigEndian.Uint64(m.Frames[1])
	digest := sha256.Sum256(m.Frames[1])
	if t >= uint64(c.cfg.n) || string(digest[:8]) != string(m.Frames[2]) {
		return fmt.Errorf("sink: wrong result for task %d from %s", t, m.Frames[0])
	}
	if c.seen[t] {
		c.dups++
		return nil
	}
	c.seen[t] = true
	c.unique++
	c.perWorker[string(m.Frames[0])]++
	return nil
}

// killOne SIGKILLs the next worker and starts it again.
func (c *coordinator) killOne() error {
	i := c.killsDone % len(c.workers)
	c.killsDone++
	old := c.workers[i]
	old.kill()
	if err := c.startWorker(i); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "  sink at %d results: SIGKILL worker %s (pid %d); restarted as %s, pid %d\n",
		c.unique, old.label, old.pid(), c.workers[i].label, c.workers[i].pid())
	return nil
}

func (c *coordinator) stopWorkers() error {
	var errs []error
	for _, p := range c.workers {
		if err := p.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *coordinator) printPerWorker() {
	labels := make([]string, 0, len(c.perWorker))
	for l := range c.perWorker {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	fmt.Fprint(c.out, "results per worker process:")
	for _, l := range labels {
		fmt.Fprintf(c.out, " %s=%d", l, c.perWorker[l])
	}
	fmt.Fprintln(c.out)
}

// close kills what is left (after an error) and closes the sockets.
func (c *coordinator) close() {
	for _, p := range c.workers {
		if p != nil {
			select {
			case <-p.done:
			default:
				p.kill()
			}
		}
	}
	if c.stopMonitor != nil {
		c.stopMonitor()
	}
	if c.vent != nil {
		c.vent.Close()
	}
	if c.sink != nil {
		c.sink.Close()
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// dropped is the socket's total of dropped messages.
func dropped(st socket.Stats) uint64 {
	var n uint64
	for _, d := range st.Dropped {
		n += d
	}
	return n
}

// queued is the number of messages waiting in the socket's send queues.
func queued(st socket.Stats) int {
	n := 0
	for _, p := range st.Peers {
		n += p.Queued
	}
	return n
}
