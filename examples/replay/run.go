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

// coordinator runs the publisher and the subscribers, kills and restarts
// them, and checks the ticks they read.
type coordinator struct {
	cfg         config
	out, errOut io.Writer
	rnd         *rand.Rand
	events      chan childproc.Event
	dir         string
	endpoint    string
	running     map[*childproc.Process]bool

	pub        *childproc.Process
	pubInc     int
	journalMsg string
	published  uint64

	sub       *childproc.Process // the resuming subscriber's current process
	subInc    int
	runs      map[*childproc.Process]*subRun
	committed map[*childproc.Process]uint64 // last position each process committed
	closedAt  map[*childproc.Process]uint64 // position reported at a clean exit
	fromTime  *childproc.Process

	subKills, pubKills []uint64 // ticks read at which to kill
	stopping           bool
	st                 *stream
}

func run(stdout, stderr io.Writer, cfg config) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "brook-replay")
	if err != nil {
		return false, err
	}
	c := &coordinator{
		cfg: cfg, out: stdout, errOut: &childproc.LockedWriter{W: stderr},
		rnd:       rand.New(rand.NewPCG(uint64(cfg.seed), 1)),
		events:    make(chan childproc.Event, 256),
		dir:       dir,
		running:   map[*childproc.Process]bool{},
		runs:      map[*childproc.Process]*subRun{},
		committed: map[*childproc.Process]uint64{},
		closedAt:  map[*childproc.Process]uint64{},
		st:        newStream(),
	}
	defer c.cleanup()
	c.subKills = killPoints(c.rnd, cfg.kills, cfg.n)
	c.pubKills = killPoints(c.rnd, cfg.publisherKills, cfg.n)
	fmt.Fprintf(c.out, "replay: a ticker (journaled PUB, Group sync, %g ticks/s) -> a subscriber (position store, commits every %d ticks) over tcp, %d ticks, %d subscriber and %d publisher SIGKILLs, seed %d\n",
		cfg.rate, cfg.commitEvery, cfg.n, cfg.kills, cfg.publisherKills, cfg.seed)
	if err := c.startPublisher(ctx); err != nil {
		return false, err
	}
	fmt.Fprintf(c.out, "  publisher#1 pid %d listening on %s, %s\n", c.pub.PID(), c.endpoint, c.journalMsg)
	// Some history first, so that the subscriber replays before it reads
	// live ticks.
	history := uint64(cfg.n / 10)
	if err := c.await(ctx, func() bool { return c.published >= history }); err != nil {
		return false, err
	}
	if err := c.startSubscriber(); err != nil {
		return false, err
	}
	fmt.Fprintf(c.out, "  subscriber#1 pid %d starts from the oldest tick, %d already published\n", c.sub.PID(), c.published)
	// Until every kill has happened too, and the last subscriber started
	// has resumed (read a tick none read before): while the coordinator
	// waits for a restarted publisher (its journal reopened), the
	// subscriber may read past the last tick with a kill point still due.
	for !c.st.any || c.st.maxSeen+1 < uint64(cfg.n) || len(c.subKills)+len(c.pubKills) > 0 || !c.runs[c.sub].fresh {
		if err := c.step(ctx); err != nil {
			return false, err
		}
		if err := c.maybeKill(ctx); err != nil {
			return false, err
		}
	}
	if err := c.startFromTime(ctx); err != nil {
		return false, err
	}
	if err := c.stop(ctx); err != nil {
		return false, err
	}
	return c.report(), nil
}

// killPoints returns k ticks in [n/10, 9n/10], sorted.
func killPoints(rnd *rand.Rand, k, n int) []uint64 {
	lo, hi := n/10, n*9/10
	pts := make([]uint64, k)
	for i := range pts {
		pts[i] = uint64(lo + rnd.IntN(hi-lo+1))
	}
	slices.Sort(pts)
	return pts
}

