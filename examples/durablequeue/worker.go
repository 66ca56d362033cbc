package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/brookmq/brook/socket"
)

// workerMain is a worker process: a PULL with a dedup store connected to
// the producer, with -concurrency goroutines that each receive a message,
// process it (here: report it on stdout, which is what the coordinator
// checks) and only then acknowledge it. On SIGTERM it stops receiving,
// finishes what it holds and closes. It reports:
//
//	got S K/I COUNT ID    slot S processed message K/I (delivery COUNT, journal id ID)
//	ack S K/I             its acknowledgement is durable in the dedup store
//	stats received R duplicates D acked A     at a clean exit
func workerMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("durablequeue worker", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "the producer's endpoint")
	dedup := fs.String("dedup", "", "dedup store directory (kept across restarts)")
	slot := fs.Int("slot", 0, "this worker's number (its restarts keep it)")
	concurrency := fs.Int("concurrency", 4, "goroutines that receive, process and acknowledge")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *endpoint == "" || *dedup == "" || *concurrency < 1 {
		return errors.New("need -endpoint, -dedup and -concurrency >= 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	out := &lines{w: stdout}

	pull, err := socket.New(socket.Pull, socket.WithDedupStore(*dedup), socket.WithReconnectInterval(20*time.Millisecond))
	if err != nil {
		return err
	}
	defer pull.Close()
	if err := pull.Connect(*endpoint); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, *concurrency)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = work(ctx, pull, out, *slot)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	st := pull.Stats().Journal
	out.printf("stats received %d duplicates %d acked %d", st.Received, st.Duplicates, st.AckedHere)
	return pull.Close()
}

// work receives, processes and acknowledges until ctx ends.
func work(ctx context.Context, pull *socket.Socket, out *lines, slot int) error {
	for {
		d, err := pull.RecvDelivery(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(d.Msg.Frames) != 1 || !d.Journaled() {
			return fmt.Errorf("unexpected message %q (journaled: %t)", d.Msg.Frames, d.Journaled())
		}
		body := d.Msg.Frames[0]
		out.printf("got %d %s %d %s", slot, body, d.Count, d.ID)
		if err := d.Ack(); err != nil {
			return fmt.Errorf("ack %s: %w", body, err)
		}
		out.printf("ack %d %s", slot, body)
	}
}

// lines writes whole lines, one write each, from any goroutine: a
// process killed between two writes leaves only whole lines in the pipe.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) printf(format string, args ...any) {
	b := fmt.Appendf(nil, format+"\n", args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b) //nolint:errcheck // the coordinator's pipe; nothing to do if it is gone
}
