package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/brookmq/brook/examples/internal/childproc"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// demoConfig is the demo's command line.
type demoConfig struct {
	instances, jobs   int
	rate              float64
	transport         string
	hold, timeout     time.Duration
	reqTimeout, drain time.Duration
	report            time.Duration
	// curve runs the instances over CURVE, with the certificates in
	// curveDir (a temporary directory when empty).
	curve    bool
	curveDir string
	spawn    spawner
	// running, if set, is called with the metrics URLs once both
	// restarts are done, before the shutdown (the tests scrape them).
	running func(urls []string) error
}

func parseDemoFlags(args []string, stderr io.Writer) (demoConfig, error) {
	var c demoConfig
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.instances, "instances", 3, "instance processes")
	fs.IntVar(&c.jobs, "jobs", 200, "jobs every instance must finish between two steps of the demo")
	fs.Float64Var(&c.rate, "rate", 200, "jobs per second each instance makes")
	fs.StringVar(&c.transport, "transport", "tcp", "tcp or ipc")
	fs.DurationVar(&c.hold, "hold", 0, "keep the instances running this long after the restarts (Ctrl-C ends it early), to look at their metrics")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "give up when a step takes longer than this")
	fs.DurationVar(&c.reqTimeout, "request-timeout", 500*time.Millisecond, "instances send a job again when its answer is this late")
	fs.DurationVar(&c.drain, "drain", 3*time.Second, "instances wait this long at shutdown for the answers they are owed")
	fs.DurationVar(&c.report, "report", 200*time.Millisecond, "how often instances report progress")
	fs.BoolVar(&c.curve, "curve", false, "run over CURVE: every instance trusts the others' keys, and an intruder instance whose key is not trusted is refused")
	fs.StringVar(&c.curveDir, "curve-dir", "", "with -curve: the certificate directory (made if missing; default: a temporary one); see the instance's -curve")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var bad string
	switch {
	case fs.NArg() > 0:
		bad = fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case c.instances < 2 || c.jobs < 1 || c.rate <= 0:
		bad = "need -instances >= 2, -jobs >= 1, -rate > 0"
	case c.transport != "tcp" && c.transport != "ipc":
		bad = fmt.Sprintf("unknown -transport %q: want tcp or ipc", c.transport)
	case c.timeout <= 0 || c.reqTimeout <= 0 || c.drain < 0 || c.report <= 0 || c.hold < 0:
		bad = "durations must be positive"
	case c.curveDir != "" && !c.curve:
		bad = "-curve-dir needs -curve"
	}
	if bad != "" {
		fmt.Fprintf(stderr, "service: %s\n", bad)
		return c, errUsage
	}
	return c, nil
}

// demo runs the instances and watches them.
type demo struct {
	cfg       demoConfig
	out       io.Writer
	stderr    io.Writer
	endpoints []string
	events    chan event
	current   []*proc // the running incarnation of each instance
	all       []*proc // every incarnation, in start order
	// curveDir is the certificate directory (-curve), intruders the
	// intruder's processes.
	curveDir  string
	intruders []*proc
}

func runDemo(stdout, stderr io.Writer, cfg demoConfig) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{cfg: cfg, out: stdout, stderr: &childproc.LockedWriter{W: stderr}, events: make(chan event, 1024)}
	eps, cleanup, err := endpoints(cfg.transport, cfg.instances)
	if err != nil {
		return err
	}
	defer cleanup()
	d.endpoints = eps
	if cfg.curve {
		if d.curveDir, err = curveDir(cfg.curveDir); err != nil {
			return err
		}
		if cfg.curveDir == "" {
			defer os.RemoveAll(d.curveDir)
		}
		if err := prepareCurveDir(d.curveDir, cfg.instances); err != nil {
			return err
		}
	}
	defer d.abort()

	fmt.Fprintf(d.out, "service: %d instances over %s; each serves on a ROUTER and sends its jobs over a DEALER to all of them\n", cfg.instances, cfg.transport)
	if cfg.curve {
		fmt.Fprintf(d.out, "CURVE: the ROUTERs share the key pair in %s, and admit the DEALERs whose certificates are in %s\n",
			filepath.Join(d.curveDir, serviceCertName), filepath.Join(d.curveDir, trustedDirName))
	}
	for i := range cfg.instances {
		if err := d.start(ctx, i); err != nil {
			return err
		}
	}
	if err := d.waitAll(ctx, "every instance doing work", func(p *proc) bool { return p.last != nil && p.last.num("done") >= cfg.jobs }); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "all %d instances exchanging work (%s)\n", cfg.instances, d.progress())
	if cfg.curve {
		if err := d.intruder(ctx); err != nil {
			return err
		}
	}

	if err := d.restart(ctx, 0, syscall.SIGTERM); err != nil {
		return err
	}
	if err := d.restart(ctx, 1, syscall.SIGKILL); err != nil {
		return err
	}
	if err := d.showMetrics(); err != nil {
		return err
	}
	if cfg.running != nil {
		var urls []string
		for _, p := range d.current {
			urls = append(urls, p.ready.fields["metrics"])
		}
		if err := cfg.running(urls); err != nil {
			return err
		}
	}
	if cfg.hold > 0 {
		fmt.Fprintf(d.out, "holding for %v: open the metrics URLs above (Ctrl-C ends it)\n", cfg.hold)
		d.sleep(ctx, cfg.hold)
	}
	if err := d.shutdown(); err != nil {
		return err
	}
	return d.summary()
}

