package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// curveDir returns dir, made if missing, or a new temporary directory.
func curveDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "brook-service-curve")
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// intruder starts an instance with a certificate of its own outside the
// trusted directory, which knows the service's public key and every
// endpoint: every instance must refuse its DEALER, so it gets no job
// done, and every instance counts the refusals. It is stopped again.
func (d *demo) intruder(ctx context.Context) error {
	cert := filepath.Join(d.curveDir, "intruder.key")
	// Its endpoint is picked now, not with the instances' at the start:
	// a port picked and left free for the seconds the instances take to
	// get going was taken meanwhile by another program (the intruder's
	// bind failed with "address already in use" while other test
	// packages ran beside the demo's test).
	own, cleanup, err := endpoints(d.cfg.transport, 1)
	if err != nil {
		return err
	}
	defer cleanup()
	peers := append(append([]string(nil), d.endpoints...), own...)
	args := append(d.instanceArgs(len(d.endpoints), peers), "-curve-cert", cert, "-drain", "0")
	p, err := d.cfg.spawn.start(len(d.endpoints), 1, d.events, d.stderr, args...)
	if err != nil {
		return err
	}
	d.intruders = append(d.intruders, p)
	fmt.Fprintf(d.out, "intruder: an instance whose certificate %s is not in %s\n", cert, filepath.Join(d.curveDir, trustedDirName))
	base := map[int]int{}
	for _, q := range d.current {
		base[q.idx] = q.last.num("refused")
	}
	err = d.wait(ctx, "every instance to refuse the intruder", func() bool {
		if p.exited {
			return true // reported below
		}
		if p.last == nil || p.last.num("refused_by_peers") < len(d.endpoints) {
			return false
		}
		for _, q := range d.current {
			if q.last.num("refused") <= base[q.idx] {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if p.exited {
		return fmt.Errorf("the intruder exited: %v", p.err)
	}
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := d.wait(ctx, "the intruder to stop", func() bool { return p.exited }); err != nil {
		return err
	}
	if p.err != nil || p.stopped == nil {
		return fmt.Errorf("the intruder did not stop gracefully: %v", p.err)
	}
	if done := p.stopped.num("done"); done != 0 || p.stopped.num("served_others") != 0 {
		return fmt.Errorf("the intruder got %d jobs done and served %d: it was not refused", done, p.stopped.num("served_others"))
	}
	var refused []string
	for _, q := range d.current {
		refused = append(refused, fmt.Sprintf("%d: %d", q.idx, q.last.num("refused")))
	}
	fmt.Fprintf(d.out, "  refused by every instance (handshakes refused %s); the intruder's DEALER was refused %s times and got 0 jobs done\n",
		strings.Join(refused, ", "), p.stopped.fields["refused_by_peers"])
	return nil
}
