package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brookmq/brook/examples/internal/childproc"
)

// coordinator runs the producer and the workers, kills and restarts
// them, and keeps the ledger of what they printed.
type coordinator struct {
	cfg         config
	out, errOut io.Writer
	rnd         *rand.Rand
	events      chan childproc.Event
	dir         string
	tempDir     bool
	endpoint    string
	running     map[*childproc.Process]bool // started, output not ended yet

	producer   *childproc.Process
	prodInc    int
	journalMsg string // the current producer's "journal" line
	workers    []*childproc.Process
	workerInc  []int

	producerKills []int // confirmed sends at which the producer is killed
	workerKills   []int // deliveries at which a worker is killed
	stopping      bool

	led        *ledger
	final      string // the last producer's "acked" line
	backlog    string // the producer's last "backlog" line
	dedupDrops uint64 // duplicates the dedup stores dropped (clean exits)
	cleanExits int
}

func run(stdout, stderr io.Writer, cfg config) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	c := &coordinator{
		cfg: cfg, out: stdout, errOut: &childproc.LockedWriter{W: stderr},
		rnd:     rand.New(rand.NewPCG(uint64(cfg.seed), 0)),
		events:  make(chan childproc.Event, 256),
		dir:     cfg.dir,
		running: map[*childproc.Process]bool{},
		led:     newLedger(),
	}
	defer c.cleanup()
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "brook-durablequeue")
		if err != nil {
			return false, err
		}
		c.dir, c.tempDir = dir, true
	}
	c.producerKills = killPoints(c.rnd, cfg.producerKills, cfg.n)
	c.workerKills = killPoints(c.rnd, cfg.workerKills, cfg.n)
	fmt.Fprintf(c.out, "durablequeue: a producer (journaled PUSH, Group sync, %d in flight per worker) -> %d workers (PULL, dedup store, ack after processing) over tcp, %d messages, %d producer and %d worker SIGKILLs, seed %d\n",
		cfg.inflight, cfg.workers, cfg.n, cfg.producerKills, cfg.workerKills, cfg.seed)

	if err := c.startProducer(ctx, cfg.n); err != nil {
		return false, err
	}
	fmt.Fprintf(c.out, "  producer#1 pid %d listening on %s, %s\n", c.producer.PID(), c.endpoint, c.journalMsg)
	for i := range cfg.workers {
		if err := c.startWorker(i); err != nil {
			return false, err
		}
		fmt.Fprintf(c.out, "  worker %s pid %d\n", c.workers[i].Label, c.workers[i].PID())
	}
	for c.final == "" {
		if err := c.step(ctx); err != nil {
			return false, err
		}
		if err := c.maybeKill(ctx); err != nil {
			return false, err
		}
	}
	fmt.Fprintf(c.out, "  producer#%d: every message in its journal acknowledged: %s\n", c.prodInc, strings.TrimPrefix(c.final, "acked "))
	if err := c.stop(ctx); err != nil {
		return false, err
	}
	return c.report()
}

// killPoints returns k points in [n/10, 9n/10], sorted.
func killPoints(rnd *rand.Rand, k, n int) []int {
	lo, hi := max(n/10, 1), max(n*9/10, 1)
	pts := make([]int, k)
	for i := range pts {
		pts[i] = lo + rnd.IntN(hi-lo+1)
	}
	slices.Sort(pts)
	return pts
}

// step handles the next event.
func (c *coordinator) step(ctx context.Context) error {
	select {
	case ev := <-c.events:
		return c.handle(ev)
	case <-ctx.Done():
		c.dumpAll()
		return fmt.Errorf("timed out (-timeout %s): %d of %d sends confirmed, %d deliveries; %s (goroutine dumps of the processes on stderr)",
			c.cfg.timeout, c.led.nConfirmed, c.cfg.n, c.led.deliveries, c.backlog)
	}
}