// endpoints picks one endpoint per instance.
func endpoints(transport string, n int) ([]string, func(), error) {
	if transport == "ipc" {
		dir, err := os.MkdirTemp("", "brook-service")
		if err != nil {
			return nil, nil, err
		}
		var eps []string
		for i := range n {
			eps = append(eps, "ipc://"+filepath.Join(dir, fmt.Sprintf("instance%d", i)))
		}
		return eps, func() { os.RemoveAll(dir) }, nil
	}
	// Free ports, asked from the kernel: an instance restarts on the
	// same one, as a service with a fixed address would.
	// The listeners stay open until all n ports are picked: a port closed
	// at once can be handed out again by the next Listen, and two
	// instances would then share an endpoint.
	var eps []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		lns = append(lns, ln)
		eps = append(eps, "tcp://"+ln.Addr().String())
	}
	return eps, func() {}, nil
}

// start starts (or restarts) instance i and waits for its ready line.
func (d *demo) start(ctx context.Context, i int) error {
	incarnation := 1
	if i < len(d.current) && d.current[i] != nil {
		incarnation = d.current[i].incarnation + 1
	}
	p, err := d.cfg.spawn.start(i, incarnation, d.events, d.stderr, d.instanceArgs(i, d.endpoints)...)
	if err != nil {
		return err
	}
	for len(d.current) <= i {
		d.current = append(d.current, nil)
	}
	d.current[i] = p
	d.all = append(d.all, p)
	if err := d.wait(ctx, fmt.Sprintf("instance %s to start", p.name()), func() bool { return p.ready != nil }); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  instance %d pid %d serves %s, metrics %s\n", i, p.pid(), p.ready.fields["serve"], p.ready.fields["metrics"])
	return nil
}

// restart stops instance i with sig, starts it again and waits until
// work has gone on: it serves the others again (they reconnected), does
// its own jobs, and every other instance finished cfg.jobs more.
func (d *demo) restart(ctx context.Context, i int, sig syscall.Signal) error {
	old := d.current[i]
	how := "graceful: SIGTERM"
	if sig == syscall.SIGKILL {
		how = "crash: SIGKILL"
		old.killed = true
	}
	fmt.Fprintf(d.out, "restart instance %d (%s, pid %d)\n", i, how, old.pid())
	if err := old.signal(sig); err != nil {
		return err
	}
	if err := d.wait(ctx, fmt.Sprintf("instance %s to exit", old.name()), func() bool { return old.exited }); err != nil {
		return err
	}
	if sig == syscall.SIGTERM {
		if old.err != nil || old.stopped == nil {
			return fmt.Errorf("instance %s did not stop gracefully: %v", old.name(), old.err)
		}
		fmt.Fprintf(d.out, "  stopped gracefully, exit 0: done=%s abandoned=%s\n", old.stopped.fields["done"], old.stopped.fields["abandoned"])
	} else {
		fmt.Fprintf(d.out, "  killed: jobs it owed answers for are sent again by their instances; its own unanswered jobs die with it\n")
	}
	base := map[int]int{}
	for _, p := range d.current {
		if p != old && p.last != nil {
			base[p.idx] = p.last.num("done")
		}
	}
	if err := d.start(ctx, i); err != nil {
		return err
	}
	back := d.current[i]
	err := d.wait(ctx, fmt.Sprintf("work to go on after restarting instance %d", i), func() bool {
		if back.last == nil || back.last.num("served_others") < d.cfg.jobs || back.last.num("done") < d.cfg.jobs {
			return false
		}
		for idx, n := range base {
			if d.current[idx].last.num("done") < n+d.cfg.jobs {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  back as pid %d: served %s requests of the others (they reconnected), did %s jobs of its own; work went on (%s)\n",
		back.pid(), back.last.fields["served_others"], back.last.fields["done"], d.progress())
	return nil
}

// showMetrics scrapes each instance once and prints a few brook series.
func (d *demo) showMetrics() error {
	for _, p := range d.current {
		url := p.ready.fields["metrics"]
		lines, err := scrape(url, "brook_socket_received_messages_total", "brook_socket_connected_peers")
		if err != nil {
			return fmt.Errorf("instance %d metrics: %w", p.idx, err)
		}
		fmt.Fprintf(d.out, "metrics of instance %d (%s):\n", p.idx, url)
		for _, l := range lines {
			fmt.Fprintf(d.out, "    %s\n", l)
		}
	}
	return nil
}

// scrape fetches url and returns the sample lines of the named metrics.
func scrape(url string, names ...string) ([]string, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		for _, n := range names {
			if strings.HasPrefix(sc.Text(), n+"{") {
				lines = append(lines, sc.Text())
			}
		}
	}
	return lines, sc.Err()
}

// shutdown sends SIGTERM to every instance and waits for each to stop
// gracefully.
func (d *demo) shutdown() error {
	fmt.Fprintln(d.out, "shutdown: SIGTERM to every instance")
	for _, p := range d.current {
		if err := p.signal(syscall.SIGTERM); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.timeout)
	defer cancel()
	var errs []error
	for _, p := range d.current {
		if err := d.wait(ctx, fmt.Sprintf("instance %s to stop", p.name()), func() bool { return p.exited }); err != nil {
			return err
		}
		if p.err != nil || p.stopped == nil {
			errs = append(errs, fmt.Errorf("instance %s did not stop gracefully: %v", p.name(), p.err))
		}
	}
	return errors.Join(errs...)
}

// summary prints what every incarnation did.
func (d *demo) summary() error {
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "instance\tpid\tended\tjobs done\tretried\tduplicates\tfailed\tabandoned\tserved\tof others\t")
	var done, retried, failed, abandoned int
	for _, p := range d.all {
		e, ended := p.stopped, "SIGTERM"
		if p.killed {
			e, ended = p.last, "SIGKILL"
		}
		if e == nil {
			fmt.Fprintf(tw, "%s\t%d\t%s\t-\t-\t-\t-\t-\t-\t-\t\n", p.name(), p.pid(), ended)
			continue
		}
		ab := "-"
		if !p.killed {
			ab = e.fields["abandoned"]
			abandoned += e.num("abandoned")
		}
		done += e.num("done")
		retried += e.num("retried")
		failed += e.num("failed")
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.name(), p.pid(), ended,
			e.fields["done"], e.fields["retried"], e.fields["dup"], e.fields["failed"], ab, e.fields["served"], e.fields["served_others"])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "work went on through both restarts: %d jobs done, %d sends repeated after an instance went away, %d failed, %d abandoned at shutdown\n",
		done, retried, failed, abandoned)
	fmt.Fprintln(d.out, "(the killed instance's counts are from its last progress line)")
	return nil
}

