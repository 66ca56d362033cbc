package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/brookmq/brook/socket"
)

// Ways a run ends short of its goal (exit code 3).
var (
	// errIdle: nothing arrived for -timeout.
	errIdle = errors.New("nothing arrived within -timeout")
	// errBlocked: a send stayed blocked for -timeout.
	errBlocked = errors.New("a send stayed blocked for -timeout (no peer ready)")
	// errStopped: a signal ended the run.
	errStopped = errors.New("interrupted")
)

// Main runs brookcat with args (without the program name) and returns the
// exit code. It reads messages from stdin and writes them to stdout;
// notes and errors go to stderr. ctx ending (a signal) stops the run.
//
// Reading stdin runs on a goroutine of its own; if the run ends while it
// waits for input, it is left behind (the process is about to exit).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%v\nrun `brookcat -h` for help\n", err)
		return exitUsage
	}
	if cfg.sec.keygen != "" {
		return runKeygen(cfg.sec.keygen, stdout, stderr)
	}
	// Keys and certificates are read before any socket opens.
	sec, err := cfg.sec.load()
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		if errors.Is(err, errUsage) {
			return exitUsage
		}
		return exitError
	}
	c := &cat{
		cfg:    cfg,
		sec:    sec,
		in:     newReader(cfg.in, stdin, cfg.delim, cfg.maxSize),
		out:    newWriter(cfg.out, stdout, cfg.delim),
		stderr: stderr,
		ready:  newReadiness(cfg.waitPeers),
	}
	return c.main(ctx)
}

// cat is one run.
type cat struct {
	cfg    *config
	sec    *security
	in     msgReader
	out    msgWriter
	stderr io.Writer
	sock   *socket.Socket
	ready  *readiness
	// handshakes reports failed handshakes (set by monitor).
	handshakes *handshakeWatch
	// sent and got count messages sent and received (printed).
	sent, got int
}

func (c *cat) note(f string, a ...any) {
	if !c.cfg.quiet {
		fmt.Fprintf(c.stderr, "brookcat: "+f+"\n", a...)
	}
}

func (c *cat) main(ctx context.Context) int {
	opts := []socket.Option{socket.WithSendHWM(c.cfg.hwm), socket.WithRecvHWM(c.cfg.hwm),
		socket.WithLinger(c.cfg.linger), socket.WithMaxMsgSize(c.cfg.maxSize)}
	if c.cfg.identity != "" {
		opts = append(opts, socket.WithRoutingID([]byte(c.cfg.identity)))
	}
	if c.sec.opt != nil {
		opts = append(opts, c.sec.opt)
	}
	s, err := socket.New(c.cfg.typ, opts...)
	if err != nil {
		fmt.Fprintf(c.stderr, "brookcat: %v\n", err)
		return exitUsage
	}
	c.sock = s
	c.noteSecurity()
	// A peer refusing the handshake on a connected endpoint ends the run
	// through runCtx, with that refusal as its cause.
	runCtx, refused := context.WithCancelCause(ctx)
	defer refused(nil)
	stopMonitor := c.monitor(refused)
	refusal := func() error {
		if cause := context.Cause(runCtx); ctx.Err() == nil && errors.Is(cause, errRefused) {
			return cause
		}
		return nil
	}
	code := c.setup()
	reported := false
	if code == exitOK {
		err := c.loop(runCtx)
		if r := refusal(); r != nil {
			err, reported = r, true
		}
		code = c.exit(err)
	}
	closeErr := s.Close() // linger: queued messages are delivered first
	stopMonitor()
	// A sender may be done before its handshake is: the refusal comes
	// during the linger.
	if r := refusal(); r != nil && !reported {
		fmt.Fprintf(c.stderr, "brookcat: %v\n", r)
		code = exitError
	}
	c.handshakes.summary()
	if closeErr != nil {
		fmt.Fprintf(c.stderr, "brookcat: close: %v\n", closeErr)
		code = exitError
	}
	return c.checkDrops(code)
}

