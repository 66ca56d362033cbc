package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/brookmq/brook/socket"
)

// instanceConfig is one instance's command line.
type instanceConfig struct {
	self                          int
	peers                         []string
	metricsAddr                   string
	rate                          float64
	window, attempts              int
	reqTimeout, drain, linger     time.Duration
	report                        time.Duration
	reconnectIvl, reconnectIvlMax time.Duration
	// curveDir enables CURVE (see security.go); curveCert is this
	// instance's certificate (default: in curveDir/instances).
	curveDir, curveCert string
}

func parseInstanceFlags(args []string, stderr io.Writer) (instanceConfig, error) {
	var c instanceConfig
	var peers string
	fs := flag.NewFlagSet("service instance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.self, "self", 0, "this instance's index in -peers")
	fs.StringVar(&peers, "peers", "", "comma-separated endpoints of every instance, this one included, in the same order everywhere")
	fs.StringVar(&c.metricsAddr, "metrics", "127.0.0.1:0", "address of the /metrics HTTP server (port 0: any free port)")
	fs.Float64Var(&c.rate, "rate", 100, "jobs per second this instance makes")
	fs.IntVar(&c.window, "window", 100, "jobs waiting for an answer at most; no new job while the window is full")
	fs.IntVar(&c.attempts, "attempts", 5, "sends of one job before it is given up as failed")
	fs.DurationVar(&c.reqTimeout, "request-timeout", 500*time.Millisecond, "a job not answered after this long is sent again")
	fs.DurationVar(&c.drain, "drain", 3*time.Second, "on SIGTERM, how long to wait for answers still owed")
	fs.DurationVar(&c.linger, "linger", time.Second, "socket linger at shutdown: how long queued replies keep being delivered")
	fs.DurationVar(&c.report, "report", time.Second, "how often to print a progress line")
	fs.DurationVar(&c.reconnectIvl, "reconnect", 100*time.Millisecond, "reconnect interval to an instance that went away")
	fs.DurationVar(&c.reconnectIvlMax, "reconnect-max", time.Second, "reconnect backoff limit")
	fs.StringVar(&c.curveDir, "curve", "", "run over CURVE with the certificates in this directory: service.key (+_secret), the service's key pair every ROUTER uses; instances/, the public certificates of the instances admitted; this instance's own certificate is instances/instance-SELF.key, made on its first start")
	fs.StringVar(&c.curveCert, "curve-cert", "", "with -curve: this instance's certificate file instead (made if missing); outside DIR/instances it is not trusted")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, p := range strings.Split(peers, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.peers = append(c.peers, p)
		}
	}
	var bad string
	switch {
	case len(c.peers) == 0:
		bad = "need -peers"
	case c.self < 0 || c.self >= len(c.peers):
		bad = fmt.Sprintf("-self %d is not an index of the %d peers", c.self, len(c.peers))
	case c.rate < 0 || c.window < 1 || c.attempts < 1:
		bad = "need -rate >= 0, -window >= 1, -attempts >= 1"
	case c.reqTimeout <= 0 || c.drain < 0 || c.report <= 0 || c.reconnectIvl <= 0:
		bad = "-request-timeout, -report and -reconnect must be positive, -drain not negative"
	case c.curveCert != "" && c.curveDir == "":
		bad = "-curve-cert needs -curve"
	}
	if c.curveDir != "" && c.curveCert == "" {
		c.curveCert = instanceCertPath(c.curveDir, c.self)
	}
	if bad != "" {
		fmt.Fprintf(stderr, "service instance: %s\n", bad)
		return c, errUsage
	}
	return c, nil
}

// instanceMain runs one instance until SIGTERM or SIGINT.
func instanceMain(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseInstanceFlags(args, stderr)
	if err != nil {
		return err
	}
	term, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return runInstance(term, cfg, stdout)
}

// runInstance serves and works until term ends, then shuts down
// gracefully.
func runInstance(term context.Context, cfg instanceConfig, stdout io.Writer) error {
	name := fmt.Sprintf("instance-%d", cfg.self)
	st := &counters{}
	routerOpts := []socket.Option{socket.WithLinger(cfg.linger)}
	// Immediate: jobs go only to instances that are connected now, never
	// into a queue for one that is down.
	dealerOpts := []socket.Option{socket.WithImmediate(true), socket.WithLinger(0),
		socket.WithReconnectInterval(cfg.reconnectIvl), socket.WithReconnectIntervalMax(cfg.reconnectIvlMax)}
	curveKey := ""
	if cfg.curveDir != "" {
		cs, err := loadCurve(cfg.curveDir, cfg.curveCert)
		if err != nil {
			return fmt.Errorf("curve: %w", err)
		}
		routerOpts = append(routerOpts, cs.routerOpt)
		dealerOpts = append(dealerOpts, cs.dealerOpt)
		curveKey = " curve_key=" + cs.own.String()
	}
	router, err := socket.New(socket.Router, routerOpts...)
	if err != nil {
		return err
	}
	defer router.Close()
	if err := router.Bind(cfg.peers[cfg.self]); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	dealer, err := socket.New(socket.Dealer, dealerOpts...)
	if err != nil {
		return err
	}
	defer dealer.Close()
	refusalsDone := countRefusals(router, dealer, st)
	defer func() {
		router.Close()
		dealer.Close()
		refusalsDone()
	}()
	for _, ep := range cfg.peers {
		if err := dealer.Connect(ep); err != nil {
			return fmt.Errorf("connect %s: %w", ep, err)
		}
	}
	ms, err := startMetrics(cfg.metricsAddr, router, dealer, st)
	if err != nil {
		return err
	}
	defer ms.close()

	serveDone := make(chan error, 1)
	go func() { serveDone <- serve(router, cfg.self, name, st) }()

	line := func(event string, extra string) {
		if cfg.curveDir != "" {
			extra = st.securityFields() + extra
		}
		fmt.Fprintf(stdout, "instance=%d pid=%d event=%s %s%s\n", cfg.self, os.Getpid(), event, st.fields(), extra)
	}
	fmt.Fprintf(stdout, "instance=%d pid=%d event=ready serve=%s metrics=%s%s\n", cfg.self, os.Getpid(), router.LastEndpoint(), ms.url, curveKey)

	reportCtx, stopReports := context.WithCancel(context.Background())
	reportsDone := make(chan struct{})
	go func() {
		defer close(reportsDone)
		t := time.NewTicker(cfg.report)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				line("progress", "")
			case <-reportCtx.Done():
				return
			}
		}
	}()

	c := newClient(cfg, dealer, st, ms.observe)
	abandoned, cerr := c.run(term)
	stopReports()
	<-reportsDone

	// Graceful end: nothing is owed to us any more (or the drain time is
	// up). Close the DEALER, then the ROUTER: its linger delivers the
	// replies still queued for the other instances.
	dealer.Close()
	router.Close()
	serr := <-serveDone
	ms.close()
	line("stopped", fmt.Sprintf(" abandoned=%d", abandoned))
	if serr != nil && !errors.Is(serr, socket.ErrClosed) {
		return errors.Join(cerr, serr)
	}
	return cerr
}