func (c *coordinator) step(ctx context.Context) error {
	select {
	case ev := <-c.events:
		return c.handle(ev)
	case <-ctx.Done():
		return fmt.Errorf("timed out (-timeout %s): the subscriber read up to tick %d of %d", c.cfg.timeout, c.st.maxSeen, c.cfg.n)
	}
}

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
	bad := func() error { return fmt.Errorf("%s: unexpected line %q", p.Label, ev.Line) }
	if len(f) == 0 {
		return bad()
	}
	var num uint64
	if len(f) == 2 && f[0] != "listening" {
		var err error
		if num, err = strconv.ParseUint(f[1], 10, 64); err != nil {
			return bad()
		}
	}
	switch {
	case f[0] == "listening" && len(f) == 2:
		if c.endpoint == "" {
			c.endpoint = f[1]
		}
	case f[0] == "journal":
		c.journalMsg = ev.Line
	case f[0] == "published" && len(f) == 2:
		c.published = num
	case f[0] == "got":
		t, err := parseTick(f)
		if err != nil {
			return bad()
		}
		c.gotTick(p, t)
	case f[0] == "committed" && len(f) == 2:
		c.committed[p] = num
		if p != c.fromTime {
			c.st.commit = max(c.st.commit, num)
		}
	case f[0] == "closed" && len(f) == 2:
		c.closedAt[p] = num
	case f[0] == "event" && len(f) == 3:
		c.st.problemf("%s reported %s of %s messages", p.Label, f[1], f[2])
	default:
		return bad()
	}
	return nil
}

// gotTick checks a tick; a restarted subscriber's first tick shows where
// it resumed.
func (c *coordinator) gotTick(p *childproc.Process, t tick) {
	r := c.runs[p]
	resuming := p != c.fromTime
	if !r.seen && resuming && c.subInc > 1 {
		prevSeen, prevCommit := c.st.maxSeen, c.st.commit
		again := c.st.resumed(r, t.off)
		verdict := "no gap"
		if t.off > prevSeen+1 {
			verdict = fmt.Sprintf("A GAP of %d ticks", t.off-prevSeen-1)
		}
		fmt.Fprintf(c.out, "  %s resumed at tick %d: %s (read up to %d before), its committed position was %d, %d ticks to read again (processed after that commit)\n",
			r.label, t.off, verdict, prevSeen, prevCommit, again)
	} else if !r.seen && resuming {
		c.st.resumed(r, t.off)
	}
	c.st.got(r, t, resuming)
}

func (c *coordinator) startPublisher(ctx context.Context) error {
	c.pubInc++
	c.journalMsg = ""
	ep := c.endpoint
	if ep == "" {
		ep = "tcp://127.0.0.1:0"
	}
	p, err := c.cfg.spawn.Start(fmt.Sprintf("publisher#%d", c.pubInc), c.events, c.errOut, "publisher",
		"-journal", filepath.Join(c.dir, "journal"), "-endpoint", ep,
		"-rate", strconv.FormatFloat(c.cfg.rate, 'g', -1, 64), "-segment", strconv.FormatInt(c.cfg.segment, 10))
	if err != nil {
		return err
	}
	c.pub = p
	c.running[p] = true
	return c.await(ctx, func() bool { return c.endpoint != "" && c.journalMsg != "" })
}

// startSubscriber starts the resuming subscriber's next process on the
// same position store.
func (c *coordinator) startSubscriber() error {
	c.subInc++
	p, err := c.spawnSubscriber(fmt.Sprintf("subscriber#%d", c.subInc),
		"-positions", filepath.Join(c.dir, "positions"), "-start", "oldest", "-commit-every", strconv.Itoa(c.cfg.commitEvery))
	c.sub = p
	return err
}

func (c *coordinator) spawnSubscriber(label string, args ...string) (*childproc.Process, error) {
	p, err := c.cfg.spawn.Start(label, c.events, c.errOut, append([]string{"subscriber", "-endpoint", c.endpoint}, args...)...)
	if err != nil {
		return nil, err
	}
	c.running[p] = true
	c.runs[p] = &subRun{label: label}
	return p, nil
}

// maybeKill kills and restarts the subscriber or the publisher when the
// subscriber has read up to one of their kill points.
func (c *coordinator) maybeKill(ctx context.Context) error {
	// A subscriber process is killed only once it read a tick none read
	// before: it has read again all it had to, and every restart shows a
	// resumption.
	if len(c.subKills) > 0 && c.runs[c.sub].fresh && c.st.maxSeen >= c.subKills[0] {
		c.subKills = c.subKills[1:]
		old := c.sub
		old.Kill()
		if err := c.await(ctx, func() bool { return !c.running[old] }); err != nil {
			return err
		}
		at, commit := c.st.maxSeen, c.st.commit
		if err := c.startSubscriber(); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "  at tick %d: SIGKILL %s (pid %d), its last committed position %d; restarted as %s, pid %d\n",
			at, old.Label, old.PID(), commit, c.sub.Label, c.sub.PID())
	}
	if len(c.pubKills) > 0 && c.st.any && c.st.maxSeen >= c.pubKills[0] {
		c.pubKills = c.pubKills[1:]
		old := c.pub
		at := c.st.maxSeen
		old.Kill()
		if err := c.await(ctx, func() bool { return !c.running[old] }); err != nil {
			return err
		}
		if err := c.startPublisher(ctx); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "  at tick %d: SIGKILL %s (pid %d); publisher#%d pid %d reopened the %s; the subscriber reconnects by itself\n",
			at, old.Label, old.PID(), c.pubInc, c.pub.PID(), c.journalMsg)
	}
	return nil
}