// setup subscribes, binds and connects.
func (c *cat) setup() int {
	switch c.cfg.typ {
	case socket.Sub, socket.XSub:
		subs := c.cfg.subs
		if len(subs) == 0 && c.cfg.typ == socket.Sub {
			subs = []string{""} // everything
		}
		for _, p := range subs {
			if err := c.sock.Subscribe([]byte(p)); err != nil {
				fmt.Fprintf(c.stderr, "brookcat: subscribe %q: %v\n", p, err)
				return exitError
			}
		}
	}
	for _, e := range c.cfg.endpoints {
		var err error
		if e.bind {
			err = c.sock.Bind(e.ep)
		} else {
			err = c.sock.Connect(e.ep)
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "brookcat: %v\n", err)
			if errors.Is(err, socket.ErrBadEndpoint) || errors.Is(err, socket.ErrUnknownScheme) {
				return exitUsage
			}
			return exitError
		}
		if e.bind {
			c.note("listening on %s", c.sock.LastEndpoint())
		}
	}
	return exitOK
}

// monitor counts handshakes for -wait-peers, prints events for -v, and
// reports failed handshakes (see handshakeWatch); refused is called with
// the error when a connected peer refuses the handshake.
func (c *cat) monitor(refused func(error)) (stop func()) {
	events, stopEvents := c.sock.Monitor()
	done := make(chan struct{})
	c.handshakes = newHandshakeWatch(c, refused)
	go func() {
		defer close(done)
		for e := range events {
			if c.cfg.verbose {
				fmt.Fprintf(c.stderr, "brookcat: event %v\n", e)
			}
			switch e.Type {
			case socket.EventHandshakeSucceeded:
				if c.cfg.typ != socket.XPub {
					c.ready.add(1)
				}
			case socket.EventHandshakeFailed:
				c.handshakes.failed(e)
			}
		}
	}()
	return func() {
		stopEvents()
		<-done
	}
}

// loop runs the socket's mode until its end. A nil error is a run that
// reached its goal.
func (c *cat) loop(ctx context.Context) error {
	switch c.cfg.effectiveMode() {
	case sendOnly:
		return c.sendLoop(ctx)
	case recvOnly:
		return c.recvLoop(ctx)
	case request:
		return c.requestLoop(ctx)
	case reply:
		return c.replyLoop(ctx)
	}
	return c.duplexLoop(ctx)
}

// exit maps how the loop ended to an exit code, saying why on stderr.
func (c *cat) exit(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errIdle) || errors.Is(err, errStopped):
		// Without a count to reach, a receiver ends this way.
		if c.cfg.count == 0 && c.receives() {
			return exitOK
		}
		if c.cfg.count > 0 {
			c.note("%v after %d of %d messages", err, c.counted(), c.cfg.count)
		} else {
			c.note("%v", err)
		}
		return exitIncomplete
	case errors.Is(err, errBlocked):
		c.note("%v after %d messages sent", err, c.sent)
		return exitIncomplete
	}
	fmt.Fprintf(c.stderr, "brookcat: %v\n", err)
	return exitError
}

// receives reports whether the run's goal is receiving (so that it may
// go on forever).
func (c *cat) receives() bool {
	m := c.cfg.effectiveMode()
	return m == recvOnly || m == reply || m == duplex
}

// counted is what -n counts.
func (c *cat) counted() int {
	if c.cfg.effectiveMode() == sendOnly {
		return c.sent
	}
	return c.got
}