// await handles events until done says so.
func (c *coordinator) await(ctx context.Context, done func() bool) error {
	for !done() {
		if err := c.step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// handle acts on one line of a process, or on its end.
func (c *coordinator) handle(ev childproc.Event) error {
	p := ev.From
	if ev.EOF {
		delete(c.running, p)
		if !p.Killed && !c.stopping {
			return fmt.Errorf("%s exited on its own: %v", p.Label, p.Err)
		}
		return nil
	}
	f := strings.Fields(ev.Line)
	if len(f) == 0 {
		return fmt.Errorf("%s: empty line", p.Label)
	}
	bad := func() error { return fmt.Errorf("%s: unexpected line %q", p.Label, ev.Line) }
	switch f[0] {
	case "listening":
		if len(f) != 2 {
			return bad()
		}
		if c.endpoint == "" {
			c.endpoint = f[1]
		}
	case "journal":
		c.journalMsg = "journal " + strings.Join(f[1:], " ")
	case "ok":
		n, err := ints(f[1:], 3)
		if err != nil {
			return bad()
		}
		return c.led.confirm(n[0], n[1], n[2])
	case "sent":
	case "backlog":
		c.backlog = p.Label + " " + ev.Line
	case "acked":
		c.final = ev.Line
	case "got", "ack":
		if len(f) < 3 {
			return bad()
		}
		slot, err := strconv.Atoi(f[1])
		if err != nil {
			return bad()
		}
		k, err := parseKey(f[2])
		if err != nil {
			return err
		}
		if f[0] == "ack" {
			return c.led.ack(slot, k)
		}
		c.led.got(slot, k)
	case "stats":
		n, err := ints([]string{f[2], f[4], f[6]}, 3)
		if err != nil || len(f) != 7 {
			return bad()
		}
		c.dedupDrops += uint64(n[1])
		c.cleanExits++
	default:
		return bad()
	}
	return nil
}

// ints parses want integers.
func ints(fs []string, want int) ([]int, error) {
	if len(fs) != want {
		return nil, fmt.Errorf("want %d numbers, got %d", want, len(fs))
	}
	out := make([]int, want)
	for i, s := range fs {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// startProducer starts the next producer incarnation with n messages to
// send and waits until it is listening and has reported its journal.
func (c *coordinator) startProducer(ctx context.Context, n int) error {
	c.prodInc++
	c.journalMsg = ""
	ep := c.endpoint
	if ep == "" {
		ep = "tcp://127.0.0.1:0"
	}
	p, err := c.cfg.spawn.Start(fmt.Sprintf("producer#%d", c.prodInc), c.events, c.errOut, "producer",
		"-journal", filepath.Join(c.dir, "journal"), "-endpoint", ep, "-incarnation", strconv.Itoa(c.prodInc),
		"-n", strconv.Itoa(n), "-window", strconv.Itoa(c.cfg.window), "-segment", strconv.FormatInt(c.cfg.segment, 10),
		"-inflight", strconv.Itoa(c.cfg.inflight), "-rate", strconv.FormatFloat(c.cfg.rate, 'g', -1, 64))
	if err != nil {
		return err
	}
	c.producer = p
	c.running[p] = true
	return c.await(ctx, func() bool { return c.endpoint != "" && c.journalMsg != "" })
}

func (c *coordinator) startWorker(i int) error {
	for len(c.workers) <= i {
		c.workers = append(c.workers, nil)
		c.workerInc = append(c.workerInc, 0)
	}
	c.workerInc[i]++
	p, err := c.cfg.spawn.Start(fmt.Sprintf("w%d#%d", i, c.workerInc[i]), c.events, c.errOut, "worker",
		"-endpoint", c.endpoint, "-dedup", filepath.Join(c.dir, fmt.Sprintf("dedup-%d", i)),
		"-slot", strconv.Itoa(i), "-concurrency", strconv.Itoa(c.cfg.concurrency))
	if err != nil {
		return err
	}
	c.workers[i] = p
	c.running[p] = true
	return nil
}

// maybeKill kills and restarts the producer or a worker when the run
// reached one of their kill points.
func (c *coordinator) maybeKill(ctx context.Context) error {
	if len(c.producerKills) > 0 && c.led.nConfirmed >= c.producerKills[0] {
		c.producerKills = c.producerKills[1:]
		if c.led.nConfirmed < c.cfg.n {
			if err := c.killProducer(ctx); err != nil {
				return err
			}
		}
	}
	if len(c.workerKills) > 0 && c.led.deliveries >= c.workerKills[0] {
		c.workerKills = c.workerKills[1:]
		return c.killWorker(ctx, c.rnd.IntN(len(c.workers)))
	}
	return nil
}

// killProducer SIGKILLs the producer, reads the rest of its output (the
// windows it reported durable before it died), and starts the next one
// with what is left to send.
func (c *coordinator) killProducer(ctx context.Context) error {
	old := c.producer
	at := c.led.nConfirmed
	old.Kill()
	if err := c.await(ctx, func() bool { return !c.running[old] }); err != nil {
		return err
	}
	left := c.cfg.n - c.led.nConfirmed
	if err := c.startProducer(ctx, left); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "  at %d sent: SIGKILL %s (pid %d); producer#%d pid %d reopened the %s, sends the other %d\n",
		at, old.Label, old.PID(), c.prodInc, c.producer.PID(), c.journalMsg, left)
	return nil
}

// killWorker SIGKILLs worker i, reads the rest of its output, and starts
// it again on the same dedup store.
func (c *coordinator) killWorker(ctx context.Context, i int) error {
	old := c.workers[i]
	at := c.led.deliveries
	old.Kill()
	if err := c.await(ctx, func() bool { return !c.running[old] }); err != nil {
		return err
	}
	if err := c.startWorker(i); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "  at %d processed: SIGKILL worker %s (pid %d); restarted as %s, pid %d, on the same dedup store\n",
		at, old.Label, old.PID(), c.workers[i].Label, c.workers[i].PID())
	return nil
}

// stop ends the workers, then the producer, with SIGTERM, and checks
// they exited cleanly.
func (c *coordinator) stop(ctx context.Context) error {
	c.stopping = true
	for _, group := range [][]*childproc.Process{c.workers, {c.producer}} {
		for _, p := range group {
			if err := p.Terminate(); err != nil {
				return err
			}
		}
		if err := c.await(ctx, func() bool {
			return !slices.ContainsFunc(group, func(p *childproc.Process) bool { return c.running[p] })
		}); err != nil {
			return err
		}
		for _, p := range group {
			if !p.Clean() {
				return fmt.Errorf("%s did not exit cleanly: %w", p.Label, p.Err)
			}
		}
	}
	return nil
}

// dumpAll asks each process still running for a goroutine dump, one at
// a time so that the dumps do not interleave on stderr, waiting up to 5 s
// for each.
func (c *coordinator) dumpAll() {
	c.stopping = true
	for p := range c.running {
		p.Dump()
		deadline := time.After(5 * time.Second)
		for c.running[p] {
			select {
			case ev := <-c.events:
				c.handle(ev) //nolint:errcheck // only ends are awaited here
			case <-deadline:
				return
			}
		}
	}
}

// cleanup kills what is still running (after an error), reads its
// output to the end, and removes the temporary directory.
func (c *coordinator) cleanup() {
	c.stopping = true
	for p := range c.running {
		if !p.Killed { // a SIGQUIT (dump) ends the process by itself
			p.Kill()
		}
	}
	for len(c.running) > 0 {
		c.handle(<-c.events) //nolint:errcheck // only ends are awaited here
	}
	if c.tempDir {
		os.RemoveAll(c.dir)
	}
}