// startFromTime starts a second subscriber, without a stored position,
// from a time in a pause of the ticker (between the two ticks furthest
// apart, at least 1 ms, of 100 ms of ticks the first subscriber read, or
// failing that of all it read after the first quarter),
// and checks that it begins with the later of the two and reads on in
// order.
func (c *coordinator) startFromTime(ctx context.Context) error {
	n := uint64(c.cfg.n)
	from := n/4 + c.rnd.Uint64N(n/2)
	m, at, ok := c.st.timeBetween(from, min(from+uint64(c.cfg.rate/10), n), time.Millisecond)
	if !ok {
		// A publisher catching up after a stall (a loaded machine) sends
		// a burst with no 1 ms pause in it: look through the rest.
		m, at, ok = c.st.timeBetween(n/4, n, time.Millisecond)
	}
	if !ok {
		return fmt.Errorf("no pause of 1 ms between two ticks after tick %d", n/4)
	}
	p, err := c.spawnSubscriber("from-time", "-start", "time:"+strconv.FormatInt(at, 10))
	if err != nil {
		return err
	}
	c.fromTime = p
	r := c.runs[p]
	want := min(n/4, 1000)
	if err := c.await(ctx, func() bool { return uint64(r.count) >= want }); err != nil {
		return err
	}
	verdict := "as it should"
	if r.first != m {
		verdict = fmt.Sprintf("WRONG: tick %d is the first published at or after that time", m)
		c.st.problemf("the subscriber from time %d started at tick %d, not %d", at, r.first, m)
	}
	fmt.Fprintf(c.out, "from a time: a new subscriber (no stored position) started at %s: first tick %d, %s (tick %d was published at %s, tick %d at %s); then %d ticks in order\n",
		stamp(at), r.first, verdict, m-1, stamp(c.st.times[m-1]), m, stamp(c.st.times[m]), r.count-1)
	return nil
}

func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format("15:04:05.000000000") }

// stop ends the subscribers, then the publisher, with SIGTERM, and
// checks they exited cleanly.
func (c *coordinator) stop(ctx context.Context) error {
	c.stopping = true
	for _, group := range [][]*childproc.Process{{c.sub, c.fromTime}, {c.pub}} {
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

// cleanup kills what is still running (after an error), reads its
// output to the end, and removes the directory.
func (c *coordinator) cleanup() {
	c.stopping = true
	for p := range c.running {
		p.Kill()
	}
	for len(c.running) > 0 {
		c.handle(<-c.events) //nolint:errcheck // only ends are awaited here
	}
	os.RemoveAll(c.dir)
}

// report prints the account and says whether every check held.
func (c *coordinator) report() bool {
	reads := c.st.complete()
	r := c.runs[c.sub]
	fmt.Fprintf(c.out, "stream: ticks 0..%d all read by the subscriber's %d processes, each in order without a gap; %d reads for %d ticks: %d read again after restarts (processed after the last commit: at least once)\n",
		c.st.maxSeen, c.subInc, reads, len(c.st.seen), c.st.again)
	closed, ok := c.closedAt[c.sub]
	switch {
	case !ok:
		c.st.problemf("%s did not report its position at exit", c.sub.Label)
	case closed != r.last+1:
		c.st.problemf("%s closed at position %d after reading tick %d", c.sub.Label, closed, r.last)
	default:
		fmt.Fprintf(c.out, "  %s closed cleanly at position %d (committed on Close)\n", c.sub.Label, closed)
	}
	if p := c.st.report(); p != "" {
		fmt.Fprintf(c.out, "result: FAILED: %s\n", p)
		return false
	}
	fmt.Fprintf(c.out, "result: OK: across %d subscriber and %d publisher SIGKILLs the subscriber resumed every time without a gap, and from a time at the right tick\n",
		c.subInc-1, c.pubInc-1)
	return true
}