// progress is "0: 123 done, 1: 120 done, ..." for the current instances.
func (d *demo) progress() string {
	var parts []string
	for _, p := range d.current {
		n := 0
		if p.last != nil {
			n = p.last.num("done")
		}
		parts = append(parts, fmt.Sprintf("%d: %d done", p.idx, n))
	}
	return strings.Join(parts, ", ")
}

// waitAll waits until cond holds for every current instance.
func (d *demo) waitAll(ctx context.Context, what string, cond func(*proc) bool) error {
	return d.wait(ctx, what, func() bool {
		for _, p := range d.current {
			if !cond(p) {
				return false
			}
		}
		return true
	})
}

// wait takes the instances' lines until cond holds, failing after the
// step timeout, when ctx ends, or when a current instance exits by itself.
func (d *demo) wait(ctx context.Context, what string, cond func() bool) error {
	timeout := time.NewTimer(d.cfg.timeout)
	defer timeout.Stop()
	for !cond() {
		select {
		case e := <-d.events:
			d.apply(e)
		case <-timeout.C:
			return fmt.Errorf("waiting for %s: nothing after %v (%s)", what, d.cfg.timeout, d.progress())
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
		for _, p := range d.current {
			if p.exited && !p.asked {
				return fmt.Errorf("waiting for %s: instance %s exited by itself: %v", what, p.name(), p.err)
			}
		}
	}
	return nil
}

func (d *demo) apply(e event) {
	p := e.proc
	switch e.kind {
	case "ready":
		p.ready = &e
	case "progress":
		p.last = &e
	case "stopped":
		p.last, p.stopped = &e, &e
	case "exit":
		p.exited = true
	}
}

// sleep waits for dur or ctx, taking lines meanwhile.
func (d *demo) sleep(ctx context.Context, dur time.Duration) {
	t := time.NewTimer(dur)
	defer t.Stop()
	for {
		select {
		case e := <-d.events:
			d.apply(e)
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// abort kills what still runs and takes their remaining lines, so that
// every reader goroutine ends.
func (d *demo) abort() {
	procs := append(append([]*proc(nil), d.all...), d.intruders...)
	for _, p := range procs {
		_ = p.signal(syscall.SIGKILL)
	}
	for _, p := range procs {
		for done := false; !done; {
			select {
			case e := <-d.events:
				d.apply(e)
			case <-p.done:
				done = true
			}
		}
	}
}

// instanceArgs is the command line of instance self of peers.
func (d *demo) instanceArgs(self int, peers []string) []string {
	args := []string{
		"-self", strconv.Itoa(self), "-peers", strings.Join(peers, ","),
		"-rate", strconv.FormatFloat(d.cfg.rate, 'f', -1, 64),
		"-request-timeout", d.cfg.reqTimeout.String(), "-drain", d.cfg.drain.String(), "-report", d.cfg.report.String(),
	}
	if d.curveDir != "" {
		args = append(args, "-curve", d.curveDir)
	}
	return args
}