// checkDrops reports messages the socket dropped. Messages of a type that
// never drops by design (PUSH, DEALER, REQ, PAIR) still queued when the
// linger ran out are an error: they were not delivered.
func (c *cat) checkDrops(code int) int {
	st := c.sock.Stats()
	for reason, n := range st.Dropped {
		switch reason {
		case socket.DropUnread:
			c.note("%d received messages were not printed: they arrived after the last one asked for (a lower -hwm fetches fewer ahead)", n)
		case socket.DropPeerGone:
			switch c.cfg.typ {
			case socket.Push, socket.Dealer, socket.Req, socket.Pair:
				fmt.Fprintf(c.stderr, "brookcat: %d messages were not delivered: still queued when -linger ran out, or queued for a peer that left\n", n)
				code = exitError // lost data outranks an incomplete run
			default:
				c.note("%d messages dropped: %v", n, reason)
			}
		default:
			c.note("%d messages dropped: %v", n, reason)
		}
	}
	return code
}

// send sends frames, waiting at most -timeout.
func (c *cat) send(ctx context.Context, frames [][]byte) error {
	if err := c.ready.wait(ctx, c.cfg.timeout); err != nil {
		return err
	}
	sctx, cancel := c.limit(ctx)
	defer cancel()
	err := c.sock.Send(sctx, socket.NewMsg(frames...))
	switch {
	case err == nil:
		c.sent++
		return nil
	case ctx.Err() != nil:
		return errStopped
	case errors.Is(err, context.DeadlineExceeded):
		return errBlocked
	}
	return err
}

// received is a received message, with its sender's authenticated user
// id when the output shows it.
type received struct {
	frames [][]byte
	user   string
}

// recv receives one message, waiting at most -timeout.
func (c *cat) recv(ctx context.Context) (received, error) {
	rctx, cancel := c.limit(ctx)
	defer cancel()
	var m received
	var err error
	if c.sec.server && c.cfg.out == "json" {
		m, err = c.recvFrom(rctx) // the peer's user id too
	} else {
		var msg socket.Msg
		msg, err = c.sock.Recv(rctx)
		m.frames = msg.Frames
	}
	switch {
	case err == nil:
		return m, nil
	case ctx.Err() != nil:
		return received{}, errStopped
	case errors.Is(err, context.DeadlineExceeded):
		return received{}, errIdle
	}
	return received{}, err
}

// recvFrom receives one message with its sender's user id, acknowledging
// it at once as Recv does.
func (c *cat) recvFrom(ctx context.Context) (received, error) {
	d, err := c.sock.RecvDelivery(ctx)
	if err != nil {
		return received{}, err
	}
	if err := d.Ack(); err != nil {
		return received{}, err
	}
	return received{frames: d.Msg.Frames, user: d.Peer.UserID}, nil
}

// print writes a received message.
func (c *cat) print(m received) error {
	frames := m.frames
	if c.cfg.typ == socket.XPub && len(frames) > 0 && len(frames[0]) > 0 && frames[0][0] == 1 {
		c.ready.add(1) // a subscription: what an XPUB's -wait-peers counts
	}
	c.got++
	if err := c.out.Write(frames, m.user); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

func (c *cat) limit(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.timeout > 0 {
		return context.WithTimeout(ctx, c.cfg.timeout)
	}
	return context.WithCancel(ctx)
}

// more reports whether -n still allows another message.
func (c *cat) more(n int) bool { return c.cfg.count == 0 || n < c.cfg.count }

// readiness is -wait-peers: closed once enough peers (or XPUB
// subscriptions) are there.
type readiness struct {
	mu   sync.Mutex
	need int
	ch   chan struct{}
}

func newReadiness(need int) *readiness {
	r := &readiness{need: need, ch: make(chan struct{})}
	if need <= 0 {
		close(r.ch)
	}
	return r
}

func (r *readiness) add(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.need > 0 {
		if r.need -= n; r.need <= 0 {
			close(r.ch)
		}
	}
}

// wait waits until ready, for at most timeout (0: no limit).
func (r *readiness) wait(ctx context.Context, timeout time.Duration) error {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-r.ch:
		return nil
	case <-ctx.Done():
		return errStopped
	case <-expired:
		return fmt.Errorf("%w: -wait-peers", errBlocked)
	}
}
